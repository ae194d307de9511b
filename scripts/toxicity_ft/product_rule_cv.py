"""Toxicity CV under the product's own decision rule (RiskScorer + is_toxic: the model alone flags from
MODEL_ALONE_MIN, lexicon hits lower the line), on data/ftcv/oof5.npz (run oof5.py first).

Importable (`product_best`, `or_rule_best`, `fused`) by the other experiments of decision 0315."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from moderation.evaluation import binary_report  # noqa: E402
from moderation.rich import fuse_toxicity  # noqa: E402
from moderation.train_jobs import lexicon_flags_toxic, product_rule_toxic  # noqa: E402
from moderation.training import read_jsonl  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
Z = np.load(ROOT / "data" / "ftcv" / "oof5.npz")
rows = read_jsonl(DATA / "mlma-fr" / "train.jsonl")
FIT = Z["fit"]
TRUTH = Z["truth"][FIT]
FOLD = Z["fold"][FIT]
TEXTS = [rows[i]["text"] for i in FIT]
LEX = np.array(lexicon_flags_toxic(TEXTS))
THRESHOLDS = tuple(round(0.2 + 0.02 * i, 2) for i in range(30))


def product_toxic(texts, p_raw, t):
    return np.array(product_rule_toxic(texts, p_raw, t))


def f1(truth, pred):
    return binary_report(list(truth), list(pred))["macro_f1"]


def or_rule_best(p):
    """The `train rich` CV rule: p >= t or lexicon, best t on the pooled out-of-fold scores."""
    scores = {t: f1(TRUTH, (p >= t) | LEX) for t in THRESHOLDS}
    t = max(scores, key=scores.get)
    return t, round(scores[t], 4)


def product_best(p, thresholds=THRESHOLDS):
    scores = {t: f1(TRUTH, product_toxic(TEXTS, p, t)) for t in thresholds}
    t = max(scores, key=scores.get)
    return t, round(scores[t], 4), scores


def fused():
    return fuse_toxicity(Z["fast"][FIT], Z["use"][FIT], 1.0)


if __name__ == "__main__":
    p = fused()
    t, s = or_rule_best(p)
    print("or-rule CV (train rich's figure): t", t, "F1", s)
    print("product rule at that t:", round(f1(TRUTH, product_toxic(TEXTS, p, t)), 4))
    tb, sb, _ = product_best(p)
    print("product rule, best t:", tb, sb)
