"""Cheap lexical pair features that a small cross-encoder trained on ~10k pairs learns poorly.

Why: FEVER-Symmetric's evidence pairs differ by a word or a number, and debate perspectives flip
stance with a negation or an antonym.  A tiny fine-tuned MiniLM sees these cues but has too little
data to weigh them reliably, so they are handed to its classification head explicitly.
All features are in [0, 1] (or [-1, 1]) so the head needs no feature scaling.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_NUMBER = re.compile(r"^\d+$")
_NEGATIONS = frozenset(
    [
        "no",
        "not",
        "never",
        "none",
        "nobody",
        "nothing",
        "nowhere",
        "neither",
        "nor",
        "without",
        "cannot",
        "can't",
        "don't",
        "doesn't",
        "didn't",
        "isn't",
        "aren't",
        "wasn't",
        "weren't",
        "won't",
        "wouldn't",
        "shouldn't",
        "couldn't",
        "hasn't",
        "haven't",
        "hadn't",
        "n't",
        "fails",
        "failed",
        "fail",
        "refused",
        "unable",
        "lack",
        "lacks",
        "lacking",
        "only",
    ]
)
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "and",
        "or",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "as",
        "from",
        "has",
        "have",
        "had",
        "he",
        "she",
        "they",
        "them",
        "his",
        "her",
        "their",
        "there",
        "which",
        "who",
        "whom",
        "what",
        "when",
        "where",
        "lrb",
        "rrb",
        "lsb",
        "rsb",
        "s",
    ]
)
_ANTONYMS = (
    "good bad|best worst|better worse|more less|most least|high low|higher lower|increase decrease|"
    "increases decreases|increased decreased|rise fall|began ended|begin end|start end|started ended|"
    "success failure|successful unsuccessful|win lose|won lost|allow ban|allowed banned|legal illegal|"
    "safe dangerous|benefit harm|benefits harms|help hurt|helps hurts|positive negative|right wrong|"
    "true false|always never|all none|many few|first last|before after|early late|old young|new old|"
    "large small|big small|long short|male female|man woman|men women|boy girl|alive dead|born died|"
    "living dead|open closed|private public|rich poor|strong weak|easy hard|cheap expensive|"
    "accept reject|agree disagree|support oppose|love hate|like dislike|include exclude|same different|"
    "fair unfair|equal unequal|necessary unnecessary|possible impossible|moral immoral|ethical unethical|"
    "sitting standing|inside outside|indoors outdoors|up down|day night|asleep awake|empty full|"
    "wet dry|hot cold|fast slow|happy sad|black white|american british|increase reduce|protect threaten"
)
_ANTONYM_PAIRS = frozenset(
    frozenset(pair.split()) for pair in _ANTONYMS.split("|") if len(set(pair.split())) == 2
)
_NEG_PREFIXES = ("un", "in", "im", "il", "ir", "dis", "non")

FEATURE_NAMES: tuple[str, ...] = (
    "hyp_missing_frac",
    "prem_missing_frac",
    "jaccard",
    "neg_hyp_only",
    "neg_prem_only",
    "num_hyp_missing",
    "num_all_match",
    "antonym_cue",
    "prefix_negation_cue",
    "len_ratio",
)
N_FEATURES = len(FEATURE_NAMES)


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _antonym_cue(a: set[str], b: set[str]) -> float:
    only_a, only_b = a - b, b - a
    return float(any(frozenset((x, y)) in _ANTONYM_PAIRS for x in only_a for y in only_b))


def _prefix_cue(a: set[str], b: set[str]) -> float:
    for x in a ^ b:
        for p in _NEG_PREFIXES:
            if x.startswith(p) and len(x) > len(p) + 3 and x[len(p) :] in (a | b):
                return 1.0
    return 0.0


def pair_features(premise: str, hypothesis: str) -> list[float]:
    """Feature vector (ordered as ``FEATURE_NAMES``) for one (premise, hypothesis) pair."""
    pt, ht = _tokens(premise), _tokens(hypothesis)
    p_all, h_all = set(pt), set(ht)
    p, h = p_all - _STOP, h_all - _STOP
    hyp_missing = len(h - p) / max(len(h), 1)
    prem_missing = len(p - h) / max(len(p), 1)
    jaccard = len(p & h) / max(len(p | h), 1)
    p_neg, h_neg = bool(p_all & _NEGATIONS), bool(h_all & _NEGATIONS)
    p_num = {t for t in p_all if _NUMBER.match(t)}
    h_num = {t for t in h_all if _NUMBER.match(t)}
    return [
        hyp_missing,
        prem_missing,
        jaccard,
        float(h_neg and not p_neg),
        float(p_neg and not h_neg),
        float(bool(h_num - p_num)),
        float(bool(h_num) and h_num <= p_num),
        _antonym_cue(p_all, h_all),
        _prefix_cue(p_all, h_all),
        float(np.tanh(np.log((len(ht) + 1) / (len(pt) + 1)))),
    ]


def batch_features(pairs: list[tuple[str, str]]) -> npt.NDArray[np.float32]:
    """(n, N_FEATURES) float32 matrix of ``pair_features``."""
    if not pairs:
        return np.zeros((0, N_FEATURES), dtype=np.float32)
    return np.asarray([pair_features(a, b) for a, b in pairs], dtype=np.float32)
