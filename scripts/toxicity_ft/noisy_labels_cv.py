"""Decision 0330: does training the toxicity fast model and the USE head on *cleaned* labels help, under the
5-fold CV protocol and the product's decision rule of decision 0315?

Cleaning (confident learning, binary case of cleanlab, implemented here): inside each outer training fold, 3 inner
stratified folds (seed 7) of the shipped recipe give inner out-of-fold probabilities of every training row; per
class c, ``t_c`` = mean probability of c over the rows labelled c (the class's self-confidence); suspect rows are
then dropped, down-weighted or flipped and the models refitted on the whole outer training fold. Validation folds
keep their original labels. The threshold is chosen as the training jobs choose it ("probability or lexicon",
pooled out-of-fold); the score is the product rule's macro-F1, per fold at that pooled threshold; paired Δ against
the shipped recipe (data/ftcv/oof5.npz, same folds).

Run from the repository root after oof5.py:
`HF_HUB_OFFLINE=1 nice -n 5 python scripts/toxicity_ft/noisy_labels_cv.py [inner|cv|benign NAME...]`
(`inner` computes and caches the inner out-of-fold probabilities in data/ftcv/noisy_inner.npz; `cv` scores every
variant of VARIANTS and appends JSON lines to data/ftcv/noisy_cv.jsonl; `benign NAME...` fits the named variants
on the whole fit part, cleaned with the 5-fold out-of-fold probabilities of oof5.npz as the trainer would, and
counts the 310 benign city messages flagged toxic at the variant's CV threshold).
"""
from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from product_rule_cv import FIT, FOLD, LEX, TEXTS, THRESHOLDS, TRUTH, Z, f1, product_toxic  # noqa: E402
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
OUT = ROOT / "data" / "ftcv"
INNER = OUT / "noisy_inner.npz"
RESULTS = OUT / "noisy_cv.jsonl"
N_INNER = 3

rows = read_jsonl(DATA / "mlma-fr" / "train.jsonl")
truth_all = Z["truth"]
tox_texts = [normalise(r["text"]) for r in rows]
lists = _lexicon_lists()
lexicon = Lexicon.from_lists(lists)
ordinary, _ = _ordinary_rows(DATA)
tox_use, ord_use = Z["use_emb"], Z["ord_use"]
extra, plain_extra = Z["extra"], Z["plain_extra"]
tdata, plain = Featurized(tox_texts, lexicon), Featurized(ordinary, lexicon)
# MLMA's "normal" + another hostility label: toxic by the dataset's rule, but one annotator pass said normal
AMBIGUOUS = np.array([("normal" in r["labels"]) and len(r["labels"]) > 1 for r in rows])
OUTER = list(StratifiedKFold(5, shuffle=True, random_state=SEED).split(FIT, truth_all[FIT]))
_memo: dict[str, Any] = {}


def _key(kind: str, idx: Any, y: Any, w: Any) -> str:
    h = hashlib.sha256(kind.encode())
    for a in (np.asarray(idx, dtype=np.int64), np.asarray(y, dtype=bool), np.asarray(w, dtype=np.float64)):
        h.update(a.tobytes())
    return h.hexdigest()


def fit_fast(idx: Any, y: Any, w: Any) -> Any:
    """The shipped fast recipe on MLMA rows ``idx`` with labels ``y`` and weights ``w`` (+ ordinary tweets)."""
    key = _key("fast", idx, y, w)
    if key not in _memo:
        _memo[key] = fit_linear(tdata.subset(idx.tolist()) + plain.feats,
                                list(np.where(y, "toxic", "non_toxic")) + ["non_toxic"] * len(ordinary),
                                params=TOXICITY_PARAMS, lexicon_lists=lists,
                                extra=np.vstack([extra[idx], plain_extra]).tolist(),
                                sample_weight=list(map(float, w)) + [ORDINARY_WEIGHT] * len(ordinary))
    return _memo[key]


def fit_head(idx: Any, y: Any, w: Any) -> Any:
    key = _key("head", idx, y, w)
    if key not in _memo:
        _memo[key] = _logistic(np.vstack([tox_use[idx], ord_use]), np.r_[y, np.zeros(len(ordinary), dtype=bool)],
                               TOX_C, sample_weight=np.r_[w, np.full(len(ordinary), ORDINARY_WEIGHT)],
                               class_weight="balanced")
    return _memo[key]


def prob_fast(model: Any, feats: Any, ext: Any) -> Any:
    return proba_feats(model, feats, ext)[:, list(model.labels).index("toxic")]


def inner_oof() -> None:
    """Inner out-of-fold fast and USE probabilities of each outer training fold (shipped recipe, original labels)."""
    pin_fast, pin_use = np.full((5, len(rows)), np.nan), np.full((5, len(rows)), np.nan)
    for k, (a, _) in enumerate(OUTER):
        idx = FIT[a]
        t0 = time.process_time()
        for ia, ib in StratifiedKFold(N_INNER, shuffle=True, random_state=SEED).split(idx, truth_all[idx]):
            tr, va = idx[ia], idx[ib]
            ones = np.ones(len(tr))
            pin_fast[k, va] = prob_fast(fit_fast(tr, truth_all[tr], ones), tdata.subset(va.tolist()), extra[va])
            pin_use[k, va] = fit_head(tr, truth_all[tr], ones).predict_proba(tox_use[va])[:, 1]
        print(f"outer fold {k}: inner OOF done, {time.process_time() - t0:.0f} CPU-s", flush=True)
        _memo.clear()
    np.savez(INNER, fast=pin_fast, use=pin_use)


def suspects(p_toxic: Any, y: Any, rule: str, frac: float = 0.0) -> Any:
    """Rows whose given label ``y`` the probabilities ``p_toxic`` find implausible (cleanlab's per-class
    self-confidence thresholds, binary case)."""
    p_given = np.where(y, p_toxic, 1 - p_toxic)
    t_tox, t_non = p_toxic[y].mean(), (1 - p_toxic[~y]).mean()
    t_given, t_other = np.where(y, t_tox, t_non), np.where(y, t_non, t_tox)
    if rule == "below":
        return p_given < t_given
    if rule == "cj":  # confident joint, off-diagonal: the other class passes its threshold (and wins if both do)
        other_ok = (1 - p_given) >= t_other
        given_ok = p_given >= t_given
        return other_ok & (~given_ok | ((1 - p_given) > p_given))
    if rule == "rank":  # the fraction `frac` of each class's rows with the lowest self-confidence
        out = np.zeros(len(y), dtype=bool)
        for cls in (True, False):
            where = np.where(y == cls)[0]
            n = int(round(frac * len(where)))
            out[where[np.argsort(p_given[where], kind="stable")[:n]]] = True
        return out
    raise ValueError(rule)


def cleaned(idx: Any, p_fast_in: Any, p_use_in: Any, spec: dict[str, Any], model: str) -> tuple[Any, Any, Any]:
    """(rows, labels, weights) for fitting ``model`` ("fast" or "head") on ``idx`` under ``spec``."""
    y = truth_all[idx].copy()
    w = np.ones(len(idx))
    if spec.get("meta_w") is not None:
        w[AMBIGUOUS[idx]] = spec["meta_w"]
    if spec["apply"] not in ("both", model) or spec["rule"] == "none":
        return idx, y, w
    src = spec["source"]
    p = fuse_toxicity(p_fast_in, p_use_in, 1.0) if src == "fused" else (p_fast_in if model == "fast" else p_use_in)
    bad = suspects(p, y, spec["rule"], spec.get("frac", 0.0))
    if spec["action"] == "drop":
        return idx[~bad], y[~bad], w[~bad]
    if spec["action"] == "weight":
        w[bad] *= spec["weight"]
        return idx, y, w
    if spec["action"] == "flip":
        y[bad] = ~y[bad]
        return idx, y, w
    raise ValueError(spec["action"])


def tier_scores(p: Any) -> dict[str, Any]:
    """Trainer's threshold ("probability or lexicon", pooled), then the product rule pooled and per fold."""
    t = max(THRESHOLDS, key=lambda x: f1(TRUTH, (p >= x) | LEX))
    pred = product_toxic(TEXTS, p, t)
    return {"t": t, "product": round(f1(TRUTH, pred), 4),
            "folds": [round(f1(TRUTH[np.equal(FOLD, k)], pred[np.equal(FOLD, k)]), 4) for k in range(5)]}


BASE = {"fast": tier_scores(Z["fast"][FIT]), "rich": tier_scores(fuse_toxicity(Z["fast"][FIT], Z["use"][FIT], 1.0))}


def paired(folds: list[float], tier: str) -> dict[str, float]:
    d = np.array(folds) - np.array(BASE[tier]["folds"])
    return {"delta": round(float(d.mean()), 4), "se": round(float(d.std(ddof=1) / np.sqrt(len(d))), 4)}


def run_variant(name: str, spec: dict[str, Any], inner: Any) -> dict[str, Any]:
    t0 = time.process_time()
    pf, pu = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
    n_bad = []
    for k, (a, b) in enumerate(OUTER):
        idx, val = FIT[a], FIT[b]
        fi, fy, fw = cleaned(idx, inner["fast"][k, idx], inner["use"][k, idx], spec, "fast")
        hi, hy, hw = cleaned(idx, inner["fast"][k, idx], inner["use"][k, idx], spec, "head")
        n_bad.append(int(len(idx) - len(hi) + (hy != truth_all[hi]).sum() + (hw < 1).sum()))
        if spec["apply"] in ("both", "fast") or spec.get("meta_w") is not None:
            pf[val] = prob_fast(fit_fast(fi, fy, fw), tdata.subset(val.tolist()), extra[val])
        else:
            pf[val] = Z["fast"][val]
        if spec["apply"] in ("both", "head") or spec.get("meta_w") is not None:
            pu[val] = fit_head(hi, hy, hw).predict_proba(tox_use[val])[:, 1]
        else:
            pu[val] = Z["use"][val]
    out: dict[str, Any] = {"name": name, "spec": spec, "rows_touched_head_per_fold": n_bad}
    for tier, p in (("fast", pf[FIT]), ("rich", fuse_toxicity(pf[FIT], pu[FIT], 1.0))):
        s = tier_scores(p)
        out[tier] = {**s, **paired(s["folds"], tier)}
    out["cpu_s"] = round(time.process_time() - t0)
    return out


def _v(rule: str, action: str = "drop", *, source: str = "fused", apply: str = "both", **kw: Any) -> dict[str, Any]:
    return {"rule": rule, "action": action, "source": source, "apply": apply, **kw}


VARIANTS: dict[str, dict[str, Any]] = {
    "below-drop": _v("below"),
    "cj-drop": _v("cj"),
    "cj-flip": _v("cj", "flip"),
    "cj-w0.5": _v("cj", "weight", weight=0.5),
    "below-w0.5": _v("below", "weight", weight=0.5),
    "rank0.05-drop": _v("rank", frac=0.05),
    "rank0.1-drop": _v("rank", frac=0.1),
    "rank0.2-drop": _v("rank", frac=0.2),
    "cj-drop-own": _v("cj", source="own"),
    "cj-drop-head": _v("cj", apply="head"),
    "cj-drop-fast": _v("cj", apply="fast"),
    "meta0.5": _v("none", meta_w=0.5),
    "cj-drop+meta0.5": _v("cj", meta_w=0.5),
}


def run_cv(names: list[str]) -> None:
    inner = np.load(INNER)
    print(json.dumps({"name": "shipped", **BASE}), flush=True)
    for name in names or list(VARIANTS):
        res = run_variant(name, VARIANTS[name], inner)
        with RESULTS.open("a") as fh:
            fh.write(json.dumps(res) + "\n")
        print(json.dumps(res), flush=True)
        _memo.clear()


def _benign_probs(name: str) -> tuple[list[str], Any, Any]:
    """The 310 benign city messages and the fast and rich probabilities of the variant's models fitted on the
    whole fit part (cleaned with oof5's 5-fold out-of-fold probabilities, as the trainer would clean)."""
    texts = [b.text for b in load_benign()]
    bn = [normalise(t) for t in texts]
    rl = RiskLexicon.load()
    bfeats, bextra = Featurized(bn, lexicon).feats, np.array([toxicity_features(t, rl) for t in bn])
    _, _, use_fn, use_ver = _encoders(e5=lambda t: None)
    buse = cached_embeddings("use", bn, use_fn, use_ver)
    spec = VARIANTS[name] if name != "shipped" else _v("none")
    fi, fy, fw = cleaned(FIT, Z["fast"][FIT], Z["use"][FIT], spec, "fast")
    hi, hy, hw = cleaned(FIT, Z["fast"][FIT], Z["use"][FIT], spec, "head")
    pf = prob_fast(fit_fast(fi, fy, fw), bfeats, bextra)
    return texts, pf, fuse_toxicity(pf, fit_head(hi, hy, hw).predict_proba(buse)[:, 1], 1.0)


def benign(names: list[str]) -> None:
    """The benign city messages flagged toxic at the variant's CV threshold (and at the shipped 0.46 / 0.50)."""
    done = {json.loads(x)["name"]: json.loads(x) for x in RESULTS.read_text().splitlines() if x.strip()}
    for name in names:
        texts, pf, pr = _benign_probs(name)
        ts = BASE if name == "shipped" else done[name]
        print(json.dumps({"name": name,
                          "benign_fast": int(product_toxic(texts, pf, ts["fast"]["t"]).sum()),
                          "benign_rich": int(product_toxic(texts, pr, ts["rich"]["t"]).sum()),
                          "t": [ts["fast"]["t"], ts["rich"]["t"]],
                          "at_shipped_t_0.46_0.50": [int(product_toxic(texts, pf, 0.46).sum()),
                                                     int(product_toxic(texts, pr, 0.5).sum())]}), flush=True)


def diag(name: str) -> None:
    """What the variant removes on the whole fit part, and its CV and benign flags at the shipped thresholds
    (0.46 fast, 0.50 rich) instead of its own: how much of the change is the threshold's."""
    spec = VARIANTS[name]
    y = truth_all[FIT]
    bad = suspects(fuse_toxicity(Z["fast"][FIT], Z["use"][FIT], 1.0), y, spec["rule"], spec.get("frac", 0.0)) \
        if spec["rule"] != "none" else np.zeros(len(y), dtype=bool)
    print(json.dumps({"name": name, "suspect_toxic": int((bad & y).sum()), "of_toxic": int(y.sum()),
                      "suspect_normal": int((bad & ~y).sum()), "of_normal": int((~y).sum()),
                      "suspect_ambiguous": int((bad & AMBIGUOUS[FIT]).sum()), "ambiguous": int(AMBIGUOUS[FIT].sum())}))
    inner = np.load(INNER)
    pf, pu = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
    for k, (a, b) in enumerate(OUTER):
        idx, val = FIT[a], FIT[b]
        fi, fy, fw = cleaned(idx, inner["fast"][k, idx], inner["use"][k, idx], spec, "fast")
        hi, hy, hw = cleaned(idx, inner["fast"][k, idx], inner["use"][k, idx], spec, "head")
        pf[val] = prob_fast(fit_fast(fi, fy, fw), tdata.subset(val.tolist()), extra[val])
        pu[val] = fit_head(hi, hy, hw).predict_proba(tox_use[val])[:, 1]
    for tier, p, t in (("fast", pf[FIT], 0.46), ("rich", fuse_toxicity(pf[FIT], pu[FIT], 1.0), 0.5)):
        pred = product_toxic(TEXTS, p, t)
        folds = [round(f1(TRUTH[np.equal(FOLD, k)], pred[np.equal(FOLD, k)]), 4) for k in range(5)]
        print(json.dumps({"tier": tier, "t": t, "product": round(f1(TRUTH, pred), 4), "folds": folds,
                          **paired(folds, tier), "mean_oof_p_normal_rows": round(float(p[~TRUTH].mean()), 3),
                          "base_mean_oof_p_normal_rows": round(float(
                              (Z["fast"][FIT] if tier == "fast" else fuse_toxicity(Z["fast"][FIT], Z["use"][FIT], 1.0)
                               )[~TRUTH].mean()), 3)}))



def frontier() -> None:
    """The shipped recipe at other thresholds (no cleaning): product-rule CV and benign flags, to set each variant
    against the plain threshold move of decision 0315 at the same number of benign flags."""
    texts, pf, pr = _benign_probs("shipped")
    rich_oof = fuse_toxicity(Z["fast"][FIT], Z["use"][FIT], 1.0)
    for t in (0.3, 0.34, 0.36, 0.4, 0.42, 0.44, 0.46, 0.48, 0.5):
        print(json.dumps({"t": t,
                          "fast": [round(f1(TRUTH, product_toxic(TEXTS, Z["fast"][FIT], t)), 4),
                                   int(product_toxic(texts, pf, t).sum())],
                          "rich": [round(f1(TRUTH, product_toxic(TEXTS, rich_oof, t)), 4),
                                   int(product_toxic(texts, pr, t).sum())]}), flush=True)

if __name__ == "__main__":
    cmd, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("cv", [])
    if cmd == "inner":
        inner_oof()
    elif cmd == "cv":
        run_cv(args)
    elif cmd == "benign":
        benign(args)
    elif cmd == "frontier":
        frontier()
    elif cmd == "diag":
        for name in args:
            diag(name)
    else:
        raise SystemExit(__doc__)
