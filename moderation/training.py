"""Train the offline linear text models reproducibly (scikit-learn, imported lazily; fixed seeds).

:func:`fit_linear` turns texts into the feature blocks of moderation/features.py, fits a logistic regression and
returns a :class:`~moderation.sentiment_model.LinearTextModel` ready to save. :func:`cross_validate` scores
hyper-parameters on folds of the *training* data only, so the validation file is never used for choices.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moderation.features import Lexicon, TextFeatures, accent_fallback, extract
from moderation.sentiment_model import LinearTextModel

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

SEED = 7


@dataclass(frozen=True, slots=True)
class Params:
    """Hyper-parameters (chosen by cross-validation on the training split; see docs/moderation.md)."""

    C: float = 3.0
    min_df: int = 2
    vec_scale: float = 4.0
    dense_scale: float = 1.0
    use_chars: bool = True
    class_weight: str | None = None
    vec2_scale: float = 0.0  # weight of the second word-vector block (USE word vectors, decision 0012); 0 = off


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL file (blank lines skipped)."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def file_digest(paths: Sequence[Path]) -> str:
    """Short SHA-256 over the given files, recorded in the model header."""
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def vector_table(word_rows: dict[str, int]) -> dict[str, int]:
    """The words kept for the word-vector part: lowercase alphabetic entries, plus accent-less spellings."""
    table = {w: r for w, r in word_rows.items() if len(w) >= 2 and w.isalpha() and w.islower()}
    fallback: dict[str, int] = {}
    for w, r in sorted(table.items(), key=lambda item: (item[1], item[0])):  # lower row = more frequent word
        key = accent_fallback(w)
        if key != w and key not in table and key not in fallback:
            fallback[key] = r
    table.update(fallback)
    return table


def _vocab(feats: Sequence[dict[str, int]], min_df: int) -> tuple[dict[str, int], Any]:
    import numpy as np

    df: dict[str, int] = {}
    for f in feats:
        for name in f:
            df[name] = df.get(name, 0) + 1
    names = sorted(name for name, count in df.items() if count >= min_df)
    n = len(feats)
    idf = np.array([math.log((1 + n) / (1 + df[name])) + 1.0 for name in names], dtype=np.float64)
    return {name: i for i, name in enumerate(names)}, idf


def _block(feats: Sequence[dict[str, int]], vocab: dict[str, int], idf: Any) -> Any:
    import numpy as np
    from scipy.sparse import csr_matrix

    data: list[float] = []
    cols: list[int] = []
    indptr = [0]
    for f in feats:
        row = [(vocab[name], (1.0 + math.log(tf)) * idf[vocab[name]]) for name, tf in f.items() if name in vocab]
        norm = math.sqrt(sum(v * v for _, v in row)) or 1.0
        cols.extend(c for c, _ in row)
        data.extend(v / norm for _, v in row)
        indptr.append(len(cols))
    return csr_matrix((np.array(data), np.array(cols, dtype=np.int64), np.array(indptr)),
                      shape=(len(feats), len(vocab)))


def _exact_mean(feats: Sequence[TextFeatures], table: dict[str, int], matrix: Any) -> Any:
    """Mean of the rows of the words of each text found in ``table`` (exact spelling; zeros if none)."""
    import numpy as np

    out = np.zeros((len(feats), matrix.shape[1]), dtype=np.float64)
    for d, f in enumerate(feats):
        rows = [r for r in map(table.get, f.vector_words) if r is not None]
        if rows:
            out[d] = matrix[rows].mean(axis=0)
    return out


def _vector_mean(feats: Sequence[TextFeatures], table: dict[str, int], unit: Any) -> Any:
    import numpy as np

    out = np.zeros((len(feats), unit.shape[1]), dtype=np.float64)
    for d, f in enumerate(feats):
        rows = [r for r in (table.get(w, table.get(accent_fallback(w))) for w in f.vector_words) if r is not None]
        if rows:
            out[d] = unit[rows].mean(axis=0)
    return out


class Featurized:
    """Texts turned into feature blocks once, reused across folds."""

    def __init__(self, texts: Sequence[str], lexicon: Lexicon) -> None:
        self.feats = [extract(t, lexicon) for t in texts]

    def subset(self, index: Sequence[int]) -> list[TextFeatures]:
        """The features of the texts at ``index``."""
        return [self.feats[i] for i in index]


def fit_linear(feats: Sequence[TextFeatures], labels: Sequence[str], *, params: Params, lexicon_lists: dict[str, Any],
               vectors: tuple[dict[str, int], Any] | None = None, meta: dict[str, Any] | None = None,
               sample_weight: Sequence[float] | None = None,
               extra: ArrayLike | None = None,
               vectors2: tuple[dict[str, int], Any] | None = None,
               targets: ArrayLike | None = None) -> LinearTextModel:
    """Fit the logistic regression on the feature blocks and fold it into a :class:`LinearTextModel`.

    ``targets`` (one row per text, one column per class in sorted label order, rows summing to 1): soft labels
    (distillation, decision 0270). Each text is then fitted once per class, weighted by its target for that
    class (times ``sample_weight``), which is the soft-label cross-entropy; vocabularies and IDF still come from
    the texts counted once, so one-hot targets give the plain fit's objective.

    ``vectors2`` (word -> row, matrix), used when ``params.vec2_scale`` > 0, adds the mean of the rows of a
    text's words (exact spelling) as a second vector block; like the first, it folds into a per-word table of
    class scores, so inference stays a lookup.
    """
    import numpy as np
    from scipy.sparse import csr_matrix, hstack, vstack
    from sklearn.linear_model import LogisticRegression

    word_vocab, word_idf = _vocab([f.words for f in feats], params.min_df)
    blocks = [_block([f.words for f in feats], word_vocab, word_idf)]
    if params.use_chars:
        char_vocab, char_idf = _vocab([f.chars for f in feats], params.min_df)
        blocks.append(_block([f.chars for f in feats], char_vocab, char_idf))
    else:
        char_vocab, char_idf = {}, np.zeros(0)
    dense = np.array([f.dense for f in feats], dtype=np.float64) * params.dense_scale
    blocks.append(csr_matrix(dense))
    table: dict[str, int] = {}
    unit = None
    if vectors is not None:
        table, raw = vectors
        unit = raw / np.maximum(np.linalg.norm(raw, axis=1, keepdims=True), 1e-6)
        blocks.append(csr_matrix(_vector_mean(feats, table, unit) * params.vec_scale))
    use2 = vectors2 is not None and params.vec2_scale > 0
    if use2:
        assert vectors2 is not None
        blocks.append(csr_matrix(_exact_mean(feats, vectors2[0], vectors2[1]) * params.vec2_scale))
    if extra is not None:
        blocks.append(csr_matrix(np.asarray(extra, dtype=np.float64)))
    x = hstack(blocks).tocsr()
    clf = LogisticRegression(C=params.C, max_iter=5000, random_state=SEED, class_weight=params.class_weight)
    if targets is None:
        clf.fit(x, list(labels), sample_weight=None if sample_weight is None else np.asarray(sample_weight))
    else:
        soft = np.asarray(targets, dtype=np.float64)
        classes = sorted(set(labels))
        if soft.shape != (x.shape[0], len(classes)):
            raise ValueError(f"targets must have shape ({x.shape[0]}, {len(classes)}), not {soft.shape}")
        base = np.ones(x.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        clf.fit(vstack([x] * len(classes)).tocsr(), [c for c in classes for _ in range(x.shape[0])],
                sample_weight=np.concatenate([soft[:, j] * base for j in range(len(classes))]))
    coef = clf.coef_.T  # features x classes
    if coef.shape[1] == 1:  # binary: sklearn keeps one column for the second class
        coef = np.hstack([-coef / 2, coef / 2])
        intercept = np.array([-clf.intercept_[0] / 2, clf.intercept_[0] / 2])
    else:
        intercept = clf.intercept_
    nw, nc, nd = len(word_vocab), len(char_vocab), dense.shape[1]
    word_w, char_w = coef[:nw], coef[nw:nw + nc]
    dense_w = coef[nw + nc:nw + nc + nd] * params.dense_scale
    vec_scores = None
    nv = 0
    if unit is not None:
        nv = unit.shape[1]
        vec_scores = (unit @ coef[nw + nc + nd:nw + nc + nd + nv]) * params.vec_scale
    vec2_rows: dict[str, int] = {}
    vec2_scores = None
    if use2:
        assert vectors2 is not None
        vec2_rows, matrix = vectors2
        n2 = matrix.shape[1]
        vec2_scores = (np.asarray(matrix, dtype=np.float64) @ coef[nw + nc + nd + nv:nw + nc + nd + nv + n2]) \
            * params.vec2_scale
        nv += n2
    extra_w = coef[nw + nc + nd + nv:] if extra is not None else None
    header = dict(meta or {})
    header.update(labels=[str(c) for c in clf.classes_], lexicon=lexicon_lists,
                  params={k: getattr(params, k) for k in Params.__slots__})
    return LinearTextModel(labels=tuple(header["labels"]), meta=header, word_vocab=word_vocab, word_idf=word_idf,
                           word_w=word_w, char_vocab=char_vocab, char_idf=char_idf, char_w=char_w,
                           dense_w=dense_w, intercept=intercept, vec_rows=table if unit is not None else {},
                           vec_scores=vec_scores, lexicon=Lexicon.from_lists(lexicon_lists), extra_w=extra_w,
                           vec2_rows=vec2_rows, vec2_scores=vec2_scores)


def cross_validate(data: Featurized, labels: Sequence[str], *, params: Params, lexicon_lists: dict[str, Any],
                   vectors: tuple[dict[str, int], Any] | None, folds: int = 5, scored: int | None = None,
                   extra: Featurized | None = None, extra_labels: Sequence[str] = (),
                   vectors2: tuple[dict[str, int], Any] | None = None) -> float:
    """Macro-F1 of stratified k-fold CV on the first ``scored`` rows (``extra`` rows are always trained on)."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    from moderation.evaluation import macro_f1

    n = scored if scored is not None else len(labels)
    y = np.array(labels[:n])
    predicted: list[str] = [""] * n
    splitter = StratifiedKFold(folds, shuffle=True, random_state=SEED)
    for train_idx, test_idx in splitter.split(np.zeros(n), y):
        feats = data.subset(train_idx) + (extra.feats if extra else [])
        ys = [labels[i] for i in train_idx] + list(extra_labels)
        model = fit_linear(feats, ys, params=params, lexicon_lists=lexicon_lists, vectors=vectors, vectors2=vectors2)
        texts_scores = _predict_feats(model, data.subset(test_idx))
        for i, label in zip(test_idx, texts_scores, strict=True):
            predicted[i] = label
    return macro_f1(list(y), predicted)


def proba_feats(model: LinearTextModel, feats: Sequence[TextFeatures],
                extra: Sequence[Sequence[float]] | None = None) -> Any:
    """Class probabilities from already-extracted features, shape ``(len(feats), len(labels))``."""
    import numpy as np

    z = np.array([_decision_one(model, f) for f in feats]).reshape(len(feats), len(model.labels))
    if extra is not None and model.extra_w is not None:
        z = z + np.asarray(extra, dtype=np.float64) @ model.extra_w
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _predict_feats(model: LinearTextModel, feats: Sequence[TextFeatures]) -> list[str]:
    """Predict from already-extracted features (CV helper; same maths as ``decision``)."""
    import numpy as np

    scores = np.array([_decision_one(model, f) for f in feats])
    return [model.labels[i] for i in scores.argmax(axis=1)]


def _decision_one(model: LinearTextModel, f: TextFeatures) -> Any:
    import numpy as np

    out = model.intercept.astype(np.float64).copy()
    for vocab, idf, weights, block in ((model.word_vocab, model.word_idf, model.word_w, f.words),
                                       (model.char_vocab, model.char_idf, model.char_w, f.chars)):
        row = [(vocab[n], (1.0 + math.log(tf)) * idf[vocab[n]]) for n, tf in block.items() if n in vocab]
        if row:
            norm = math.sqrt(sum(v * v for _, v in row)) or 1.0
            for i, v in row:
                out += weights[i] * (v / norm)
    out += np.asarray(f.dense) @ model.dense_w
    if model.vec_rows:
        found = [r for r in (model.vec_rows.get(w, model.vec_rows.get(accent_fallback(w))) for w in f.vector_words)
                 if r is not None]
        if found:
            out += model.vec_scores[found].mean(axis=0)
    if model.vec2_rows:
        found = [r for r in map(model.vec2_rows.get, f.vector_words) if r is not None]
        if found:
            out += model.vec2_scores[found].mean(axis=0)
    return out
