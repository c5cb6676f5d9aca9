"""Model-quality table for docs/models.md: the same run as ``cns eval models``.

Usage: HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/eval_models.py [--backend embedded ...]
"""

from __future__ import annotations

import sys

from cns.cli.main import app

if __name__ == "__main__":
    sys.argv = ["cns", "eval", "models", *sys.argv[1:]]
    app()
