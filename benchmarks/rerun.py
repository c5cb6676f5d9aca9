"""Re-running ``cns run`` on an unchanged corpus must be ≥ 20× faster than the first run.

Both runs use the default (offline) backends and a fresh data folder, one after the other in the
same process environment; the second run finds every document as a duplicate, every NLI
judgement and embedding in the caches and every pair in its synthesis cooldown.

Usage: HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/rerun.py [--corpus examples]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed_run(corpus: Path, data: Path, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "cns", "run", str(corpus), "--out", str(out), "--data-dir", str(data)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=Path("examples"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data, out = Path(tmp) / "data", Path(tmp) / "out"
        first = timed_run(args.corpus, data, out)
        second = timed_run(args.corpus, data, out)
    print("| corpus | first run (s) | re-run (s) | speed-up |\n|---|---|---|---|")
    print(f"| {args.corpus} | {first:.1f} | {second:.1f} | {first / second:.1f}× |")
    print(f"goal ≥ 20×: {'met' if first / second >= 20 else 'NOT met'}")


if __name__ == "__main__":
    main()
