"""Experiment: municipal messages as extra non-toxic rows in both toxicity fits, the threshold chosen by 5-fold CV
under the product's decision rule (product_rule_cv.py), then the benign city set read at that threshold.

Run from the repository root after oof5.py: `HF_HUB_OFFLINE=1 python scripts/toxicity_ft/city_negatives_cv.py W...`
(W = the municipal rows' weights to try; 0 = none)."""
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from product_rule_cv import FIT, LEX, TEXTS, THRESHOLDS, TRUTH, Z, f1, product_toxic  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from moderation.false_flags import load_benign  # noqa: E402
from moderation.features import Lexicon  # noqa: E402
from moderation.lexicon import RiskLexicon  # noqa: E402
from moderation.rich import fuse_toxicity  # noqa: E402
from moderation.rich_training import TOX_C, _encoders, _logistic, cached_embeddings  # noqa: E402
from moderation.toxicity import normalise, toxicity_features  # noqa: E402
from moderation.train_jobs import ORDINARY_WEIGHT, TOXICITY_PARAMS, _lexicon_lists, _ordinary_rows  # noqa: E402
from moderation.training import SEED, Featurized, fit_linear, proba_feats, read_jsonl  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
BENCH = ROOT / "console" / "bench" / "data"


def city_rows() -> list[str]:
    """Residents' messages to a town hall from the bench sets (topics, similar answers): none is toxic."""
    texts = [json.loads(x)["text"] for x in (BENCH / "topics_fr.jsonl").read_text().splitlines() if x.strip()]
    texts += [json.loads(x)["text"] for x in (BENCH / "similar_answers_fr.jsonl").read_text().splitlines() if x.strip()]
    return list(dict.fromkeys(normalise(t) for t in texts))


rows = read_jsonl(DATA / "mlma-fr" / "train.jsonl")
truth_all = Z["truth"]
tox_texts = [normalise(r["text"]) for r in rows]
lists = _lexicon_lists()
lexicon = Lexicon.from_lists(lists)
rl = RiskLexicon.load()
ordinary, _ = _ordinary_rows(DATA)
city = city_rows()
_, _, use_fn, use_ver = _encoders(e5=lambda t: None)
city_use = cached_embeddings("use", city, use_fn, use_ver)
tox_use, ord_use = Z["use_emb"], Z["ord_use"]
tdata, plain, cdata = Featurized(tox_texts, lexicon), Featurized(ordinary, lexicon), Featurized(city, lexicon)
extra, plain_extra = Z["extra"], Z["plain_extra"]
city_extra = np.array([toxicity_features(t, rl) for t in city])
labels = np.where(truth_all, "toxic", "non_toxic")
benign = [b.text for b in load_benign()]
fit = FIT


def models(idx, w):
    neg_feats = plain.feats + (cdata.feats if w else [])
    neg_extra = np.vstack([plain_extra, city_extra]) if w else plain_extra
    weights = [ORDINARY_WEIGHT] * len(ordinary) + ([w] * len(city) if w else [])
    fast = fit_linear(tdata.subset(idx.tolist()) + neg_feats, list(labels[idx]) + ["non_toxic"] * len(weights),
                      params=TOXICITY_PARAMS, lexicon_lists=lists, extra=np.vstack([extra[idx], neg_extra]).tolist(),
                      sample_weight=[1.0] * len(idx) + weights)
    x = np.vstack([tox_use[idx], ord_use] + ([city_use] if w else []))
    yy = np.r_[truth_all[idx], np.zeros(len(weights), dtype=bool)]
    head = _logistic(x, yy, TOX_C, sample_weight=np.r_[np.ones(len(idx)), weights], class_weight="balanced")
    return fast, head


def fused_proba(fast, head, feats, ext, use_emb):
    pf = proba_feats(fast, feats, ext)[:, list(fast.labels).index("toxic")]
    return fuse_toxicity(pf, head.predict_proba(use_emb)[:, 1], 1.0)


for w in [float(a) for a in sys.argv[1:]] or [0.0]:
    oof = np.zeros(len(rows))
    for a, b in StratifiedKFold(5, shuffle=True, random_state=SEED).split(fit, truth_all[fit]):
        fast, head = models(fit[a], w)
        oof[fit[b]] = fused_proba(fast, head, tdata.subset(fit[b].tolist()), extra[fit[b]], tox_use[fit[b]])
    p = oof[fit]
    scores = {t: f1(TRUTH, product_toxic(TEXTS, p, t)) for t in THRESHOLDS}
    t_best = max(scores, key=scores.get)
    or_t = max(THRESHOLDS, key=lambda t: f1(TRUTH, (p >= t) | LEX))
    fast, head = models(fit, w)
    bn = [normalise(t) for t in benign]
    pb = fused_proba(fast, head, Featurized(bn, lexicon).feats, np.array([toxicity_features(t, rl) for t in bn]),
                     cached_embeddings("use", bn, use_fn, use_ver))
    print(json.dumps({"city_weight": w, "city_rows": len(city) if w else 0,
                      "product_cv_best": [t_best, round(scores[t_best], 4)],
                      "or_rule_t": or_t, "product_cv_at_or_t": round(scores[or_t], 4),
                      "benign_flags": {str(t): int(product_toxic(benign, pb, t).sum())
                                       for t in (0.36, 0.4, 0.44, 0.48, or_t, t_best)}}), flush=True)
