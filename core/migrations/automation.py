"""Migrations of issue #17: automation rules and their runs (m150), the risk-score index of the moderation queue
(m151)."""

from __future__ import annotations

from sqlite_utils import Database


def m150_automation_rules(db: Database) -> None:
    """Automation rules (conditions → actions, JSON), who switched each on and when, the last dry run over 30 days,
    the rotation cursor of team assignment; each rule's run on a mention (once per rule and mention); the priority
    a rule set on a mention (the waiting-time re-prioritisation never lowers it below)."""
    db.executescript("""
    CREATE TABLE automation_rules (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        conditions TEXT NOT NULL DEFAULT '{}',
        actions TEXT NOT NULL DEFAULT '{}',
        enabled INTEGER NOT NULL DEFAULT 0,
        enabled_by INTEGER REFERENCES agents(id),
        enabled_at TEXT,
        dry_run_at TEXT,
        dry_run_matches INTEGER,
        rotation INTEGER NOT NULL DEFAULT 0,
        created_by INTEGER REFERENCES agents(id),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE automation_runs (
        id INTEGER PRIMARY KEY,
        rule_id INTEGER NOT NULL REFERENCES automation_rules(id) ON DELETE CASCADE,
        mention_uid TEXT NOT NULL REFERENCES mentions(uid) ON DELETE CASCADE,
        actions TEXT NOT NULL DEFAULT '[]',
        applied_at TEXT NOT NULL,
        UNIQUE (rule_id, mention_uid)
    );
    CREATE INDEX idx_automation_runs_mention ON automation_runs (mention_uid);
    CREATE TABLE automation_priority (
        mention_uid TEXT PRIMARY KEY REFERENCES mentions(uid) ON DELETE CASCADE,
        floor REAL NOT NULL
    );
    """)


def m151_mentions_risk_index(db: Database) -> None:
    """The moderation queue reads mentions by risk score (``risk_score >= threshold``, issue #17): an index, so that
    its exact counts and filters read the few risky rows, not the whole table."""
    db.executescript("CREATE INDEX IF NOT EXISTS idx_mentions_risk ON mentions (risk_score);")
