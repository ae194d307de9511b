"""Fusion grid on one fold's held-out scores (a quick signal before a full 3-fold CV): fast + w_use·USE + w_ft·ft."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from moderation.evaluation import binary_report  # noqa: E402
from moderation.train_jobs import lexicon_flags_toxic  # noqa: E402
from moderation.training import read_jsonl  # noqa: E402

D = Path(__file__).resolve().parents[2] / "data" / "ftcv"
rows = read_jsonl(Path(__file__).resolve().parents[3] / "shared" / "data" / "mlma-fr" / "train.jsonl")
truth_all = np.array([bool(r["toxic"]) for r in rows])
fu = np.load(D / "fast_use_oof.npz")
TH = np.round(np.arange(0.1, 0.9, 0.02), 2)


def lg(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


for f in sorted(D.glob(sys.argv[1] if len(sys.argv) > 1 else "fold*-*.npz")):
    z = np.load(f)
    idx = z["idx"]
    truth = truth_all[idx]
    lex = np.array(lexicon_flags_toxic([rows[i]["text"] for i in idx]))

    def best(zz, truth=truth, lex=lex):
        p = 1 / (1 + np.exp(-zz))
        return round(max(binary_report(list(truth), list((p >= t) | lex))["macro_f1"] for t in TH), 4)

    fast, use = lg(fu["fast"][idx]), lg(fu["use"][idx])
    print(f.stem, "fast", best(fast), "use", best(use), "fast+use", best(fast + use))
    for ep in [k for k in z.files if k.startswith("ep")]:
        ft = lg(z[ep])
        grid = {(wu, wf): best(fast + wu * use + wf * ft) for wu in (0.0, 0.5, 1.0) for wf in (0.5, 1.0, 2.0)}
        top = max(grid.items(), key=lambda kv: kv[1])
        print(f"  {ep} alone {best(ft)} best fusion {top}")
