"""Throughput of ``CNSWorkflowManager.ingest_and_evaluate`` vs raw embedding of the same sentences.

Usage:
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 .venv/bin/python benchmarks/ingest_throughput.py \
        [--docs 40] [--embedder sentence-transformers|fake] [--nli auto|embedded|fake] [--top-k-evidence K]
        [--nli-precision auto|fp32|bf16|int8] [--cache]

The corpus is the gold set (data/gold), each document made unique by a numbered first line so no
ingestion is a duplicate. In the same process, with the same loaded models, document by document (the two
measurements interleaved, so both see the same machine load), it measures

* raw: ``embedder.encode(sentences_of_document)`` per document (what any pipeline must at least pay);
* ingest: ``ingest_and_evaluate(text, source)`` per document — segmentation, extraction (embedding,
  NLI for edges), evaluation (grounding NLI over |V|×|E| pairs, logic, novelty) and storage;

The persistent embedding and NLI caches are off unless ``--cache`` is given: with the embedding
cache the second path would read the first path's vectors, and with the NLI cache (which lives in
``data_dir`` and survives the process) every run after the first, and every repeated gold text
within a run, would read judgements instead of computing them. It prints documents per second for both, their ratio, and the mean time per pipeline stage.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from cns.config import CNSConfig
from cns.ingestion.segment import split_sentences
from cns.logging_setup import configure_logging
from cns.models import load_embedder, load_nli
from cns.ports import NLIModel
from cns.workflow import CNSWorkflowManager

GOLD = Path(__file__).resolve().parent.parent / "data" / "gold" / "ingestion_gold.jsonl"


def corpus(n: int) -> list[str]:
    texts = [json.loads(line)["text"] for line in GOLD.read_text(encoding="utf-8").splitlines()]
    return [f"Copy {i}\n\n{texts[i % len(texts)]}" for i in range(n)]


def load_models(config: CNSConfig, nli_backend: str, precision: str = "auto") -> tuple[object, NLIModel]:
    embedder = load_embedder(config)
    models = config.models.model_copy(update={"nli_precision": precision})
    config = config.model_copy(update={"models": models})
    try:
        nli = load_nli(nli_backend, config)
    except Exception as exc:  # the embedded NLI may be missing in a development checkout
        print(f"NOTE: NLI backend {nli_backend!r} unavailable ({exc}); using 'fake' RuleNLI instead")
        nli = load_nli("fake", config)
    return embedder, nli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=40)
    parser.add_argument(
        "--embedder", default="sentence-transformers", choices=["sentence-transformers", "fake"]
    )
    parser.add_argument("--nli", default="auto", choices=["auto", "embedded", "transformers", "fake"])
    parser.add_argument(
        "--top-k-evidence",
        type=int,
        default=None,
        help="grounding.top_k_evidence (default: config default, i.e. all evidence)",
    )
    parser.add_argument(
        "--nli-precision",
        default="auto",
        choices=["auto", "fp32", "bf16", "int8"],
        help="embedded NLI precision (auto = bf16 where the CPU has native bf16, as the product does)",
    )
    parser.add_argument(
        "--cache",
        action="store_true",
        help="keep the persistent embedding and NLI caches on (off by default: they would measure lookups)",
    )
    args = parser.parse_args(argv)
    configure_logging(level="WARNING")
    models = {
        "embedding_backend": args.embedder,
        "nli_backend": args.nli,
        "embedding_cache": args.cache,
        "nli_cache": args.cache,
    }
    overrides: dict[str, object] = {"models": models}
    if args.top_k_evidence:
        overrides["grounding"] = {"top_k_evidence": args.top_k_evidence}
    config = CNSConfig(**overrides)
    embedder, nli = load_models(config, args.nli, args.nli_precision)
    docs = corpus(args.docs)
    sentences = [[s.text for s in split_sentences(d)] for d in docs]
    # warm-up both paths (first torch call, pysbd rule compilation)
    embedder.encode(sentences[0])  # type: ignore[attr-defined]
    CNSWorkflowManager(config, embedder=embedder, nli=nli).ingest_and_evaluate(docs[0] + " warm", "warm")  # type: ignore[arg-type]

    # Interleaved, document by document: on a shared machine the load changes from minute to
    # minute, and timing all raw encodes first and all ingestions after would give each side a
    # different machine. Each side still does exactly its own work for every document.
    manager = CNSWorkflowManager(config, embedder=embedder, nli=nli)  # type: ignore[arg-type]
    raw_seconds = ingest_seconds = 0.0
    snos = []
    for i, (text, sents) in enumerate(zip(docs, sentences, strict=True)):
        start = time.perf_counter()
        embedder.encode(sents)  # type: ignore[attr-defined]
        raw_seconds += time.perf_counter() - start
        start = time.perf_counter()
        snos.append(manager.ingest_and_evaluate(text, f"bench:{i}"))
        ingest_seconds += time.perf_counter() - start

    raw_rate, ingest_rate = len(docs) / raw_seconds, len(docs) / ingest_seconds
    print(f"backends: embedder={embedder.name}@{embedder.version} nli={nli.name}@{nli.version}")  # type: ignore[attr-defined]
    print(
        f"documents: {len(docs)}  sentences: {sum(map(len, sentences))}  "
        f"grounding.top_k_evidence: {config.grounding.top_k_evidence}"
    )
    print(f"raw encode of the same sentences : {raw_rate:8.2f} docs/s")
    print(f"ingest_and_evaluate              : {ingest_rate:8.2f} docs/s")
    print(f"ratio ingest / raw               : {ingest_rate / raw_rate:8.2f}  (goal >= 0.5)")
    stages = sorted({k for s in snos for k in s.metadata["timings_ms"]})
    for stage in stages:
        values = [s.metadata["timings_ms"].get(stage, 0.0) for s in snos]
        print(f"  mean {stage:<14} {statistics.mean(values):8.1f} ms")
    pairs = [s.evaluation["critic_results"]["grounding"]["evidence"].get("nli_pairs", 0) for s in snos]  # type: ignore[index]
    print(
        f"  mean grounding NLI pairs {statistics.mean(pairs):.0f}, evidence items "
        f"{statistics.mean(len(s.evidence_set) for s in snos):.1f}, claims "
        f"{statistics.mean(s.reasoning_graph.number_of_nodes() - 1 for s in snos):.1f}"
    )
    calls = manager.model_session.stats
    print(
        f"  per document: {calls.encode_calls / len(docs):.2f} embedder calls "
        f"({calls.texts_encoded / len(docs):.1f} texts, {calls.texts_reused / len(docs):.1f} reused), "
        f"{calls.nli_calls / len(docs):.2f} NLI calls ({calls.pairs_judged / len(docs):.1f} pairs judged, "
        f"{calls.pairs_reused / len(docs):.1f} answered from the document's memo)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
