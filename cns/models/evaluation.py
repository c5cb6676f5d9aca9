"""Backend-agnostic NLI metrics on the public splits (used by the training script and ``cns eval``).

Every metric is computed from the (entailment, neutral, contradiction) probability matrix that any
backend returns, so models, baselines and future backends are compared on exactly the same pairs.
AUCs are rank based (Mann-Whitney) and need no threshold, which is why they are the headline numbers
for grounding and opposition: a consumer picks its own operating point.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from cns.models.data_splits import (
    NLI_LABELS,
    Split,
    fever_pairs,
    load_snli,
    opposition_pairs,
    stance_pairs,
)

FloatArray = npt.NDArray[np.float32]
HEADLINE = ("snli_accuracy", "fever_auc", "perspectrum_opposition_auc")


class NLIModel(Protocol):
    """Anything with ``predict(pairs) -> (n, 3)`` probabilities (entailment, neutral, contradiction)."""

    def predict(self, pairs: Sequence[tuple[str, str]]) -> FloatArray: ...


def roc_auc(scores: Sequence[float] | npt.NDArray[np.floating], labels: Sequence[int]) -> float:
    """ROC AUC as the Mann-Whitney U statistic, ties counted as one half."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    pos, neg = s[y], s[~y]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order), dtype=np.float64)
    ranks[order] = np.arange(1, len(order) + 1)
    allv = np.concatenate([pos, neg])
    # average ranks of ties
    _, inverse, counts = np.unique(allv, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    ranks = (sums / counts)[inverse]
    u = ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2
    return float(u / (len(pos) * len(neg)))


class _Timer:
    """Accumulates predict() wall time and pair counts to report throughput."""

    def __init__(self, model: NLIModel) -> None:
        self.model, self.seconds, self.pairs = model, 0.0, 0

    def __call__(self, pairs: Sequence[tuple[str, str]]) -> FloatArray:
        start = time.perf_counter()
        probs = np.asarray(self.model.predict(pairs), dtype=np.float32)
        self.seconds += time.perf_counter() - start
        self.pairs += len(pairs)
        if probs.shape != (len(pairs), 3):
            raise ValueError(f"predict returned shape {probs.shape}, expected ({len(pairs)}, 3)")
        return probs


def evaluate_snli(predict: _Timer | NLIModel, split: Split) -> dict[str, float]:
    """3-way accuracy on SNLI."""
    recs = load_snli(split)
    fn = predict if isinstance(predict, _Timer) else predict.predict
    probs = fn([(r.premise, r.hypothesis) for r in recs])
    gold = np.array([NLI_LABELS.index(r.label) for r in recs])
    return {"snli_accuracy": float((probs.argmax(1) == gold).mean()), "snli_n": float(len(recs))}


def evaluate_fever(predict: _Timer | NLIModel, split: Split) -> dict[str, float]:
    """AUC of p_entail - p_contra (evidence -> claim) and per-claim paired accuracy."""
    rows = fever_pairs(split)
    fn = predict if isinstance(predict, _Timer) else predict.predict
    probs = fn([(e, c) for e, c, _ in rows])
    score = probs[:, 0] - probs[:, 2]
    labels = [y for *_, y in rows]
    best: dict[str, list[float]] = {}
    for (_, claim, y), s in zip(rows, score, strict=True):
        slot = best.setdefault(claim, [np.nan, np.nan])
        slot[y] = float(s)
    wins = [float(v[1] > v[0]) + 0.5 * float(v[1] == v[0]) for v in best.values()]
    return {
        "fever_auc": roc_auc(score, labels),
        "fever_paired_accuracy": float(np.mean(wins)),
        "fever_n": float(len(rows)),
    }


def evaluate_perspectrum(predict: _Timer | NLIModel, split: Split) -> dict[str, float]:
    """Opposition AUC (symmetric max p_contra) and claim->perspective stance AUC."""
    fn = predict if isinstance(predict, _Timer) else predict.predict
    opp = opposition_pairs(split)
    both = fn([(a, b) for a, b, _ in opp] + [(b, a) for a, b, _ in opp])
    n = len(opp)
    opp_score = np.maximum(both[:n, 2], both[n:, 2])
    st = stance_pairs(split)
    sprobs = fn([(c, p) for c, p, _ in st])
    return {
        "perspectrum_opposition_auc": roc_auc(opp_score, [y for *_, y in opp]),
        "perspectrum_stance_auc": roc_auc(sprobs[:, 0] - sprobs[:, 2], [y for *_, y in st]),
        "perspectrum_opposition_n": float(n),
        "perspectrum_stance_n": float(len(st)),
    }


def evaluate(model: NLIModel, split: Split = "test") -> dict[str, float]:
    """All metrics of ``model`` on ``split`` plus throughput (pairs/s over every predict call)."""
    timer = _Timer(model)
    out: dict[str, float] = {}
    out.update(evaluate_snli(timer, split))
    out.update(evaluate_fever(timer, split))
    out.update(evaluate_perspectrum(timer, split))
    out["throughput_pairs_per_s"] = timer.pairs / max(timer.seconds, 1e-9)
    out["headline_mean"] = float(np.mean([out[k] for k in HEADLINE]))
    return out


def format_table(rows: dict[str, dict[str, float]]) -> str:
    """Markdown table of several models' metric dicts (rows = models)."""
    cols = [
        ("snli_accuracy", "SNLI acc"),
        ("fever_auc", "FEVER AUC"),
        ("fever_paired_accuracy", "FEVER paired"),
        ("perspectrum_opposition_auc", "PERSP opp AUC"),
        ("perspectrum_stance_auc", "PERSP stance AUC"),
        ("throughput_pairs_per_s", "pairs/s"),
    ]
    lines = ["| model | " + " | ".join(c[1] for c in cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, m in rows.items():
        cells = [
            f"{m[k]:.0f}" if k.startswith("throughput") else f"{m.get(k, float('nan')):.3f}" for k, _ in cols
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
