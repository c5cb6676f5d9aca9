"""pairs/s of the shipped embedded NLI against the previous version, side by side in one run.

Usage:
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/nli_speed.py [--old v1] [--rounds 5] [--precision auto]

Both models judge the same pairs (the TEST opposition and SNLI pairs of the public data), in
alternating rounds so that both see the same machine load; caches are not involved. It prints
pairs/s of each and the ratio new / old (goal: >= 1.0, i.e. the new model is not slower).
"""

from __future__ import annotations

import argparse
import sys
import time

from cns.models import data_splits as ds
from cns.models.nli_embedded import DEFAULT_WEIGHTS_DIR, EmbeddedNLI
from cns.models.precision import resolve_precision


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--old", default="v1", help="weights folder of the previous model (under the package)"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pairs", type=int, default=400, help="pairs per round")
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    args = parser.parse_args(argv)
    precision = resolve_precision(args.precision)
    models = {
        "new": EmbeddedNLI(precision=precision),
        "old": EmbeddedNLI(DEFAULT_WEIGHTS_DIR / args.old, precision=precision),
    }
    pairs = [(a, b) for a, b, _ in ds.opposition_pairs("test")]
    pairs += [(r.premise, r.hypothesis) for r in ds.load_snli("test")]
    seconds = dict.fromkeys(models, 0.0)
    judged = dict.fromkeys(models, 0)
    for model in models.values():  # warm-up
        model.predict(pairs[:16])
    for r in range(args.rounds):
        chunk = pairs[(r * args.pairs) % len(pairs) :][: args.pairs]
        order = list(models) if r % 2 == 0 else list(reversed(models))
        for name in order:
            start = time.perf_counter()
            models[name].predict(chunk)
            seconds[name] += time.perf_counter() - start
            judged[name] += len(chunk)
    rate = {name: judged[name] / seconds[name] for name in models}
    print(f"precision: {precision}; rounds: {args.rounds} x {args.pairs} pairs, interleaved")
    for name, model in models.items():
        print(f"{name:>4} {model.version:<20} {rate[name]:8.1f} pairs/s")
    print(f"ratio new / old: {rate['new'] / rate['old']:.2f}  (goal >= 1.0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
