"""Rebuild the shipped models from the labelled data in ``../shared/data`` (``python -m console train ...``).

Sentiment: trained on ``xlmt-fr/train.jsonl`` and ``xlmt-en/train.jsonl`` (+ agents' corrections with
``--with-feedback``); hyper-parameters were chosen by 5-fold cross-validation on the French training rows (``--search``
reruns the grid); the ``val.jsonl`` files are only reported. Toxicity: ``mlma-fr/train.jsonl`` is split 80/20
(stratified, seed 7); the decision threshold is chosen by cross-validation on the 80 % (for the classifier together with
the lexicon, as ``eval risk`` counts it) and the 20 % is held out for ``eval risk``; the positive and neutral tweets of
``xlmt-fr/train.jsonl`` join every fit as non-toxic rows (docs/decisions/0011-toxicity-model.md). Same inputs, same
seeds, same file.
"""

from __future__ import annotations

import hashlib
import logging
import math
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.config import REPO_ROOT
from moderation.evaluation import binary_report, classification_report
from moderation.features import LEXICON_PATH, Lexicon, read_en_valence
from moderation.lexicon import RiskLexicon
from moderation.sentiment_model import DEFAULT_MODEL_PATH, LABELS
from moderation.toxicity import DEFAULT_TOXICITY_PATH, EXTRA_V2, normalise, toxicity_features
from moderation.training import (
    SEED,
    Featurized,
    Params,
    _predict_feats,
    cross_validate,
    file_digest,
    fit_linear,
    proba_feats,
    read_jsonl,
    vector_table,
)
from moderation.use_vectors import CACHE_DIR

log = logging.getLogger(__name__)
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"  # the labelled data sets beside the checkout
# 5-fold CV macro-F1 on xlmt-fr/train (English rows in every fit): 0.660 without the USE word vectors, 0.679 with
# them at scale 4 (decision 0012; scales 1-12 tried)
SENTIMENT_PARAMS = Params(C=3.0, min_df=2, vec_scale=4.0, vec2_scale=4.0)
TOXICITY_PARAMS = Params(C=0.3, min_df=2, class_weight="balanced", use_chars=True)
# Ordinary tweets (xlmt-fr positive/neutral) join every toxicity fit as non-toxic rows at this weight, so that
# plain text does not sit on MLMA's 80 %-toxic prior; 0.3 costs no CV on MLMA, 1.0 does (decisions/0011)
ORDINARY_WEIGHT = 0.3
# The team's own moderation decisions (``--with-feedback``, decision 0316) weigh as much as an MLMA row
FEEDBACK_WEIGHT = 1.0
# Distillation (decision 0270): the fast model is fitted on soft targets DISTIL_LABEL_WEIGHT · label +
# (1 - DISTIL_LABEL_WEIGHT) · p(e5 head), the e5 head (C = DISTIL_C, the rich tier's) scoring each training text
# out of fold; only the training run needs e5, the saved model is the same linear file
DISTIL_LABEL_WEIGHT = 0.5
DISTIL_C = 3.0
# what `train sentiment` ships (CV of decision 0270): distilled, English valences gated by the language flag
SENTIMENT_DISTIL = True
SENTIMENT_GATED = True
SEARCH_GRID = (SENTIMENT_PARAMS, Params(), Params(vec2_scale=2.0), Params(vec2_scale=6.0),
               Params(vec_scale=2.0, vec2_scale=4.0), Params(C=1.0, vec2_scale=4.0), Params(C=10.0, vec2_scale=4.0))


def _lexicon_lists() -> dict[str, Any]:
    with LEXICON_PATH.open("rb") as fh:
        return tomllib.load(fh)


def sentiment_lexicon_lists(english: bool = True, gated: bool = False) -> dict[str, Any]:
    """The sentiment model's lexicon: the French TOML, plus the English valences if ``english`` (decision 0240).

    ``gated``: the valence sums count only in texts flagged English (decision 0270). The lists are embedded in
    the model file, so the toxicity model (French lists only) is unaffected.
    """
    lists = _lexicon_lists()
    if english:
        lists["en_valence"] = read_en_valence()
        if gated:
            lists["en_gated"] = True
    return lists


def language_folds(labels: Sequence[str], groups: Sequence[str], folds: int = 5,
                   scored: Sequence[str] | None = None) -> Any:
    """Fold number of each row: every group (language) of ``scored`` split in ``folds`` stratified folds, seed 7.

    Rows of other groups (agents' corrections) get -1: they are in every fit and never scored (decision 0012).
    """
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    y, lang = np.asarray(labels), np.asarray(groups)
    out = np.full(len(y), -1)
    for name in sorted(set(lang) if scored is None else set(scored)):
        idx = np.where(lang == name)[0]
        for k, (_, b) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=SEED).split(idx, y[idx])):
            out[idx[b]] = k
    return out


def teacher_targets(emb: Any, labels: Sequence[str], *, label_weight: float = DISTIL_LABEL_WEIGHT,
                    c: float = DISTIL_C, folds: int = 5) -> Any:
    """Distillation targets, shape ``(len(labels), 3)`` in :data:`LABELS` order (decision 0270).

    ``label_weight`` · one-hot label + (1 - ``label_weight``) · the class probabilities of a logistic-regression
    head on the e5 embeddings ``emb``, each row scored by a head fitted on the *other* folds (stratified, seed 7)
    of the rows given, so no target repeats a label the head has seen.
    """
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(labels)
    x = np.asarray(emb, dtype=np.float64)
    teacher = np.zeros((len(y), len(LABELS)))
    for a, b in StratifiedKFold(folds, shuffle=True, random_state=SEED).split(x, y):
        head = LogisticRegression(C=c, max_iter=5000, random_state=SEED).fit(x[a], list(y[a]))
        p = head.predict_proba(x[b])
        teacher[b] = p[:, [list(head.classes_).index(label) for label in LABELS]]
    onehot = (y[:, None] == np.array(LABELS)[None, :]).astype(np.float64)
    return label_weight * onehot + (1.0 - label_weight) * teacher


def _e5_embeddings(texts: Sequence[str], e5: Any, cache_dir: Path | None) -> tuple[Any, str]:
    """e5 embeddings of ``texts`` through the rich tier's encoder and cache (``data/cache/emb``), and its version."""
    from moderation.rich_training import _encoders, cached_embeddings

    e5_fn, e5_version, _, _ = _encoders(e5, use=lambda texts: texts)
    return cached_embeddings("e5", texts, e5_fn, e5_version, cache_dir), e5_version


def text_hash(text: str) -> str:
    """Short hash identifying a training text (so eval can skip texts a model was trained on)."""
    return hashlib.sha1(text.strip().encode("utf-8")).hexdigest()[:16]  # noqa: S324 - an id, not security


def _vectors(vectors_path: Path | None, use_vectors: bool) -> tuple[tuple[dict[str, int], Any] | None, str]:
    if not use_vectors:
        return None, ""
    from moderation.vectors import find_wheel, load_vectors

    source = find_wheel(vectors_path)
    log.info("reading French word vectors from %s", source)
    rows, vectors, digest = load_vectors(source)
    return (vector_table(rows), vectors), digest[:12]


def use_word_table(feats: Sequence[Any], vectors: tuple[dict[str, int], Any] | None,
                   cache_dir: Path | None = None) -> tuple[dict[str, int], Any] | None:
    """USE word vectors for the words of the French vector table and of ``feats``, or None without the package."""
    from moderation import use_vectors

    if not use_vectors.available():
        log.warning("%s is not installed: training without the USE word vectors (weaker model)", use_vectors.PACKAGE)
        return None
    words = set(vectors[0]) if vectors is not None else set()
    for f in feats:
        words.update(f.vector_words)
    ordered = sorted(words)
    kwargs = {"cache_dir": cache_dir} if cache_dir is not None else {}
    return {w: i for i, w in enumerate(ordered)}, use_vectors.word_vectors(ordered, **kwargs)


def train_sentiment(data_dir: Path, *, out: Path = DEFAULT_MODEL_PATH, vectors_path: Path | None = None,
                    use_vectors: bool = True, feedback: Sequence[tuple[str, str]] = (),
                    params: Params = SENTIMENT_PARAMS, search: bool = False,
                    extra_languages: Sequence[str] = ("en",), use_words: bool = True,
                    words_cache: Path | None = None, english: bool = True, distil: bool = False,
                    e5: Any = None, e5_cache: Path | None = CACHE_DIR, gated: bool = False) -> dict[str, Any]:
    """Train and save the offline sentiment model; return a report (CV scores if ``search``, val metrics).

    ``use_words``: add the Universal Sentence Encoder's word vectors (decision 0012) when the package is there;
    ``english``: add the English features (valence lexicon, ``n't`` negation, decoded escapes; decision 0240),
    ``gated`` by the language flag (decision 0270);
    ``distil``: fit on the soft targets of :func:`teacher_targets` (decision 0270), with the rich tier's e5
    encoder (``e5``: an encoder function instead, tests) and embedding cache ``e5_cache`` (None: no cache).
    """
    train_path = data_dir / "xlmt-fr" / "train.jsonl"
    rows = read_jsonl(train_path)
    extra_paths = [data_dir / f"xlmt-{lang}" / "train.jsonl" for lang in extra_languages]
    extra_rows = [r for p in extra_paths for r in read_jsonl(p)]
    texts = [r["text"] for r in rows] + [t for t, _ in feedback] + [r["text"] for r in extra_rows]
    labels = [r["label"] for r in rows] + [label for _, label in feedback] + [r["label"] for r in extra_rows]
    lists = sentiment_lexicon_lists(english, gated)
    lexicon = Lexicon.from_lists(lists)
    vectors, vec_digest = _vectors(vectors_path, use_vectors)
    data = Featurized(texts, lexicon)
    vectors2 = use_word_table(data.feats, vectors, words_cache) if use_words and params.vec2_scale > 0 else None
    report: dict[str, Any] = {"train_rows": len(rows), "extra_rows": len(extra_rows), "feedback_rows": len(feedback),
                              "vectors": bool(vectors), "use_word_vectors": vectors2 is not None}
    if search:
        scores = {}
        for candidate in SEARCH_GRID:
            scores[repr(candidate)] = round(cross_validate(data, labels, params=candidate, lexicon_lists=lists,
                                                           vectors=vectors, scored=len(rows) + len(feedback),
                                                           vectors2=vectors2), 4)
            log.info("CV %s -> %s", candidate, scores[repr(candidate)])
        report["cv_macro_f1"] = scores
        params = max(SEARCH_GRID, key=lambda p: scores[repr(p)])
    digest = file_digest([train_path, *extra_paths])
    generation = 4 if distil else 3 if english else 2 if vectors2 is not None else 1
    meta = {"version": f"offline-sentiment-{generation}+{digest[:8]}{'-fb' + str(len(feedback)) if feedback else ''}",
            "trained_on": {str(p.relative_to(data_dir)): file_digest([p]) for p in [train_path, *extra_paths]},
            "vectors_sha256": vec_digest, "seed": SEED,
            "feedback_rows": len(feedback), "task": "sentiment"}
    if vectors2 is not None:
        from moderation.use_vectors import PACKAGE, package_version

        meta["word_vectors2"] = f"{PACKAGE}=={package_version()}"
    targets = None
    if distil:
        emb, e5_version = _e5_embeddings(texts, e5, e5_cache)
        targets = teacher_targets(emb, labels)
        meta["distilled"] = {"teacher": e5_version, "label_weight": DISTIL_LABEL_WEIGHT, "C": DISTIL_C}
    model = fit_linear(data.feats, labels, params=params, lexicon_lists=lists, vectors=vectors, meta=meta,
                       vectors2=vectors2, targets=targets)
    model.save(out)
    report.update(path=str(out), size_bytes=out.stat().st_size, version=model.version, params=repr(params))
    val_path = data_dir / "xlmt-fr" / "val.jsonl"
    if val_path.exists():
        val = read_jsonl(val_path)
        predicted = _predict_feats(model, Featurized([r["text"] for r in val], lexicon).feats)
        report["val"] = classification_report([r["label"] for r in val], predicted, LABELS)
    for lang in extra_languages:
        path = data_dir / f"xlmt-{lang}" / "val.jsonl"
        if path.exists():
            val = read_jsonl(path)
            predicted = _predict_feats(model, Featurized([r["text"] for r in val], lexicon).feats)
            report[f"val_{lang}_macro_f1"] = classification_report([r["label"] for r in val], predicted,
                                                                    LABELS)["macro_f1"]
    return report


def sentiment_cv(data_dir: Path, *, variants: Sequence[str] = ("plain", "distil"), vectors_path: Path | None = None,
                 use_vectors: bool = True, use_words: bool = True, params: Params = SENTIMENT_PARAMS,
                 english: bool = True, gated: bool = False, e5: Any = None, e5_cache: Path | None = CACHE_DIR,
                 words_cache: Path | None = None, label_weight: float = DISTIL_LABEL_WEIGHT) -> dict[str, Any]:
    """Out-of-fold macro-F1 per language of the fast sentiment model, as ``train sentiment`` fits it.

    The protocol of decisions 0012/0240: 5 stratified folds (seed 7) of ``xlmt-fr/train`` and of each
    ``xlmt-<lang>/train``; fold k trains on the other folds of every language. ``variants``: "plain" (hard labels)
    and/or "distil" (the targets of :func:`teacher_targets`, computed *inside* each training fold, so the e5 head
    never sees the scored fold). The ``val.jsonl`` files are not read. Each variant also reports the rich tier
    that fuses it with the e5 head (``rich``: at the shipped weight; ``rich_weights``: other weights), since the
    rich tier loads the shipped fast model.
    """
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from moderation.evaluation import macro_f1
    from moderation.rich import SENT_WEIGHT, fuse_sentiment

    paths = [data_dir / "xlmt-fr" / "train.jsonl", data_dir / "xlmt-en" / "train.jsonl"]
    rows = [(r, p.parent.name[len("xlmt-"):]) for p in paths if p.exists() for r in read_jsonl(p)]
    texts = [r["text"] for r, _ in rows]
    y = np.array([r["label"] for r, _ in rows])
    lang = [name for _, name in rows]
    folds = language_folds(y.tolist(), lang)
    lists = sentiment_lexicon_lists(english, gated)
    data = Featurized(texts, Lexicon.from_lists(lists))
    vectors, _ = _vectors(vectors_path, use_vectors)
    vectors2 = use_word_table(data.feats, vectors, words_cache) if use_words and params.vec2_scale > 0 else None
    emb, _ = _e5_embeddings(texts, e5, e5_cache)
    report: dict[str, Any] = {"rows": {name: lang.count(name) for name in sorted(set(lang))}}
    n_folds = int(folds.max()) + 1
    p_head = np.zeros((len(y), len(LABELS)))
    for k in range(n_folds):  # the rich tier's e5 head, out of fold (rich_training.SENT_C)
        train, test = np.where(folds != k)[0], np.where(folds == k)[0]
        head = LogisticRegression(C=DISTIL_C, max_iter=5000, random_state=SEED).fit(emb[train], y[train].tolist())
        p_head[test] = head.predict_proba(emb[test])[:, [list(head.classes_).index(label) for label in LABELS]]
    is_lang = {name: np.array(lang) == name for name in sorted(set(lang))}

    def f1(p: Any, keep: Any) -> float:
        return round(macro_f1(y[keep].tolist(), [LABELS[i] for i in p[keep].argmax(axis=1)]), 4)

    for variant in variants:
        p_fast = np.zeros((len(y), len(LABELS)))
        for k in range(n_folds):
            train, test = np.where(folds != k)[0], np.where(folds == k)[0]
            targets = teacher_targets(emb[train], y[train].tolist(), label_weight=label_weight) \
                if variant == "distil" else None
            model = fit_linear(data.subset(train.tolist()), y[train].tolist(), params=params, lexicon_lists=lists,
                               vectors=vectors, vectors2=vectors2, targets=targets)
            p = proba_feats(model, data.subset(test.tolist()))
            p_fast[test] = p[:, [list(model.labels).index(label) for label in LABELS]]
            log.info("CV %s fold %d done", variant, k)
        per_lang: dict[str, Any] = {}
        for name, keep in is_lang.items():
            per_lang[name] = f1(p_fast, keep)
            per_lang[f"{name}_folds"] = [f1(p_fast, keep & (folds == k)) for k in range(n_folds)]
        per_lang["rich"] = {name: f1(fuse_sentiment(p_fast, p_head, SENT_WEIGHT), keep)
                            for name, keep in is_lang.items()}
        per_lang["rich_weights"] = {str(w): {name: f1(fuse_sentiment(p_fast, p_head, w), keep)
                                             for name, keep in is_lang.items()} for w in (0.5, 1.0, 1.5, 2.0, 2.5)}
        report[variant] = per_lang
    report["e5_head"] = {name: f1(p_head, keep) for name, keep in is_lang.items()}
    return report


def split_toxicity(rows: Sequence[dict[str, Any]]) -> tuple[list[int], list[int]]:
    """Indices of the fit (80 %) and held-out (20 %) parts of MLMA, stratified on ``toxic``, seed 7."""
    from sklearn.model_selection import train_test_split

    idx = list(range(len(rows)))
    fit, held = train_test_split(idx, test_size=0.2, stratify=[bool(r["toxic"]) for r in rows], random_state=SEED)
    return sorted(fit), sorted(held)


class _FixedToxicity:
    """A toxicity model that answers given raw probabilities, re-centred on ``threshold`` as the real ones are."""

    def __init__(self, raw: Sequence[float], threshold: float) -> None:
        from moderation.toxicity import _logit

        self.probs = [1.0 / (1.0 + math.exp(-(_logit(float(p)) - _logit(threshold)))) for p in raw]

    def predict_scores(self, texts: Sequence[str]) -> list[tuple[float, tuple[tuple[int, int], ...]]]:
        return [(p, ()) for p in self.probs]


def product_rule_toxic(texts: Sequence[str], raw: Sequence[float], threshold: float) -> list[bool]:
    """The product's own toxic decision (``RiskScorer`` + ``is_toxic``, as ``eval risk`` reads it) when the toxicity
    model gives the raw probabilities ``raw`` with decision threshold ``threshold``: the lexicon's flags, and the
    model alone only from ``risk.MODEL_ALONE_MIN`` (decision 0315)."""
    from moderation.risk import RiskScorer, is_toxic

    return [is_toxic(f) for f in RiskScorer(toxicity=_FixedToxicity(raw, threshold)).flags(list(texts))]


def product_rule_f1(texts: Sequence[str], truth: Sequence[bool], raw: Sequence[float], threshold: float) -> float:
    """Macro-F1 of :func:`product_rule_toxic`. The training jobs pick their threshold with the simpler "probability
    or lexicon" rule; this says what that threshold gives in the product."""
    return round(binary_report(list(truth), product_rule_toxic(texts, raw, threshold))["macro_f1"], 4)


def lexicon_flags_toxic(texts: Sequence[str]) -> list[bool]:
    """Whether the risk lexicon alone (no classifier) flags each text as toxic, as ``eval risk`` counts it."""
    from moderation.risk import RiskScorer, is_toxic

    return [is_toxic(f) for f in RiskScorer(toxicity=None).flags(list(texts))]


def _ordinary_rows(data_dir: Path) -> tuple[list[str], list[Path]]:
    """Positive and neutral French tweets of ``xlmt-fr/train.jsonl`` (normalised), if that file is there."""
    path = data_dir / "xlmt-fr" / "train.jsonl"
    if not path.exists():
        return [], []
    return [normalise(r["text"]) for r in read_jsonl(path) if r["label"] in ("positive", "neutral")], [path]


def benign_flag_rate(model_path: Path, n: int = 600, seed: int = 4) -> float:
    """Share of the generated city messages of ``eval personal-data`` (none toxic) that ``is_toxic`` flags."""
    from moderation.personal_data_eval import generate_cases
    from moderation.risk import RiskScorer, is_toxic
    from moderation.toxicity import ToxicityModel

    flags = RiskScorer(toxicity=ToxicityModel(model_path)).flags([c.text for c in generate_cases(n, seed)])
    return round(sum(map(is_toxic, flags)) / len(flags), 4)


def train_toxicity(data_dir: Path, *, out: Path = DEFAULT_TOXICITY_PATH, params: Params = TOXICITY_PARAMS,
                   feedback: Sequence[tuple[str, bool]] = ()) -> dict[str, Any]:
    """Train and save the toxicity model; the threshold comes from 5-fold CV on the fit part only.

    A text is toxic for the product when the classifier says so *or* a strong insult, threat or hate entry of
    the lexicon fires (``risk.is_toxic``), so the threshold is chosen for that combined decision. Ordinary
    tweets (:func:`_ordinary_rows`) are added to every fit as non-toxic rows; they are never scored.
    ``feedback``: ``(text, toxic)`` from the team's moderation decisions (``--with-feedback``, decision 0316),
    added to every fit at :data:`FEEDBACK_WEIGHT`, never scored (the CV figures stay MLMA's).
    """
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    path = data_dir / "mlma-fr" / "train.jsonl"
    rows = read_jsonl(path)
    fit_idx, held_idx = split_toxicity(rows)
    lists = _lexicon_lists()
    lexicon = Lexicon.from_lists(lists)
    texts = [normalise(r["text"]) for r in rows]
    data = Featurized(texts, lexicon)
    ordinary, ordinary_paths = _ordinary_rows(data_dir)
    fb_texts = [normalise(t) for t, _ in feedback]
    # the rows every fit adds: ordinary tweets (non-toxic) and the team's decisions
    added = Featurized(ordinary + fb_texts, lexicon)
    added_y = ["non_toxic"] * len(ordinary) + ["toxic" if toxic else "non_toxic" for _, toxic in feedback]
    added_w = [ORDINARY_WEIGHT] * len(ordinary) + [FEEDBACK_WEIGHT] * len(feedback)
    risk_lexicon = RiskLexicon.load()
    extra = np.array([toxicity_features(t, risk_lexicon) for t in texts])
    added_extra = np.array([toxicity_features(t, risk_lexicon) for t in ordinary + fb_texts]).reshape(
        len(added_y), extra.shape[1])
    y = np.array(["toxic" if r["toxic"] else "non_toxic" for r in rows])
    fit = np.array(fit_idx)
    lexicon_toxic = np.array(lexicon_flags_toxic([rows[i]["text"] for i in fit_idx]))

    def train(idx: Any, meta: dict[str, Any] | None = None) -> Any:
        return fit_linear(data.subset(idx) + added.feats, list(y[idx]) + added_y,
                          params=params, lexicon_lists=lists, meta=meta, extra=np.vstack([extra[idx], added_extra]),
                          sample_weight=[1.0] * len(idx) + added_w)

    probs = np.zeros(len(rows))
    folds = list(StratifiedKFold(5, shuffle=True, random_state=SEED).split(fit, y[fit]))
    for a, b in folds:
        model = train(fit[a])
        probs[fit[b]] = proba_feats(model, data.subset(fit[b]), extra[fit[b]])[:, list(model.labels).index("toxic")]
    truth = y[fit] == "toxic"
    oof = probs[fit]

    def f1(t: float, part: Any = slice(None), with_lexicon: bool = True) -> float:
        decided = (oof[part] >= t) | (lexicon_toxic[part] if with_lexicon else False)
        return binary_report(list(truth[part]), list(decided))["macro_f1"]

    grid = [round(t, 3) for t in np.arange(0.2, 0.8, 0.02)]
    threshold = max(grid, key=f1)
    cv_f1 = round(f1(threshold), 4)
    per_fold = [round(f1(threshold, b), 4) for _, b in folds]
    digest = file_digest([path, *ordinary_paths])
    meta = {"version": f"offline-toxicity-2+{digest[:8]}{'-fb' + str(len(feedback)) if feedback else ''}",
            "trained_on": {str(p.relative_to(data_dir)): file_digest([p]) for p in [path, *ordinary_paths]},
            "ordinary_rows": len(ordinary), "ordinary_weight": ORDINARY_WEIGHT,
            "threshold": threshold, "cv_macro_f1": cv_f1, "cv_macro_f1_folds": per_fold,
            "cv_macro_f1_model_only": round(f1(threshold, with_lexicon=False), 4), "seed": SEED, "task": "toxicity",
            "trained_hashes": sorted([text_hash(rows[i]["text"]) for i in fit_idx]
                                     + [text_hash(t) for t, _ in feedback]),
            "extra": EXTRA_V2}
    if feedback:
        meta["feedback_rows"] = len(feedback)
    model = train(fit, meta)
    model.save(out)
    return {"path": str(out), "size_bytes": out.stat().st_size, "version": model.version, "threshold": threshold,
            "cv_macro_f1": cv_f1, "cv_macro_f1_mean": round(float(np.mean(per_fold)), 4),
            "cv_macro_f1_std": round(float(np.std(per_fold)), 4),
            "cv_macro_f1_model_only": meta["cv_macro_f1_model_only"],
            "cv_macro_f1_product_rule": product_rule_f1([rows[i]["text"] for i in fit_idx], list(truth), oof,
                                                        threshold),
            "fit_rows": len(fit_idx),
            "held_out_rows": len(held_idx), "ordinary_rows": len(ordinary), "feedback_rows": len(feedback),
            "benign_city_flag_rate": benign_flag_rate(out)}
