"""Migrations of moderation: sentiment feedback (m010), the moderation queue and author bans (m080-m081), moderation
acts as outbox rows (m090, decision 0051), the risk model stored with each score (m325, decision 0325)."""

from __future__ import annotations

from sqlite_utils import Database


def m010_sentiment_feedback(db: Database) -> None:
    """Agents' sentiment corrections, kept for retraining (``train sentiment --with-feedback``).

    No copy of the text: training reads it from ``mentions``, so retention / erasure of a mention also removes
    what its correction could teach (ON DELETE CASCADE).
    """
    db.executescript("""
    CREATE TABLE sentiment_feedback (
        id INTEGER PRIMARY KEY,
        mention_uid TEXT NOT NULL REFERENCES mentions(uid) ON DELETE CASCADE,
        label TEXT NOT NULL CHECK (label IN ('negative', 'neutral', 'positive')),
        previous_label TEXT,
        model_version TEXT,
        agent_id INTEGER REFERENCES agents(id),
        created_at TEXT NOT NULL
    );
    CREATE INDEX idx_sentiment_feedback_mention ON sentiment_feedback (mention_uid, id);
    """)


def m080_moderation_queue(db: Database) -> None:
    """Authors marked elected / opposition, decisions with their time to action, pending director confirmations."""
    db.executescript("""
    CREATE TABLE author_marks (
        platform TEXT NOT NULL,
        author_platform_id TEXT NOT NULL,
        mark TEXT NOT NULL CHECK (mark IN ('elected', 'opposition')),
        handle TEXT NOT NULL DEFAULT '',
        marked_by INTEGER REFERENCES agents(id),
        marked_at TEXT NOT NULL,
        PRIMARY KEY (platform, author_platform_id)
    );
    CREATE TABLE moderation_decisions (
        id INTEGER PRIMARY KEY,
        mention_uid TEXT NOT NULL REFERENCES mentions(uid) ON DELETE CASCADE,
        action TEXT NOT NULL,
        ground TEXT,
        detail TEXT NOT NULL DEFAULT '',
        unlawful INTEGER NOT NULL DEFAULT 0,
        flagged_at TEXT NOT NULL,
        decided_at TEXT NOT NULL,
        seconds_to_action INTEGER NOT NULL,
        agent_id INTEGER REFERENCES agents(id)
    );
    CREATE INDEX idx_moderation_decisions_mention ON moderation_decisions (mention_uid, id);
    CREATE TABLE moderation_requests (
        id INTEGER PRIMARY KEY,
        mention_uid TEXT NOT NULL REFERENCES mentions(uid) ON DELETE CASCADE,
        action TEXT NOT NULL,
        ground TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        requested_by INTEGER REFERENCES agents(id),
        requested_at TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'confirmed', 'refused')),
        decided_by INTEGER REFERENCES agents(id),
        decided_at TEXT
    );
    CREATE INDEX idx_moderation_requests_state ON moderation_requests (state, id);
    """)


def m081_author_bans(db: Database) -> None:
    """Authors banned from a page/account through Parvis (one row while the ban lasts), with the ground."""
    db.executescript("""
    CREATE TABLE author_bans (
        platform TEXT NOT NULL,
        author_platform_id TEXT NOT NULL,
        handle TEXT NOT NULL DEFAULT '',
        mention_uid TEXT NOT NULL,
        ground TEXT NOT NULL,
        connector TEXT NOT NULL DEFAULT '',
        banned_by INTEGER REFERENCES agents(id),
        banned_at TEXT NOT NULL,
        PRIMARY KEY (platform, author_platform_id)
    );
    """)


def m090_moderation_acts(db: Database) -> None:
    """Moderation acts (hide, unhide, delete, ban, unban) as outbox rows: the intent is committed before the call.

    ``target`` names what the act changes (``mention:<uid>`` or ``author:<platform>:<id>``): at most one act per
    target is in flight (``sending``) at a time.
    """
    db.executescript("""
    CREATE TABLE moderation_acts (
        id INTEGER PRIMARY KEY,
        action TEXT NOT NULL CHECK (action IN ('hide', 'unhide', 'delete', 'ban', 'unban')),
        mention_uid TEXT NOT NULL REFERENCES mentions(uid) ON DELETE CASCADE,
        platform TEXT NOT NULL,
        target TEXT NOT NULL,
        author_platform_id TEXT NOT NULL DEFAULT '',
        author_handle TEXT NOT NULL DEFAULT '',
        ground TEXT,
        note TEXT NOT NULL DEFAULT '',
        confirmed_by TEXT NOT NULL DEFAULT '',
        request_id INTEGER,
        connector TEXT NOT NULL DEFAULT '',
        agent_id INTEGER REFERENCES agents(id),
        state TEXT NOT NULL DEFAULT 'sending' CHECK (state IN ('sending', 'done', 'failed', 'to_verify')),
        claim_token TEXT NOT NULL,
        claimed_by TEXT NOT NULL,
        claimed_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 1,
        needs_check INTEGER NOT NULL DEFAULT 0,
        not_before TEXT,
        via TEXT NOT NULL DEFAULT '',
        error_code TEXT NOT NULL DEFAULT '',
        error TEXT NOT NULL DEFAULT '',
        finished_at TEXT,
        updated_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX idx_moderation_acts_in_flight ON moderation_acts (target) WHERE state = 'sending';
    CREATE INDEX idx_moderation_acts_mention ON moderation_acts (mention_uid, id);
    CREATE INDEX idx_moderation_acts_open ON moderation_acts (state, id) WHERE state IN ('sending', 'to_verify');
    """)


def m325_risk_model_version(db: Database) -> None:
    """``risk_model_version`` on mentions: the toxicity model behind a score's risk flags (``offline-toxicity-…``,
    the rich tier's ``rich-…/…/offline-toxicity-…``), or ``lexicon-<digest>`` when none was loaded, each with the
    digest of its file's bytes; ``model_version`` keeps naming the sentiment model / tier (decision 0325). NULL for
    scores stored before, and cleared with the other scores by retention."""
    db.execute("ALTER TABLE mentions ADD COLUMN risk_model_version TEXT")
