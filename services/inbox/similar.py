"""Similar answers, signed by the city: the past conversations closest to a resident's message (decision 0171).

When an agent opens a message, the inbox shows the three most similar messages the city already answered, with
the signed reply that went out and its date; one click copies that reply's body into the composer as a draft
(the agent edits it; nothing is ever sent as is). Retrieval is local: SQLite FTS5 over the answered messages
(``answered_fts``, filled by triggers when a reply reaches ``sent``): BM25 over the resident's message *and* the
reply that went out (the city's answer names the request in its own words: « restauration scolaire » for
« cantine »), on the message's content words cut to a stem prefix (``poubelles`` → ``poubel*``). Measured on the
labelled set ``console/bench/data/similar_answers_fr.jsonl`` with ``bench similar`` (BENCHMARKS.md).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlite_utils import Database

from core import repo
from core.models import Agent, InboxItem
from core.repo import AnsweredMatch
from services.accounts.permissions import Action, require

DEFAULT_K = 3
CANDIDATES = 30  # full-text hits read to fill k distinct conversations
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
                    exclude_conversation: tuple[str, str | None] | None = None) -> list[SimilarAnswer]:
    """The ``k`` answered conversations closest to ``text`` (one per conversation, most similar first)."""
    match = match_query(text)
    if match is None:
        return []
    out: list[SimilarAnswer] = []
    seen: set[tuple[str, str]] = set()
    for hit in repo.answered_matches(db, match, limit=CANDIDATES):
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
    return similar_to_text(db, m.text or "", k=k, exclude_uid=item.uid,
                           exclude_conversation=(str(m.platform), m.conversation_id))


def _answer(hit: AnsweredMatch) -> SimilarAnswer:
    return SimilarAnswer(mention_uid=hit.mention_uid, platform=hit.platform, text=hit.text, reply=hit.signed_text,
                         body=hit.body, sent_at=hit.sent_at, rank=hit.rank)
