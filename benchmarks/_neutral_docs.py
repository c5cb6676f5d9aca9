"""Neutral on-topic documents for the debate evaluation: overviews that take no side.

Why: the side check splits every question's documents into two camps, and a document that argues
neither side still takes part in it.  Real collections hold many such documents (overviews,
summaries of a debate); they must not change which pairs are reported.  An overview here lists
arguments of *both* sides of a debate's motion and states no position, so it is on the question
but on neither side.

Every sentence comes from the public IBM argument data in ``data/public/extra`` (IBM-ArgQ-Rank-30k
for ArgQ debates, IBM Claim Stance for claim-stance debates), rows of the debate's own motion that
the debate's documents do not use: no argument is shared with the two sides, and *position
statements* (a sentence that names the motion's topic and takes a stance, as the corpus builder
defines them) are left out, so no overview states a thesis.  Choice and order are by sha256, as in
the corpus builder; the only text this module writes is the title line.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXTRA = ROOT / "data" / "public" / "extra"
SOURCE_FILES = {
    "IBM-ArgQ-Rank-30kArgs": "ibm-argq-30k-stance.jsonl.xz",
    "IBM Debater Claim Stance": "ibm-claim-stance.jsonl.xz",
}
sys.path.insert(0, str(ROOT / "scripts"))
from build_debate_corpus import _near_duplicate, clean, motion_terms, states_position  # noqa: E402


@dataclass(frozen=True)
class Overview:
    """One neutral document: where it was written, its title line and its arguments."""

    path: Path
    title: str
    arguments: tuple[str, ...]


def _h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def motion_arguments(source: str, motion: str) -> dict[str, list[str]]:
    """``for``/``against`` → raw argument texts of ``motion`` in the public stance data."""
    out: dict[str, list[str]] = {"for": [], "against": []}
    with lzma.open(EXTRA / SOURCE_FILES[source], "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row["premise"].strip() == motion.strip():
                out["for" if row["label"] == "entailment" else "against"].append(row["hypothesis"])
    return out


def pick(pool: Iterable[str], motion: str, used: Sequence[str], n: int) -> list[str]:
    """``n`` cleaned arguments in hash order: 8-70 words, no position statement, nothing near ``used``."""
    terms = motion_terms(motion)
    chosen: list[str] = []
    taken = list(used)
    for raw in sorted(set(pool), key=_h):
        if len(chosen) >= n:
            break
        text = clean(raw)
        if not 8 <= len(text.split()) <= 70 or states_position(text, terms):
            continue
        if text in taken or _near_duplicate(text, taken):
            continue
        chosen.append(text)
        taken.append(text)
    return chosen


def write_overviews(debate: dict[str, object], out: Path, *, documents: int, per_side: int) -> list[Overview]:
    """Up to ``documents`` overviews of one manifest debate, ``per_side`` arguments of each side."""
    motion = str(debate["topic"])
    used = [a for doc in debate["documents"] for a in doc["arguments"]]  # type: ignore[attr-defined]
    pools = motion_arguments(str(debate["source"]), motion)
    pro = pick(pools["for"], motion, used, documents * per_side)
    con = pick(pools["against"], motion, used, documents * per_side)
    made: list[Overview] = []
    for k in range(min(len(pro), len(con)) // per_side):
        args = pro[k * per_side : (k + 1) * per_side] + con[k * per_side : (k + 1) * per_side]
        args = sorted(args, key=_h)  # hash order, as in the corpus: sides interleave by chance
        title = f"{motion} - arguments on both sides (overview {k + 1})"
        path = out / str(debate["debate_id"]) / f"overview{k + 1}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n\n".join([title, *args]) + "\n", encoding="utf-8")
        made.append(Overview(path, title, tuple(args)))
    return made
