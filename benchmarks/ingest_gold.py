"""Extraction quality of the ingestion pipeline on the gold sets in data/gold/.

Two sets, reported separately and together: ``ingestion_gold.jsonl`` (10 written documents with
thesis, claims and citations annotated) and ``debate_gold.jsonl`` (the full documents of the *dev*
debates of data/debates/ that state their side's position; any position statement of the side
is an accepted thesis; claims are not annotated there).

Usage:
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 .venv/bin/python benchmarks/ingest_gold.py \
        [--embedder sentence-transformers|fake] [--nli auto|embedded|fake] [--json out.json]

Metrics, per document and micro-averaged:
* hypothesis accuracy — the chosen hypothesis equals a gold sentence, or their MiniLM cosine ≥ 0.8;
* claim precision / recall — predicted claim sentences vs gold claim sentences (exact, whitespace-normalised);
* citation recall — share of gold citation keys present among the SNO's evidence keys.
The guide's prototype rule (first sentence with a cue phrase) is scored on hypothesis accuracy as a floor.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

from cns.config import CNSConfig
from cns.core.ids import normalize_text
from cns.logging_setup import configure_logging
from cns.models import load_embedder, load_nli
from cns.ports import Embedder, NLIModel
from cns.workflow import CNSWorkflowManager

GOLD_DIR = Path(__file__).resolve().parent.parent / "data" / "gold"
GOLD_SETS = {"written": GOLD_DIR / "ingestion_gold.jsonl", "debates": GOLD_DIR / "debate_gold.jsonl"}
GUIDE_CUES = (
    "we propose",
    "we argue",
    "we demonstrate",
    "we show",
    "this paper",
    "our findings",
    "we conclude",
    "we find",
)


def guide_hypothesis(text: str) -> str:
    """The v0729 prototype: split on '.', first sentence with a cue word (> 20 chars), else first long one."""
    sentences = [s.strip() for s in text.split(".") if s.strip()]
    for s in sentences:
        if len(s) > 20 and any(c in s.lower() for c in GUIDE_CUES):
            return s
    return next((s for s in sentences[:5] if len(s) > 30), sentences[0] if sentences else "")


def _bare(sentence: str) -> str:
    return re.sub(r"[.!?\s]+$", "", normalize_text(sentence))


def same_sentence(a: str, b: str, embedder: Embedder, threshold: float = 0.8) -> tuple[bool, float]:
    if _bare(a) == _bare(b):
        return True, 1.0
    vectors = embedder.encode([a, b])
    cosine = float(vectors[0] @ vectors[1])
    return cosine >= threshold, cosine


def best_match(predicted: str, golds: list[str], judge: Embedder) -> tuple[bool, float]:
    """Whether ``predicted`` is any of the accepted gold sentences, with the best cosine."""
    results = [same_sentence(predicted, g, judge) for g in golds]
    return max(results, key=lambda r: (r[0], r[1]))


def build_models(args: argparse.Namespace) -> tuple[CNSConfig, Embedder, NLIModel, Embedder]:
    config = CNSConfig(models={"embedding_backend": args.embedder, "nli_backend": args.nli})
    embedder = load_embedder(config)
    try:
        nli = load_nli(config=config)
    except Exception as exc:  # the embedded NLI may be missing in a development checkout
        print(f"NOTE: NLI backend {args.nli!r} unavailable ({exc}); using 'fake' RuleNLI instead")
        nli = load_nli("fake", config)
    judge = (
        embedder
        if args.embedder == "sentence-transformers"
        else load_embedder(CNSConfig(models={"embedding_backend": "sentence-transformers"}))
    )
    return config, embedder, nli, judge


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    config, embedder, nli, judge = build_models(args)
    manager = CNSWorkflowManager(config, embedder=embedder, nli=nli)
    rows: list[dict[str, Any]] = []
    records = [
        (name, json.loads(line))
        for name, path in GOLD_SETS.items()
        if path.is_file()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    for name, record in records:
        gold = record["expected"]
        sno = manager.ingest_and_evaluate(record["text"], f"gold:{record['id']}", {"title": record["title"]})
        predicted = [c.content for c in sno.claims() if c.claim_id != "root"]
        annotated = gold["claims"] is not None
        gold_claims = {normalize_text(c) for c in gold["claims"] or []}
        hits = sum(normalize_text(c) in gold_claims for c in predicted)
        accepted = [gold["hypothesis"], *gold.get("hypothesis_alternatives", [])]
        ok, cosine = best_match(sno.central_hypothesis, accepted, judge)
        guide_ok, _ = best_match(guide_hypothesis(record["text"]), accepted, judge)
        cited = sum(key in sno.evidence_keys for key in gold["citations"])
        rows.append(
            {
                "id": record["id"],
                "set": name,
                "claims_annotated": annotated,
                "hypothesis_ok": ok,
                "hypothesis_cosine": round(cosine, 3),
                "guide_ok": guide_ok,
                "claims_predicted": len(predicted) if annotated else 0,
                "claims_gold": len(gold_claims),
                "claim_hits": hits,
                "citations_gold": len(gold["citations"]),
                "citations_found": cited,
                "trust": round(sno.trust_score or 0.0, 3),
                "status": sno.status.value,
                "chosen_hypothesis": sno.central_hypothesis[:90],
            }
        )
    per_set = {
        name: {
            "documents": sum(r["set"] == name for r in rows),
            "hypothesis_accuracy": float(np.mean([r["hypothesis_ok"] for r in rows if r["set"] == name])),
            "guide_hypothesis_accuracy": float(np.mean([r["guide_ok"] for r in rows if r["set"] == name])),
        }
        for name in GOLD_SETS
        if any(r["set"] == name for r in rows)
    }
    n_pred = sum(r["claims_predicted"] for r in rows)
    n_gold = sum(r["claims_gold"] for r in rows)
    n_hits = sum(r["claim_hits"] for r in rows)
    precision = n_hits / n_pred if n_pred else 0.0
    recall = n_hits / n_gold if n_gold else 0.0
    return {
        "backends": {"embedder": f"{embedder.name}@{embedder.version}", "nli": f"{nli.name}@{nli.version}"},
        "documents": len(rows),
        "hypothesis_accuracy": float(np.mean([r["hypothesis_ok"] for r in rows])),
        "guide_hypothesis_accuracy": float(np.mean([r["guide_ok"] for r in rows])),
        "sets": per_set,
        "claim_precision": precision,
        "claim_recall": recall,
        "claim_f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "citation_recall": sum(r["citations_found"] for r in rows)
        / max(1, sum(r["citations_gold"] for r in rows)),
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--embedder", default="sentence-transformers", choices=["sentence-transformers", "fake"]
    )
    parser.add_argument("--nli", default="auto", choices=["auto", "embedded", "transformers", "fake"])
    parser.add_argument("--json", type=Path, help="also write the full result as JSON here")
    args = parser.parse_args(argv)
    configure_logging(level="WARNING")
    result = evaluate(args)
    print(f"backends: {result['backends']}")
    print(
        f"{'doc':<40} {'hyp':>4} {'cos':>5} {'guide':>5} {'claims':>7} {'hits':>5} {'gold':>5} {'cites':>6} {'T':>6}"
    )
    for r in result["rows"]:
        print(
            f"{r['id']:<40} {'yes' if r['hypothesis_ok'] else 'no':>4} {r['hypothesis_cosine']:>5.2f} "
            f"{'yes' if r['guide_ok'] else 'no':>5} {r['claims_predicted']:>7} {r['claim_hits']:>5} "
            f"{r['claims_gold']:>5} {r['citations_found']:>3}/{r['citations_gold']:<2} {r['trust']:>6.3f}"
        )
    for name, facts in result["sets"].items():
        print(
            f"hypothesis accuracy {name:<8} {facts['hypothesis_accuracy']:.2f}  (guide prototype rule: "
            f"{facts['guide_hypothesis_accuracy']:.2f}, n={facts['documents']})"
        )
    print(
        f"hypothesis accuracy all      {result['hypothesis_accuracy']:.2f}  (guide prototype rule: "
        f"{result['guide_hypothesis_accuracy']:.2f})"
    )
    print(
        f"claim precision / recall     {result['claim_precision']:.2f} / {result['claim_recall']:.2f}  "
        f"(F1 {result['claim_f1']:.2f})"
    )
    print(f"citation recall              {result['citation_recall']:.2f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
