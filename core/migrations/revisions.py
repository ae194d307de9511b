"""Migration of the editorial record: who wrote each revision of a post or a recurring series (m024)."""

from __future__ import annotations

from sqlite_utils import Database


def m024_editorial_revisions(db: Database) -> None:
    """Every revision of a post or a series with its editor, append-only (four eyes: nobody approves a revision
    they wrote or edited, decision 0083). ``editor_id`` is NULL when the worker made it from ``source_*``
    (an occurrence of a series); a duplicate names the post it was copied from. Existing posts and series get
    one row by their author (``origin = 'before-history'``)."""
    db.executescript("""
    CREATE TABLE editorial_revisions (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('post', 'recurrence')),
        ref_id INTEGER NOT NULL,
        revision INTEGER NOT NULL,
        editor_id INTEGER REFERENCES agents(id),
        origin TEXT NOT NULL,
        source_kind TEXT CHECK (source_kind IN ('post', 'recurrence')),
        source_id INTEGER,
        content_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (kind, ref_id, revision)
    );
    CREATE TRIGGER editorial_revisions_no_update BEFORE UPDATE ON editorial_revisions
    BEGIN SELECT RAISE(ABORT, 'editorial revisions are append-only'); END;
    CREATE TRIGGER editorial_revisions_no_delete BEFORE DELETE ON editorial_revisions
    BEGIN SELECT RAISE(ABORT, 'editorial revisions are append-only'); END;
    INSERT INTO editorial_revisions (kind, ref_id, revision, editor_id, origin, source_kind, source_id,
                                     content_hash, created_at)
        SELECT 'post', id, 1, author_id, 'before-history',
               CASE WHEN recurrence_id IS NULL THEN NULL ELSE 'recurrence' END, recurrence_id, content_hash,
               updated_at FROM posts;
    INSERT INTO editorial_revisions (kind, ref_id, revision, editor_id, origin, content_hash, created_at)
        SELECT 'recurrence', id, revision, author_id, 'before-history', content_hash, updated_at FROM recurrences;
    """)
