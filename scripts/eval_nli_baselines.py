"""Evaluate the MiniLM baselines (cosine / 1-cos, pair logistic regression) on a split.

HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 .venv/bin/python scripts/eval_nli_baselines.py --split test
"""

from __future__ import annotations

import argparse
import json

import torch

from cns.models.embedded.baselines import CosineNLI, PairLogRegNLI
from cns.models.evaluation import evaluate, format_table
from cns.models.nli_embedded import default_base_model_path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--split", default="test", choices=["train", "dev", "test"])
    ap.add_argument("--json", default=None, help="also write the metric dicts to this file")
    args = ap.parse_args()
    torch.set_num_threads(2)
    base = default_base_model_path()
    rows = {
        "MiniLM cosine (FEVER: cos, opposition: 1-cos)": evaluate(CosineNLI(base), args.split),
        "MiniLM [u,v,|u-v|,u*v] logreg (SNLI train)": evaluate(PairLogRegNLI(base), args.split),
    }
    print(format_table(rows))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(rows, handle, indent=2)


if __name__ == "__main__":
    main()
