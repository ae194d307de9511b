"""One-time account codes (invitation, password reset) and the counts the first-administrator setup needs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlite_utils import Database

from core.clock import from_iso, to_iso


def insert_account_code(db: Database, *, code_hash: str, agent_id: int, purpose: str, now: datetime,
                        expires_at: datetime) -> None:
    """Store a code (only its hash); the agent's earlier unused codes stop working."""
    db.execute("UPDATE account_codes SET used_at = ? WHERE agent_id = ? AND used_at IS NULL", (to_iso(now), agent_id))
    db.execute("INSERT INTO account_codes (code_hash, agent_id, purpose, created_at, expires_at) "
               "VALUES (?, ?, ?, ?, ?)", (code_hash, agent_id, purpose, to_iso(now), to_iso(expires_at)))


def get_account_code(db: Database, code_hash: str) -> dict[str, Any] | None:
    """A code by hash, or None."""
    r = db.execute("SELECT code_hash, agent_id, purpose, created_at, expires_at, used_at FROM account_codes "
                   "WHERE code_hash = ?", (code_hash,)).fetchone()
    if r is None:
        return None
    return {"code_hash": r[0], "agent_id": r[1], "purpose": r[2], "created_at": from_iso(r[3]),
            "expires_at": from_iso(r[4]), "used_at": from_iso(r[5])}


def use_account_code(db: Database, code_hash: str, *, now: datetime) -> None:
    """Mark a code used."""
    db.execute("UPDATE account_codes SET used_at = ? WHERE code_hash = ?", (to_iso(now), code_hash))


def pending_account_codes(db: Database, *, now: datetime) -> dict[int, str]:
    """Agent id → purpose of their code still valid (not used, not expired)."""
    return {int(r[0]): str(r[1]) for r in db.execute(
        "SELECT agent_id, purpose FROM account_codes WHERE used_at IS NULL AND expires_at > ?", (to_iso(now),))}


def count_admins_with_password(db: Database) -> int:
    """Active administrators who can sign in with a password."""
    return int(db.execute("SELECT count(*) FROM agents WHERE active = 1 AND role = 'admin' "
                          "AND password_hash IS NOT NULL").fetchone()[0])


def agents_with_password(db: Database) -> set[int]:
    """Ids of the agents that have a password."""
    return {int(r[0]) for r in db.execute("SELECT id FROM agents WHERE password_hash IS NOT NULL")}
