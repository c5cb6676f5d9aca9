"""Benchmark: does opposition separate opposite sides from same-side and cross-topic documents?

Old method = ``chirality.method: nli`` (``max p_contra`` of the two hypotheses); new method =
``narrative`` (hypothesis + claims + stance toward shared evidence, topic-gated;
docs/opposition.md). Both run side by side on the same pairs with the same NLI model, and the
script reports, per corpus: AUC of opposite-side vs same-side pairs and of opposite-side vs
cross-topic pairs, the mean score of each group, and the NLI pairs judged per candidate pair.

Corpora (whichever are available):

* ``perspectrum`` — PERSPECTRUM **DEV** (never TEST): for each debate claim, the perspectives of
  one side are grouped into short documents (first perspective = hypothesis, the next ones =
  claims). ``new+question`` additionally gives both documents the debate claim as the shared
  evidence they take a stance toward.
* ``examples`` — the example corpus (``examples/``), ingested with the real models; sides from
  examples/README.md.
* ``debates`` — a directory of real debate documents with a ``manifest.json`` (``--debates``),
  ingested with the real models; each entry names a file, its debate and its side.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/narrative_opposition.py [--claims 60] [--nli embedded]
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cns.config import CNSConfig
from cns.core.sno import StructuredNarrativeObject
from cns.logging_setup import configure_logging
from cns.metrics import narrative_opposition, opposition_scores
from cns.ports import Embedder, NLIModel

ROOT = Path(__file__).resolve().parents[1]
#: examples/README.md: (debate, side) of each example document, by file name (and jsonl line)
EXAMPLE_SIDES = {
    "01-seafloor-spreading-revives-drift.md": ("plates", "pro"),
    "02-fixed-continents-reply.html": ("plates", "contra"),
    "03-rigid-plates-on-a-sphere.txt": ("plates", "pro"),
    "04-plate-geometry-is-not-history.md": ("plates", "contra"),
    "01-hot-beginning.md": ("cosmology", "pro"),
    "02-universe-without-beginning.txt": ("cosmology", "contra"),
    "03-fossil-radiation.html": ("cosmology", "pro"),
    "04-not-yet-a-fireball.md": ("cosmology", "contra"),
    "01-corpuscles-and-undulations.jsonl#1": ("light", "pro"),
    "01-corpuscles-and-undulations.jsonl#2": ("light", "contra"),
    "02-photoelectric-without-quanta.md": ("light", "contra"),
    "03-quantum-carries-momentum.txt": ("light", "pro"),
}


@dataclass
class Doc:
    sno: StructuredNarrativeObject
    debate: str
    side: str
    question: str | None = None


def auc(pos: Sequence[float], neg: Sequence[float]) -> float:
    """P(score of a positive > score of a negative), ties counted half."""
    if not pos or not neg:
        return float("nan")
    p, n = np.asarray(pos)[:, None], np.asarray(neg)[None, :]
    return float(((p > n).sum() + 0.5 * (p == n).sum()) / (p.size * n.size))


def labelled_pairs(docs: list[Doc], cross_per_doc: int) -> list[tuple[Doc, Doc, str]]:
    out = []
    for x, y in itertools.combinations(docs, 2):
        if x.debate == y.debate:
            out.append((x, y, "opposite" if x.side != y.side else "same"))
    debates = sorted({d.debate for d in docs})
    for i, d in enumerate(docs):  # a deterministic sample of cross-topic partners
        others = [o for o in docs if o.debate != d.debate]
        for k in range(min(cross_per_doc, len(others))):
            partner = others[(i * 7 + k * 13 + debates.index(d.debate)) % len(others)]
            out.append((d, partner, "cross"))
    return out


def perspectrum_docs(embedder: Embedder, n_claims: int, per_doc: int) -> list[Doc]:
    from cns.models.data_splits import load_perspectrum

    docs = []
    for claim in load_perspectrum("dev")[:n_claims]:
        for stance in ("support", "undermine"):
            texts = [c.texts[0] for c in claim.perspectives if c.stance == stance and c.texts]
            for part in range(0, len(texts) - 1, per_doc):
                chunk = texts[part : part + per_doc]
                if len(chunk) < 2:
                    continue
                sno = StructuredNarrativeObject(
                    chunk[0], sno_id=f"{claim.claim_id}-{stance}-{part}", trust_score=1.0
                )
                for text in chunk[1:]:
                    sno.add_reasoning_edge(sno.add_claim(text), "root", "supports")
                sno.set_embedding(embedder.encode([chunk[0]])[0])
                docs.append(Doc(sno, str(claim.claim_id), stance, claim.claim))
    return docs


def ingested_docs(
    paths: list[Path],
    sides: Callable[[StructuredNarrativeObject], tuple[str, str] | None],
    config: CNSConfig,
    embedder: Embedder,
    nli: NLIModel,
) -> list[Doc]:
    from cns.workflow.manager import CNSWorkflowManager

    manager = CNSWorkflowManager(config, embedder=embedder, nli=nli, llm=None)
    manager.ingest_paths(paths)
    docs = []
    for sno in manager.store.list():
        side = sides(sno)
        if side is not None:
            sno.trust_score = 1.0
            docs.append(Doc(sno, *side))
    return docs


def example_side(sno: StructuredNarrativeObject) -> tuple[str, str] | None:
    source = str(sno.metadata.get("source", ""))
    name = Path(source.split("#")[0]).name
    line = sno.metadata.get("document_metadata", {}).get("line") or sno.metadata.get("line")
    for key in ([f"{name}#{line}"] if line else []) + [name, f"{name}#{source.rsplit('#', 1)[-1]}"]:
        if key in EXAMPLE_SIDES:
            return EXAMPLE_SIDES[key]
    return None


def score(
    pairs: list[tuple[Doc, Doc, str]], config: CNSConfig, nli: NLIModel, embedder: Embedder
) -> dict[str, tuple[list[float], float, float]]:
    """method → (scores, NLI pairs per candidate, seconds per candidate)."""
    out: dict[str, tuple[list[float], float, float]] = {}
    clock = time.perf_counter()
    old = opposition_scores(
        [(x.sno.central_hypothesis, y.sno.central_hypothesis) for x, y, _ in pairs], nli=nli, method="nli"
    )
    out["old (hypotheses)"] = (old.tolist(), 2.0, (time.perf_counter() - clock) / len(pairs))
    variants: dict[str, list[list[tuple[str, str]]] | None] = {"new (narrative)": None}
    if all(x.question for x, _, _ in pairs):
        variants["new+question"] = [
            [(x.question or "", y.question or "")] if x.debate == y.debate else [] for x, y, _ in pairs
        ]
    for name, shared in variants.items():
        clock = time.perf_counter()
        if shared is not None:
            from cns.metrics.narrative import key_shared_texts

            shared = [key_shared_texts(x.sno, y.sno) + s for (x, y, _), s in zip(pairs, shared, strict=True)]
        result = narrative_opposition(
            [(x.sno, y.sno) for x, y, _ in pairs],
            nli=nli,
            embedder=embedder,
            config=config.chirality,
            shared=shared,
        )
        out[name] = (
            result.scores.tolist(),
            result.nli_pairs / len(pairs),
            (time.perf_counter() - clock) / len(pairs),
        )
    return out


def report(
    corpus: str, pairs: list[tuple[Doc, Doc, str]], results: dict[str, tuple[list[float], float, float]]
) -> None:
    groups = {g: [i for i, (*_, lab) in enumerate(pairs) if lab == g] for g in ("opposite", "same", "cross")}
    print(
        f"\n## {corpus}: {len(groups['opposite'])} opposite, {len(groups['same'])} same-side, {len(groups['cross'])} cross-topic pairs"
    )
    print(
        "| method | AUC opp vs same | AUC opp vs cross | mean opp | mean same | mean cross | NLI pairs/candidate | ms/candidate |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, (scores, per, secs) in results.items():
        s = np.asarray(scores)
        o, m, c = (s[groups[g]].tolist() for g in ("opposite", "same", "cross"))
        print(
            f"| {name} | {auc(o, m):.3f} | {auc(o, c):.3f} | {np.mean(o) if o else float('nan'):.3f} | "
            f"{np.mean(m) if m else float('nan'):.3f} | {np.mean(c) if c else float('nan'):.3f} | {per:.1f} | {secs * 1000:.1f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nli", default="embedded", help="NLI backend (embedded, transformers, fake)")
    parser.add_argument("--claims", type=int, default=60, help="PERSPECTRUM DEV claims used")
    parser.add_argument("--per-doc", type=int, default=3, help="perspectives per PERSPECTRUM document")
    parser.add_argument("--cross", type=int, default=2, help="cross-topic partners per document")
    parser.add_argument("--skip", nargs="*", default=[], choices=["perspectrum", "examples", "debates"])
    parser.add_argument("--debates", type=Path, default=None, help="directory with manifest.json")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="keep model caches here (default: temporary)"
    )
    args = parser.parse_args()
    configure_logging(level="WARNING")
    from cns.models import load_embedder, load_nli

    with tempfile.TemporaryDirectory() as tmp:
        config = CNSConfig(data_dir=args.data_dir or Path(tmp))
        embedder, nli = load_embedder(config), load_nli(args.nli, config)
        print(
            f"NLI: {nli.name}@{nli.version}; chirality settings: {config.chirality.model_dump(mode='json')}"
        )
        corpora: dict[str, list[Doc]] = {}
        if "perspectrum" not in args.skip:
            corpora["PERSPECTRUM DEV"] = perspectrum_docs(embedder, args.claims, args.per_doc)
        if "examples" not in args.skip:
            corpora["examples/"] = ingested_docs([ROOT / "examples"], example_side, config, embedder, nli)
        if args.debates is not None and "debates" not in args.skip:
            manifest = json.loads((args.debates / "manifest.json").read_text(encoding="utf-8"))
            entries = manifest["documents"] if isinstance(manifest, dict) else manifest
            by_name = {Path(e["file"]).name: (str(e["debate"]), str(e["side"])) for e in entries}

            def side(sno: StructuredNarrativeObject) -> tuple[str, str] | None:
                return by_name.get(Path(str(sno.metadata.get("source", ""))).name)

            corpora["debates"] = ingested_docs([args.debates], side, config, embedder, nli)
        for name, docs in corpora.items():
            pairs = labelled_pairs(docs, args.cross)
            if pairs:
                report(name, pairs, score(pairs, config, nli, embedder))


if __name__ == "__main__":
    main()
