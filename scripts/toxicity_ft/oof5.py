"""Out-of-fold (5-fold CV, seed 7, MLMA fit part) fast-model and USE-head toxicity probabilities, as `train rich`
computes them for its CV figure, plus the embeddings, saved to data/ftcv/oof5.npz for the experiments of
decision 0315 (product_rule_cv.py)."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from moderation.features import Lexicon  # noqa: E402
from moderation.lexicon import RiskLexicon  # noqa: E402
from moderation.rich_training import TOX_C, _encoders, _logistic, cached_embeddings  # noqa: E402
from moderation.toxicity import normalise, toxicity_features  # noqa: E402
from moderation.train_jobs import ORDINARY_WEIGHT, TOXICITY_PARAMS, _lexicon_lists, _ordinary_rows, split_toxicity  # noqa: E402
from moderation.training import SEED, Featurized, fit_linear, proba_feats, read_jsonl  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
rows = read_jsonl(DATA / "mlma-fr" / "train.jsonl")
fit_idx, _ = split_toxicity(rows)
fit = np.array(fit_idx)
lists = _lexicon_lists()
lexicon = Lexicon.from_lists(lists)
tox_texts = [normalise(r["text"]) for r in rows]
truth_all = np.array([bool(r["toxic"]) for r in rows])
ordinary, _ = _ordinary_rows(DATA)
e5_fn, e5_ver, use_fn, use_ver = _encoders()
tox_emb = cached_embeddings("use", tox_texts, use_fn, use_ver)
ord_emb = cached_embeddings("use", ordinary, use_fn, use_ver)
tox_e5 = cached_embeddings("e5", tox_texts, e5_fn, e5_ver)
ord_e5 = cached_embeddings("e5", ordinary, e5_fn, e5_ver)
tdata = Featurized(tox_texts, lexicon)
plain = Featurized(ordinary, lexicon)
rl = RiskLexicon.load()
extra = np.array([toxicity_features(t, rl) for t in tox_texts])
plain_extra = np.array([toxicity_features(t, rl) for t in ordinary])
labels = np.where(truth_all, "toxic", "non_toxic")
p_fast = np.full(len(rows), np.nan)
p_use = np.full(len(rows), np.nan)
fold_of = np.full(len(rows), -1)
for k, (a, b) in enumerate(StratifiedKFold(5, shuffle=True, random_state=SEED).split(fit, truth_all[fit])):
    idx = fit[a]
    fold_of[fit[b]] = k
    fast = fit_linear(tdata.subset(idx.tolist()) + plain.feats, list(labels[idx]) + ["non_toxic"] * len(ordinary),
                      params=TOXICITY_PARAMS, lexicon_lists=lists, extra=np.vstack([extra[idx], plain_extra]).tolist(),
                      sample_weight=[1.0] * len(idx) + [ORDINARY_WEIGHT] * len(ordinary))
    column = list(fast.labels).index("toxic")
    p_fast[fit[b]] = proba_feats(fast, tdata.subset(fit[b].tolist()), extra[fit[b]])[:, column]
    x = np.vstack([tox_emb[idx], ord_emb])
    yy = np.r_[truth_all[idx], np.zeros(len(ordinary), dtype=bool)]
    w = np.r_[np.ones(len(idx)), np.full(len(ordinary), ORDINARY_WEIGHT)]
    head = _logistic(x, yy, TOX_C, sample_weight=w, class_weight="balanced")
    p_use[fit[b]] = head.predict_proba(tox_emb[fit[b]])[:, 1]
(ROOT / "data" / "ftcv").mkdir(parents=True, exist_ok=True)
np.savez(ROOT / "data" / "ftcv" / "oof5.npz", fast=p_fast, use=p_use, fold=fold_of, fit=fit, truth=truth_all,
         use_emb=tox_emb, ord_use=ord_emb, e5=tox_e5, ord_e5=ord_e5, extra=extra, plain_extra=plain_extra)
print("done", np.nanmean(p_fast), np.nanmean(p_use))
