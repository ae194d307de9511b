"""The offline sentiment model: a linear classifier over moderation/features.py, stored as one ``.npz`` file.

The file holds only arrays and a JSON header (loaded with ``allow_pickle=False``): TF-IDF vocabularies and
weights for the word and character blocks, weights of the dense lexicon features, and a word table giving each
known French word its contribution to the three class scores. That table is the word-vector part of the model
folded in at training time: the classifier is linear in the mean word vector, so ``W · mean(v)`` equals
``mean(W · v)`` and each word's 300-d vector collapses to 3 numbers; no vectors ship and no spaCy runs.
Inference is NumPy only, batched. ``python -m console train sentiment`` rebuilds the file (moderation/training.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any

from moderation.features import Lexicon, accent_fallback, extract

MODEL_DIR = Path(__file__).with_name("models")
DEFAULT_MODEL_PATH = MODEL_DIR / "sentiment_offline.npz"
LABELS = ("negative", "neutral", "positive")


def content_digest(source: bytes | Path) -> str:
    """The first 8 hex digits of the SHA-256 of a file's bytes (given, or read from ``source``): what tells two
    builds of a model apart.

    A model header's ``version`` digests the training *data* (``offline-toxicity-2+<data>``); a rebuild from the
    same data can give other bytes (another library, another seed, feedback rows) under the same header, so the
    version reported with a score adds this digest of the file itself (decision 0325).
    """
    raw = source if isinstance(source, bytes) else Path(source).read_bytes()
    return hashlib.sha256(raw).hexdigest()[:8]


def with_content_digest(version: str, digest: str) -> str:
    """``<header version>+<file digest>`` (the header's alone for a model not read from a file)."""
    return f"{version}+{digest}" if digest else version


def _join(words: Sequence[str]) -> Any:
    import numpy as np

    return np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8)


def _split(array: Any) -> list[str]:
    text = bytes(array).decode("utf-8")
    return text.split("\n") if text else []


@dataclass(slots=True)
class LinearTextModel:
    """Arrays of a trained model; see the module docstring for what each block means."""

    labels: tuple[str, ...]
    meta: dict[str, Any]
    word_vocab: dict[str, int]
    word_idf: Any
    word_w: Any
    char_vocab: dict[str, int]
    char_idf: Any
    char_w: Any
    dense_w: Any
    intercept: Any
    vec_rows: dict[str, int] = field(default_factory=dict)
    vec_scores: Any = None
    lexicon: Lexicon | None = None
    extra_w: Any = None  # weights of caller-computed dense features (e.g. risk-lexicon counts), or None
    extra_fn: Any = field(default=None, repr=False)  # str -> sequence of floats, set by the owner after load
    vec2_rows: dict[str, int] = field(default_factory=dict)  # second word table (USE word vectors folded in)
    vec2_scores: Any = None
    bytes_digest: str = ""  # :func:`content_digest` of the file it was loaded from ("" when built in memory)

    @property
    def version(self) -> str:
        """The header's version, a digest of the training data (e.g. ``offline-sentiment-1+3f2a9c1b``)."""
        return str(self.meta.get("version", "offline"))

    @property
    def file_version(self) -> str:
        """:attr:`version` plus the digest of the file's bytes (``offline-sentiment-1+3f2a9c1b+07d1e2aa``): the
        identity stored with each score (decision 0325)."""
        return with_content_digest(self.version, self.bytes_digest)

    def save(self, path: Path) -> None:
        """Write the model as a compressed ``.npz`` (no pickles)."""
        import numpy as np

        vec_words = sorted(self.vec_rows)
        arrays = {
            "meta": _join([json.dumps(self.meta, ensure_ascii=False, sort_keys=True)]),
            "word_names": _join(sorted(self.word_vocab, key=self.word_vocab.__getitem__)),
            "word_idf": self.word_idf.astype(np.float16), "word_w": self.word_w.astype(np.float16),
            "char_names": _join(sorted(self.char_vocab, key=self.char_vocab.__getitem__)),
            "char_idf": self.char_idf.astype(np.float16), "char_w": self.char_w.astype(np.float16),
            "dense_w": self.dense_w.astype(np.float32), "intercept": self.intercept.astype(np.float32),
            "vec_words": _join(vec_words),
            "vec_rows": np.array([self.vec_rows[w] for w in vec_words], dtype=np.uint16),
            "vec_scores": (self.vec_scores if self.vec_scores is not None else np.zeros((0, len(self.labels))))
            .astype(np.float16),
        }
        if self.extra_w is not None:
            arrays["extra_w"] = self.extra_w.astype(np.float32)
        if self.vec2_rows:  # rows in the order of vec_words, then of the words only this table has
            extra_words = sorted(set(self.vec2_rows) - set(vec_words))
            order = [self.vec2_rows[w] for w in vec_words if w in self.vec2_rows]
            if len(order) == len(vec_words):  # every first-table word is here: store only the others' names
                arrays["vec2_extra_words"] = _join(extra_words)
                order += [self.vec2_rows[w] for w in extra_words]
                arrays["vec2_scores"] = self.vec2_scores[order].astype(np.float16)
            else:
                words2 = sorted(self.vec2_rows, key=self.vec2_rows.__getitem__)
                arrays["vec2_words"] = _join(words2)
                arrays["vec2_scores"] = self.vec2_scores.astype(np.float16)
        write_npz(path, arrays)

    @classmethod
    def load(cls, path: Path) -> LinearTextModel:
        """Read a model written by :meth:`save`."""
        import numpy as np

        raw = Path(path).read_bytes()  # read once: loaded and digested (decision 0325)
        with np.load(io.BytesIO(raw), allow_pickle=False) as data:
            meta = json.loads(_split(data["meta"])[0])
            words, chars = _split(data["word_names"]), _split(data["char_names"])
            vec_words = _split(data["vec_words"])
            vec_rows = dict(zip(vec_words, data["vec_rows"].tolist(), strict=True))
            words2: list[str] | None = None
            if "vec2_extra_words" in data.files:
                words2 = vec_words + _split(data["vec2_extra_words"])
            elif "vec2_words" in data.files:
                words2 = _split(data["vec2_words"])
            return cls(labels=tuple(meta["labels"]), meta=meta,
                       word_vocab={w: i for i, w in enumerate(words)}, word_idf=data["word_idf"].astype(np.float32),
                       word_w=data["word_w"].astype(np.float32),
                       char_vocab={c: i for i, c in enumerate(chars)}, char_idf=data["char_idf"].astype(np.float32),
                       char_w=data["char_w"].astype(np.float32), dense_w=data["dense_w"].astype(np.float32),
                       intercept=data["intercept"].astype(np.float32), vec_rows=vec_rows,
                       vec_scores=data["vec_scores"].astype(np.float32),
                       lexicon=Lexicon.from_lists(meta["lexicon"]),
                       extra_w=data["extra_w"].astype(np.float32) if "extra_w" in data.files else None,
                       vec2_rows={w: i for i, w in enumerate(words2)} if words2 is not None else {},
                       vec2_scores=data["vec2_scores"].astype(np.float32) if words2 is not None else None,
                       bytes_digest=content_digest(raw))

    def decision(self, texts: Sequence[str]) -> Any:
        """Class scores (before softmax), shape ``(len(texts), len(labels))``."""
        import numpy as np

        assert self.lexicon is not None
        n, k = len(texts), len(self.labels)
        out = np.tile(self.intercept, (n, 1)).astype(np.float64)
        if n == 0:
            return out
        w_parts: list[tuple[Any, Any, int]] = []
        c_parts: list[tuple[Any, Any, int]] = []
        dense = np.zeros((n, len(self.dense_w)), dtype=np.float64)
        vec_sum = np.zeros((n, k), dtype=np.float64)
        wv, cv, rows, scores = self.word_vocab.get, self.char_vocab.get, self.vec_rows, self.vec_scores
        rows2, scores2 = self.vec2_rows.get, self.vec2_scores
        for d, text in enumerate(texts):
            f = extract(text, self.lexicon)
            w_parts.append(_lookup(f.words, wv, d))
            c_parts.append(_lookup(f.chars, cv, d))
            dense[d] = f.dense
            if rows:
                found = [r for r in (rows.get(w, rows.get(accent_fallback(w))) for w in f.vector_words)
                         if r is not None]
                if found:
                    vec_sum[d] = scores[found].mean(axis=0)
            if scores2 is not None:
                found2 = [r for r in map(rows2, f.vector_words) if r is not None]
                if found2:
                    vec_sum[d] += scores2[found2].mean(axis=0)
        w_idx, w_tf, w_doc = _concat(w_parts)
        c_idx, c_tf, c_doc = _concat(c_parts)
        out += self._block(w_idx, w_tf, w_doc, self.word_idf, self.word_w, n)
        out += self._block(c_idx, c_tf, c_doc, self.char_idf, self.char_w, n)
        out += dense @ self.dense_w
        out += vec_sum
        if self.extra_w is not None:
            if self.extra_fn is None:
                raise RuntimeError("this model needs its extra feature function (extra_fn) set before use")
            out += np.array([self.extra_fn(t) for t in texts], dtype=np.float64) @ self.extra_w
        return out

    @staticmethod
    def _block(idx: Any, tf: Any, doc: Any, idf: Any, weights: Any, n: int) -> Any:
        """Sum of L2-normalised sublinear TF-IDF features times their weights, per document."""
        import numpy as np

        result = np.zeros((n, weights.shape[1]), dtype=np.float64)
        if not len(idx):
            return result
        ix, docs = idx, doc
        values = (1.0 + np.log(tf)) * idf[ix]
        norms = np.sqrt(np.bincount(docs, weights=values * values, minlength=n))
        values = values / np.where(norms > 0, norms, 1.0)[docs]
        for c in range(weights.shape[1]):
            result[:, c] = np.bincount(docs, weights=values * weights[ix, c], minlength=n)
        return result

    def predict_proba(self, texts: Sequence[str]) -> Any:
        """Class probabilities (softmax of :meth:`decision`)."""
        import numpy as np

        z = self.decision(texts)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)


def write_npz(path: Path, arrays: dict[str, Any]) -> None:
    """Like ``np.savez_compressed``, with fixed timestamps and no pickles: same arrays, same bytes."""
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(arrays[key]), allow_pickle=False)
            zf.writestr(info, buffer.getvalue())


def join_words(words: Sequence[str]) -> Any:
    """Strings as one uint8 array (newline-separated), for :func:`write_npz`."""
    return _join(words)


def split_words(array: Any) -> list[str]:
    """Inverse of :func:`join_words`."""
    return _split(array)


def _lookup(counts: dict[str, int], get: Any, doc: int) -> tuple[Any, Any, int]:
    """Vocabulary indices and term frequencies of the known features of one document (lookups run in C)."""
    import numpy as np

    idx = np.fromiter(map(get, counts, repeat(-1)), dtype=np.int64, count=len(counts))
    tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
    known = idx >= 0
    return idx[known], tf[known], doc


def _concat(parts: list[tuple[Any, Any, int]]) -> tuple[Any, Any, Any]:
    import numpy as np

    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0, dtype=np.int64)
    idx = np.concatenate([p[0] for p in parts])
    tf = np.concatenate([p[1] for p in parts])
    doc = np.concatenate([np.full(len(p[0]), p[2], dtype=np.int64) for p in parts])
    return idx, tf, doc
