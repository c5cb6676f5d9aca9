"""Reference baselines over frozen MiniLM sentence embeddings, for the model report only.

Why keep them: every claim that the embedded cross-encoder is better must be measured against the
cheap alternatives on the same split — cosine similarity (and ``1 - cos`` for chirality) and a
logistic regression on ``[u, v, |u - v|, u * v]`` trained on the SNLI train split.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from cns.models.data_splits import NLI_LABELS, load_snli

FloatArray = npt.NDArray[np.float32]


class _Encoder:
    """Normalised MiniLM sentence embeddings, memoised per text."""

    def __init__(self, base_model_path: Path) -> None:
        from sentence_transformers import SentenceTransformer

        self.model: Any = SentenceTransformer(str(base_model_path), device="cpu")
        self.memo: dict[str, FloatArray] = {}

    def __call__(self, texts: Sequence[str]) -> FloatArray:
        todo = sorted({t for t in texts if t not in self.memo})
        if todo:
            vecs = self.model.encode(todo, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
            self.memo.update(zip(todo, np.asarray(vecs, dtype=np.float32), strict=True))
        return np.stack([self.memo[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)


class CosineNLI:
    """p_entail = (1 + cos) / 2, p_contra = (1 - cos) / 2: ranks exactly like cos and 1 - cos."""

    name = "cosine"

    def __init__(self, base_model_path: Path) -> None:
        self.encode = _Encoder(base_model_path)

    def predict(self, pairs: Sequence[tuple[str, str]]) -> FloatArray:
        if not pairs:
            return np.zeros((0, 3), dtype=np.float32)
        u, v = self.encode([a for a, _ in pairs]), self.encode([b for _, b in pairs])
        cos = np.clip((u * v).sum(1), -1.0, 1.0)
        return np.stack([(1 + cos) / 2, np.zeros_like(cos), (1 - cos) / 2], axis=1).astype(np.float32)


class PairLogRegNLI:
    """Multinomial logistic regression on ``[u, v, |u-v|, u*v]``, fitted on SNLI train."""

    name = "minilm-pair-logreg"

    def __init__(self, base_model_path: Path, c: float = 1.0) -> None:
        from sklearn.linear_model import LogisticRegression

        self.encode = _Encoder(base_model_path)
        recs = load_snli("train")
        x = self._features([(r.premise, r.hypothesis) for r in recs])
        y = np.array([NLI_LABELS.index(r.label) for r in recs])
        self.clf: Any = LogisticRegression(C=c, max_iter=2000).fit(x, y)

    def _features(self, pairs: Sequence[tuple[str, str]]) -> FloatArray:
        u, v = self.encode([a for a, _ in pairs]), self.encode([b for _, b in pairs])
        return np.concatenate([u, v, np.abs(u - v), u * v], axis=1)

    def predict(self, pairs: Sequence[tuple[str, str]]) -> FloatArray:
        if not pairs:
            return np.zeros((0, 3), dtype=np.float32)
        return np.asarray(self.clf.predict_proba(self._features(pairs)), dtype=np.float32)
