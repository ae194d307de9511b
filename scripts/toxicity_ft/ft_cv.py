"""Research: LoRA on the top K layers of multilingual-e5-small for MLMA toxicity, 3-fold CV on the 80 % fit part."""
import copy
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from moderation.encoder import E5Encoder  # noqa: E402
from moderation.evaluation import binary_report  # noqa: E402
from moderation.tox_adapter import LINEARS, _modules, _pad  # noqa: E402
from moderation.train_jobs import ORDINARY_WEIGHT, lexicon_flags_toxic, split_toxicity  # noqa: E402
from moderation.training import SEED, read_jsonl  # noqa: E402

torch.set_num_threads(int(os.environ.get("FT_THREADS", "1")))
DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
OUT = Path(__file__).resolve().parents[2] / "data" / "ftcv"  # git-ignored
OUT.mkdir(parents=True, exist_ok=True)
NFOLD = 3
MAXTOK = 128

rows = read_jsonl(DATA / "mlma-fr" / "train.jsonl")
fit_idx, held_idx = split_toxicity(rows)
fit = np.array(fit_idx)
ordinary = [r["text"] for r in read_jsonl(DATA / "xlmt-fr" / "train.jsonl") if r["label"] in ("positive", "neutral")]
benign = [json.loads(x)["text"] for x in Path("moderation/data/benign_municipal_fr.jsonl").read_text().splitlines()
          if x.strip()]
texts = [r["text"] for r in rows]
truth = np.array([bool(r["toxic"]) for r in rows])

enc_q = E5Encoder(quantize=True, max_tokens=MAXTOK)
enc_f = E5Encoder(quantize=False, max_tokens=MAXTOK)


def hidden(texts_, upto):
    """Per text: fp16 array (len, 384) of the int8 encoder's output after layers 1..upto (dict by layer)."""
    ids = enc_q.token_ids(texts_)
    out = {L: [None] * len(texts_) for L in upto}
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    h = 384
    with torch.inference_mode():
        for s in range(0, len(order), 64):
            chunk = order[s:s + 64]
            batch = [ids[i] for i in chunk]
            n, length = len(batch), max(map(len, batch))
            a = np.zeros((n, length), dtype=np.int64)
            m = np.zeros((n, length), dtype=bool)
            for i, r in enumerate(batch):
                a[i, :len(r)] = r
                m[i, :len(r)] = True
            from moderation.encoder import dequantize
            words = torch.zeros((n, length, h))
            words[torch.from_numpy(m)] = torch.from_numpy(dequantize(enc_q._word[a[m]]))
            x = words + enc_q._pos[:length].unsqueeze(0) + enc_q._type
            x = F.layer_norm(x, (h,), *enc_q._eln, eps=enc_q.config["eps"])
            am = torch.from_numpy(m)[:, None, None, :]
            for d, layer in enumerate(enc_q.layers, start=1):
                x = layer(x, am)
                if d in out:
                    for j, i in enumerate(chunk):
                        out[d][i] = x[j, :len(batch[j])].numpy().astype(np.float16)
                if d >= max(upto):
                    break
    return out


t0 = time.time()
LAYERS = tuple(int(x) for x in os.environ.get("FT_LAYERS", "8,10,11").split(","))
cache = OUT / ("hidden-" + "-".join(map(str, LAYERS)) + ".npz")
if cache.exists():
    z = np.load(cache, allow_pickle=True)
    H = {L: list(z[f"h{L}"]) for L in LAYERS}
else:
    allt = texts + ordinary + benign
    H = hidden(allt, LAYERS)
    np.savez(cache, **{f"h{L}": np.array(H[L], dtype=object) for L in LAYERS})
print("hidden", time.time() - t0, flush=True)
lens = np.array([len(x) for x in H[LAYERS[0]][:len(texts)]])
print("token len p50/p95/max", np.percentile(lens, 50), np.percentile(lens, 95), lens.max(), flush=True)
N, NO = len(texts), len(ordinary)
ORD = np.arange(N, N + NO)
BEN = np.arange(N + NO, N + NO + len(benign))


LoRA, AdapterTop = _modules()  # the product's LoRA layer and top-layers + head model (moderation/tox_adapter.py)


def Top(k, r, full=False):
    """The top ``k`` layers of the float encoder, LoRA of rank ``r`` on their linears (none when 0), the head;
    ``full``: every weight of those layers is trained instead (no LoRA)."""
    layers = [copy.deepcopy(enc_f.layers[i]) for i in range(12 - k, 12)]
    for layer in layers:
        for p in layer.parameters():
            p.requires_grad_(full)
        if r and not full:
            for name in LINEARS:
                setattr(layer, name, LoRA(getattr(layer, name), r, 2 * r, 0.1))
    return AdapterTop(layers, 0.1)


def pad(idx, L):
    return _pad(H[L], idx)


def predict(model, idx, L):
    model.eval()
    out = np.zeros(len(idx))
    order = np.argsort([len(H[L][i]) for i in idx])
    with torch.inference_mode():
        for s in range(0, len(idx), 64):
            ch = order[s:s + 64]
            x, m = pad([idx[i] for i in ch], L)
            out[ch] = torch.sigmoid(model(x, m)).numpy()
    return out


def train(train_idx, cfg, eval_sets, seed=SEED):
    k, r, lr, epochs, bs = cfg["k"], cfg["r"], cfg["lr"], cfg["epochs"], cfg.get("bs", 32)
    L = 12 - k
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = Top(k, r, cfg.get("full", False))
    idx = np.r_[train_idx, ORD]
    y = np.r_[truth[train_idx], np.zeros(NO, dtype=bool)].astype(np.float32)
    sw = np.r_[np.ones(len(train_idx)), np.full(NO, ORDINARY_WEIGHT)]
    # class_weight="balanced" on the weighted rows
    pos, neg = sw[y == 1].sum(), sw[y == 0].sum()
    sw = sw * np.where(y == 1, (pos + neg) / (2 * pos), (pos + neg) / (2 * neg))
    lora = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("head")]
    opt = torch.optim.AdamW([{"params": lora, "lr": lr},
                             {"params": model.head.parameters(), "lr": cfg.get("hlr", 2e-3)}], weight_decay=0.01)
    steps = epochs * math.ceil(len(idx) / bs)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, (steps - s) / steps))
    res = {}
    for ep in range(1, epochs + 1):
        model.train()
        perm = rng.permutation(len(idx))
        # bucket by length inside chunks of 8 batches to cut padding
        chunks = [perm[s:s + bs * 8] for s in range(0, len(perm), bs * 8)]
        batches = []
        for c in chunks:
            c = c[np.argsort([len(H[L][idx[i]]) for i in c])]
            batches += [c[s:s + bs] for s in range(0, len(c), bs)]
        rng.shuffle(batches)
        tl = 0.0
        for b in batches:
            x, m = pad(idx[b], L)
            logit = model(x, m)
            loss = (F.binary_cross_entropy_with_logits(logit, torch.from_numpy(y[b]), reduction="none")
                    * torch.from_numpy(sw[b]).float()).sum() / len(b)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tl += float(loss.detach()) * len(b)
        res[ep] = {name: predict(model, list(s), L) for name, s in eval_sets.items()}
        print(f"  ep{ep} loss {tl / len(idx):.4f} t={time.time() - t0:.0f}s", flush=True)
    return model, res


if __name__ == "__main__":
    from sklearn.model_selection import StratifiedKFold

    configs = json.loads(sys.argv[1])
    folds = list(StratifiedKFold(NFOLD, shuffle=True, random_state=SEED).split(fit, truth[fit]))
    lex = np.array(lexicon_flags_toxic([texts[i] for i in fit]))
    for cfg in configs:
        name = ("full" if cfg.get("full") else "") + "k{k}-r{r}-lr{lr}-e{epochs}".format(**cfg) + cfg.get("tag", "")
        oof = {ep: np.zeros(N) for ep in range(1, cfg["epochs"] + 1)}
        ben = {ep: [] for ep in oof}
        only = [int(x) for x in os.environ.get("FT_FOLDS", "0,1,2").split(",")]
        for f, (a, b) in enumerate(folds):
            if f not in only:
                continue
            print(name, "fold", f, flush=True)
            _, res = train(fit[a], cfg, {"test": fit[b], "benign": BEN})
            lexb = np.array(lexicon_flags_toxic([texts[i] for i in fit[b]]))
            for ep, d in res.items():
                oof[ep][fit[b]] = d["test"]
                ben[ep].append(d["benign"])
                fold_best = max((binary_report(list(truth[fit[b]]), list((d["test"] >= t) | lexb))["macro_f1"], t)
                                for t in np.arange(0.2, 0.8, 0.02))
                print(f"FOLD {name} f{f} ep{ep} best-threshold F1 {fold_best[0]:.4f} t={fold_best[1]:.2f}",
                      flush=True)
            np.savez(OUT / f"fold{f}-{name}.npz", **{f"ep{ep}": d["test"] for ep, d in res.items()}, idx=fit[b])
        if len(only) < NFOLD:
            continue
        for ep in oof:
            p = oof[ep][fit]
            best = max((binary_report(list(truth[fit]), list((p >= t) | lex))["macro_f1"], t)
                       for t in np.arange(0.2, 0.8, 0.02))
            print(f"RESULT {name} ep{ep} alone CV {best[0]:.4f} t={best[1]:.2f} "
                  f"benign>=t {np.mean([np.mean(x >= best[1]) for x in ben[ep]]):.3f}", flush=True)
        np.savez(OUT / f"oof-{name}.npz", **{f"ep{ep}": oof[ep] for ep in oof},
                 **{f"ben{ep}": np.array(ben[ep]) for ep in ben})
