"""THE schema: every table, index, trigger and migration of Parvis lives here (DDL only).

``open_db`` opens a file in WAL mode with a busy timeout, refuses databases written by a newer Parvis,
reports unreadable or corrupt files clearly, and applies pending migrations. Migrations are append-only:
never edit one that has been released; add ``mNNN_<what>`` below instead.
DML lives in ``core/repo/``, the ``core/*_repo.py`` modules and ``core/audit/chain.py``.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from core import mention_keys
from core.clock import from_iso
from core.errors import DatabaseBusy, SchemaTooNewError, StorageError

MIGRATION_SET = "parvis"
migrations = Migrations(MIGRATION_SET)
BUSY_TIMEOUT_S = 10.0
WAL_AUTOCHECKPOINT_BYTES = 40_000_000
JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024
# 8 KB pages for new databases (SQLite's default is 4 KB): a mention row is ~0.8 KB, and a bulk load of a
# million mentions runs ~12 % faster; small transactions (one audit event each) pay ~25 % for writing bigger
# pages; 16 KB would halve them (docs/decisions/0005-bulk-load.md, BENCHMARKS.md).
PAGE_SIZE = 8_192
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def schema_version() -> int:
    """The number of migrations this version of Parvis knows (stored as ``PRAGMA user_version``)."""
    return len(migrations._migrations)  # noqa: SLF001 - sqlite-utils exposes no public count


def _check_path(path: Path) -> None:
    directory = path.parent
    if not directory.exists():
        raise StorageError(
            f"the data directory {directory} does not exist: create it (mkdir -p {directory}) "
            f"or run `python -m console init --db {path}`, or point PARVIS_DB elsewhere")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise StorageError(
            f"the data directory {directory} is not writable by this user: fix its permissions "
            "or point PARVIS_DB / PARVIS_DATA_DIR at a writable directory")
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise StorageError(f"the database {path} is not readable and writable by this user: fix its permissions")


def open_db(path: str | Path, *, migrate: bool = True) -> Database:
    """Open (and migrate) the Parvis database at ``path``; ``":memory:"`` works for tests.

    :raises StorageError: missing/unwritable directory, corrupt file (nothing is overwritten).
    :raises SchemaTooNewError: the file comes from a newer Parvis.
    """
    memory = str(path) == ":memory:"
    fresh = False
    if not memory:
        path = Path(path).expanduser()
        _check_path(path)
        fresh = not path.exists() or path.stat().st_size == 0
    try:
        # Autocommit mode: no implicit transaction is ever left open on a long-lived connection; every
        # multi-statement change goes through write_transaction (BEGIN IMMEDIATE).
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, check_same_thread=False, isolation_level=None)
        db = Database(conn)
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        db.execute("PRAGMA foreign_keys = ON")
        found = db.execute("PRAGMA user_version").fetchone()[0]
        if found > schema_version():
            conn.close()
            raise SchemaTooNewError(
                f"the database {path} was written by a newer Parvis (schema {found}, this version knows "
                f"{schema_version()}): upgrade Parvis, or point PARVIS_DB at another file; nothing was changed")
        if fresh:  # only a new file takes a page size (an existing one keeps its own)
            db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        if not memory:
            db.enable_wal()
            db.execute("PRAGMA synchronous = NORMAL")
            # Checkpoint every ~40 MB of WAL rather than 4 MB: bulk ingest rewrites the same index pages less
            # often and fsyncs less (BENCHMARKS.md); readers are unaffected.
            page = db.execute("PRAGMA page_size").fetchone()[0]
            db.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_BYTES // page}")
            # A bulk load grows the WAL to the size of what it wrote; cut it back when it is next reset.
            db.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT_BYTES}")
        if migrate and found < schema_version():  # up to date: skip sqlite-utils' per-migration checks
            migrations.apply(db)
            db.execute(f"PRAGMA user_version = {schema_version()}")
    except sqlite3.DatabaseError as err:
        raise StorageError(
            f"the database {path} cannot be used ({err}): it may be corrupt or not a Parvis database. "
            "Nothing was overwritten; restore a backup or point PARVIS_DB at another file") from err
    return db


# --------------------------------------------------------------------------------------------------
# m001-m009: foundation (mentions, agents, inbox work, drafts, connector state, audit log)
# --------------------------------------------------------------------------------------------------

@migrations()
def m001_mentions(db: Database) -> None:
    """Mentions with the team's work on them, their revisions, tags, notes and full-text index."""
    db.executescript("""
    CREATE TABLE mentions (
        uid TEXT PRIMARY KEY,
        platform TEXT NOT NULL,
        platform_id TEXT NOT NULL,
        account TEXT NOT NULL DEFAULT '',
        kind TEXT NOT NULL DEFAULT 'mention',
        conversation_id TEXT,
        in_reply_to TEXT,
        author_id TEXT NOT NULL,
        author_handle TEXT NOT NULL,
        author_name TEXT NOT NULL DEFAULT '',
        author_followers INTEGER,
        text TEXT NOT NULL,
        lang TEXT,
        created_at TEXT NOT NULL,
        permalink TEXT,
        media TEXT NOT NULL DEFAULT '[]',
        raw TEXT NOT NULL DEFAULT '{}',
        ingested_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'new',
        assigned_to INTEGER,
        sentiment TEXT,
        sentiment_confidence REAL,
        sentiment_source TEXT,
        risk_score REAL NOT NULL DEFAULT 0,
        risk_flags TEXT NOT NULL DEFAULT '[]',
        priority REAL NOT NULL DEFAULT 0,
        model_version TEXT,
        hidden INTEGER NOT NULL DEFAULT 0,
        edited_at TEXT,
        deleted_at TEXT,
        first_response_at TEXT
    );
    CREATE INDEX idx_mentions_open_priority ON mentions (priority DESC, created_at DESC)
        WHERE status IN ('new', 'assigned', 'waiting', 'escalated');
    CREATE INDEX idx_mentions_open_created ON mentions (created_at DESC)
        WHERE status IN ('new', 'assigned', 'waiting', 'escalated');
    CREATE INDEX idx_mentions_created ON mentions (created_at DESC);
    CREATE INDEX idx_mentions_platform_status ON mentions (platform, status, created_at DESC);
    CREATE INDEX idx_mentions_assigned ON mentions (assigned_to, status, created_at DESC);
    CREATE INDEX idx_mentions_conversation ON mentions (platform, conversation_id, created_at);
    CREATE INDEX idx_mentions_author ON mentions (platform, author_id, created_at DESC);

    CREATE VIRTUAL TABLE mentions_fts USING fts5 (
        text, author_handle, author_name,
        content='mentions', content_rowid='rowid',
        tokenize='unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER mentions_fts_ai AFTER INSERT ON mentions BEGIN
        INSERT INTO mentions_fts (rowid, text, author_handle, author_name)
        VALUES (new.rowid, new.text, new.author_handle, new.author_name);
    END;
    CREATE TRIGGER mentions_fts_ad AFTER DELETE ON mentions BEGIN
        INSERT INTO mentions_fts (mentions_fts, rowid, text, author_handle, author_name)
        VALUES ('delete', old.rowid, old.text, old.author_handle, old.author_name);
    END;
    CREATE TRIGGER mentions_fts_au AFTER UPDATE OF text, author_handle, author_name ON mentions BEGIN
        INSERT INTO mentions_fts (mentions_fts, rowid, text, author_handle, author_name)
        VALUES ('delete', old.rowid, old.text, old.author_handle, old.author_name);
        INSERT INTO mentions_fts (rowid, text, author_handle, author_name)
        VALUES (new.rowid, new.text, new.author_handle, new.author_name);
    END;

    CREATE TABLE mention_revisions (
        id INTEGER PRIMARY KEY,
        mention_uid TEXT NOT NULL REFERENCES mentions(uid),
        seen_at TEXT NOT NULL,
        change TEXT NOT NULL,
        old_text TEXT,
        new_text TEXT,
        raw TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX idx_revisions_mention ON mention_revisions (mention_uid, id);

    CREATE TABLE mention_tags (
        mention_uid TEXT NOT NULL REFERENCES mentions(uid),
        tag TEXT NOT NULL,
        PRIMARY KEY (mention_uid, tag)
    ) WITHOUT ROWID;
    CREATE INDEX idx_tags_tag ON mention_tags (tag, mention_uid);
    """)


@migrations()
def m002_agents_and_work(db: Database) -> None:
    """Agents, internal notes, presence (collision warning), reply drafts."""
    db.executescript("""
    CREATE TABLE agents (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        name TEXT NOT NULL,
        initials TEXT NOT NULL,
        role TEXT NOT NULL,
        signature_style TEXT NOT NULL DEFAULT 'first_name',
        team_signature TEXT NOT NULL DEFAULT '',
        needs_approval INTEGER NOT NULL DEFAULT 0,
        active INTEGER NOT NULL DEFAULT 1,
        password_hash TEXT,
        failed_logins INTEGER NOT NULL DEFAULT 0,
        locked_until TEXT,
        created_at TEXT NOT NULL
    );
    CREATE TABLE notes (
        id INTEGER PRIMARY KEY,
        mention_uid TEXT NOT NULL REFERENCES mentions(uid),
        agent_id INTEGER NOT NULL REFERENCES agents(id),
        text TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX idx_notes_mention ON notes (mention_uid, id);
    CREATE TABLE presence (
        mention_uid TEXT NOT NULL,
        agent_id INTEGER NOT NULL REFERENCES agents(id),
        seen_at TEXT NOT NULL,
        PRIMARY KEY (mention_uid, agent_id)
    ) WITHOUT ROWID;
    CREATE TABLE drafts (
        id INTEGER PRIMARY KEY,
        mention_uid TEXT REFERENCES mentions(uid),
        author_id INTEGER NOT NULL REFERENCES agents(id),
        body TEXT NOT NULL,
        signed_text TEXT NOT NULL,
        platform TEXT NOT NULL,
        state TEXT NOT NULL,
        approver_id INTEGER REFERENCES agents(id),
        comment TEXT NOT NULL DEFAULT '',
        charter_version INTEGER,
        charter_result TEXT NOT NULL DEFAULT '[]',
        needs_approval INTEGER NOT NULL DEFAULT 0,
        platform_post_id TEXT,
        permalink TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        sent_at TEXT
    );
    CREATE INDEX idx_drafts_mention ON drafts (mention_uid, id);
    CREATE INDEX idx_drafts_state ON drafts (state, updated_at);
    """)


@migrations()
def m003_connectors_and_worker(db: Database) -> None:
    """Per-connector cursor and health; worker heartbeat."""
    db.executescript("""
    CREATE TABLE connector_state (
        name TEXT PRIMARY KEY,
        platform TEXT NOT NULL,
        cursor TEXT,
        status TEXT NOT NULL DEFAULT 'never',
        last_sync_at TEXT,
        last_error TEXT,
        rate_limited_until TEXT,
        fetched_total INTEGER NOT NULL DEFAULT 0,
        last_counts TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE worker_heartbeat (
        name TEXT PRIMARY KEY,
        pid INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        beat_at TEXT NOT NULL,
        info TEXT NOT NULL DEFAULT '{}'
    );
    """)


@migrations()
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


@migrations()
def m005_sync_requests(db: Database) -> None:
    """A "sync now" asked from the console, picked up by the worker."""
    db.executescript("""
    ALTER TABLE connector_state ADD COLUMN sync_requested_at TEXT;
    """)


@migrations()
def m006_bulk_fts_insert(db: Database) -> None:
    """New mentions enter the full-text index in one statement per batch (core.repo.upsert_mentions), not per row."""
    db.executescript("DROP TRIGGER mentions_fts_ai;")


@migrations()
def m007_time_ordered_mention_keys(db: Database) -> None:
    """Renumber mentions so that rowid follows created_at (core/mention_keys.py), then rebuild the full-text
    index, which shares those rowids."""
    rows = db.execute("SELECT rowid, created_at FROM mentions ORDER BY rowid").fetchall()
    if not rows:
        return
    shift = 1 << 62  # above every time key: old and new rowids never meet while renumbering
    db.execute("UPDATE mentions SET rowid = rowid + ?", (shift,))
    top: dict[int, int] = {}
    moves = []
    for rowid, created_at in rows:  # in arrival order, so that ties keep it
        block = mention_keys.block_start(from_iso(created_at) or _EPOCH)
        key = top[block] + 1 if block in top else block
        top[block] = key
        moves.append((key, rowid + shift))
    db.conn.executemany("UPDATE mentions SET rowid = ? WHERE rowid = ?", moves)
    db.execute("INSERT INTO mentions_fts (mentions_fts) VALUES ('rebuild')")


@migrations()
def m008_drop_redundant_open_index(db: Database) -> None:
    """Open items newest first are served by idx_mentions_open_backlog (created_at first, same partial WHERE);
    one index fewer to maintain on every insert."""
    db.executescript("DROP INDEX IF EXISTS idx_mentions_open_created;")


# --------------------------------------------------------------------------------------------------
# m010-m019: moderation (issue #4) — add migrations here
# --------------------------------------------------------------------------------------------------

@migrations()
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


# --------------------------------------------------------------------------------------------------
# m020-m029: editorial, sign-in, approvals (issue #5) — add migrations here
# --------------------------------------------------------------------------------------------------

@migrations()
def m020_charters(db: Database) -> None:
    """Versioned editorial charters: append-only, the highest version is the one in force."""
    db.executescript("""
    CREATE TABLE charters (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        data TEXT NOT NULL,
        yaml TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        comment TEXT NOT NULL DEFAULT '',
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TRIGGER charters_no_update BEFORE UPDATE ON charters
    BEGIN SELECT RAISE(ABORT, 'charter versions are append-only'); END;
    CREATE TRIGGER charters_no_delete BEFORE DELETE ON charters
    BEGIN SELECT RAISE(ABORT, 'charter versions are append-only'); END;
    """)


@migrations()
def m021_sessions(db: Database) -> None:
    """Sign-in sessions: only the SHA-256 of the token is stored; idle and absolute expiry."""
    db.executescript("""
    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        agent_id INTEGER NOT NULL REFERENCES agents(id),
        method TEXT NOT NULL,
        created_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE INDEX idx_sessions_agent ON sessions (agent_id, expires_at);
    """)


@migrations()
def m022_saved_replies(db: Database) -> None:
    """Saved replies (modèles de réponse) with {prenom} {service} {lien} variables."""
    db.executescript("""
    CREATE TABLE saved_replies (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        created_by INTEGER NOT NULL REFERENCES agents(id),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX idx_saved_replies_title ON saved_replies (title COLLATE NOCASE) WHERE active = 1;
    """)


@migrations()
def m023_draft_review(db: Database) -> None:
    """Approval details on drafts: desired time, why approval is needed, what was approved, attachments."""
    db.executescript("""
    ALTER TABLE drafts ADD COLUMN scheduled_at TEXT;
    ALTER TABLE drafts ADD COLUMN submitted_at TEXT;
    ALTER TABLE drafts ADD COLUMN approved_at TEXT;
    ALTER TABLE drafts ADD COLUMN approved_text TEXT;
    ALTER TABLE drafts ADD COLUMN approval_reasons TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE drafts ADD COLUMN media TEXT NOT NULL DEFAULT '[]';
    CREATE INDEX idx_drafts_scheduled ON drafts (state, scheduled_at);
    """)


# --------------------------------------------------------------------------------------------------
# m030-m039: audit trail and legal archive (issue #7) — add migrations here
# --------------------------------------------------------------------------------------------------

@migrations()
def m030_legal_archive(db: Database) -> None:
    """Legal archive of published messages and their later platform changes (append-only, searchable)."""
    db.executescript("""
    CREATE TABLE archive_messages (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        source TEXT NOT NULL DEFAULT '',
        platform TEXT NOT NULL,
        account TEXT NOT NULL DEFAULT '',
        platform_id TEXT NOT NULL,
        permalink TEXT,
        text TEXT NOT NULL,
        body TEXT NOT NULL DEFAULT '',
        signature TEXT NOT NULL DEFAULT '',
        author TEXT NOT NULL,
        author_name TEXT NOT NULL DEFAULT '',
        approver TEXT,
        approver_name TEXT,
        charter_version INTEGER,
        charter_result TEXT NOT NULL DEFAULT '[]',
        in_reply_to TEXT,
        in_reply_to_snapshot TEXT NOT NULL DEFAULT '{}',
        published_at TEXT NOT NULL,
        archived_at TEXT NOT NULL,
        payload TEXT NOT NULL DEFAULT '{}',
        payload_sha256 TEXT NOT NULL,
        record_sha256 TEXT NOT NULL,
        UNIQUE (platform, platform_id)
    );
    CREATE INDEX idx_archive_published ON archive_messages (published_at);
    CREATE INDEX idx_archive_author ON archive_messages (author, published_at);
    CREATE INDEX idx_archive_approver ON archive_messages (approver, published_at);
    CREATE INDEX idx_archive_account ON archive_messages (platform, account, published_at);
    CREATE INDEX idx_archive_reply_to ON archive_messages (in_reply_to);

    CREATE TABLE archive_changes (
        id INTEGER PRIMARY KEY,
        message_id INTEGER NOT NULL REFERENCES archive_messages(id),
        seen_at TEXT NOT NULL,
        change TEXT NOT NULL CHECK (change IN ('edited', 'deleted', 'hidden', 'unhidden')),
        text TEXT,
        actor TEXT NOT NULL,
        payload TEXT NOT NULL DEFAULT '{}',
        payload_sha256 TEXT NOT NULL,
        record_sha256 TEXT NOT NULL
    );
    CREATE INDEX idx_archive_changes ON archive_changes (message_id, id);

    CREATE TRIGGER archive_messages_no_update BEFORE UPDATE ON archive_messages
    BEGIN SELECT RAISE(ABORT, 'archive_messages is append-only'); END;
    CREATE TRIGGER archive_messages_no_delete BEFORE DELETE ON archive_messages
    BEGIN SELECT RAISE(ABORT, 'archive_messages is append-only'); END;
    CREATE TRIGGER archive_changes_no_update BEFORE UPDATE ON archive_changes
    BEGIN SELECT RAISE(ABORT, 'archive_changes is append-only'); END;
    CREATE TRIGGER archive_changes_no_delete BEFORE DELETE ON archive_changes
    BEGIN SELECT RAISE(ABORT, 'archive_changes is append-only'); END;

    CREATE VIRTUAL TABLE archive_fts USING fts5 (
        message_id UNINDEXED, text, tokenize='unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER archive_fts_message AFTER INSERT ON archive_messages BEGIN
        INSERT INTO archive_fts (message_id, text) VALUES (new.id,
            new.text || ' ' || COALESCE(json_extract(new.in_reply_to_snapshot, '$.text'), '') || ' ' ||
            COALESCE(json_extract(new.in_reply_to_snapshot, '$.author_handle'), ''));
    END;
    CREATE TRIGGER archive_fts_change AFTER INSERT ON archive_changes WHEN new.text IS NOT NULL BEGIN
        INSERT INTO archive_fts (message_id, text) VALUES (new.message_id, new.text);
    END;
    """)


@migrations()
def m031_legal_holds_retention_rgpd(db: Database) -> None:
    """Legal holds, the retention job's log, and residents' RGPD requests with their outcome."""
    db.executescript("""
    CREATE TABLE legal_holds (
        id INTEGER PRIMARY KEY,
        scope TEXT NOT NULL CHECK (scope IN ('conversation', 'author')),
        platform TEXT NOT NULL,
        key TEXT NOT NULL,
        reason TEXT NOT NULL,
        set_by TEXT NOT NULL,
        set_at TEXT NOT NULL,
        lifted_by TEXT,
        lifted_at TEXT,
        lift_reason TEXT
    );
    CREATE INDEX idx_holds_active ON legal_holds (platform, scope, key) WHERE lifted_at IS NULL;

    CREATE TABLE retention_runs (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        policy TEXT NOT NULL,
        counts TEXT NOT NULL,
        held TEXT NOT NULL
    );

    CREATE TABLE rgpd_requests (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('access', 'erasure')),
        query TEXT NOT NULL,
        authors TEXT NOT NULL DEFAULT '[]',
        requested_by TEXT NOT NULL,
        requested_at TEXT NOT NULL,
        outcome TEXT NOT NULL DEFAULT '',
        details TEXT NOT NULL DEFAULT '{}',
        completed_at TEXT
    );
    CREATE INDEX idx_notes_created ON notes (created_at);
    """)

# --------------------------------------------------------------------------------------------------
# m040-m049: connectors and worker (issue #3) — add migrations here
# --------------------------------------------------------------------------------------------------

# --------------------------------------------------------------------------------------------------
# m050-m059: publishing calendar (issue #6); m052_reply_outbox is registered at the end of the file
# --------------------------------------------------------------------------------------------------

@migrations()
def m050_posts_outbox(db: Database) -> None:
    """Posts, their per-account outbox rows, the publish attempts log and recurring posts."""
    db.executescript("""
    CREATE TABLE recurrences (
        id INTEGER PRIMARY KEY,
        author_id INTEGER NOT NULL REFERENCES agents(id),
        text TEXT NOT NULL,
        variants TEXT NOT NULL DEFAULT '{}',
        media TEXT NOT NULL DEFAULT '[]',
        accounts TEXT NOT NULL,
        native_schedule INTEGER NOT NULL DEFAULT 0,
        freq TEXT NOT NULL CHECK (freq IN ('daily', 'weekly')),
        every_n INTEGER NOT NULL DEFAULT 1 CHECK (every_n >= 1),
        weekdays TEXT NOT NULL DEFAULT '[]',
        local_time TEXT NOT NULL,
        start_date TEXT NOT NULL,
        until_date TEXT,
        exceptions TEXT NOT NULL DEFAULT '[]',
        state TEXT NOT NULL,
        revision INTEGER NOT NULL DEFAULT 1,
        content_hash TEXT NOT NULL,
        approved_hash TEXT,
        approver_id INTEGER REFERENCES agents(id),
        submitted_at TEXT,
        approved_at TEXT,
        comment TEXT NOT NULL DEFAULT '',
        materialized_until TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX idx_recurrences_state ON recurrences (state);

    CREATE TABLE posts (
        id INTEGER PRIMARY KEY,
        author_id INTEGER NOT NULL REFERENCES agents(id),
        text TEXT NOT NULL,
        variants TEXT NOT NULL DEFAULT '{}',
        media TEXT NOT NULL DEFAULT '[]',
        scheduled_at TEXT NOT NULL,
        state TEXT NOT NULL,
        native_schedule INTEGER NOT NULL DEFAULT 0,
        content_hash TEXT NOT NULL,
        approved_hash TEXT,
        approver_id INTEGER REFERENCES agents(id),
        submitted_at TEXT,
        approved_at TEXT,
        comment TEXT NOT NULL DEFAULT '',
        hold_reason TEXT NOT NULL DEFAULT '',
        recurrence_id INTEGER REFERENCES recurrences(id),
        recurrence_revision INTEGER,
        occurrence_date TEXT,
        charter_version INTEGER,
        charter_result TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX idx_posts_scheduled ON posts (scheduled_at);
    CREATE INDEX idx_posts_state ON posts (state, scheduled_at);
    CREATE UNIQUE INDEX idx_posts_occurrence ON posts (recurrence_id, recurrence_revision, occurrence_date)
        WHERE recurrence_id IS NOT NULL;

    CREATE TABLE post_targets (
        id INTEGER PRIMARY KEY,
        post_id INTEGER NOT NULL REFERENCES posts(id),
        account TEXT NOT NULL,
        platform TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        due_at TEXT,
        not_before TEXT,
        deadline_at TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        needs_check INTEGER NOT NULL DEFAULT 0,
        claim_token TEXT,
        claimed_by TEXT,
        claimed_at TEXT,
        sent_text TEXT,
        platform_id TEXT,
        permalink TEXT,
        published_at TEXT,
        error_code TEXT NOT NULL DEFAULT '',
        error TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL,
        UNIQUE (post_id, account)
    );
    CREATE INDEX idx_targets_due ON post_targets (state, not_before);
    CREATE UNIQUE INDEX idx_targets_platform_id ON post_targets (platform, account, platform_id)
        WHERE platform_id IS NOT NULL;

    CREATE TABLE publish_attempts (
        id INTEGER PRIMARY KEY,
        target_id INTEGER NOT NULL REFERENCES post_targets(id),
        post_id INTEGER NOT NULL REFERENCES posts(id),
        attempt INTEGER NOT NULL,
        kind TEXT NOT NULL,
        worker TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        outcome TEXT NOT NULL DEFAULT 'started',
        error_code TEXT NOT NULL DEFAULT '',
        error TEXT NOT NULL DEFAULT '',
        platform_id TEXT
    );
    CREATE INDEX idx_attempts_target ON publish_attempts (target_id, id);
    """)


@migrations()
def m051_worker_leases(db: Database) -> None:
    """A lease row per singleton job, so that two workers on one database never both publish."""
    db.executescript("""
    CREATE TABLE worker_leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        token INTEGER NOT NULL,
        acquired_at TEXT NOT NULL,
        renewed_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    """)


# --------------------------------------------------------------------------------------------------
# m060-m069: dashboard (issue #9)
# --------------------------------------------------------------------------------------------------

# The risk-flag kinds of a mention ``m`` (objects {"kind": ...} or plain strings), shared by every roll-up query.
RISK_FLAGS_EACH = "json_each(CASE WHEN json_valid(m.risk_flags) THEN m.risk_flags ELSE '[]' END) AS j"
RISK_KIND = "CASE j.type WHEN 'object' THEN json_extract(j.value, '$.kind') WHEN 'text' THEN j.value END"

# Kinds of a mention's risk flags (objects {"kind": ...} or plain strings), each counted once per mention.
_DASH_KINDS = """SELECT DISTINCT CASE j.type WHEN 'object' THEN json_extract(j.value, '$.kind')
    WHEN 'text' THEN j.value END AS kind
    FROM json_each(CASE WHEN json_valid({m}.risk_flags) THEN {m}.risk_flags ELSE '[]' END) AS j"""
_DASH_ADD = """
    INSERT INTO dash_hourly (hour, platform, account, sentiment, n, answered, flagged)
    VALUES (substr(new.created_at, 1, 13), new.platform, new.account, COALESCE(new.sentiment, ''), 1,
            new.first_response_at IS NOT NULL, new.risk_flags NOT IN ('[]', ''))
    ON CONFLICT (hour, platform, account, sentiment) DO UPDATE SET n = n + 1,
        answered = answered + excluded.answered, flagged = flagged + excluded.flagged;
    INSERT INTO dash_risk_hourly (hour, platform, account, kind, n)
    SELECT substr(new.created_at, 1, 13), new.platform, new.account, k.kind, 1
    FROM (""" + _DASH_KINDS.format(m="new") + """) AS k WHERE k.kind IS NOT NULL
    ON CONFLICT (hour, platform, account, kind) DO UPDATE SET n = n + 1;"""
_DASH_REMOVE = """
    UPDATE dash_hourly SET n = n - 1, answered = answered - (old.first_response_at IS NOT NULL),
        flagged = flagged - (old.risk_flags NOT IN ('[]', ''))
    WHERE hour = substr(old.created_at, 1, 13) AND platform = old.platform AND account = old.account
        AND sentiment = COALESCE(old.sentiment, '');
    UPDATE dash_risk_hourly SET n = n - 1
    WHERE hour = substr(old.created_at, 1, 13) AND platform = old.platform AND account = old.account
        AND kind IN (SELECT kind FROM (""" + _DASH_KINDS.format(m="old") + """));"""

# A reply sent from Parvis is a response: remember its author (per-agent response times) and make sure the
# mention's first_response_at is set (never moved: the first response wins).
_DASH_SENT = """
    INSERT INTO first_responses (mention_uid, agent_id, draft_id, sent_at)
    VALUES (new.mention_uid, new.author_id, new.id, COALESCE(new.sent_at, new.updated_at))
    ON CONFLICT (mention_uid) DO UPDATE SET agent_id = excluded.agent_id, draft_id = excluded.draft_id,
        sent_at = excluded.sent_at WHERE excluded.sent_at < first_responses.sent_at;
    UPDATE mentions SET first_response_at = COALESCE(new.sent_at, new.updated_at)
    WHERE uid = new.mention_uid AND first_response_at IS NULL;"""


@migrations()
def m060_dashboard_rollups(db: Database) -> None:
    """Hourly roll-ups for the dashboard (kept exact by triggers), first responders, response-time index."""
    db.executescript("""
    CREATE TABLE dash_hourly (
        hour TEXT NOT NULL,
        platform TEXT NOT NULL,
        account TEXT NOT NULL,
        sentiment TEXT NOT NULL,
        n INTEGER NOT NULL DEFAULT 0,
        answered INTEGER NOT NULL DEFAULT 0,
        flagged INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (hour, platform, account, sentiment)
    ) WITHOUT ROWID;
    CREATE TABLE dash_risk_hourly (
        hour TEXT NOT NULL,
        platform TEXT NOT NULL,
        account TEXT NOT NULL,
        kind TEXT NOT NULL,
        n INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (hour, platform, account, kind)
    ) WITHOUT ROWID;
    CREATE TABLE first_responses (
        mention_uid TEXT PRIMARY KEY,
        agent_id INTEGER,
        draft_id INTEGER,
        sent_at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX idx_mentions_responded ON mentions (created_at, platform, account, first_response_at, assigned_to, uid)
        WHERE first_response_at IS NOT NULL;
    CREATE INDEX idx_mentions_open_backlog ON mentions (created_at, status, platform, account)
        WHERE status IN ('new', 'assigned', 'waiting', 'escalated');
    """)
    db.executescript(f"""
    CREATE TRIGGER dash_mentions_ai AFTER INSERT ON mentions BEGIN {_DASH_ADD} END;
    CREATE TRIGGER dash_mentions_ad AFTER DELETE ON mentions BEGIN {_DASH_REMOVE} END;
    CREATE TRIGGER dash_mentions_au AFTER UPDATE OF created_at, platform, account, sentiment, first_response_at,
        risk_flags ON mentions
    WHEN old.created_at IS NOT new.created_at OR old.platform IS NOT new.platform OR old.account IS NOT new.account
        OR old.sentiment IS NOT new.sentiment OR old.risk_flags IS NOT new.risk_flags
        OR (old.first_response_at IS NULL) IS NOT (new.first_response_at IS NULL)
    BEGIN {_DASH_REMOVE} {_DASH_ADD} END;
    CREATE TRIGGER dash_drafts_sent_ai AFTER INSERT ON drafts
    WHEN new.state = 'sent' AND new.mention_uid IS NOT NULL BEGIN {_DASH_SENT} END;
    CREATE TRIGGER dash_drafts_sent_au AFTER UPDATE OF state ON drafts
    WHEN new.state = 'sent' AND old.state IS NOT 'sent' AND new.mention_uid IS NOT NULL BEGIN {_DASH_SENT} END;
    """)
    rebuild_dashboard_rollups(db)


def rebuild_dashboard_rollups(db: Database) -> None:
    """Recompute the dashboard roll-ups and first responders from the mentions and drafts (idempotent).

    One statement at a time (never ``executescript``, which commits first): a bulk load calls this inside
    its transaction.
    """
    for sql in (
        "DELETE FROM dash_hourly",
        "DELETE FROM dash_risk_hourly",
        "DELETE FROM first_responses",
        """INSERT INTO dash_hourly (hour, platform, account, sentiment, n, answered, flagged)
        SELECT substr(created_at, 1, 13), platform, account, COALESCE(sentiment, ''), count(*),
               sum(first_response_at IS NOT NULL), sum(risk_flags NOT IN ('[]', ''))
        FROM mentions GROUP BY 1, 2, 3, 4""",
        """INSERT INTO dash_risk_hourly (hour, platform, account, kind, n)
        SELECT hour, platform, account, kind, count(DISTINCT rid) FROM (
            SELECT substr(m.created_at, 1, 13) AS hour, m.platform, m.account, m.rowid AS rid,
                   """ + RISK_KIND + """ AS kind
            FROM mentions AS m, """ + RISK_FLAGS_EACH + """
            WHERE m.risk_flags NOT IN ('[]', '')
        ) WHERE kind IS NOT NULL GROUP BY 1, 2, 3, 4""",
        """INSERT INTO first_responses (mention_uid, agent_id, draft_id, sent_at)
        SELECT mention_uid, author_id, id, min(COALESCE(sent_at, updated_at)) FROM drafts
        WHERE state = 'sent' AND mention_uid IS NOT NULL GROUP BY mention_uid""",
    ):
        db.execute(sql)


# First responses as a compact fact table ordered by creation time, epoch seconds already computed: the
# response-time charts read one range of it instead of joining mentions and first_responses row by row.
_DASH_RESPONSE_ADD = """
    INSERT OR REPLACE INTO dash_responses (created_s, mention_uid, platform, account, responded_s, agent_id)
    SELECT unixepoch(new.created_at), new.uid, new.platform, new.account, unixepoch(new.first_response_at),
           COALESCE((SELECT agent_id FROM first_responses WHERE mention_uid = new.uid), new.assigned_to)
    WHERE new.first_response_at IS NOT NULL;"""


@migrations()
def m061_dashboard_responses(db: Database) -> None:
    """Response facts (creation, first response, responder) kept exact by triggers, for response-time charts."""
    db.executescript(f"""
    CREATE TABLE dash_responses (
        created_s INTEGER NOT NULL,
        mention_uid TEXT NOT NULL,
        platform TEXT NOT NULL,
        account TEXT NOT NULL,
        responded_s INTEGER NOT NULL,
        agent_id INTEGER,
        PRIMARY KEY (created_s, mention_uid)
    ) WITHOUT ROWID;
    CREATE UNIQUE INDEX idx_dash_responses_uid ON dash_responses (mention_uid);
    CREATE TRIGGER dash_responses_ai AFTER INSERT ON mentions WHEN new.first_response_at IS NOT NULL
    BEGIN {_DASH_RESPONSE_ADD} END;
    CREATE TRIGGER dash_responses_au AFTER UPDATE OF created_at, platform, account, first_response_at, assigned_to
        ON mentions
    BEGIN
        DELETE FROM dash_responses WHERE mention_uid = old.uid;
        {_DASH_RESPONSE_ADD}
    END;
    CREATE TRIGGER dash_responses_ad AFTER DELETE ON mentions BEGIN
        DELETE FROM dash_responses WHERE mention_uid = old.uid;
        DELETE FROM first_responses WHERE mention_uid = old.uid;
    END;
    CREATE TRIGGER dash_responders_ai AFTER INSERT ON first_responses
    BEGIN UPDATE dash_responses SET agent_id = new.agent_id WHERE mention_uid = new.mention_uid; END;
    CREATE TRIGGER dash_responders_au AFTER UPDATE ON first_responses
    BEGIN UPDATE dash_responses SET agent_id = new.agent_id WHERE mention_uid = new.mention_uid; END;
    """)
    rebuild_dashboard_responses(db)


def rebuild_dashboard_responses(db: Database) -> None:
    """Recompute the response facts from the mentions and first responders (idempotent)."""
    db.execute("DELETE FROM dash_responses")
    db.execute("""
    INSERT INTO dash_responses (created_s, mention_uid, platform, account, responded_s, agent_id)
    SELECT unixepoch(m.created_at), m.uid, m.platform, m.account, unixepoch(m.first_response_at),
           COALESCE(fr.agent_id, m.assigned_to)
    FROM mentions m LEFT JOIN first_responses fr ON fr.mention_uid = m.uid WHERE m.first_response_at IS NOT NULL
    """)


@migrations()
def m062_batch_dashboard_insert(db: Database) -> None:
    """New mentions enter the hourly roll-ups in one statement per batch (core.repo.upsert_mentions), not per row."""
    db.executescript("DROP TRIGGER dash_mentions_ai; DROP TRIGGER dash_responses_ai;")


# --------------------------------------------------------------------------------------------------
# m080-m089: moderation queue (issue #4: actions, author marks, director confirmations)
# --------------------------------------------------------------------------------------------------

@migrations()
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


@migrations()
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


# --------------------------------------------------------------------------------------------------
# m070-m079: more channels (issue #8)
# --------------------------------------------------------------------------------------------------

@migrations()
def m070_x_usage(db: Database) -> None:
    """Billable X API usage per month, account and kind (units and estimated cost at the prices of the time)."""
    db.executescript("""
    CREATE TABLE x_usage (
        month TEXT NOT NULL,
        account TEXT NOT NULL,
        kind TEXT NOT NULL,
        units INTEGER NOT NULL DEFAULT 0,
        calls INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (month, account, kind)
    );
    """)


# --------------------------------------------------------------------------------------------------
# m052: publishing calendar, continued (issue #6 follow-up). Registered here, after m070, because
# migrations run in registration order and databases already carry m060-m080.
# --------------------------------------------------------------------------------------------------

@migrations()
def m052_reply_outbox(db: Database) -> None:
    """Claim columns on drafts, so that a reply goes out once: the same claim/record/reconcile as posts."""
    db.executescript("""
    ALTER TABLE drafts ADD COLUMN claim_token TEXT;
    ALTER TABLE drafts ADD COLUMN claimed_by TEXT;
    ALTER TABLE drafts ADD COLUMN claimed_at TEXT;
    ALTER TABLE drafts ADD COLUMN send_attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE drafts ADD COLUMN not_before TEXT;
    ALTER TABLE drafts ADD COLUMN needs_check INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE drafts ADD COLUMN sent_text TEXT;
    ALTER TABLE drafts ADD COLUMN send_error_code TEXT NOT NULL DEFAULT '';
    ALTER TABLE drafts ADD COLUMN send_error TEXT NOT NULL DEFAULT '';
    CREATE INDEX idx_drafts_claimed ON drafts (claimed_at) WHERE state = 'publishing';
    CREATE INDEX idx_drafts_platform_post ON drafts (platform, platform_post_id) WHERE platform_post_id IS NOT NULL;
    """)


def optimize(db: Database) -> None:
    """Refresh the query planner's statistics (run after bulk loads and periodically by the worker)."""
    db.execute("ANALYZE")
    db.execute("PRAGMA optimize")


# --------------------------------------------------------------------------------------------------
# Transactions
# --------------------------------------------------------------------------------------------------

@contextlib.contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """A write transaction taken with ``BEGIN IMMEDIATE`` (nested calls use savepoints).

    Immediate, because the UI and the worker write to the same file: a deferred transaction that read
    the audit chain head and then tries to write would fail with SQLITE_BUSY instead of waiting.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    try:
        db.conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as err:
        if "locked" not in str(err) and "busy" not in str(err):
            raise
        raise DatabaseBusy(
            f"another writer held the database for more than {BUSY_TIMEOUT_S:.0f} s (a bulk import?): "
            "nothing was changed, try again") from err
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    else:
        db.conn.execute("COMMIT")


# --------------------------------------------------------------------------------------------------
# m090-m099: one outbox for every effect on the outside world (decision 0051). Registered last.
# --------------------------------------------------------------------------------------------------

@migrations()
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
