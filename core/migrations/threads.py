"""The city's own publications that residents answer (issue #17: « Fil » shows the post a comment answers)."""

from __future__ import annotations

from sqlite_utils import Database


def m210_city_posts(db: Database) -> None:
    """``city_posts``: a publication of the city on a platform, the root of the conversations under it.

    Filled where Parvis learns of a city post it did not publish itself (the demo city's posts; a connector may
    add its account's posts); the posts Parvis published are read from ``post_targets``. Keyed by the platform's
    id, which is the ``conversation_id`` of the residents' comments under it. Public text of the city: not a
    resident's personal data.
    """
    db.executescript("""
    CREATE TABLE city_posts (
        platform TEXT NOT NULL,
        platform_id TEXT NOT NULL,
        account TEXT NOT NULL DEFAULT '',
        text TEXT NOT NULL,
        permalink TEXT NOT NULL DEFAULT '',
        published_at TEXT NOT NULL,
        source TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        PRIMARY KEY (platform, platform_id)
    );
    """)
