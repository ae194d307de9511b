"""Sentence vectors for similar answers (decision 0195): computed by the worker, read by the inbox.

Every sent reply gets one vector of the resident's message *and* the reply (e5 ``passage:`` ‖ USE), every recent
resident's message one vector of its text (e5 ``query:`` ‖ USE); both halves L2-normalised, so the dot product
of two vectors is the sum of the two encoders' cosines. The worker's re-scoring job (which already runs the
encoders) fills them a batch at a time; the inbox never loads an encoder: a message without its vector yet is
matched by full text alone (decision 0171).

The inbox keeps the e5 halves of all answered vectors in one float32 matrix per database (refreshed with the
rows added since, reloaded when rows went), to find the nearest answered messages by one product.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlite_utils import Database

from core import repo
from core.db import write_transaction

E5_DIM = 384
USE_DIM = 512
DIM = E5_DIM + USE_DIM
MODEL = "e5-small-q4+use-m3"
# Residents' messages embedded (newest first): the dashboard's default 30-day window, so that its topic groups
# (decision 0250) use vectors for the whole period it shows, not only the last days.
WINDOW = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Encoders:
    """The two encoders as plain functions: texts → ``(n, 384)`` / ``(n, 512)`` L2-normalised arrays."""

    e5: Callable[[Sequence[str]], Any]
    use: Callable[[Sequence[str]], Any]


def load_encoders(threads: int | None = None) -> Encoders:
    """The real encoders (multilingual-e5-small with its own prefixes in the text, USE multilingual)."""
    from moderation.encoder import E5Encoder
    from moderation.use_vectors import UseEncoder

    e5 = E5Encoder(threads=threads, prefix="")
    return Encoders(e5=e5.embed, use=UseEncoder(threads=threads or 1).embed)


@cache
def shared_encoders() -> Encoders | None:
    """The worker's encoders, loaded once per process; None when a package is missing (nothing is embedded)."""
    from moderation.rich import rich_available

    return load_encoders(threads=2) if rich_available() else None


def passage_vectors(enc: Encoders, pairs: Sequence[tuple[str, str]]) -> Any:
    """Vectors of answered items: (resident's text, reply body) pairs → ``(n, 896)`` float32."""
    import numpy as np

    joined = [f"{text}\n{reply}" for text, reply in pairs]
    return _join(np, enc.e5([f"passage: {t}" for t in joined]), enc.use(joined))


def query_vectors(enc: Encoders, texts: Sequence[str]) -> Any:
    """Vectors of residents' messages → ``(n, 896)`` float32."""
    import numpy as np

    return _join(np, enc.e5([f"query: {t}" for t in texts]), enc.use(list(texts)))


def _join(np: Any, e5: Any, use: Any) -> Any:
    a = np.asarray(e5, dtype=np.float32).reshape(-1, E5_DIM)
    b = np.asarray(use, dtype=np.float32).reshape(-1, USE_DIM)
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-9)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-9)
    return np.hstack([a, b])


def to_bytes(vector: Any) -> bytes:
    """A vector as stored: float16 little-endian."""
    import numpy as np

    return np.asarray(vector, dtype="<f2").tobytes()


def from_bytes(blob: bytes) -> Any:
    """A stored vector as float32 ``(896,)``."""
    import numpy as np

    return np.frombuffer(blob, dtype="<f2").astype(np.float32)


@dataclass(frozen=True, slots=True)
class EmbedResult:
    answered: int
    mentions: int


def waiting(db: Database, *, now: datetime) -> bool:
    """Whether a sent reply or a recent message waits for its vector."""
    return bool(repo.answered_to_embed(db, limit=1) or repo.mentions_to_embed(db, since=now - WINDOW, limit=1))


def embed_pending(db: Database, enc: Encoders, *, now: datetime, batch: int = 64, max_batches: int = 10,
                  budget_s: float = 15.0, should_stop: Callable[[], bool] | None = None) -> EmbedResult:
    """Compute the missing vectors, newest first: residents' recent messages, then sent replies; stops after
    ``budget_s``, or when ``should_stop()`` says so (both checked between batches) so the worker's other jobs, and
    a shutdown, keep their turn."""
    mentions = answered = 0
    started = time.monotonic()

    def over() -> bool:
        return time.monotonic() - started > budget_s or bool(should_stop and should_stop())

    for _ in range(max_batches):
        if over():
            break
        todo = repo.mentions_to_embed(db, since=now - WINDOW, limit=batch)
        if not todo:
            break
        vecs = query_vectors(enc, [text for _, text in todo])
        with write_transaction(db):
            repo.store_mention_vectors(db, [(uid, to_bytes(v)) for (uid, _), v in zip(todo, vecs, strict=True)],
                                       model=MODEL)
        mentions += len(todo)
    for _ in range(max_batches):
        if over():
            break
        pending = repo.answered_to_embed(db, limit=batch)
        if not pending:
            break
        vecs = passage_vectors(enc, [(text, body) for _, text, body in pending])
        with write_transaction(db):
            repo.store_answered_vectors(db, [(d, to_bytes(v)) for (d, _, _), v in zip(pending, vecs, strict=True)],
                                        model=MODEL)
        answered += len(pending)
    return EmbedResult(answered=answered, mentions=mentions)


@dataclass(slots=True)
class _Matrix:
    seq: int = 0
    ids: Any = None  # int64 draft ids
    e5: Any = None  # float32 (n, 384)
    lock: threading.Lock = field(default_factory=threading.Lock)


_MATRICES: dict[str, _Matrix] = {}


def _key(db: Database) -> str:
    row = db.execute("PRAGMA database_list").fetchone()
    return str(row[2]) or f"memory:{id(db.conn)}"


def nearest(db: Database, query: Any, *, limit: int) -> list[int]:
    """Draft ids of the ``limit`` answered vectors whose e5 half is closest to ``query``'s, best first."""
    import numpy as np

    m = _MATRICES.setdefault(_key(db), _Matrix())
    with m.lock:
        for _ in range(2):
            seq, count = repo.answered_vectors_state(db)
            if m.ids is None or seq < m.seq or count < len(m.ids):
                m.seq, m.ids, m.e5 = 0, np.zeros(0, dtype=np.int64), np.zeros((0, E5_DIM), dtype=np.float32)
            if seq > m.seq:
                rows = repo.answered_vectors_after(db, m.seq)
                if rows:
                    new = np.frombuffer(b"".join(v for _, _, v in rows), dtype="<f2").reshape(len(rows), DIM)
                    m.ids = np.concatenate([m.ids, np.array([d for _, d, _ in rows], dtype=np.int64)])
                    m.e5 = np.vstack([m.e5, new[:, :E5_DIM].astype(np.float32)])
                    m.seq = rows[-1][0]
            if len(m.ids) == count:
                break
            m.ids = None  # rows went and others came: load again
        ids, e5 = (m.ids, m.e5) if m.ids is not None else (np.zeros(0, dtype=np.int64), None)
    if e5 is None or not len(ids):
        return []
    scores = e5 @ np.asarray(query, dtype=np.float32)[:E5_DIM]
    k = min(limit, len(ids))
    top = np.argpartition(-scores, k - 1)[:k]
    return [int(i) for i in ids[top[np.argsort(-scores[top])]]]


def forget_matrices() -> None:
    """Drop the in-memory matrices (tests)."""
    _MATRICES.clear()
