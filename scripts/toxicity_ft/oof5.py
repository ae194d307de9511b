"""Out-of-fold fast-model and USE-head toxicity probabilities on the MLMA fit part, as `train rich` computes them
for its CV figure. Run as a script: 5 folds (seed 7), saved with the embeddings to data/ftcv/oof5.npz for the
experiments of decision 0315 (product_rule_cv.py, city_negatives_cv.py); fast_oof.py calls `oof(3)` for 0230."""
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


def oof(nfold: int, with_e5: bool = False) -> dict:
    """Out-of-fold `fast` and `use` probabilities (NaN outside the fit part), the folds and the features used."""
    rows = read_jsonl(DATA / "mlma-fr" / "train.jsonl")
    fit = np.array(split_toxicity(rows)[0])
    lists = _lexicon_lists()
    lexicon = Lexicon.from_lists(lists)
    tox_texts = [normalise(r["text"]) for r in rows]
    truth_all = np.array([bool(r["toxic"]) for r in rows])
    ordinary, _ = _ordinary_rows(DATA)
    e5_fn, e5_ver, use_fn, use_ver = _encoders(e5=None if with_e5 else (lambda t: None))
    out = {"use_emb": cached_embeddings("use", tox_texts, use_fn, use_ver),
           "ord_use": cached_embeddings("use", ordinary, use_fn, use_ver)}
    if with_e5:
        out.update(e5=cached_embeddings("e5", tox_texts, e5_fn, e5_ver),
                   ord_e5=cached_embeddings("e5", ordinary, e5_fn, e5_ver))
    tdata, plain = Featurized(tox_texts, lexicon), Featurized(ordinary, lexicon)
    rl = RiskLexicon.load()
    extra = np.array([toxicity_features(t, rl) for t in tox_texts])
    plain_extra = np.array([toxicity_features(t, rl) for t in ordinary])
    labels = np.where(truth_all, "toxic", "non_toxic")
    p_fast, p_use = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
    fold_of = np.full(len(rows), -1)
    for k, (a, b) in enumerate(StratifiedKFold(nfold, shuffle=True, random_state=SEED).split(fit, truth_all[fit])):
        idx = fit[a]
        fold_of[fit[b]] = k
        fast = fit_linear(tdata.subset(idx.tolist()) + plain.feats,
                          list(labels[idx]) + ["non_toxic"] * len(ordinary), params=TOXICITY_PARAMS,
                          lexicon_lists=lists, extra=np.vstack([extra[idx], plain_extra]).tolist(),
                          sample_weight=[1.0] * len(idx) + [ORDINARY_WEIGHT] * len(ordinary))
        column = list(fast.labels).index("toxic")
        p_fast[fit[b]] = proba_feats(fast, tdata.subset(fit[b].tolist()), extra[fit[b]])[:, column]
        x = np.vstack([out["use_emb"][idx], out["ord_use"]])
        yy = np.r_[truth_all[idx], np.zeros(len(ordinary), dtype=bool)]
        w = np.r_[np.ones(len(idx)), np.full(len(ordinary), ORDINARY_WEIGHT)]
        head = _logistic(x, yy, TOX_C, sample_weight=w, class_weight="balanced")
        p_use[fit[b]] = head.predict_proba(out["use_emb"][fit[b]])[:, 1]
    return {**out, "fast": p_fast, "use": p_use, "fold": fold_of, "fit": fit, "truth": truth_all, "extra": extra,
            "plain_extra": plain_extra}


if __name__ == "__main__":
    result = oof(5, with_e5=True)
    (ROOT / "data" / "ftcv").mkdir(parents=True, exist_ok=True)
    np.savez(ROOT / "data" / "ftcv" / "oof5.npz", **result)
    print("done", np.nanmean(result["fast"]), np.nanmean(result["use"]))
