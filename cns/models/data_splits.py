"""Deterministic, leakage-free train/dev/test splits of the public labelled data.

Why hash-based splits: the split of a record must not depend on file order, on the other records or
on a random seed, so that every engineer and every CI run sees exactly the same test set, and a record
added later never moves an old one between splits.  Why *group* keys: records that share a premise
(SNLI), a claim (FEVER-Symmetric's two evidence rows) or a debate claim (PERSPECTRUM) are near
duplicates of each other; putting them in different splits would leak test answers into training.

The **test** split is for reported numbers only: never train or select a model on it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

Split = Literal["train", "dev", "test"]
SPLITS: tuple[Split, ...] = ("train", "dev", "test")
NLI_LABELS: tuple[str, str, str] = ("entailment", "neutral", "contradiction")
"""Column order of every NLI probability matrix in this package."""

SNLI_FILE = "snli-1.0-dev-subset.jsonl"
FEVER_FILE = "fever-symmetric-v0.2-dev.jsonl"
PERSPECTRUM_FILE = "perspectrum-train-dev.jsonl"
_TRAIN_FRACTION = 0.6
_DEV_FRACTION = 0.2


def data_dir() -> Path:
    """Folder with the public JSONL files (``CNS_PUBLIC_DATA_DIR`` overrides the repo default)."""
    env = os.environ.get("CNS_PUBLIC_DATA_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "data" / "public"


def split_of(dataset: str, group_key: str) -> Split:
    """Split of a group: the first 8 bytes of sha256(dataset:key) as a fraction of 2**64.

    The dataset name is part of the hash so that the three corpora are split independently.
    """
    digest = hashlib.sha256(f"{dataset}:{group_key}".encode()).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2**64
    if fraction < _TRAIN_FRACTION:
        return "train"
    if fraction < _TRAIN_FRACTION + _DEV_FRACTION:
        return "dev"
    return "test"


@dataclass(frozen=True, slots=True)
class NLIRecord:
    """One SNLI pair; ``group`` is the premise, the unit of splitting."""

    premise: str
    hypothesis: str
    label: str  # one of NLI_LABELS
    group: str


@dataclass(frozen=True, slots=True)
class FeverRecord:
    """One FEVER-Symmetric row; the two rows of a claim share ``claim`` and hence a split."""

    claim: str
    evidence: str
    label: str  # SUPPORTS or REFUTES


@dataclass(frozen=True, slots=True)
class PerspectiveCluster:
    """Equivalent perspective sentences that take one ``stance`` (support/undermine) on a claim."""

    stance: str
    texts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PerspectrumClaim:
    """A debate claim with its perspective clusters; split by ``claim_id``."""

    claim_id: int
    claim: str
    perspectives: tuple[PerspectiveCluster, ...]


def _read_jsonl(name: str) -> Iterator[dict[str, object]]:
    path = data_dir() / name
    if not path.is_file():
        raise FileNotFoundError(f"public data file not found: {path} (set CNS_PUBLIC_DATA_DIR)")
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


@lru_cache(maxsize=8)
def load_snli(split: Split) -> tuple[NLIRecord, ...]:
    """SNLI pairs of ``split`` with a gold label (rows labelled ``-`` are dropped)."""
    out = []
    for row in _read_jsonl(SNLI_FILE):
        label, premise = str(row["gold_label"]), str(row["sentence1"])
        if label in NLI_LABELS and split_of("snli", premise) == split:
            out.append(NLIRecord(premise, str(row["sentence2"]), label, premise))
    return tuple(out)


@lru_cache(maxsize=8)
def load_fever(split: Split) -> tuple[FeverRecord, ...]:
    """FEVER-Symmetric rows of ``split``; both evidence rows of a claim always land together."""
    return tuple(
        FeverRecord(str(row["claim"]), str(row["evidence"]), str(row["label"]))
        for row in _read_jsonl(FEVER_FILE)
        if split_of("fever", str(row["claim"])) == split
    )


@lru_cache(maxsize=8)
def load_perspectrum(split: Split) -> tuple[PerspectrumClaim, ...]:
    """PERSPECTRUM claims of ``split`` with their perspective clusters."""
    out = []
    for row in _read_jsonl(PERSPECTRUM_FILE):
        claim_id = int(str(row["claim_id"]))
        if split_of("perspectrum", str(claim_id)) != split:
            continue
        raw = row["perspectives"]
        assert isinstance(raw, list)
        clusters = tuple(
            PerspectiveCluster(str(p["stance"]), tuple(str(t).strip() for t in p["texts"])) for p in raw
        )
        out.append(PerspectrumClaim(claim_id, str(row["claim"]).strip(), clusters))
    return tuple(out)


def _hash_order(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def fever_pairs(split: Split) -> list[tuple[str, str, int]]:
    """(evidence, claim, 1 if SUPPORTS else 0): premise = evidence, hypothesis = claim."""
    return [(r.evidence, r.claim, int(r.label == "SUPPORTS")) for r in load_fever(split)]


def opposition_pairs(
    split: Split, *, max_per_claim: int = 20, texts_per_cluster: int = 1
) -> list[tuple[str, str, int]]:
    """(text_a, text_b, 1 if opposite stance else 0) for perspectives of the same claim.

    Evaluation uses the first (canonical) text of each cluster; training may ask for more texts per
    cluster.  Pairs are ordered by a sha256 of their text and capped per claim, so the sample is
    deterministic and no claim with many perspectives dominates.
    """
    out: list[tuple[str, str, int]] = []
    for claim in load_perspectrum(split):
        items = [(c.stance, t) for c in claim.perspectives for t in c.texts[:texts_per_cluster]]
        pairs = [
            (a[1], b[1], int(a[0] != b[0]))
            for i, a in enumerate(items)
            for b in items[i + 1 :]
            if a[1] != b[1]
        ]
        pairs.sort(key=lambda p: _hash_order(f"{claim.claim_id}|{p[0]}|{p[1]}"))
        out.extend(pairs[:max_per_claim])
    return out


def stance_pairs(split: Split, *, texts_per_cluster: int = 1) -> list[tuple[str, str, int]]:
    """(claim, perspective text, 1 if support else 0): premise = claim, hypothesis = perspective."""
    return [
        (claim.claim, text, int(cluster.stance == "support"))
        for claim in load_perspectrum(split)
        for cluster in claim.perspectives
        for text in cluster.texts[:texts_per_cluster]
    ]


def split_fingerprint(dataset: str, split: Split) -> str:
    """sha256 prefix of the sorted group keys of a split, recorded in model metadata."""
    keys: list[str]
    if dataset == "snli":
        keys = sorted({r.group for r in load_snli(split)})
    elif dataset == "fever":
        keys = sorted({r.claim for r in load_fever(split)})
    elif dataset == "perspectrum":
        keys = sorted(str(c.claim_id) for c in load_perspectrum(split))
    else:
        raise ValueError(f"unknown dataset {dataset!r}")
    return hashlib.sha256("\n".join(keys).encode()).hexdigest()[:16]
