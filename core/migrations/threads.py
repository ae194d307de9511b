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


def m305_city_post_revisions(db: Database) -> None:
    """What the platform later showed of a city post read as a thread root (decision 0305): ``edited_at`` and
    ``deleted_at`` on ``city_posts`` (first seen; the row and its text are kept), and ``city_post_revisions``,
    one row per change seen (``edited``: an edit-history step, the text before and after; ``deleted``), like
    ``mention_revisions`` for residents' messages. Append-only: it is the record of what residents answered."""
    db.executescript("""
    ALTER TABLE city_posts ADD COLUMN edited_at TEXT;
    ALTER TABLE city_posts ADD COLUMN deleted_at TEXT;
    CREATE TABLE city_post_revisions (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        platform_id TEXT NOT NULL,
        seen_at TEXT NOT NULL,
        change TEXT NOT NULL,
        old_text TEXT,
        new_text TEXT,
        raw TEXT NOT NULL DEFAULT '{}',
        FOREIGN KEY (platform, platform_id) REFERENCES city_posts (platform, platform_id)
    );
    CREATE INDEX idx_city_post_revisions ON city_post_revisions (platform, platform_id, id);
    CREATE TRIGGER city_post_revisions_no_update BEFORE UPDATE ON city_post_revisions
    BEGIN SELECT RAISE(ABORT, 'city post revisions are append-only'); END;
    CREATE TRIGGER city_post_revisions_no_delete BEFORE DELETE ON city_post_revisions
    BEGIN SELECT RAISE(ABORT, 'city post revisions are append-only'); END;
    """)
