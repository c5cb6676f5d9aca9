"""Training rows for the ``embedded`` NLI from the extra public data (``data/public/extra``).

Why a separate module: the three evaluation files of :mod:`cns.models.data_splits` are small; the
extra files (MNLI, full SNLI dev, counterfactual SNLI, Breaking-NLI, VitaminC, FEVER, FEVER 2.0,
Fool-Me-Twice, IBM argument stance) add about 160k human-labelled rows.  Two rules keep the
reported numbers honest:

* **No leakage into DEV/TEST.**  Every extra row whose premise or hypothesis (lower-cased,
  whitespace collapsed) equals a text of the DEV or TEST split of the evaluation files is dropped.
  The full SNLI dev file contains most of the SNLI evaluation subset, and FEVER-Symmetric was built
  from FEVER dev claims, so this filter matters.
* **Held-out debate motions.**  Stance data is split by its motion with :func:`split_of`
  (``argq`` for ArgQ-30k and ArgKP, ``claimstance`` for IBM Claim Stance).  Only TRAIN motions are
  used for training; DEV and TEST motions are kept for the debate evaluation corpus.
"""

from __future__ import annotations

import json
import lzma
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cns.models import data_splits as ds

EXTRA_DIR_NAME = "extra"

NLI_FILES = (
    "mnli-1.0-dev-matched",
    "mnli-1.0-dev-mismatched-subset",
    "mnli-1.0-train-subset",
    "advglue-mnli-dev",
    "snli-1.0-dev-full",
    "cad-snli-counterfactual",
    "breaking-nli",
)
FACT_FILES = ("vitaminc-test", "fever-1.0-dev-nli", "fever2-adversarial", "fm2-fool-me-twice")
STANCE_FILES = {
    "ibm-argq-30k-stance": "argq",
    "ibm-argkp-2021-stance-extra": "argq",
    "ibm-claim-stance": "claimstance",
}
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class ExtraRow:
    """One labelled pair; ``label`` indexes :data:`cns.models.data_splits.NLI_LABELS`."""

    premise: str
    hypothesis: str
    label: int
    source: str


def normalise(text: str) -> str:
    """Key used by the leakage filter: lower case, whitespace collapsed."""
    return _SPACE.sub(" ", text).strip().lower()


def extra_dir() -> Path:
    """Folder of the compressed extra files (next to the evaluation files)."""
    return ds.data_dir() / EXTRA_DIR_NAME


def _read(name: str) -> Iterator[dict[str, str]]:
    path = extra_dir() / f"{name}.jsonl.xz"
    if not path.is_file():
        raise FileNotFoundError(f"extra training file not found: {path}")
    with lzma.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


@lru_cache(maxsize=1)
def reserved_texts() -> frozenset[str]:
    """Normalised texts of the DEV and TEST splits of the three evaluation files."""
    out: set[str] = set()
    for split in ("dev", "test"):
        for r in ds.load_snli(split):
            out.update((normalise(r.premise), normalise(r.hypothesis)))
        for f in ds.load_fever(split):
            out.update((normalise(f.claim), normalise(f.evidence)))
        for claim in ds.load_perspectrum(split):
            out.add(normalise(claim.claim))
            out.update(normalise(t) for c in claim.perspectives for t in c.texts)
    return frozenset(out)


def _clean_rows(names: tuple[str, ...]) -> list[ExtraRow]:
    reserved = reserved_texts()
    rows = []
    for name in names:
        for row in _read(name):
            premise, hypothesis = str(row["premise"]).strip(), str(row["hypothesis"]).strip()
            if not premise or not hypothesis:
                continue
            if normalise(premise) in reserved or normalise(hypothesis) in reserved:
                continue
            rows.append(ExtraRow(premise, hypothesis, ds.NLI_LABELS.index(str(row["label"])), name))
    return rows


@lru_cache(maxsize=1)
def nli_rows() -> tuple[ExtraRow, ...]:
    """3-way NLI rows (MNLI, SNLI, counterfactual and adversarial variants)."""
    return tuple(_clean_rows(NLI_FILES))


@lru_cache(maxsize=1)
def fact_rows() -> tuple[ExtraRow, ...]:
    """Evidence -> claim rows (SUPPORTS = entailment, REFUTES = contradiction, NEI = neutral)."""
    return tuple(_clean_rows(FACT_FILES))


@lru_cache(maxsize=4)
def stance_rows(split: ds.Split) -> tuple[ExtraRow, ...]:
    """Motion -> argument rows (pro = entailment, con = contradiction) of ``split``'s motions."""
    out = []
    for name, dataset in STANCE_FILES.items():
        for row in _clean_rows((name,)):
            if ds.split_of(dataset, row.premise) == split:
                out.append(row)
    return tuple(out)


def motions(split: ds.Split) -> dict[str, dict[int, list[str]]]:
    """Arguments of each motion of ``split``, grouped by stance label (E = pro, C = con)."""
    grouped: dict[str, dict[int, list[str]]] = {}
    for row in stance_rows(split):
        grouped.setdefault(row.premise, {}).setdefault(row.label, []).append(row.hypothesis)
    return grouped
