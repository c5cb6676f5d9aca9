"""How long one long document takes to ingest: the basis of ``service.max_text_chars``.

Usage:
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 .venv/bin/python benchmarks/long_document.py \
        [--sizes 50000,100000,250000,500000] [--embedder sentence-transformers|fake] \
        [--nli auto|embedded|fake] [--shapes paragraphs,one-paragraph,cited]

A worker gives one ingest job ``celery.task_soft_time_limit_seconds`` (300 s by default); a text
the API accepts must finish well within it, on a loaded machine too. This script builds documents
of the given sizes from the example corpus (each copy of a text numbered so no sentence repeats
exactly) in three shapes — ordinary paragraphs, the whole text as one paragraph with no blank
line (what a PDF without paragraph breaks gives), and paragraphs that each cite a source of their
own (evidence grows with the text) — and times ``ingest_and_evaluate`` on each with
the default offline models (MiniLM embedder, embedded NLI), caches off, one fresh store per
document. It prints the wall time per size and shape, the slowest pipeline stages, and the
share of the soft time limit used.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

from cns.config import CNSConfig
from cns.ingestion.loaders import load_path
from cns.logging_setup import configure_logging
from cns.models import load_embedder, load_nli
from cns.ports import Embedder, NLIModel
from cns.workflow import CNSWorkflowManager

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def corpus_paragraphs() -> list[str]:
    """The paragraphs of every example document (loaded with the product's loaders)."""
    loaded = load_path(EXAMPLES)
    paragraphs: list[str] = []
    for document in loaded.documents:
        paragraphs += [p.strip() for p in re.split(r"\n\s*\n", document.text) if len(p.strip()) > 80]
    if not paragraphs:
        raise SystemExit(f"no example text found under {EXAMPLES}")
    return paragraphs


SHAPES = ("paragraphs", "one-paragraph", "cited", "short-sentences", "no-punctuation")


def build_text(paragraphs: list[str], size: int, shape: str) -> str:
    """About ``size`` characters of example prose; copies are numbered so no paragraph repeats.

    ``paragraphs``: blank lines between paragraphs; ``one-paragraph``: none at all; ``cited``:
    paragraphs that each cite a source of their own (a DOI), so evidence grows with the text;
    ``short-sentences``: three-word sentences (the most sentences per character);
    ``no-punctuation``: the words of the corpus without any punctuation or line break.
    """
    if shape == "short-sentences":
        words = re.findall(r"[A-Za-z]+", " ".join(paragraphs))
        chunks: list[str] = []
        total = 0
        n = 0
        while total < size:
            a, b, c = (words[(3 * n + k) % len(words)] for k in range(3))
            chunks.append(f"{a.capitalize()} {b} {c}{n}.")
            total += len(chunks[-1]) + 1
            n += 1
        return " ".join(chunks)[:size]
    if shape == "no-punctuation":
        words = re.findall(r"[A-Za-z]+", " ".join(paragraphs))
        text = " ".join(words)
        while len(text) < size:
            text += " " + text
        return text[:size]
    one_paragraph = shape == "one-paragraph"
    parts: list[str] = []
    total = 0
    copy = 0
    while total < size:
        for i, paragraph in enumerate(paragraphs):
            part = f"Part {copy}. {paragraph}"
            if shape == "cited":
                part += f" This is shown in doi:10.5555/part.{copy}.{i}."
            parts.append(part)
            total += len(part) + 2
            if total >= size:
                break
        copy += 1
    joiner = " " if one_paragraph else "\n\n"
    text = joiner.join(parts)[:size]
    return re.sub(r"\s*\n\s*", " ", text) if one_paragraph else text


def ingest_once(
    config: CNSConfig, embedder: Embedder, nli: NLIModel, text: str
) -> tuple[float, dict[str, float], int]:
    with tempfile.TemporaryDirectory() as data_dir:
        manager = CNSWorkflowManager(
            config.model_copy(update={"data_dir": Path(data_dir)}), embedder=embedder, nli=nli
        )
        start = time.perf_counter()
        sno = manager.ingest_and_evaluate(text, "long-document.txt")
        seconds = time.perf_counter() - start
    timings = {k: float(v) / 1000 for k, v in dict(sno.metadata.get("timings_ms") or {}).items()}
    return seconds, timings, len(sno.evidence_set)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="50000,100000,250000,500000")
    parser.add_argument(
        "--embedder", default="sentence-transformers", choices=["sentence-transformers", "fake"]
    )
    parser.add_argument("--nli", default="auto", choices=["auto", "embedded", "fake"])
    parser.add_argument("--shapes", default=",".join(SHAPES), help=f"comma-separated, of {', '.join(SHAPES)}")
    args = parser.parse_args(argv)
    configure_logging(level="WARNING")
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    config = CNSConfig(
        models={
            "embedding_backend": args.embedder,
            "nli_backend": args.nli,
            "embedding_cache": False,
            "nli_cache": False,
        },
        log_level="WARNING",
    )
    embedder = load_embedder(config)
    nli = load_nli(args.nli, config)
    soft_limit = config.celery.task_soft_time_limit_seconds
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    if unknown := set(shapes) - set(SHAPES):
        parser.error(f"unknown shapes {sorted(unknown)}; choose from {', '.join(SHAPES)}")
    paragraphs = corpus_paragraphs()
    ingest_once(config, embedder, nli, build_text(paragraphs, 5000, "paragraphs"))  # warm-up
    print(
        f"embedder={embedder.name} nli={getattr(nli, 'name', type(nli).__name__)} soft limit={soft_limit} s"
    )
    print(
        f"{'chars':>9} | {'shape':<15} | {'seconds':>7} | {'% of soft limit':>15} | {'evidence':>8} | slowest stages"
    )
    print("-" * 100)
    worst = 0.0
    for size in sizes:
        for shape in shapes:
            text = build_text(paragraphs, size, shape)
            seconds, timings, evidence = ingest_once(config, embedder, nli, text)
            worst = max(worst, seconds)
            stages = sorted(((v, k) for k, v in timings.items() if k != "total"), reverse=True)[:3]
            slowest = ", ".join(f"{k} {v:.1f} s" for v, k in stages)
            print(
                f"{len(text):>9} | {shape:<15} | {seconds:>7.1f} | {100 * seconds / soft_limit:>14.0f}% | {evidence:>8} | {slowest}",
                flush=True,
            )
    print(f"worst: {worst:.1f} s of the {soft_limit} s soft time limit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
