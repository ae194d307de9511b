"""Out-of-fold fast-model and USE-head toxicity probabilities on the same 3 folds as ft_cv.py (fit part only)."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from moderation.features import Lexicon  # noqa: E402
from moderation.lexicon import RiskLexicon  # noqa: E402
from moderation.rich_training import TOX_C, _logistic, cached_embeddings  # noqa: E402
from moderation.toxicity import normalise, toxicity_features  # noqa: E402
from moderation.train_jobs import ORDINARY_WEIGHT, TOXICITY_PARAMS, _lexicon_lists, _ordinary_rows, split_toxicity  # noqa: E402
from moderation.training import SEED, Featurized, fit_linear, proba_feats, read_jsonl  # noqa: E402
from moderation.use_vectors import PACKAGE, UseEncoder, package_version  # noqa: E402

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
NFOLD = 3
rows = read_jsonl(DATA / "mlma-fr" / "train.jsonl")
fit_idx, _ = split_toxicity(rows)
fit = np.array(fit_idx)
lists = _lexicon_lists()
lexicon = Lexicon.from_lists(lists)
tox_texts = [normalise(r["text"]) for r in rows]
truth_all = np.array([bool(r["toxic"]) for r in rows])
ordinary, _ = _ordinary_rows(DATA)
use = UseEncoder(threads=1).embed
ver = f"{PACKAGE}=={package_version()}"
tox_emb = cached_embeddings("use", tox_texts, use, ver)
ord_emb = cached_embeddings("use", ordinary, use, ver)
tdata = Featurized(tox_texts, lexicon)
plain = Featurized(ordinary, lexicon)
rl = RiskLexicon.load()
extra = np.array([toxicity_features(t, rl) for t in tox_texts])
plain_extra = np.array([toxicity_features(t, rl) for t in ordinary])
labels = np.where(truth_all, "toxic", "non_toxic")
p_fast = np.zeros(len(rows))
p_use = np.zeros(len(rows))
for a, b in StratifiedKFold(NFOLD, shuffle=True, random_state=SEED).split(fit, truth_all[fit]):
    idx = fit[a]
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
np.savez(Path(__file__).resolve().parents[2] / "data" / "ftcv" / "fast_use_oof.npz", fast=p_fast, use=p_use)
print("done")
