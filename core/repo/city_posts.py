"""DML of the city's own publications, the roots of the residents' conversations under them (issue #17)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from core.clock import from_iso, to_iso


@dataclass(frozen=True, slots=True)
class CityPost:
    """A publication of the city: the post residents' comments answer (``conversation_id`` = ``platform_id``)."""

    platform: str
    platform_id: str
    text: str
    published_at: datetime
    permalink: str = ""
    account: str = ""
    source: str = "published"  # "published" (by Parvis: post_targets), "demo", "fetched"
    edited_at: datetime | None = None  # first seen edited on the platform (decision 0305)
    deleted_at: datetime | None = None  # first seen deleted on the platform: the row and its text are kept


def record_city_posts(db: Database, posts: Iterable[CityPost], *, now: datetime) -> int:
    """Record (or refresh) the city's publications; return how many rows were written."""
    rows = [(p.platform, p.platform_id, p.account, p.text, p.permalink, to_iso(p.published_at), p.source,
             to_iso(now)) for p in posts]
    db.conn.executemany(
        "INSERT INTO city_posts (platform, platform_id, account, text, permalink, published_at, source, recorded_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (platform, platform_id) DO UPDATE SET text = excluded.text, "
        "permalink = excluded.permalink, published_at = excluded.published_at, recorded_at = excluded.recorded_at",
        rows)
    return len(rows)


def thread_root(db: Database, platform: str, conversation_id: str) -> CityPost | None:
    """The city's post at the root of ``conversation_id``: one Parvis published, else one recorded; None when the
    conversation does not start with a city post (a resident's own post or tweet)."""
    row = db.execute(
        "SELECT t.platform, t.platform_id, coalesce(t.sent_text, p.text), t.published_at, coalesce(t.permalink, ''), "
        "t.account FROM post_targets t JOIN posts p ON p.id = t.post_id "
        "WHERE t.platform = ? AND t.platform_id = ? AND t.published_at IS NOT NULL LIMIT 1",
        (platform, conversation_id)).fetchone()
    if row is None:
        row = db.execute("SELECT platform, platform_id, text, published_at, permalink, account, source, edited_at, "
                         "deleted_at FROM city_posts WHERE platform = ? AND platform_id = ?",
                         (platform, conversation_id)).fetchone()
    if row is None:
        return None
    published = from_iso(row[3])
    assert published is not None
    if len(row) == 6:
        return CityPost(platform=row[0], platform_id=row[1], text=row[2], published_at=published, permalink=row[4],
                        account=row[5])
    return CityPost(platform=row[0], platform_id=row[1], text=row[2], published_at=published, permalink=row[4],
                    account=row[5], source=row[6], edited_at=from_iso(row[7]), deleted_at=from_iso(row[8]))


def city_post_state(db: Database, platform: str, platform_id: str) -> tuple[str, bool] | None:
    """The stored text of a recorded city post and whether it is marked deleted; None when not recorded."""
    row = db.execute("SELECT text, deleted_at IS NOT NULL FROM city_posts WHERE platform = ? AND platform_id = ?",
                     (platform, platform_id)).fetchone()
    return None if row is None else (row[0], bool(row[1]))


def record_city_post_change(db: Database, platform: str, platform_id: str, change: str, *, now: datetime,
                            raw: dict[str, Any] | None = None, old_text: str | None = None,
                            new_text: str | None = None) -> None:
    """Record that the platform shows a recorded city post ``edited`` or ``deleted`` (appended, never
    overwritten), as :func:`core.repo.mention_writes.record_platform_change` does for a mention: an ``edited``
    step sets ``edited_at`` and the post's text follows it only from the step's text before (a post recorded with
    its current version keeps it); ``deleted`` sets ``deleted_at``, the text stays."""
    now_iso = to_iso(now)
    key = (platform, platform_id)
    db.execute("INSERT INTO city_post_revisions (platform, platform_id, seen_at, change, old_text, new_text, raw) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)",
               (*key, now_iso, change, old_text, new_text, json.dumps(raw or {}, ensure_ascii=False, default=str)))
    if change == "edited":
        db.execute("UPDATE city_posts SET edited_at = COALESCE(edited_at, ?) WHERE platform = ? AND platform_id = ?",
                   (now_iso, *key))
        if old_text is not None and new_text is not None and old_text != new_text:
            db.execute("UPDATE city_posts SET text = ? WHERE platform = ? AND platform_id = ? AND text = ?",
                       (new_text, *key, old_text))
    elif change == "deleted":
        db.execute("UPDATE city_posts SET deleted_at = COALESCE(deleted_at, ?) WHERE platform = ? AND "
                   "platform_id = ?", (now_iso, *key))


def city_post_edits_recorded(db: Database, platform: str, platform_id: str) -> list[tuple[str | None, str | None]]:
    """``(old text, new text)`` of every ``edited`` revision of a city post, oldest first."""
    rows = db.execute("SELECT old_text, new_text FROM city_post_revisions WHERE platform = ? AND platform_id = ? "
                      "AND change = 'edited' ORDER BY id", (platform, platform_id)).fetchall()
    return [(r[0], r[1]) for r in rows]


def city_post_revisions(db: Database, platform: str, platform_id: str) -> list[dict[str, Any]]:
    """Every change the platform showed on a recorded city post, oldest first."""
    rows = db.execute("SELECT seen_at, change, old_text, new_text FROM city_post_revisions WHERE platform = ? AND "
                      "platform_id = ? ORDER BY id", (platform, platform_id)).fetchall()
    return [{"seen_at": from_iso(r[0]), "change": r[1], "old_text": r[2], "new_text": r[3]} for r in rows]
