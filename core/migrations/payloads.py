"""Migrations of what the connectors read from real payloads (issue #16, m130-m139): unknown authors never shared
(m130), items a platform sent that Parvis could not read, kept visible (m131), the post a mention quotes (m132)."""

from __future__ import annotations

from sqlite_utils import Database


def m130_unknown_authors(db: Database) -> None:
    """Mentions stored with an empty author id (an author the platform did not name) get an id of their own,
    ``unknown:<platform id>`` (core.models.Author.unknown), so no two of them count as one author."""
    db.execute("UPDATE mentions SET author_id = 'unknown:' || platform_id WHERE author_id = ''")


def m131_rejected_items(db: Database) -> None:
    """Items a platform sent that failed validation (the cursor moved past them): which, why, where to see them.
    No text nor author is kept (nothing personal to retain or erase); one row per item, its sightings counted."""
    db.executescript("""
    CREATE TABLE rejected_items (
        connector TEXT NOT NULL,
        platform TEXT NOT NULL,
        item_id TEXT NOT NULL,
        reason TEXT NOT NULL,
        permalink TEXT,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        seen INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (connector, item_id)
    );
    CREATE INDEX idx_rejected_items_recent ON rejected_items (connector, last_seen DESC);
    """)


def m132_mention_quotes(db: Database) -> None:
    """``quote_of``: the platform id of the post a mention quotes (an X quote, a Bluesky ``embed.record``, a
    Mastodon 4.5 quote post), shown with the mention."""
    db.execute("ALTER TABLE mentions ADD COLUMN quote_of TEXT")
