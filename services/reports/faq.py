"""« Questions fréquentes »: the residents' most frequent questions and the answers the team actually sent,
exportable as a public FAQ page (Markdown or HTML), with residents' personal data and names removed."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from html import escape

from sqlite_utils import Database

from core.repo import stats as stats_repo
from moderation.topics import fold, group_topics
from services.archive.redact import redact
from services.reports.dashboard import DashboardConfig, DashboardFilters, scope_for

MAX_MESSAGES = 5000
_QUESTION = re.compile(r"\?|^\W*(?:bonjour\W+)?(comment|quand|pourquoi|ou|est-ce|quel|quelle|quels|quelles|combien|"
                       r"peut-on|a quelle heure|qui)\b")
_GREETING = re.compile(r"^\s*(?:bonjour|bonsoir|bjr|salut|hello)\b(?:\s+[\w@.'-]+){0,3}?\s*[,!.]\s*|"
                       r"^\s*(?:bonjour|bonsoir|bjr|salut|hello)\b\s*", re.IGNORECASE)


@dataclass(frozen=True, slots=True, kw_only=True)
class FaqEntry:
    """One question residents ask often, with the team's most used answer."""

    question: str
    answer: str
    asked: int
    topic: str


def is_question(text: str) -> bool:
    """Whether a message asks something (question mark or French interrogative opening)."""
    return bool(_QUESTION.search(fold(text)))


def _clean(text: str, names: Sequence[str]) -> str:
    text = redact(_GREETING.sub("", text.strip()), names=names).strip()
    return text[:1].upper() + text[1:]


def build_faq(db: Database, *, since: datetime, until: datetime, config: DashboardConfig, now: datetime,
              filters: DashboardFilters | None = None, max_entries: int = 15, min_asked: int = 2) -> list[FaqEntry]:
    """The most frequent questions of [since, until) that the team answered, most asked first."""
    scope = scope_for(replace(filters or DashboardFilters(), since=since, until=until), config, now=now)
    messages = [m for m in stats_repo.window_texts(db, scope, limit=MAX_MESSAGES)
                if not m["hidden"] and not m["deleted_at"] and is_question(m["text"])]
    entries = []
    for group in group_topics([m["text"] for m in messages], min_size=min_asked, max_fit=2000):
        rows = [messages[i] for i in group.members]
        replies = stats_repo.sent_replies(db, [m["uid"] for m in rows])
        if not replies:
            continue
        names = [n for m in rows for n in (m["author_name"], m["author_handle"])]
        counts = Counter(fold(r["body"]).strip() for r in replies)
        best = counts.most_common(1)[0][0]
        answer = next(r["body"] for r in replies if fold(r["body"]).strip() == best)
        entries.append(FaqEntry(question=_clean(rows[0]["text"], names), answer=_clean(answer, names),
                                asked=len(rows), topic=group.label))
    entries.sort(key=lambda e: -e.asked)
    return entries[:max_entries]


def faq_markdown(entries: Sequence[FaqEntry], *, title: str = "Questions fréquentes", intro: str = "") -> str:
    """The FAQ as Markdown."""
    lines = [f"# {title}", ""]
    if intro:
        lines += [intro, ""]
    for e in entries:
        lines += [f"## {e.question}", "", e.answer, ""]
    if not entries:
        lines += ["Aucune question fréquente sur cette période.", ""]
    return "\n".join(lines)


def faq_html(entries: Sequence[FaqEntry], *, title: str = "Questions fréquentes", intro: str = "") -> str:
    """The FAQ as a standalone HTML page."""
    body = "".join(f"<section><h2>{escape(e.question)}</h2><p>{escape(e.answer)}</p></section>" for e in entries)
    return (f"<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title></head>"
            f"<body><h1>{escape(title)}</h1>{f'<p>{escape(intro)}</p>' if intro else ''}"
            f"{body or '<p>Aucune question fréquente sur cette période.</p>'}</body></html>")
