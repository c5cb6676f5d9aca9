"""Calibrate the chirality trigger on PERSPECTRUM DEV opposition pairs.

Chirality is ``opposition · T_a · T_b``. This script finds the opposition threshold with the best
Youden's J (TPR − FPR) on DEV (never TEST) for the configured NLI backend and prints the implied
chirality threshold for a typical trust score, which is how the default
``synthesis_thresholds.chirality`` is chosen (docs/models.md).

``--method narrative`` (the default, as ``chirality.method``) calibrates the narrative-level
score: DEV perspectives of one side of a claim are grouped into short documents (first
perspective = hypothesis, next ones = claims, as in benchmarks/narrative_opposition.py) and
opposite-side document pairs are the positives, same-side pairs the negatives. ``--method nli``
calibrates the sentence-level score on perspective pairs, as before.

Usage: HF_HUB_OFFLINE=1 .venv/bin/python scripts/calibrate_chirality.py [--backend embedded] [--trust 0.45]
       [--method narrative|nli] [--claims 200]
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np
from numpy.typing import NDArray

from cns.config import CNSConfig
from cns.core.sno import StructuredNarrativeObject
from cns.metrics import narrative_opposition, opposition_scores
from cns.models import load_embedder, load_nli
from cns.models.data_splits import load_perspectrum, opposition_pairs


def narrative_scores(
    config: CNSConfig, backend: str, n_claims: int
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Narrative opposition of DEV side-documents: opposite sides (1) vs same side (0)."""
    embedder, nli = load_embedder(config), load_nli(backend, config)
    pairs, labels = [], []
    for claim in load_perspectrum("dev")[:n_claims]:
        docs = []
        for stance in ("support", "undermine"):
            texts = [c.texts[0] for c in claim.perspectives if c.stance == stance and c.texts]
            for part in range(0, len(texts) - 1, 3):
                chunk = texts[part : part + 3]
                if len(chunk) < 2:
                    continue
                sno = StructuredNarrativeObject(chunk[0])
                for text in chunk[1:]:
                    sno.add_reasoning_edge(sno.add_claim(text), "root", "supports")
                sno.set_embedding(embedder.encode([chunk[0]])[0])
                docs.append((stance, sno))
        for (sa, a), (sb, b) in itertools.combinations(docs, 2):
            pairs.append((a, b))
            labels.append(sa != sb)
    scores = narrative_opposition(pairs, nli=nli, embedder=embedder, config=config.chirality).scores
    return scores, np.array(labels, dtype=bool)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", default="embedded")
    parser.add_argument("--trust", type=float, default=0.45, help="typical trust of an admitted document")
    parser.add_argument("--method", choices=["narrative", "nli"], default="narrative")
    parser.add_argument("--claims", type=int, default=200, help="DEV claims used by --method narrative")
    args = parser.parse_args()
    config = CNSConfig()
    if args.method == "narrative":
        scores, labels = narrative_scores(config, args.backend, args.claims)
        what = "DEV side-document pairs"
    else:
        pairs = opposition_pairs("dev")
        labels = np.array([y for *_, y in pairs], dtype=bool)
        scores = opposition_scores(
            [(a, b) for a, b, _ in pairs], nli=load_nli(args.backend, config), method="nli"
        )
        what = "DEV opposition pairs"
    best_j, best_t = -1.0, 0.5
    for t in np.unique(scores):
        predicted = scores >= t
        tpr = (predicted & labels).sum() / labels.sum()
        fpr = (predicted & ~labels).sum() / (~labels).sum()
        if tpr - fpr > best_j:
            best_j, best_t = float(tpr - fpr), float(t)
    predicted = scores >= best_t
    precision = (predicted & labels).sum() / max(predicted.sum(), 1)
    print(f"{what} ({args.method}): {len(labels)} ({labels.sum()} opposing)")
    print(f"opposition threshold (best Youden J={best_j:.3f}): {best_t:.3f}; precision {precision:.3f}")
    print(f"implied chirality threshold at trust {args.trust}: {best_t * args.trust**2:.3f}")


if __name__ == "__main__":
    main()
