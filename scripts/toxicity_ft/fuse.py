"""Fusion grid over pooled out-of-fold scores (fit part only): fast + w_use·USE + w_ft·fine-tuned e5."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from moderation.evaluation import binary_report  # noqa: E402
from moderation.train_jobs import lexicon_flags_toxic, split_toxicity  # noqa: E402
from moderation.training import SEED, read_jsonl  # noqa: E402

D = Path(__file__).resolve().parents[2] / "data" / "ftcv"
rows = read_jsonl(Path(__file__).resolve().parents[3] / "shared" / "data" / "mlma-fr" / "train.jsonl")
fit = np.array(split_toxicity(rows)[0])
truth = np.array([bool(r["toxic"]) for r in rows])[fit]
lex = np.array(lexicon_flags_toxic([rows[i]["text"] for i in fit]))
folds = [b for _, b in StratifiedKFold(3, shuffle=True, random_state=SEED).split(fit, truth)]
fu = np.load(D / "fast_use_oof.npz")


def lg(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


TH = np.round(np.arange(0.1, 0.9, 0.02), 2)


def best(z):
    p = 1 / (1 + np.exp(-z))

    def sc(t, part=slice(None)):
        return binary_report(list(truth[part]), list((p[part] >= t) | lex[part]))["macro_f1"]
    t = max(TH, key=sc)
    return round(sc(t), 4), t, [round(sc(t, b), 3) for b in folds]


fast, use = lg(fu["fast"][fit]), lg(fu["use"][fit])
print("fast", best(fast), "use", best(use), "fast+use", best(fast + use))
for f in sorted(D.glob("oof-*.npz")):
    z = np.load(f)
    for ep in [k for k in z.files if k.startswith("ep")]:
        ft = lg(z[ep][fit])
        line = [f"alone {best(ft)[0]}"]
        for wu in (0.0, 0.5, 1.0):
            for wf in (0.5, 1.0, 2.0):
                r = best(fast + wu * use + wf * ft)
                line.append(f"u{wu}f{wf} {r[0]}")
        print(f.stem, ep, " ".join(line))
        r = max(((best(fast + wu * use + wf * ft), wu, wf) for wu in (0.0, 0.5, 1.0) for wf in (0.5, 1.0, 2.0)),
                key=lambda x: x[0][0])
        print("   best", r)
