"""Calibrate the chirality trigger on PERSPECTRUM DEV opposition pairs (spec §13 G2).

Chirality is ``opposition · T_a · T_b``. This script finds the opposition threshold with the best
Youden's J (TPR − FPR) on DEV (never TEST) for the configured NLI backend and prints the implied
chirality threshold for a typical trust score, which is how the default
``synthesis_thresholds.chirality`` was chosen (docs/models.md).

Usage: HF_HUB_OFFLINE=1 .venv/bin/python scripts/calibrate_chirality.py [--backend embedded] [--trust 0.45]
"""

from __future__ import annotations

import argparse

import numpy as np

from cns.config import CNSConfig
from cns.metrics import opposition_scores
from cns.models import load_nli
from cns.models.data_splits import opposition_pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", default="embedded")
    parser.add_argument("--trust", type=float, default=0.45, help="typical trust of an admitted document")
    args = parser.parse_args()
    pairs = opposition_pairs("dev")
    labels = np.array([y for *_, y in pairs], dtype=bool)
    scores = opposition_scores([(a, b) for a, b, _ in pairs], nli=load_nli(args.backend, CNSConfig()))
    best_j, best_t = -1.0, 0.5
    for t in np.unique(scores):
        predicted = scores >= t
        tpr = (predicted & labels).sum() / labels.sum()
        fpr = (predicted & ~labels).sum() / (~labels).sum()
        if tpr - fpr > best_j:
            best_j, best_t = float(tpr - fpr), float(t)
    predicted = scores >= best_t
    precision = (predicted & labels).sum() / max(predicted.sum(), 1)
    print(f"DEV opposition pairs: {len(pairs)} ({labels.sum()} opposing)")
    print(f"opposition threshold (best Youden J={best_j:.3f}): {best_t:.3f}; precision {precision:.3f}")
    print(f"implied chirality threshold at trust {args.trust}: {best_t * args.trust**2:.3f}")


if __name__ == "__main__":
    main()
