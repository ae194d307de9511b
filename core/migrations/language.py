"""Migrations of the language features of issue #21: the full-text index of the conversations the city answered,
for similar answers (m171, decision 0171)."""

from __future__ import annotations

from sqlite_utils import Database


def m171_answered_fts(db: Database) -> None:
    """Full-text index of the residents' messages the city answered and of the replies (their bodies, unsigned):
    one row per sent reply (rowid = draft id).

    Filled by triggers when a reply reaches ``sent``; a mention's erasure (text changed) or deletion follows, so
    no copy outlives the mention.
    """
    db.executescript("""
    CREATE VIRTUAL TABLE answered_fts USING fts5(text, reply, tokenize = 'unicode61 remove_diacritics 2');
    INSERT INTO answered_fts (rowid, text, reply)
        SELECT d.id, m.text, d.body FROM drafts d JOIN mentions m ON m.uid = d.mention_uid WHERE d.state = 'sent';
    CREATE TRIGGER answered_fts_draft_ai AFTER INSERT ON drafts
        WHEN new.state = 'sent' AND new.mention_uid IS NOT NULL
    BEGIN
        INSERT OR REPLACE INTO answered_fts (rowid, text, reply)
            SELECT new.id, text, new.body FROM mentions WHERE uid = new.mention_uid;
    END;
    CREATE TRIGGER answered_fts_draft_au AFTER UPDATE OF state ON drafts
        WHEN new.state = 'sent' AND old.state != 'sent' AND new.mention_uid IS NOT NULL
    BEGIN
        INSERT OR REPLACE INTO answered_fts (rowid, text, reply)
            SELECT new.id, text, new.body FROM mentions WHERE uid = new.mention_uid;
    END;
    CREATE TRIGGER answered_fts_draft_ad AFTER DELETE ON drafts BEGIN
        DELETE FROM answered_fts WHERE rowid = old.id;
    END;
    CREATE TRIGGER answered_fts_mention_au AFTER UPDATE OF text ON mentions BEGIN
        UPDATE answered_fts SET text = new.text
            WHERE rowid IN (SELECT id FROM drafts WHERE mention_uid = new.uid AND state = 'sent');
    END;
    CREATE TRIGGER answered_fts_mention_ad AFTER DELETE ON mentions BEGIN
        DELETE FROM answered_fts WHERE rowid IN (SELECT id FROM drafts WHERE mention_uid = old.uid);
    END;
    """)


def m172_answered_fts_public_only(db: Database) -> None:
    """Private conversations never enter the similar-answers index (issue #20: private texts are shown only to
    those allowed, never reused as suggestions): the triggers skip private messages and the rows already taken
    are removed."""
    db.executescript("""
    DROP TRIGGER answered_fts_draft_ai;
    DROP TRIGGER answered_fts_draft_au;
    DELETE FROM answered_fts WHERE rowid IN
        (SELECT d.id FROM drafts d JOIN mentions m ON m.uid = d.mention_uid WHERE m.kind = 'private');
    CREATE TRIGGER answered_fts_draft_ai AFTER INSERT ON drafts
        WHEN new.state = 'sent' AND new.mention_uid IS NOT NULL
    BEGIN
        INSERT OR REPLACE INTO answered_fts (rowid, text, reply)
            SELECT new.id, text, new.body FROM mentions WHERE uid = new.mention_uid AND kind != 'private';
    END;
    CREATE TRIGGER answered_fts_draft_au AFTER UPDATE OF state ON drafts
        WHEN new.state = 'sent' AND old.state != 'sent' AND new.mention_uid IS NOT NULL
    BEGIN
        INSERT OR REPLACE INTO answered_fts (rowid, text, reply)
            SELECT new.id, text, new.body FROM mentions WHERE uid = new.mention_uid AND kind != 'private';
    END;
    """)


def m195_similar_vectors(db: Database) -> None:
    """Sentence vectors for similar answers (decision 0195): one per sent reply (the resident's message and the
    reply, ``answered_vectors``) and one per recent resident's message (its text, ``mention_vectors``), filled
    by the worker. Each vector: e5 (384) then USE (512), each L2-normalised, float16 little-endian.

    ``seq`` grows with every insert, so a reader's in-memory matrix loads only the new rows. A vector goes when
    its reply or mention goes, or when the mention's text changes (an erasure): no copy outlives the text.
    """
    db.executescript("""
    CREATE TABLE answered_vectors (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        draft_id INTEGER NOT NULL UNIQUE,
        model TEXT NOT NULL,
        vec BLOB NOT NULL
    );
    CREATE TABLE mention_vectors (
        mention_uid TEXT PRIMARY KEY,
        model TEXT NOT NULL,
        vec BLOB NOT NULL
    );
    CREATE TRIGGER answered_vectors_draft_ad AFTER DELETE ON drafts BEGIN
        DELETE FROM answered_vectors WHERE draft_id = old.id;
    END;
    CREATE TRIGGER answered_vectors_draft_au AFTER UPDATE OF state, body ON drafts
        WHEN new.state != 'sent' OR new.body != old.body
    BEGIN
        DELETE FROM answered_vectors WHERE draft_id = new.id;
    END;
    CREATE TRIGGER similar_vectors_mention_au AFTER UPDATE OF text ON mentions
        WHEN new.text IS NOT old.text
    BEGIN
        DELETE FROM answered_vectors WHERE draft_id IN (SELECT id FROM drafts WHERE mention_uid = new.uid);
        DELETE FROM mention_vectors WHERE mention_uid = new.uid;
    END;
    CREATE TRIGGER similar_vectors_mention_ad AFTER DELETE ON mentions BEGIN
        DELETE FROM answered_vectors WHERE draft_id IN (SELECT id FROM drafts WHERE mention_uid = old.uid);
        DELETE FROM mention_vectors WHERE mention_uid = old.uid;
    END;
    """)
