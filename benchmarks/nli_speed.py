"""pairs/s of the shipped embedded NLI against the previous version, side by side in one run.

Usage:
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/nli_speed.py [--old v2] [--rounds 5] [--precision auto]
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/nli_speed.py --precision fp32,int8,bf16

Both models judge the same pairs (the TEST opposition and SNLI pairs of the public data), in
alternating rounds so that both see the same machine load; caches are not involved. Several
precisions (comma-separated) are measured in the same rounds, every model of every precision
judging each round's pairs in turn (the order reversed every other round). It prints pairs/s
(wall time, and CPU time of this process, which a busy machine disturbs less) of each and the
ratio new / old per precision (goal: >= 1.0, i.e. the new model is not slower).
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
        "--old", default="v2", help="weights folder of the previous model (under the package)"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pairs", type=int, default=400, help="pairs per round")
    parser.add_argument("--precision", default="auto", help="auto, fp32, bf16, int8 or several: fp32,int8")
    args = parser.parse_args(argv)
    precisions = list(dict.fromkeys(resolve_precision(p.strip()) for p in args.precision.split(",")))
    models = {}
    for precision in precisions:
        models[f"new {precision}"] = EmbeddedNLI(precision=precision)
        models[f"old {precision}"] = EmbeddedNLI(DEFAULT_WEIGHTS_DIR / args.old, precision=precision)
    pairs = [(a, b) for a, b, _ in ds.opposition_pairs("test")]
    pairs += [(r.premise, r.hypothesis) for r in ds.load_snli("test")]
    seconds = dict.fromkeys(models, 0.0)
    cpu = dict.fromkeys(models, 0.0)
    judged = dict.fromkeys(models, 0)
    for model in models.values():  # warm-up
        model.predict(pairs[:16])
    for r in range(args.rounds):
        chunk = pairs[(r * args.pairs) % len(pairs) :][: args.pairs]
        order = list(models) if r % 2 == 0 else list(reversed(models))
        for name in order:
            start, start_cpu = time.perf_counter(), time.process_time()
            models[name].predict(chunk)
            seconds[name] += time.perf_counter() - start
            cpu[name] += time.process_time() - start_cpu
            judged[name] += len(chunk)
    rate = {name: judged[name] / seconds[name] for name in models}
    cpu_rate = {name: judged[name] / cpu[name] for name in models}
    print(f"precision: {', '.join(precisions)}; rounds: {args.rounds} x {args.pairs} pairs, interleaved")
    for name, model in models.items():
        print(f"{name:<9} {model.version:<20} {rate[name]:8.1f} pairs/s {cpu_rate[name]:8.1f} pairs/CPU-s")
    for precision in precisions:
        new, old = f"new {precision}", f"old {precision}"
        print(
            f"{precision}: ratio new / old: {rate[new] / rate[old]:.2f} wall, "
            f"{cpu_rate[new] / cpu_rate[old]:.2f} CPU  (goal >= 1.0)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
