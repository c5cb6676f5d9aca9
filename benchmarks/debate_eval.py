"""Real-debate evaluation: does ``cns run`` at default settings pair each debate's two sides, and nothing else?

Usage:
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 .venv/bin/python benchmarks/debate_eval.py \
        [--split test|dev] [--limit N] [--modes full,split,neutral] [--json out.json] [--keep DIR]

Runs the same service function as ``cns run`` (``cns.services.run.run_pipeline`` with the CLI's
configuration loading, i.e. default settings plus ``CNS_*`` environment variables) on the corpus in
``data/debates/`` (see its README), into a fresh temporary data dir, twice:

* **full** — the ``for`` and ``against`` document of every debate.  A true pair is the two sides of
  one debate; every other reported pair is cross-topic.
* **split** — per debate, one side whole and the other side split in two halves
  (``<side>.part1/2``).  Pairing the two halves is a *same-side* pair; the true pairs are each half
  with the opponent.
* **neutral** (only when asked for) — both sides plus ``--neutral-docs`` overviews per debate that
  take no side (``--neutral-arguments`` arguments of each side, no position statement; built by
  ``_neutral_docs.py`` from the public stance data of the debate's motion, arguments the two
  documents do not use).  A reported pair with an overview is a *neutral* pair; the question is
  whether the overviews cost true pairs.

Reported: true pairs found (k of N), same-side and cross-topic pairs reported; per debate the
opposition / chirality / entanglement of the true pair against the best-scoring wrong pair (same
metric functions the pair search uses, over every pair of documents in the run, whether or not the
search reported it); and **thesis accuracy** of the extracted central hypotheses:

* ``thesis`` — the hypothesis is one of the document's *position statements* (manifest
  ``thesis_sentences``: an argument of the side that names the motion's topic and takes a stance);
  counted over documents that have at least one;
* ``on side`` — the hypothesis is (part of) one of the side's own arguments, i.e. not the title
  line, not a fragment of another text; counted over all documents;
* ``title`` — the hypothesis is the document's title line (always a failure).

A hypothesis "is" a sentence when the whitespace/case-normalised texts, without final punctuation,
are equal or one contains the other and is at least 60% of its length.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cns.cli.common import load_config
from cns.core.ids import normalize_text
from cns.core.sno import StructuredNarrativeObject
from cns.logging_setup import configure_logging
from cns.metrics import chirality_batch, entanglement_score
from cns.pairs.scoring import candidate_opposition
from cns.services.run import run_pipeline
from cns.services.runtime import Runtime, build_runtime

sys.path.insert(0, str(Path(__file__).resolve().parent))  # sibling module when imported, not run
from _neutral_docs import write_overviews

CORPUS = Path(__file__).resolve().parent.parent / "data" / "debates"


@dataclass(frozen=True)
class Doc:
    """One corpus file with what the manifest knows about it."""

    path: Path
    debate: str
    side: str
    variant: str
    title: str
    thesis_sentences: tuple[str, ...]
    arguments: tuple[str, ...]


@dataclass
class RunResult:
    """What one pipeline run produced, keyed by corpus file."""

    mode: str
    docs: list[Doc]
    hypothesis: dict[Path, str] = field(default_factory=dict)
    status: dict[Path, str] = field(default_factory=dict)
    reported: list[tuple[Doc, Doc]] = field(default_factory=list)
    scores: dict[tuple[Path, Path], tuple[float, float, float]] = field(default_factory=dict)
    seconds: float = 0.0
    backends: str = ""


def manifest_debates(split: str, limit: int | None) -> list[dict[str, Any]]:
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    return [d for d in manifest["debates"] if d["split"] == split][:limit]


@dataclass(frozen=True)
class NeutralOptions:
    """Which debates get overviews, how many, and how many arguments of each side they hold."""

    split: str
    limit: int | None
    documents: int
    per_side: int


def load_docs(split: str, limit: int | None) -> dict[str, list[Doc]]:
    debates = manifest_debates(split, limit)
    out: dict[str, list[Doc]] = {}
    for d in debates:
        out[d["debate_id"]] = [
            Doc(
                CORPUS / doc["file"],
                d["debate_id"],
                doc["side"],
                doc["variant"],
                doc["title_line"],
                tuple(doc["thesis_sentences"]),
                tuple(doc["arguments"]),
            )
            for doc in d["documents"]
        ]
    return out


def neutral_docs(
    split: str, limit: int | None, out: Path, *, documents: int, per_side: int
) -> dict[str, list[Doc]]:
    """Overviews that take no side, per debate, written under ``out``."""
    found: dict[str, list[Doc]] = {}
    for debate in manifest_debates(split, limit):
        made = write_overviews(debate, out, documents=documents, per_side=per_side)
        found[debate["debate_id"]] = [
            Doc(o.path, debate["debate_id"], "neutral", f"overview{k + 1}", o.title, (), o.arguments)
            for k, o in enumerate(made)
        ]
    return found


def mode_docs(
    debates: dict[str, list[Doc]], mode: str, neutral: dict[str, list[Doc]] | None = None
) -> list[Doc]:
    """The documents of a run: both full sides, one full side plus the other side's halves, or
    both full sides plus the overviews that take no side."""
    chosen: list[Doc] = []
    for debate, docs in debates.items():
        if mode in ("full", "neutral"):
            chosen += [d for d in docs if d.variant == "full"]
            if mode == "neutral":
                chosen += (neutral or {}).get(debate, [])
        else:
            split_side = next(d.side for d in docs if d.variant.startswith("split"))
            chosen += [d for d in docs if d.variant.startswith("split")]
            chosen += [d for d in docs if d.variant == "full" and d.side != split_side]
    return chosen


def _bare(text: str) -> str:
    return normalize_text(text).rstrip(" .!?;:").strip()


def same_text(hypothesis: str, sentence: str) -> bool:
    """Equal, or one contains the other and covers at least 60% of it (sentence vs argument)."""
    h, s = _bare(hypothesis), _bare(sentence)
    if not h or not s:
        return False
    if h == s:
        return True
    short, long_ = sorted((h, s), key=len)
    return (short in long_ and len(short) >= 0.6 * len(long_)) or (h in s and len(h.split()) >= 5)


def thesis_verdict(doc: Doc, hypothesis: str) -> dict[str, bool | None]:
    return {
        "thesis": any(same_text(hypothesis, t) for t in doc.thesis_sentences)
        if doc.thesis_sentences
        else None,
        "on_side": any(same_text(hypothesis, a) for a in doc.arguments),
        "title": _bare(doc.title) in _bare(hypothesis) or _bare(hypothesis) in _bare(doc.title),
    }


def is_true_pair(a: Doc, b: Doc) -> bool:
    return a.debate == b.debate and a.side != b.side and "neutral" not in (a.side, b.side)


def pair_kind(a: Doc, b: Doc) -> str:
    """``true``, ``same-side``, ``neutral`` (an overview with its own debate) or ``cross-topic``."""
    if a.debate != b.debate:
        return "cross-topic"
    if "neutral" in (a.side, b.side):
        return "neutral"
    return "same-side" if a.side == b.side else "true"


def _by_source(
    snos: Sequence[StructuredNarrativeObject], docs: list[Doc]
) -> dict[Path, StructuredNarrativeObject]:
    by_name = {str(d.path.resolve()): d.path for d in docs}
    out: dict[Path, StructuredNarrativeObject] = {}
    for sno in snos:
        source = str(sno.metadata.get("source", ""))
        path = by_name.get(str(Path(source).resolve())) if source else None
        if path is not None and "parent_ids" not in sno.metadata:
            out[path] = sno
    return out


def score_all_pairs(
    rt: Runtime, snos: dict[Path, StructuredNarrativeObject], docs: list[Doc]
) -> dict[tuple[Path, Path], tuple[float, float, float]]:
    """(opposition, chirality, entanglement) of every document pair, with the search's own scoring."""
    present = [d for d in docs if d.path in snos]
    population = [snos[d.path] for d in present]
    idx = [(i, j) for i in range(len(present)) for j in range(i + 1, len(present))]
    if not idx:
        return {}
    a = np.array([i for i, _ in idx], dtype=np.int64)
    b = np.array([j for _, j in idx], dtype=np.int64)
    opp, _, _ = candidate_opposition(
        population, a, b, config=rt.config.chirality, nli=rt.manager.nli, embedder=rt.manager.embedder
    )
    trust = np.array([s.trust_score or 0.0 for s in population])
    chir = chirality_batch(opp, trust[a], trust[b])
    out: dict[tuple[Path, Path], tuple[float, float, float]] = {}
    for k, (i, j) in enumerate(idx):
        ent = entanglement_score(population[i], population[j])
        score = (float(opp[k]), float(chir[k]), float(ent))
        out[(present[i].path, present[j].path)] = score
        out[(present[j].path, present[i].path)] = score
    return out


def run_mode(
    debates: dict[str, list[Doc]], mode: str, keep: Path | None, neutral: NeutralOptions | None = None
) -> RunResult:
    work = Path(tempfile.mkdtemp(prefix=f"cns-debate-{mode}-"))
    overviews = None
    if mode == "neutral" and neutral is not None:
        overviews = neutral_docs(
            neutral.split,
            neutral.limit,
            work / "neutral",
            documents=neutral.documents,
            per_side=neutral.per_side,
        )
    docs = mode_docs(debates, mode, overviews)
    result = RunResult(mode, docs)
    try:
        config = load_config(work / "data")
        rt = build_runtime(config, "cli")
        try:
            summary = run_pipeline(rt, [d.path for d in docs], work / "out")
            result.seconds = sum(summary.seconds.values())
            nli, embedder = rt.manager.nli, rt.manager.embedder
            result.backends = f"embedder {embedder.name}@{embedder.version}, nli {nli.name}@{nli.version}"
            snos = _by_source(rt.store.list(), docs)
            doc_of = {d.path: d for d in docs}
            path_of = {s.sno_id: p for p, s in snos.items()}
            for path, sno in snos.items():
                result.hypothesis[path] = sno.central_hypothesis
                result.status[path] = sno.status.value
            for pair in summary.cycle.search.pairs:
                pa, pb = path_of.get(pair.sno_a.sno_id), path_of.get(pair.sno_b.sno_id)
                if pa is not None and pb is not None:
                    result.reported.append((doc_of[pa], doc_of[pb]))
            result.scores = score_all_pairs(rt, snos, docs)
        finally:
            rt.close()
        if keep is not None:
            shutil.copytree(work, keep / mode, dirs_exist_ok=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return result


def true_pairs(docs: list[Doc]) -> list[tuple[Doc, Doc]]:
    return [(a, b) for i, a in enumerate(docs) for b in docs[i + 1 :] if is_true_pair(a, b)]


def per_debate(result: RunResult) -> list[dict[str, Any]]:
    rows = []
    reported = {frozenset((a.path, b.path)) for a, b in result.reported}
    for debate in dict.fromkeys(d.debate for d in result.docs):
        mine = [d for d in result.docs if d.debate == debate]
        truth = true_pairs(mine)
        true_scores = [result.scores[(a.path, b.path)] for a, b in truth if (a.path, b.path) in result.scores]
        wrong = [
            (score, a, b)
            for (pa, pb), score in result.scores.items()
            if pa < pb
            for a, b in [
                (next(d for d in result.docs if d.path == pa), next(d for d in result.docs if d.path == pb))
            ]
            if debate in (a.debate, b.debate) and not is_true_pair(a, b)
        ]
        best_wrong = max(wrong, key=lambda w: w[0][1], default=None)
        worst_true = min(true_scores, key=lambda s: s[1], default=None)
        rows.append(
            {
                "debate": debate,
                "true_found": sum(frozenset((a.path, b.path)) in reported for a, b in truth),
                "true_total": len(truth),
                "true": worst_true,
                "best_wrong": None if best_wrong is None else best_wrong[0],
                "best_wrong_kind": None if best_wrong is None else pair_kind(best_wrong[1], best_wrong[2]),
            }
        )
    return rows


def summarise(result: RunResult) -> dict[str, Any]:
    truth = true_pairs(result.docs)
    reported = {frozenset((a.path, b.path)) for a, b in result.reported}
    found = sum(frozenset((a.path, b.path)) in reported for a, b in truth)
    kinds = [pair_kind(a, b) for a, b in result.reported]
    same_side, cross, with_neutral = (
        kinds.count("same-side"),
        kinds.count("cross-topic"),
        kinds.count("neutral"),
    )
    verdicts = {
        d.path: thesis_verdict(d, result.hypothesis[d.path])
        for d in result.docs
        if d.path in result.hypothesis
    }
    with_thesis = [v for v in verdicts.values() if v["thesis"] is not None]
    return {
        "mode": result.mode,
        "documents": len(result.docs),
        "ingested": len(result.hypothesis),
        "archived": sum(s != "active" for s in result.status.values()),
        "true_found": found,
        "true_total": len(truth),
        "same_side_reported": same_side,
        "cross_topic_reported": cross,
        "neutral_reported": with_neutral,
        "pairs_reported": len(result.reported),
        "thesis_accuracy": sum(bool(v["thesis"]) for v in with_thesis) / max(1, len(with_thesis)),
        "thesis_documents": len(with_thesis),
        "on_side_rate": sum(bool(v["on_side"]) for v in verdicts.values()) / max(1, len(verdicts)),
        "title_rate": sum(bool(v["title"]) for v in verdicts.values()) / max(1, len(verdicts)),
        "seconds": round(result.seconds, 1),
        "debates": per_debate(result),
        "hypotheses": {_name(p): {"hypothesis": h, **verdicts[p]} for p, h in result.hypothesis.items()},
    }


def _name(path: Path) -> str:
    """A corpus file relative to the corpus; an overview (written to a temporary folder) by debate."""
    return str(path.relative_to(CORPUS)) if path.is_relative_to(CORPUS) else f"{path.parent.name}/{path.name}"


def _fmt(score: tuple[float, float, float] | None) -> str:
    return "–" if score is None else f"{score[0]:.2f} / {score[1]:.2f} / {score[2]:.2f}"


def markdown(summaries: list[dict[str, Any]], backends: str) -> str:
    lines = [f"Backends: {backends}", ""]
    lines += [
        "| run | docs | archived | true pairs found | same-side reported | cross-topic reported | neutral reported "
        "| thesis | on side | title | s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summaries:
        lines.append(
            f"| {s['mode']} | {s['documents']} | {s['archived']} | {s['true_found']} of {s['true_total']} | "
            f"{s['same_side_reported']} | {s['cross_topic_reported']} | {s['neutral_reported']} | "
            f"{s['thesis_accuracy']:.2f} "
            f"(n={s['thesis_documents']}) | {s['on_side_rate']:.2f} | {s['title_rate']:.2f} | {s['seconds']} |"
        )
    for s in summaries:
        lines += [
            "",
            f"Per debate ({s['mode']} run): opposition / chirality / entanglement",
            "",
            "| debate | found | true pair (weakest) | best wrong pair | wrong kind | margin (chirality) |",
            "|---|---|---|---|---|---|",
        ]
        for row in s["debates"]:
            margin = (
                "–"
                if row["true"] is None or row["best_wrong"] is None
                else f"{row['true'][1] - row['best_wrong'][1]:+.2f}"
            )
            lines.append(
                f"| {row['debate']} | {row['true_found']}/{row['true_total']} | {_fmt(row['true'])} | "
                f"{_fmt(row['best_wrong'])} | {row['best_wrong_kind'] or '–'} | {margin} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--split", default="test", choices=["test", "dev"])
    parser.add_argument("--limit", type=int, help="only the first N debates of the split")
    parser.add_argument("--modes", default="full,split", help="comma-separated: full, split, neutral")
    parser.add_argument("--neutral-docs", type=int, default=3, help="neutral mode: overviews per debate")
    parser.add_argument(
        "--neutral-arguments", type=int, default=3, help="neutral mode: arguments of each side per overview"
    )
    parser.add_argument("--json", type=Path, help="also write the full result as JSON here")
    parser.add_argument("--keep", type=Path, help="copy each run's data dir and outputs here")
    args = parser.parse_args(argv)
    configure_logging(level="WARNING")
    debates = load_docs(args.split, args.limit)
    if not debates:
        print(f"no debates of split {args.split!r} in {CORPUS / 'manifest.json'}", file=sys.stderr)
        return 2
    summaries = []
    backends = ""
    for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
        if mode not in {"full", "split", "neutral"}:
            parser.error(f"unknown mode {mode!r} (use full, split, neutral)")
        options = NeutralOptions(args.split, args.limit, args.neutral_docs, args.neutral_arguments)
        result = run_mode(debates, mode, args.keep, options)
        backends = result.backends
        summaries.append(summarise(result))
    print(markdown(summaries, backends))
    if args.json:
        args.json.write_text(
            json.dumps({"split": args.split, "runs": summaries}, indent=2, default=str), encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
