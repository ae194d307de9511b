"""Migration of the erasable free text of the audit log (m036, issue #15; core/audit/texts.py, decision 0035)."""

from __future__ import annotations

from sqlite_utils import Database


def m036_erasable_audit_texts(db: Database) -> None:
    """Residents' and agents' free text recorded by audit events, kept beside the chain so it can be erased.

    The chained row stores ``sha256(salt + text)`` as ``ref``; erasing deletes the row here (the chain still
    verifies). A note's text goes with the note, whoever deletes it (retention purge, RGPD erasure): a trigger.
    Audit rows written before this migration keep their text inline.
    """
    db.executescript("""
    CREATE TABLE audit_texts (
        ref TEXT PRIMARY KEY,
        salt TEXT NOT NULL,
        text TEXT NOT NULL,
        owner TEXT NOT NULL,
        kind TEXT NOT NULL,
        audit_id INTEGER NOT NULL
    );
    CREATE INDEX idx_audit_texts_owner ON audit_texts (owner, kind);
    CREATE TRIGGER notes_erase_audit_text AFTER DELETE ON notes
    BEGIN DELETE FROM audit_texts WHERE owner = 'note:' || OLD.id AND kind = 'note'; END;
    """)
