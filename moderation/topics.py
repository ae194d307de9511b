"""Topic grouping of residents' messages: near-duplicate detection and clustering of similar requests.

Pure functions over texts (no database). Each message becomes a TF-IDF vector of its content words (accents,
case, stop words and greetings removed, plural ``s``/``x`` dropped) joined with a TF-IDF
vector of character 3-5-grams (robust to typos and missing accents). Groups are an average-linkage
agglomerative clustering on cosine distance, cut at ``threshold``; beyond ``max_fit`` messages the rest are
assigned to the nearest group centre. Why this design: docs/decisions/0060-topics-clustering.md.

When sentence vectors are given (the e5 ‖ USE vectors the worker stores for recent messages, decision 0195), the
similarity of two messages is the TF-IDF cosine fused with the two encoders' cosines, sharpened by their shared
nearest neighbours, and the average-linkage cut is :data:`FUSED` (chosen by cross-validation over topics on
``console/bench/data/topics_fr.jsonl``, ``bench topics``; decision 0250). A pair where either message has no
vector yet is compared by TF-IDF alone (its distance rescaled to the same cut); when fewer than half of the messages
have a vector, the TF-IDF grouping alone is used.
Since decision 0300 the vectors first go through a learned linear map (:class:`Projection`, shipped as
``moderation/models/topic_projection.npz``): each encoder's part is centred on the window's mean, and the
directions along which messages of one topic vary (register, politeness, the town hall itself) are shrunk, as
learned from the labelled topics; the cosine of the mapped vectors replaces the two encoders' cosines.
Since decision 0320 that grouping (:data:`FUSED`, ``stemmed``) reduces the TF-IDF words with the French Snowball
stemmer (:func:`french_stem`: « ramassés », « ramasser » → « ramass »); the character n-grams and the TF-IDF grouping
without vectors keep the plural rule only.
scikit-learn and snowballstemmer are imported lazily (only when grouping runs).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

DEFAULT_THRESHOLD = 0.9  # cosine distance at which two groups stop merging (tuned on tests/dashboard data)
DUPLICATE_SIMILARITY = 0.8  # character n-gram cosine above which two messages are near-copies
MAX_FIT = 3000
MAX_DUPLICATE_SCAN = 500  # near-copies are counted among a group's 500 most central messages
E5_DIM = 384  # stored vectors: e5 (384) ‖ USE (512), each half L2-normalised (services/inbox/similar_vectors.py)
E5_FLOOR = 0.7  # e5 cosines of French messages lie in [0.7, 1]: rescaled to [0, 1] before fusing


@dataclass(frozen=True, slots=True, kw_only=True)
class FusedParams:
    """Grouping with sentence vectors: similarity = ``tfidf_weight`` × TF-IDF cosine + the rest × (``e5_share`` ×
    rescaled e5 cosine + the rest × USE cosine) — for a pair where a message has no vector, the TF-IDF distance
    scaled by ``threshold`` / :data:`DEFAULT_THRESHOLD`; then ``shared_weight`` of it replaced by the share of
    ``neighbours`` nearest neighbours two messages have in common; average linkage cut at distance
    ``threshold`` (1 − similarity)."""

    tfidf_weight: float = 0.35
    e5_share: float = 0.25
    neighbours: int = 5
    shared_weight: float = 0.3
    threshold: float = 0.78
    projected: bool = False  # the vectors' cosine taken after a :class:`Projection` (``e5_share`` is then its own)
    stemmed: bool = False  # TF-IDF words reduced by the French Snowball stemmer (:func:`french_stem`, decision 0320)


FUSED_0250 = FusedParams()  # decision 0250's grouping (GroupKFold over topics), kept for ``bench topics``
# decision 0300: the learned projection (λ 3), then TF-IDF 0.2, no shared neighbours, cut 0.90 (many-topic CV)
FUSED_0300 = FusedParams(tfidf_weight=0.2, e5_share=0.25, shared_weight=0.0, threshold=0.90, projected=True)
# decision 0320: the TF-IDF words stemmed (French Snowball), the projection's λ 1, TF-IDF 0.35, cut 0.92
FUSED = FusedParams(tfidf_weight=0.35, e5_share=0.25, shared_weight=0.0, threshold=0.92, projected=True,
                    stemmed=True)
PROJECTION_PATH = Path(__file__).parent / "models" / "topic_projection.npz"
# a window with fewer vectors than this is centred on the labelled messages' mean, not its own (decision 0300)
OWN_CENTRE_MIN = 30
MIN_VECTOR_SHARE = 0.5  # below this share of messages with a vector, TF-IDF alone groups better (decision 0250)

STOPWORDS = frozenset("""
a ai aie aient aies ait alors as au aucun aucune aupres aussi autre aux avaient avais avait avec avez aviez avoir
avons ayant bah ben bien bon c ca car ce ceci cela celle celles celui cependant ces cet cette ceux chez ci comme
d dans de deja des deux devrait dit doit donc dont du elle elles en encore entre es est et etaient etais etait
ete etes etre eu eux fait faire fais faut ici il ils j je jusqu jusque l la le les leur leurs lui m ma mais me
meme memes mes moi mon n ne ni nos notre nous on ont ou par parce pas peu peut peuvent plus pour pourquoi qu
quand que quel quelle quelles quels qui quoi s sa sans se sera ses si sien son sont sous soyez suis sur t ta te
tes toi ton tous tout toute toutes tres tu un une unes uns vers voila vos votre vous vu y c est ya
bonjour bonsoir bjr slt salut merci mrc cordialement madame monsieur svp stp plait sil vous
ville equipe oui non ok encore toujours depuis jour jours semaine fois normal quelqu quelqun savez
""".split())
_SMS = {"rdv": "rendez-vous", "pk": "pourquoi", "qd": "quand", "tjrs": "toujours", "bcp": "beaucoup"}
_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"@\w+")
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_COMPOUNDS = ((re.compile(r"\bnids? de poule\b"), "nid-de-poule"), (re.compile(r"\brendez vous\b"), "rendez-vous"))


def fold(text: str) -> str:
    """Lowercase without accents, links or @handles (for comparing texts)."""
    text = _HANDLE.sub(" ", _URL.sub(" ", text.lower()))
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 4 and word[-1] in "sx" else word


_SNOWBALL = threading.local()  # a Snowball stemmer keeps state between calls: one per thread


@lru_cache(maxsize=65536)
def french_stem(word: str) -> str:
    """``word`` (lowercase, accents kept or not) reduced by the French Snowball stemmer, then folded: « poubelles »,
    « poubelle » → « poubel »; « réparée », « réparer » → « repar ». A compound (« nid-de-poule ») or a word with
    digits keeps the plural rule of :func:`_stem` only (decision 0320)."""
    if not word.isalpha():
        return _stem(fold(word))
    stemmer = getattr(_SNOWBALL, "french", None)
    if stemmer is None:
        import snowballstemmer

        stemmer = _SNOWBALL.french = snowballstemmer.stemmer("french")
    return fold(stemmer.stemWord(word))


def content_words(text: str, surfaces: dict[str, Counter[str]] | None = None, *, french: bool = False) -> list[str]:
    """Stemmed content words of ``text``; records each stem's original spellings in ``surfaces``. The stem is the
    plural ``s``/``x`` dropped, or with ``french`` the Snowball stem of the accented word (:func:`french_stem`)."""
    return _words(text, surfaces, french)[0]


def _words(text: str, surfaces: dict[str, Counter[str]] | None,
           french: bool) -> tuple[list[str], list[str]]:
    """(:func:`content_words`, the same without ``french``), in one pass."""
    out, plain = [], []
    lowered = _HANDLE.sub(" ", _URL.sub(" ", text.lower()))
    for pattern, compound in _COMPOUNDS:
        lowered = pattern.sub(compound, lowered)
    originals = re.findall(r"\w+(?:-\w+)*", lowered)
    for original in originals:
        folded = fold(original)
        for word in _WORD.findall(folded):
            for part in _SMS.get(word, word).split():
                if part in STOPWORDS or len(part) < 2 or part.isdigit() and len(part) > 2:
                    continue
                stem = _stem(part)
                plain.append(stem)
                if french:  # the accented spelling when the word is the resident's own: « fermée » → « ferm »
                    stem = french_stem(original if folded == word and part == word else part)
                out.append(stem)
                if surfaces is not None:
                    surfaces.setdefault(stem, Counter())[original if folded == word else part] += 1
    return out, plain


def _identity(words: list[str]) -> list[str]:
    return words


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicGroup:
    """A group of similar messages; ``members`` index the input texts, closest to the centre first."""

    label: str
    terms: tuple[str, ...]
    members: tuple[int, ...]
    duplicates: int
    cohesion: float

    @property
    def size(self) -> int:
        """How many messages the group holds."""
        return len(self.members)


class _Space:
    """The fitted vector space of one grouping run."""

    def __init__(self, texts: Sequence[str], *, stemmed: bool = False) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.stemmed = stemmed
        self.surfaces: dict[str, Counter[str]] = {}
        self._cache: dict[str, list[str]] = {}
        self._plain: dict[str, list[str]] = {}
        for t in dict.fromkeys(texts):
            self._cache[t], self._plain[t] = _words(t, self.surfaces, stemmed)
        words = self.tokens_of(texts)
        self.tokens = words
        self.words = TfidfVectorizer(analyzer=_identity, sublinear_tf=True)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
        self.word_matrix = self.words.fit_transform(words)
        self.char_matrix = self.chars.fit_transform(self._char_input(texts))

    def tokens_of(self, texts: Sequence[str]) -> list[list[str]]:
        """Content words of each text (computed once per distinct text)."""
        out = []
        for t in texts:
            words = self._cache.get(t)
            if words is None:
                words, self._plain[t] = _words(t, None, self.stemmed)
                self._cache[t] = words
            out.append(words)
        return out

    def _char_input(self, texts: Sequence[str]) -> list[str]:
        """The character n-grams' input: the content words as without stemming (only the word part is stemmed;
        ``texts`` went through :meth:`tokens_of`)."""
        return [" ".join(self._plain[t]) or fold(t) for t in texts]

    def vectors(self, texts: Sequence[str] | None = None) -> Any:
        """Joined, L2-normalised vectors of ``texts`` (default: the fitted texts)."""
        from scipy.sparse import hstack
        from sklearn.preprocessing import normalize

        if texts is None:
            return normalize(hstack([self.word_matrix * 0.75 ** 0.5, self.char_matrix * 0.25 ** 0.5]).tocsr())
        unique = list(dict.fromkeys(texts))  # campaigns repeat the same text: vectorise it once
        words = self.tokens_of(unique)
        w = self.words.transform(words)
        c = self.chars.transform(self._char_input(unique))
        row = {t: i for i, t in enumerate(unique)}
        return normalize(hstack([w * 0.75 ** 0.5, c * 0.25 ** 0.5]).tocsr())[[row[t] for t in texts]]


Vectors = Sequence[Any | None]  # one stored sentence vector per text (e5 ‖ USE, 896 floats), None when missing


def cluster_labels(texts: Sequence[str], *, threshold: float = DEFAULT_THRESHOLD, max_fit: int = MAX_FIT,
                   vectors: Vectors | None = None, fused: FusedParams = FUSED,
                   projection: Projection | None = None) -> list[int]:
    """A group number for every text (each unmatched text gets its own), in input order. With ``vectors``, the
    fused similarity and ``fused``'s cut are used (``threshold`` then only serves texts beyond ``max_fit``);
    ``projection`` replaces the shipped one when ``fused.projected``."""
    labels, _space, _x = _cluster(texts, threshold=threshold, max_fit=max_fit, vectors=vectors, fused=fused,
                                  projection=projection)
    return labels


@dataclass(frozen=True, slots=True, eq=False)
class Projection:
    """A linear map of the stored e5 ‖ USE vectors that keeps what tells topics apart (decision 0300).

    A window's vectors: each encoder's part centred on the window's mean and L2-normalised, weighted √``e5_share``
    / √(1 − ``e5_share``) and joined; then, along each unit column of ``basis`` (the directions in which the
    messages of one labelled topic vary), the component is multiplied by ``1 + shrink`` (``shrink`` in (−1, 0]):
    the within-topic covariance whitened with shrinkage λ, (S_w + λ I)^(−1/2) up to scale. Rows are L2-normalised.
    """

    basis: Any  # (896, r) float32, orthonormal columns
    shrink: Any  # (r,) float32
    e5_share: float
    shrinkage: float
    mean: Any = None  # (896,) float32: the labelled messages' mean, the centre of a window too small to have its own

    def apply(self, matrix: Any, have: Any) -> Any:
        """Mapped unit rows of ``matrix`` (float32 ``(n, 896)``); rows without a vector (``~have``) stay 0. A window
        of fewer than :data:`OWN_CENTRE_MIN` vectors is centred on :attr:`mean` (two messages centred on their own
        mean point in opposite directions, whatever they say)."""
        import numpy as np

        out = np.zeros(matrix.shape, dtype=np.float32)
        if not have.any():
            return out
        small = int(have.sum()) < OWN_CENTRE_MIN and self.mean is not None
        joined = _centred(matrix[have], self.e5_share, self.mean if small else None)
        joined += ((joined @ self.basis) * self.shrink) @ self.basis.T
        out[have] = joined / np.maximum(np.linalg.norm(joined, axis=1, keepdims=True), 1e-9)
        return out

    def save(self, path: Path) -> None:
        """Write as a compressed ``.npz`` (float16 basis, no pickles, same arrays → same bytes)."""
        import numpy as np

        from moderation.sentiment_model import write_npz

        arrays = {"basis": self.basis.astype(np.float16), "shrink": self.shrink.astype(np.float32),
                  "params": np.array([self.e5_share, self.shrinkage], dtype=np.float64)}
        if self.mean is not None:
            arrays["mean"] = np.asarray(self.mean, dtype=np.float32)
        write_npz(path, arrays)

    @classmethod
    def load(cls, path: Path) -> Projection:
        """Read a projection written by :meth:`save`."""
        import numpy as np

        with np.load(path, allow_pickle=False) as z:
            e5_share, shrinkage = (float(v) for v in z["params"])
            return cls(basis=z["basis"].astype(np.float32), shrink=z["shrink"].astype(np.float32),
                       e5_share=e5_share, shrinkage=shrinkage,
                       mean=z["mean"].astype(np.float32) if "mean" in z.files else None)


def _centred(matrix: Any, e5_share: float, centre: Any = None) -> Any:
    """Each encoder's part minus ``centre``'s (default: the rows' own mean), L2-normalised and weighted; joined."""
    import numpy as np

    mean = matrix.mean(axis=0) if centre is None else np.asarray(centre, dtype=np.float32)
    parts = []
    for part, weight in ((matrix[:, :E5_DIM] - mean[:E5_DIM], e5_share),
                         (matrix[:, E5_DIM:] - mean[E5_DIM:], 1.0 - e5_share)):
        parts.append(part * (weight ** 0.5 / np.maximum(np.linalg.norm(part, axis=1, keepdims=True), 1e-9)))
    return np.hstack(parts).astype(np.float32)


def fit_projection(matrix: Any, topic_of: Sequence[str | None], *, e5_share: float,
                   shrinkage: float) -> Projection:
    """Learn a :class:`Projection` from labelled messages (``topic_of`` None for a one-off message): the
    within-topic covariance of the centred, joined vectors (topics of ≥ 2 messages), scaled to mean eigenvalue 1,
    whitened with ``shrinkage`` λ: a direction of variance v is multiplied by √(λ / (v + λ))."""
    import numpy as np

    x = _centred(np.asarray(matrix, dtype=np.float32), e5_share).astype(np.float64)
    rows = []
    for topic in sorted({t for t in topic_of if t is not None}):
        idx = [i for i, t in enumerate(topic_of) if t == topic]
        if len(idx) >= 2:
            rows.append(x[idx] - x[idx].mean(axis=0))
    r = np.vstack(rows)
    within = r.T @ r / len(r)
    within /= np.trace(within) / within.shape[0]
    values, vectors = np.linalg.eigh(within)
    keep = values > 1e-6 * values.max()
    shrink = np.sqrt(shrinkage / (values[keep] + shrinkage)) - 1.0
    return Projection(basis=vectors[:, keep].astype(np.float32), shrink=shrink.astype(np.float32),
                      e5_share=e5_share, shrinkage=shrinkage,
                      mean=np.asarray(matrix, dtype=np.float32).mean(axis=0))


@lru_cache(maxsize=1)
def shipped_projection() -> Projection:
    """The projection fitted on all labelled topics (``python -m scripts.topics.fit_projection``)."""
    return Projection.load(PROJECTION_PATH)


def vector_matrix(vectors: Vectors | None, n: int) -> tuple[Any, Any] | None:
    """(float32 ``(n, 896)`` matrix, boolean mask of the rows that have a vector), or None when none has one."""
    import numpy as np

    if vectors is None:
        return None
    have = np.array([v is not None for v in vectors[:n]] + [False] * max(0, n - len(vectors)), dtype=bool)
    if not have.any():
        return None
    dim = next(len(v) for v in vectors if v is not None)
    matrix = np.zeros((n, dim), dtype=np.float32)
    for i in np.nonzero(have)[0]:
        matrix[i] = np.asarray(vectors[int(i)], dtype=np.float32)
    return matrix, have


def fused_distance(tfidf_similarity: Any, matrix: Any, have: Any, params: FusedParams,
                   projection: Projection | None = None) -> Any:
    """Distance matrix of the vector grouping (see :class:`FusedParams`); pairs lacking a vector use TF-IDF.
    With ``params.projected``, the vectors' cosine is taken after ``projection`` (default: the shipped one)."""
    import numpy as np
    from scipy.sparse import csr_matrix

    if params.projected:
        mapped = (projection or shipped_projection()).apply(matrix, have)
        vec = mapped @ mapped.T
    else:
        e5, use = matrix[:, :E5_DIM], matrix[:, E5_DIM:]
        vec = params.e5_share * (e5 @ e5.T - E5_FLOOR) / (1.0 - E5_FLOOR) + (1.0 - params.e5_share) * (use @ use.T)
    sim = np.array(tfidf_similarity, dtype=np.float32)
    both = np.outer(have, have)
    sim[both] = params.tfidf_weight * sim[both] + (1.0 - params.tfidf_weight) * vec[both]
    # a pair lacking a vector: its TF-IDF distance rescaled so that the TF-IDF grouping's own cut lands on ours
    sim[~both] = 1.0 - (1.0 - sim[~both]) * (params.threshold / DEFAULT_THRESHOLD)
    n = sim.shape[0]
    if params.shared_weight > 0 and params.neighbours > 0 and n > 2:
        k = min(params.neighbours + 1, n)
        near = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        m = csr_matrix((np.ones(n * k, dtype=np.float32), near.ravel(), np.arange(0, n * k + 1, k)), shape=(n, n))
        shared = np.asarray((m @ m.T).todense(), dtype=np.float32) / k
        sim = params.shared_weight * shared + (1.0 - params.shared_weight) * sim
    distance = np.clip(1.0 - sim, 0.0, None)
    distance = (distance + distance.T) / 2
    np.fill_diagonal(distance, 0.0)
    return distance


def average_linkage(distance: Any) -> Any:
    """The average-linkage tree of a square distance matrix (cut it with :func:`cut`)."""
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform

    return linkage(squareform(distance, checks=False), method="average")


def cut(tree: Any, threshold: float) -> list[int]:
    """Group numbers (from 0) of the tree cut at distance ``threshold``."""
    from scipy.cluster.hierarchy import fcluster

    return [int(v) - 1 for v in fcluster(tree, threshold, criterion="distance")]


def _cluster(texts: Sequence[str], *, threshold: float, max_fit: int, vectors: Vectors | None = None,
             fused: FusedParams = FUSED, projection: Projection | None = None) -> tuple[list[int], _Space | None, Any]:
    import numpy as np

    if len(texts) < 2:
        return list(range(len(texts))), None, None
    fit = list(texts[:max_fit])
    stored = vector_matrix(vectors, len(fit))
    with_vectors = stored is not None and stored[1].mean() >= MIN_VECTOR_SHARE
    space = _Space(fit, stemmed=fused.stemmed and with_vectors)
    x = space.vectors()
    if stored is not None and with_vectors:
        distance = fused_distance((x @ x.T).toarray(), *stored, fused, projection)
        labels = cut(average_linkage(distance), fused.threshold)
    else:
        from sklearn.cluster import AgglomerativeClustering

        distance = np.clip(1.0 - (x @ x.T).toarray(), 0.0, 1.0)
        model = AgglomerativeClustering(n_clusters=None, metric="precomputed", linkage="average",
                                        distance_threshold=threshold)
        labels = [int(v) for v in model.fit_predict(distance)]
    if len(texts) > max_fit:
        labels += _assign(space, x, labels, list(texts[max_fit:]), threshold)
    return labels, space, x


def _assign(space: _Space, x: Any, labels: list[int], rest: list[str], threshold: float) -> list[int]:
    """Attach texts beyond ``max_fit`` to the nearest group centre, or give each its own group."""
    import numpy as np
    from sklearn.preprocessing import normalize

    groups = sorted(set(labels))
    member = np.array(labels)
    centres = normalize(np.vstack([np.asarray(x[member == g].mean(axis=0)) for g in groups]))
    out, fresh = [], max(groups) + 1
    for start in range(0, len(rest), 2000):
        sims = np.asarray(space.vectors(rest[start:start + 2000]) @ centres.T)
        best = sims.argmax(axis=1)
        for i, b in enumerate(best):
            if sims[i, b] >= 1.0 - threshold:
                out.append(groups[b])
            else:
                out.append(fresh)
                fresh += 1
    return out


def _label(space: _Space, rows: Sequence[int], x_words: Any) -> tuple[str, tuple[str, ...]]:
    import numpy as np

    sub = x_words[list(rows)]
    df = np.asarray((sub > 0).sum(axis=0)).ravel()
    weight = np.asarray(sub.sum(axis=0)).ravel()
    names = space.words.get_feature_names_out()
    # most characteristic first: frequent among the members and rare in the whole window (df × idf)
    idf = space.words.idf_
    order = sorted(np.nonzero(df)[0], key=lambda j: (-df[j] * idf[j], -weight[j]))[:8]

    def surface(feature: str) -> str:
        return " ".join(space.surfaces.get(s, Counter({s: 1})).most_common(1)[0][0] for s in feature.split())

    terms = tuple(surface(names[j]) for j in order)
    common = [j for j in order if df[j] >= max(2, 0.3 * len(rows))][:2]
    if len(common) == 2 and _after(space, rows, names[common[0]], names[common[1]]):
        common.reverse()  # "nid de poule", not "poule nid": keep the residents' word order
    return " ".join(surface(names[j]) for j in common) or terms[0], terms[:5]


def _after(space: _Space, rows: Sequence[int], first: str, second: str) -> bool:
    """True when ``first`` usually comes after ``second`` in the members' texts."""
    votes = 0
    for i in rows:
        words = space.tokens[i]
        if first in words and second in words:
            votes += 1 if words.index(first) > words.index(second) else -1
    return votes > 0


def group_topics(texts: Sequence[str], *, threshold: float = DEFAULT_THRESHOLD, min_size: int = 2,
                 max_fit: int = MAX_FIT, top: int | None = None, vectors: Vectors | None = None,
                 fused: FusedParams = FUSED, projection: Projection | None = None) -> list[TopicGroup]:
    """The ``top`` largest groups of at least ``min_size`` similar texts (give the newest texts first); with
    ``vectors`` (stored sentence vectors, None where missing) the fused grouping of :class:`FusedParams`."""
    import numpy as np

    labels, space, x = _cluster(texts, threshold=threshold, max_fit=max_fit, vectors=vectors, fused=fused,
                                projection=projection)
    if space is None:
        return []
    counts = Counter(labels)
    wanted = [g for g, n in counts.most_common() if n >= min_size][:top]
    all_x = x if len(texts) <= max_fit else space.vectors(list(texts))
    x_words = space.word_matrix
    if len(texts) > max_fit:
        space.tokens = space.tokens_of(texts)
        x_words = space.words.transform(space.tokens)
    groups = []
    for g in wanted:
        rows = [i for i, v in enumerate(labels) if v == g]
        vecs = all_x[rows]
        centre = np.asarray(vecs.mean(axis=0)).ravel()
        sims = np.asarray(vecs @ centre).ravel() / max(float(np.linalg.norm(centre)), 1e-12)
        ranked = tuple(rows[i] for i in np.argsort(-sims, kind="stable"))
        label, terms = _label(space, rows, x_words)
        dups = sum(len(d) for d in near_duplicates([texts[i] for i in ranked[:MAX_DUPLICATE_SCAN]]))
        groups.append(TopicGroup(label=label, terms=terms, members=ranked, duplicates=dups,
                                 cohesion=round(float(sims.mean()), 3)))
    return groups


def near_duplicates(texts: Sequence[str], *, similarity: float = DUPLICATE_SIMILARITY) -> list[tuple[int, ...]]:
    """Sets of near-identical texts (copy-paste, light edits), as index tuples of 2 or more."""
    if len(texts) < 2:
        return []
    from scipy.sparse.csgraph import connected_components
    from sklearn.feature_extraction.text import TfidfVectorizer

    folded = [fold(t) for t in texts]
    unique = list(dict.fromkeys(folded))  # identical texts are trivially near-copies: compare each once
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)).fit_transform(unique)
    graph = (chars @ chars.T) >= similarity
    _n, comp = connected_components(graph, directed=False)
    row = {t: i for i, t in enumerate(unique)}
    members: dict[int, list[int]] = {}
    for i, f in enumerate(folded):
        members.setdefault(int(comp[row[f]]), []).append(i)
    return [tuple(v) for v in members.values() if len(v) > 1]
