"""Build the real-debate evaluation corpus in ``data/debates/`` from the IBM argument datasets.

Why a builder script instead of hand-made files: the corpus must be reproducible and its selection
rule auditable.  Every sentence in a document is an argument or claim written by the dataset's
authors (crowd contributors for IBM-ArgQ-Rank-30kArgs, Wikipedia editors for IBM Claim Stance);
the builder only chooses, deduplicates, orders and cleans them (capitalisation, stray leading
punctuation, missing final full stop).  The only text it adds is one title line per document that
names the motion and the side; the manifest marks it (``title_line``) so that an evaluation can
check it is never taken as the thesis.

Only motions whose hash split (``cns.models.data_splits.split_of``) is ``test`` become evaluation
debates and only ``dev`` motions become the tuning set, so a model trained on the ``train`` motions
never saw a debate it is evaluated on.  Motions whose topic also appears among the *training*
motions of the other IBM dataset are left out (listed in ``_LEAKY``).

Usage::

    python scripts/build_debate_corpus.py --source DIR_WITH_IBM_JSONL --out data/debates
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from cns.models.data_splits import split_of

ARGQ_FILE = "ibm-argq-30k-stance.jsonl"
KEYPOINT_FILE = "ibm-argkp-2021-keypoint-match.jsonl"
CLAIM_FILE = "ibm-claim-stance.jsonl"
ARGS_PER_SIDE = 8
MIN_PER_SIDE = 5
# Test/dev motions whose topic is also a *training* motion of the other IBM dataset (same question,
# different wording): a model trained on that motion has seen arguments of this debate.
_LEAKY = {
    "We should abolish intellectual property rights",  # claim-stance train: abolish IP rights
    "We should ban cosmetic surgery for minors",  # ArgQ train: We should ban cosmetic surgery
    "Holocaust denial should be a criminal offence",  # claim-stance train: the same motion
    "We should end mandatory retirement",  # claim-stance train: mandatory retirement age
    "We should prohibit flag burning",  # claim-stance train: burning the stars and stripes
}
_MODAL = re.compile(
    r"\b(should|shouldn't|must|mustn't|ought|need to|needs to|has to|have to|"
    r"good idea|bad idea|is right|is wrong|justified|unjustified)\b",
    re.IGNORECASE,
)
_STOP = {
    "we", "should", "the", "a", "an", "of", "to", "in", "for", "be", "is", "are", "that", "this",
    "house", "would", "believes", "supports", "use", "its", "all", "and", "on", "by", "with",
    "end", "ban", "adopt", "abolish", "limit", "prohibit", "subsidize", "introduce", "legalize",
    "abandon", "it", "not", "their", "more", "than", "brings", "harm", "good", "criminal",
}  # fmt: skip


_NEGATIONS = (
    (r"^This house believes (that )?", r"This house does not believe \1"),
    (r"^This house supports ", "This house does not support "),
    (r"^This house would ", "This house would not "),
    (r"\bshould be\b", "should not be"),
    (r"\bshould\b", "should not"),
    (r"\bbrings\b", "does not bring"),
)


@dataclass(frozen=True)
class Argument:
    """One argument of a side; ``quality`` ranks the choice (higher first)."""

    text: str
    quality: int


def _h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def clean(text: str) -> str:
    """Capitalise, strip stray leading punctuation, collapse spaces, end with a full stop."""
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"^[^\w\"'(]+", "", text)
    text = re.sub(r"\bi\b", "I", text)
    text = re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)
    if text and text[-1] not in ".!?\"'":
        text += "."
    return text


def motion_terms(motion: str) -> set[str]:
    """Content-word stems of a motion (first five letters), used to spot position statements."""
    words = re.findall(r"[a-z][a-z-]+", motion.lower())
    return {w[:5] for w in words if w not in _STOP and len(w) > 2}


def states_position(sentence: str, terms: set[str]) -> bool:
    """A sentence states a side's position if it names the motion's topic *and* takes a stance."""
    stems = {w[:5] for w in re.findall(r"[a-z][a-z-]+", sentence.lower())}
    return bool(_MODAL.search(sentence)) and bool(stems & terms)


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _near_duplicate(text: str, chosen: list[str]) -> bool:
    toks = _tokens(text)
    for other in chosen:
        o = _tokens(other)
        if len(toks & o) / max(1, len(toks | o)) > 0.5:
            return True
    return False


def select(arguments: list[Argument], terms: set[str], n: int) -> list[str]:
    """Best ``n`` arguments: keep length 8-70 words, dedupe, at least two position statements.

    Rank: dataset quality signal first, then a deterministic hash order (no hand picking).
    """
    pool = sorted({a.text: a for a in arguments}.values(), key=lambda a: (-a.quality, _h(a.text)))
    pool = [a for a in pool if 8 <= len(a.text.split()) <= 70]
    chosen: list[str] = []
    for want_position in (True, False):
        for arg in pool:
            if len(chosen) >= n or (want_position and len(chosen) >= 2):
                break
            text = clean(arg.text)
            if text in chosen or _near_duplicate(text, chosen):
                continue
            if want_position and not states_position(text, terms):
                continue
            chosen.append(text)
    return sorted(chosen, key=_h)  # hash order: the thesis is not always first


def load_jsonl(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def argq_debates(source: Path) -> dict[str, dict[str, list[Argument]]]:
    """motion -> side -> arguments; ArgKP matched arguments get quality 1 (ArgKP kept only
    high-quality ArgQ arguments, so membership is a quality signal)."""
    keypoint_matched = {
        r["premise"] for r in load_jsonl(source / KEYPOINT_FILE) if r["label"] == "entailment"
    }
    out: dict[str, dict[str, list[Argument]]] = defaultdict(lambda: defaultdict(list))
    for row in load_jsonl(source / ARGQ_FILE):
        side = "for" if row["label"] == "entailment" else "against"
        quality = int(row["hypothesis"] in keypoint_matched)
        out[row["premise"].strip()][side].append(Argument(row["hypothesis"], quality))
    return out


def claim_debates(source: Path) -> dict[str, dict[str, list[Argument]]]:
    out: dict[str, dict[str, list[Argument]]] = defaultdict(lambda: defaultdict(list))
    for row in load_jsonl(source / CLAIM_FILE):
        side = "for" if row["label"] == "entailment" else "against"
        out[row["premise"].strip()][side].append(Argument(row["hypothesis"], 0))
    return out


def known_thesis(motion: str, side: str) -> str:
    """The position of a side in words (manifest only; never written into a document)."""
    if side == "for":
        return motion
    for pattern, negated in _NEGATIONS:
        if re.search(pattern, motion):
            return re.sub(pattern, negated, motion, count=1)
    return f"It is not the case that {motion[0].lower()}{motion[1:]}"


def slug(motion: str) -> str:
    core = re.sub(r"^(this house (believes( that| in)?|would|supports)|we should) ", "", motion.lower())
    return "-".join(re.findall(r"[a-z0-9]+", core)[:6])


def write_debate(
    out: Path, source_name: str, motion: str, sides: dict[str, list[str]], split: str
) -> dict[str, object]:
    debate_id = slug(motion)
    folder = out / split / debate_id
    folder.mkdir(parents=True, exist_ok=True)
    terms = motion_terms(motion)
    docs: list[dict[str, object]] = []
    side_label = {"for": "the case for", "against": "the case against"}

    def emit(name: str, side: str, args: list[str], title_suffix: str, variant: str) -> None:
        title = f"{motion} - {side_label[side]}{title_suffix}"
        (folder / name).write_text(title + "\n\n" + "\n\n".join(args) + "\n", encoding="utf-8")
        docs.append(
            {
                "file": f"{split}/{debate_id}/{name}",
                "side": side,
                "variant": variant,
                "title_line": title,
                "thesis": known_thesis(motion, side),
                "thesis_sentences": [a for a in args if states_position(a, terms)],
                "arguments": args,
            }
        )

    for side in ("for", "against"):
        emit(f"{side}.txt", side, sides[side], "", "full")
    split_side = "against" if int(_h(motion)[:2], 16) % 2 else "for"
    args = sides[split_side]
    half = len(args) // 2
    for part, chunk in ((1, args[:half]), (2, args[half:])):
        emit(f"{split_side}.part{part}.txt", split_side, chunk, f" (part {part})", f"split{part}")
    return {
        "debate_id": debate_id,
        "split": split,
        "topic": motion,
        "source": source_name,
        "split_side": split_side,
        "documents": docs,
    }


def build(source: Path, out: Path) -> dict[str, object]:
    debates: list[dict[str, object]] = []
    for dataset, name, loader in (
        ("argq", "IBM-ArgQ-Rank-30kArgs", argq_debates),
        ("claimstance", "IBM Debater Claim Stance", claim_debates),
    ):
        for motion, sides in sorted(loader(source).items()):
            split = split_of(dataset, motion)
            if split == "train" or motion in _LEAKY:
                continue
            terms = motion_terms(motion)
            chosen = {side: select(sides[side], terms, ARGS_PER_SIDE) for side in ("for", "against")}
            if min(len(v) for v in chosen.values()) < MIN_PER_SIDE:
                continue
            debates.append(write_debate(out, name, motion, chosen, split))
    manifest = {
        "description": "Real debates (one document per side) for evaluating pairing and thesis extraction",
        "builder": "scripts/build_debate_corpus.py",
        "debates": debates,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    return manifest


def gold_rows(manifest: dict[str, object], out: Path) -> list[dict[str, object]]:
    """Ingestion gold rows for the *dev* debates' full documents that have a position statement.

    Dev, not test: the extractor is tuned on the gold set, the test debates stay for reporting.
    Claims are not annotated (``None``); every thesis sentence is an accepted hypothesis.
    """
    rows: list[dict[str, object]] = []
    debates = manifest["debates"]
    assert isinstance(debates, list)
    for debate in debates:
        if debate["split"] != "dev":
            continue
        for doc in debate["documents"]:
            if doc["variant"] != "full" or not doc["thesis_sentences"]:
                continue
            rows.append(
                {
                    "id": f"debate:{debate['debate_id']}:{doc['side']}",
                    "title": doc["title_line"],
                    "text": (out / doc["file"]).read_text(encoding="utf-8"),
                    "source": "data/debates",
                    "expected": {
                        "hypothesis": doc["thesis_sentences"][0],
                        "hypothesis_alternatives": doc["thesis_sentences"][1:],
                        "claims": None,
                        "citations": [],
                    },
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="folder with the IBM JSONL files")
    parser.add_argument("--out", type=Path, default=Path("data/debates"))
    parser.add_argument("--gold", type=Path, help="also write the dev debates as ingestion gold rows here")
    args = parser.parse_args()
    manifest = build(args.source, args.out)
    if args.gold:
        with args.gold.open("w", encoding="utf-8") as handle:
            for row in gold_rows(manifest, args.out):
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    debates = manifest["debates"]
    assert isinstance(debates, list)
    for split in ("test", "dev"):
        print(split, sum(1 for d in debates if d["split"] == split), "debates")


if __name__ == "__main__":
    main()
