"""Similar answers, signed by the city: the past conversations closest to a resident's message (decision 0171).

When an agent opens a message, the inbox shows the three most similar messages the city already answered, with
the signed reply that went out and its date; one click copies that reply's body into the composer as a draft
(the agent edits it; nothing is ever sent as is). Retrieval is local: SQLite FTS5 over the answered messages
(``answered_fts``, filled by triggers when a reply reaches ``sent``): BM25 over the resident's message *and* the
reply that went out (the city's answer names the request in its own words: « restauration scolaire » for
« cantine »), on the message's content words cut to a stem prefix (``poubelles`` → ``poubel*``). Measured on the
labelled set ``console/bench/data/similar_answers_fr.jsonl`` with ``bench similar`` (BENCHMARKS.md).

Once the worker stored the message's sentence vector (``similar_vectors``, decision 0195), the candidates are
the full-text hits *and* the nearest answered vectors, ranked by ``e5 cosine + USE cosine + BM25_WEIGHT ×
BM25 / best BM25``: the vectors find paraphrases that share no word, the full text keeps exact names.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from core import repo
from core.models import Agent, InboxItem
from core.repo import AnsweredMatch
from services.accounts.permissions import Action, require
from services.inbox import similar_vectors

DEFAULT_K = 3
CANDIDATES = 30  # full-text hits read to fill k distinct conversations
VECTOR_CANDIDATES = 50  # nearest answered vectors read next to them
BM25_WEIGHT = 0.05  # by 4-fold cross-validation over the labelled set's requests, ties to the lower (decision 0195)
MAX_TERMS = 24
STEM = 6  # letters kept of a longer word, matched as a prefix
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# French function words and politeness that every message shares (accents removed, as the index stores them)
STOPWORDS = frozenset("""
a au aux avec ce ces cet cette c ca d dans de des du elle elles en est et etre eu il ils j je l la le les leur
leurs lui m ma mais me meme mes moi mon n ne ni nos notre nous on ont ou par pas plus pour qu que qui s sa sans
se ses si son sont sur t ta te tes toi ton tous tout toute toutes tu un une vos votre vous y ai as avez avons
aussi bien bonjour bonsoir merci madame monsieur svp stp mairie ville alors car comme donc fait faire faut
peut peux quand quel quelle quels quelles comment pourquoi depuis encore toujours tres trop deja ici la
""".split())


@dataclass(frozen=True, slots=True)
class SimilarAnswer:
    """A past conversation the city answered: the resident's message, the reply that went out, its date."""

    mention_uid: str
    platform: str
    text: str
    reply: str  # the signed text that went out
    body: str  # the reply without its signature: what "copy" puts in the composer
    sent_at: object  # datetime
    rank: float


def _fold(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word.lower()) if unicodedata.category(c) != "Mn")


def match_query(text: str) -> str | None:
    """The FTS5 query for ``text``: its content words (stop words out), each a quoted stem prefix, OR-ed."""
    terms: list[str] = []
    for raw in _WORD.findall(text or ""):
        word = _fold(raw)
        if len(word) < 3 or word in STOPWORDS:
            continue
        term = f'"{word[:STEM]}"*' if len(word) > STEM else f'"{word}"'
        if term not in terms:
            terms.append(term)
    return " OR ".join(terms[:MAX_TERMS]) or None


def similar_to_text(db: Database, text: str, *, k: int = DEFAULT_K, exclude_uid: str = "",
                    exclude_conversation: tuple[str, str | None] | None = None,
                    vector: Any = None) -> list[SimilarAnswer]:
    """The ``k`` answered conversations closest to ``text`` (one per conversation, most similar first); with the
    message's sentence ``vector`` (``similar_vectors.query_vectors``), full text and vectors fused."""
    match = match_query(text)
    if match is None and vector is None:
        return []
    hits = repo.answered_matches(db, match, limit=CANDIDATES) if match is not None else []
    if vector is not None:
        hits = _fused(db, hits, vector)
    out: list[SimilarAnswer] = []
    seen: set[tuple[str, str]] = set()
    for hit in hits:
        key = (hit.platform, hit.conversation_id or hit.mention_uid)
        if hit.mention_uid == exclude_uid or key in seen or (
                exclude_conversation is not None and exclude_conversation[1] is not None
                and key == exclude_conversation):
            continue
        seen.add(key)
        out.append(_answer(hit))
        if len(out) == k:
            break
    return out


def similar_answers(db: Database, item: InboxItem, *, viewer: Agent, k: int = DEFAULT_K) -> list[SimilarAnswer]:
    """The ``k`` past answered conversations most similar to ``item`` (its own conversation left out)."""
    require(viewer, Action.INBOX_READ)
    m = item.mention
    blob = repo.mention_vector(db, item.uid)
    return similar_to_text(db, m.text or "", k=k, exclude_uid=item.uid,
                           exclude_conversation=(str(m.platform), m.conversation_id),
                           vector=None if blob is None else similar_vectors.from_bytes(blob))


def _fused(db: Database, hits: list[AnsweredMatch], vector: Any) -> list[AnsweredMatch]:
    """Full-text hits and nearest vectors, ranked by the sum of cosines plus the weighted, scaled BM25."""
    import numpy as np

    query = np.asarray(vector, dtype=np.float32)
    bm25 = {h.draft_id: -h.rank for h in hits}  # FTS5 ranks are negative: higher is closer
    best = max(bm25.values(), default=0.0)
    by_id = {h.draft_id: h for h in hits}
    extra = [d for d in similar_vectors.nearest(db, query, limit=VECTOR_CANDIDATES) if d not in by_id]
    by_id.update({h.draft_id: h for h in repo.answered_by_ids(db, extra)})
    stored = repo.answered_vectors_of(db, list(by_id))
    scored: list[tuple[float, int]] = []
    for draft_id in by_id:
        blob = stored.get(draft_id)
        cosines = float(similar_vectors.from_bytes(blob) @ query) if blob is not None else 0.0
        lexical = bm25.get(draft_id, 0.0) / best if best > 0 else 0.0
        scored.append((cosines + BM25_WEIGHT * lexical, draft_id))
    scored.sort(key=lambda s: (-s[0], -s[1]))
    return [by_id[d] for _, d in scored]


def _answer(hit: AnsweredMatch) -> SimilarAnswer:
    return SimilarAnswer(mention_uid=hit.mention_uid, platform=hit.platform, text=hit.text, reply=hit.signed_text,
                         body=hit.body, sent_at=hit.sent_at, rank=hit.rank)
