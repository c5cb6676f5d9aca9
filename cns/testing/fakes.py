"""Deterministic fakes for the model ports (no weights, no network, same output in every process).

* :class:`HashEmbedder` — bag of words where each word has a fixed pseudo-random unit vector
  derived from SHA-256, so texts sharing words are close and results never depend on the
  process (unlike Python's salted ``hash()``). Chinese, Japanese and Korean, written without
  spaces, contribute their character bigrams as words.
* :class:`RuleNLI` — a transparent rule-based NLI: negation or antonym mismatch → contradiction,
  hypothesis words covered by the premise → entailment, otherwise neutral in proportion to overlap.
* :class:`ScriptedLLM` — replays scripted replies (or raises scripted errors) and records calls.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from cns.errors import LLMResponseError
from cns.ports import FloatArray

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")
NEGATIONS = frozenset(
    {"not", "no", "never", "none", "nobody", "nothing", "cannot", "without", "false", "neither", "nor"}
)
ANTONYMS: tuple[tuple[str, str], ...] = (
    ("increase", "decrease"),
    ("increases", "decreases"),
    ("more", "less"),
    ("higher", "lower"),
    ("positive", "negative"),
    ("beneficial", "harmful"),
    ("true", "false"),
    ("likely", "unlikely"),
    ("significant", "insignificant"),
    ("improves", "harms"),
    ("improves", "worsens"),
    ("supports", "refutes"),
    ("expanding", "static"),
    ("moving", "fixed"),
    ("wave", "particle"),
    ("drift", "fixed"),
    ("asleep", "awake"),
    ("sleeping", "awake"),
    ("open", "closed"),
    ("alive", "dead"),
    ("safe", "dangerous"),
)
_STOP = frozenset(
    {
        "a",
        "an",
        "the",
        "of",
        "to",
        "in",
        "on",
        "and",
        "or",
        "is",
        "are",
        "was",
        "were",
        "be",
        "it",
        "that",
        "this",
    }
)


def words(text: str) -> list[str]:
    found = [w.replace("n't", "") if w.endswith("n't") else w for w in _WORD.findall(text.lower())]
    cjk = [run[i : i + 2] for run in _CJK_RUN.findall(text) for i in range(max(1, len(run) - 1))]
    return found + cjk + (["not"] if "n't" in text.lower() else [])


def _word_vector(word: str, dimension: int) -> FloatArray:
    seed = int.from_bytes(hashlib.sha256(word.encode("utf-8")).digest()[:8], "little")
    vec = np.random.default_rng(seed).standard_normal(dimension).astype(np.float32)
    return vec / np.linalg.norm(vec)


class HashEmbedder:
    """Deterministic bag-of-words embedder."""

    def __init__(self, dimension: int = 384) -> None:
        self._dim = dimension
        self._cache: dict[str, FloatArray] = {}
        self.calls = 0

    name = "fake:hash-embedder"
    version = "1"

    @property
    def dimension(self) -> int:
        return self._dim

    def _vector(self, word: str) -> FloatArray:
        vec = self._cache.get(word)
        if vec is None:
            vec = self._cache[word] = _word_vector(word, self._dim)
        return vec

    def encode(self, texts: Sequence[str]) -> FloatArray:
        self.calls += 1
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for i, text in enumerate(texts):
            tokens = [w for w in words(text) if w not in _STOP] or ["<empty>"]
            for token in tokens:
                out[i] += self._vector(token)
            out[i] /= max(float(np.linalg.norm(out[i])), 1e-12)
        return out


def _has_antonym(a: set[str], b: set[str]) -> bool:
    return any((x in a and y in b) or (y in a and x in b) for x, y in ANTONYMS)


class RuleNLI:
    """Transparent rule-based NLI over word sets (entailment, neutral, contradiction)."""

    name = "fake:rule-nli"
    version = "1"

    def __init__(self) -> None:
        self.calls = 0
        self.pairs_seen = 0

    @staticmethod
    def _row(premise: str, hypothesis: str) -> tuple[float, float, float]:
        p, h = set(words(premise)), set(words(hypothesis))
        p_neg, h_neg = bool(p & NEGATIONS), bool(h & NEGATIONS)
        content_h = h - NEGATIONS - _STOP
        content_p = p - NEGATIONS - _STOP
        overlap = len(content_h & content_p) / max(1, len(content_h))
        if (p_neg != h_neg and overlap >= 0.5) or _has_antonym(content_p, content_h):
            return (0.05, 0.15, 0.80)
        if overlap >= 0.999:
            return (0.85, 0.10, 0.05)
        entail = 0.1 + 0.6 * overlap
        return (entail, 0.9 - entail, 0.1)

    def predict(self, pairs: Sequence[tuple[str, str]]) -> FloatArray:
        self.calls += 1
        self.pairs_seen += len(pairs)
        out = np.array([self._row(p, h) for p, h in pairs], dtype=np.float32).reshape(-1, 3)
        out /= out.sum(axis=1, keepdims=True).clip(min=1e-12)
        return out


Reply = str | Exception | Callable[[Sequence[dict[str, str]]], str]


class ScriptedLLM:
    """Replays scripted replies in order; an ``Exception`` in the script is raised instead."""

    name = "fake:scripted-llm"

    def __init__(self, replies: Iterable[Reply] = (), *, default: Reply | None = None) -> None:
        self._replies: deque[Reply] = deque(replies)
        self._default = default
        self.calls: list[dict[str, Any]] = []

    def push(self, *replies: Reply) -> None:
        self._replies.extend(replies)

    def complete(
        self,
        messages: Sequence[dict[str, str]],
        *,
        temperature: float = 0.2,
        max_tokens: int = 2048,
        json_schema: dict[str, Any] | None = None,
    ) -> str:
        self.calls.append(
            {"messages": list(messages), "temperature": temperature, "json_schema": json_schema}
        )
        reply = self._replies.popleft() if self._replies else self._default
        if reply is None:
            raise LLMResponseError("ScriptedLLM has no reply left in its script")
        if isinstance(reply, Exception):
            raise reply
        if callable(reply):
            return reply(messages)
        return reply
