"""Migration of the append-only, hash-chained audit log (m004)."""

from __future__ import annotations

from sqlite_utils import Database


def m004_audit_log(db: Database) -> None:
    """Append-only, hash-chained audit log (UPDATE and DELETE refused by triggers)."""
    db.executescript("""
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        role TEXT NOT NULL DEFAULT '',
        event TEXT NOT NULL,
        subject TEXT NOT NULL DEFAULT '',
        properties TEXT NOT NULL DEFAULT '{}',
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX idx_audit_subject ON audit_log (subject, id);
    CREATE INDEX idx_audit_event ON audit_log (event, id);
    CREATE INDEX idx_audit_actor ON audit_log (actor, id);
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
    """)
