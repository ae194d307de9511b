"""Migrations of agents, their work on mentions (notes, presence, drafts) and sign-in sessions (m002, m021, m024)."""

from __future__ import annotations

from sqlite_utils import Database


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


def m025_sign_in_hardening(db: Database) -> None:
    """SSO subject binding, SSO sessions tied to one provider login, and sign-in throttling (issue #15)."""
    db.executescript("""
    ALTER TABLE agents ADD COLUMN sso_issuer TEXT;
    ALTER TABLE agents ADD COLUMN sso_subject TEXT;
    CREATE UNIQUE INDEX idx_agents_sso ON agents (sso_issuer, sso_subject) WHERE sso_subject IS NOT NULL;
    ALTER TABLE sessions ADD COLUMN sso_login TEXT;
    CREATE INDEX idx_sessions_sso_login ON sessions (sso_login) WHERE sso_login IS NOT NULL;
    CREATE TABLE sign_in_throttle (
        key TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        last_failure_at TEXT NOT NULL
    ) WITHOUT ROWID;
    """)


def m160_account_codes(db: Database) -> None:
    """One-time codes an administrator hands to an agent to choose a password (invitation, reset; issue #17)."""
    db.executescript("""
    CREATE TABLE account_codes (
        code_hash TEXT PRIMARY KEY,
        agent_id INTEGER NOT NULL REFERENCES agents(id),
        purpose TEXT NOT NULL CHECK (purpose IN ('invite', 'reset')),
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT
    );
    CREATE INDEX idx_account_codes_agent ON account_codes (agent_id) WHERE used_at IS NULL;
    """)
