"""DML of the city's own publications, the roots of the residents' conversations under them (issue #17)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

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
        row = db.execute("SELECT platform, platform_id, text, published_at, permalink, account, source FROM city_posts "
                         "WHERE platform = ? AND platform_id = ?", (platform, conversation_id)).fetchone()
    if row is None:
        return None
    published = from_iso(row[3])
    assert published is not None
    return CityPost(platform=row[0], platform_id=row[1], text=row[2], published_at=published, permalink=row[4],
                    account=row[5], source=row[6] if len(row) > 6 else "published")
