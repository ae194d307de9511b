"""Migration of billable X API usage (m070)."""

from __future__ import annotations

from sqlite_utils import Database


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
