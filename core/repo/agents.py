"""Agents, their credentials and sign-in sessions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from core.clock import from_iso, to_iso
from core.errors import NotFoundError, ValidationError
from core.models import Agent, Role, SignatureStyle

_AGENT_COLS = "id, email, name, initials, role, signature_style, team_signature, needs_approval, active"


def _agent(r: Sequence[Any]) -> Agent:
    return Agent(id=r[0], email=r[1], name=r[2], initials=r[3], role=Role(r[4]),
                 signature_style=SignatureStyle(r[5]), team_signature=r[6], needs_approval=bool(r[7]),
                 active=bool(r[8]))


def create_agent(db: Database, *, email: str, name: str, initials: str, role: Role,
                 signature_style: SignatureStyle = SignatureStyle.FIRST_NAME, team_signature: str = "",
                 needs_approval: bool = False, password_hash: str | None = None, now: datetime) -> Agent:
    """Create an agent; ValidationError if the e-mail is taken."""
    if db.execute("SELECT 1 FROM agents WHERE email = ?", (email,)).fetchone():
        raise ValidationError(f"an agent with e-mail {email} already exists")
    cur = db.execute(
        "INSERT INTO agents (email, name, initials, role, signature_style, team_signature, needs_approval, "
        "password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (email, name, initials, str(role), str(signature_style), team_signature, int(needs_approval),
         password_hash, to_iso(now)))
    return get_agent(db, int(cur.lastrowid or 0))


def get_agent(db: Database, agent_id: int) -> Agent:
    """One agent by id, or NotFoundError."""
    row = db.execute(f"SELECT {_AGENT_COLS} FROM agents WHERE id = ?", (agent_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no agent {agent_id}")
    return _agent(row)


def agent_by_email(db: Database, email: str) -> Agent | None:
    """One agent by e-mail (case-insensitive), or None."""
    row = db.execute(f"SELECT {_AGENT_COLS} FROM agents WHERE email = ?", (email,)).fetchone()
    return _agent(row) if row else None


def list_agents(db: Database, *, active_only: bool = True) -> list[Agent]:
    """Agents by name."""
    where = "WHERE active = 1" if active_only else ""
    return [_agent(r) for r in db.execute(f"SELECT {_AGENT_COLS} FROM agents {where} ORDER BY name")]


def update_agent(db: Database, agent_id: int, **changes: Any) -> Agent:
    """Change an agent's profile fields (name, initials, role, signature_style, team_signature, ...)."""
    allowed = {"name", "initials", "role", "signature_style", "team_signature", "needs_approval", "active"}
    bad = set(changes) - allowed
    if bad:
        raise ValidationError(f"cannot change {sorted(bad)}")
    for key, value in changes.items():
        stored = int(value) if isinstance(value, bool) else str(value)
        db.execute(f"UPDATE agents SET {key} = ? WHERE id = ?", (stored, agent_id))  # key is whitelisted
    return get_agent(db, agent_id)


def count_agents_with_password(db: Database) -> int:
    """Active agents who can sign in with a password."""
    return int(db.execute("SELECT count(*) FROM agents WHERE active = 1 AND password_hash IS NOT NULL").fetchone()[0])


def agent_credentials(db: Database, email: str) -> dict[str, Any] | None:
    """Password hash and lockout counters for sign-in, or None."""
    row = db.execute("SELECT id, password_hash, failed_logins, locked_until, active FROM agents WHERE email = ?",
                     (email,)).fetchone()
    if row is None:
        return None
    return {"id": row[0], "password_hash": row[1], "failed_logins": row[2], "locked_until": from_iso(row[3]),
            "active": bool(row[4])}


def set_agent_credentials(db: Database, agent_id: int, *, password_hash: str | None = None,
                          failed_logins: int | None = None, locked_until: datetime | None | str = "keep") -> None:
    """Update password hash / failed-login counter / lockout time."""
    if password_hash is not None:
        db.execute("UPDATE agents SET password_hash = ? WHERE id = ?", (password_hash, agent_id))
    if failed_logins is not None:
        db.execute("UPDATE agents SET failed_logins = ? WHERE id = ?", (failed_logins, agent_id))
    if locked_until != "keep":
        value = to_iso(locked_until) if isinstance(locked_until, datetime) else None
        db.execute("UPDATE agents SET locked_until = ? WHERE id = ?", (value, agent_id))


def create_session(db: Database, *, token_hash: str, agent_id: int, method: str, now: datetime,
                   expires_at: datetime, sso_login: str | None = None) -> None:
    """Store a new sign-in session (the token itself is never stored); ``sso_login`` ties SSO sessions opened from
    one identity-provider login together."""
    db.execute("INSERT INTO sessions (token_hash, agent_id, method, created_at, last_seen_at, expires_at, sso_login) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)", (token_hash, agent_id, method, to_iso(now), to_iso(now),
                                                to_iso(expires_at), sso_login))


def get_session(db: Database, token_hash: str) -> dict[str, Any] | None:
    """A session by token hash, or None."""
    r = db.execute(f"SELECT {_SESSION_COLS} FROM sessions WHERE token_hash = ?", (token_hash,)).fetchone()
    return _session(r) if r else None


_SESSION_COLS = "token_hash, agent_id, method, created_at, last_seen_at, expires_at, revoked_at, sso_login"


def _session(r: Sequence[Any]) -> dict[str, Any]:
    return {"token_hash": r[0], "agent_id": r[1], "method": r[2], "created_at": from_iso(r[3]),
            "last_seen_at": from_iso(r[4]), "expires_at": from_iso(r[5]), "revoked_at": from_iso(r[6]),
            "sso_login": r[7]}


def sessions_of_sso_login(db: Database, sso_login: str) -> list[dict[str, Any]]:
    """The sessions opened from one identity-provider login (oldest first)."""
    return [_session(r) for r in db.execute(f"SELECT {_SESSION_COLS} FROM sessions WHERE sso_login = ? "
                                            "ORDER BY created_at", (sso_login,))]


def touch_session(db: Database, token_hash: str, *, now: datetime) -> None:
    """Record activity on a session (idle timeout restarts)."""
    db.execute("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?", (to_iso(now), token_hash))


def revoke_sessions(db: Database, *, now: datetime, token_hash: str | None = None,
                    agent_id: int | None = None, sso_login: str | None = None) -> int:
    """Revoke one session, every open session of an agent, or of one SSO login; return how many."""
    if sso_login is not None:
        cur = db.execute("UPDATE sessions SET revoked_at = ? WHERE sso_login = ? AND revoked_at IS NULL",
                         (to_iso(now), sso_login))
    elif token_hash is not None:
        cur = db.execute("UPDATE sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL",
                         (to_iso(now), token_hash))
    else:
        cur = db.execute("UPDATE sessions SET revoked_at = ? WHERE agent_id = ? AND revoked_at IS NULL",
                         (to_iso(now), agent_id))
    return cur.rowcount


def agent_emails(db: Database) -> list[str]:
    """Every agent's e-mail, deactivated ones included."""
    return [r[0] for r in db.execute("SELECT email FROM agents ORDER BY id")]


def agent_by_sso_subject(db: Database, issuer: str, subject: str) -> Agent | None:
    """The agent bound to this identity-provider subject, or None."""
    row = db.execute(f"SELECT {_AGENT_COLS} FROM agents WHERE sso_issuer = ? AND sso_subject = ?",
                     (issuer, subject)).fetchone()
    return _agent(row) if row else None


def sso_binding(db: Database, agent_id: int) -> tuple[str, str] | None:
    """``(issuer, subject)`` the agent is bound to, or None."""
    row = db.execute("SELECT sso_issuer, sso_subject FROM agents WHERE id = ?", (agent_id,)).fetchone()
    return (row[0], row[1]) if row and row[1] is not None else None


def set_sso_binding(db: Database, agent_id: int, issuer: str | None, subject: str | None) -> None:
    """Bind an agent to an identity-provider subject (None, None: unbind)."""
    db.execute("UPDATE agents SET sso_issuer = ?, sso_subject = ? WHERE id = ?", (issuer, subject, agent_id))


def throttle_state(db: Database, key: str) -> tuple[int, datetime] | None:
    """``(failures, last_failure_at)`` of a sign-in throttle key, or None."""
    row = db.execute("SELECT failures, last_failure_at FROM sign_in_throttle WHERE key = ?", (key,)).fetchone()
    last = from_iso(row[1]) if row else None
    return (int(row[0]), last) if row and last is not None else None


def set_throttle_state(db: Database, key: str, failures: int, last_failure_at: datetime) -> None:
    """Record the failure count of a throttle key."""
    db.execute("INSERT INTO sign_in_throttle (key, failures, last_failure_at) VALUES (?, ?, ?) "
               "ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, "
               "last_failure_at = excluded.last_failure_at", (key, failures, to_iso(last_failure_at)))


def purge_throttle(db: Database, *, before: datetime) -> int:
    """Forget throttle keys whose last failure is older than ``before``; return how many."""
    return db.execute("DELETE FROM sign_in_throttle WHERE last_failure_at < ?", (to_iso(before),)).rowcount


def clear_throttle(db: Database, key: str) -> None:
    """Forget a throttle key (after a successful sign-in or a new password)."""
    db.execute("DELETE FROM sign_in_throttle WHERE key = ?", (key,))


def count_agents(db: Database, *, role: Role | None = None) -> int:
    """Active agents (with ``role`` if given)."""
    if role is None:
        return int(db.execute("SELECT count(*) FROM agents WHERE active = 1").fetchone()[0])
    return int(db.execute("SELECT count(*) FROM agents WHERE active = 1 AND role = ?", (str(role),)).fetchone()[0])
