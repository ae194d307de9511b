"""Sign-in: local accounts (argon2id hashes), lockout after repeated failures, expiring sessions, and SSO.

Sessions are random tokens (only their SHA-256 is stored) with an idle timeout and a maximum age. SSO
(Streamlit ``st.login``, OIDC: ProConnect, Keycloak, Entra) is verified by Streamlit; :func:`sign_in_sso` maps
the verified e-mail to an existing active agent. Every outcome is audited: ``signed-in``, ``sign-in-failed``,
``account-locked``, ``signed-out``, ``password-changed``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlite_utils import Database

from core import audit, repo
from core.clock import format_paris
from core.config import Settings
from core.db import write_transaction
from core.errors import AccountLocked, AuthError, SessionExpired, ValidationError
from core.models import Agent
from services.accounts.permissions import Action, require

MIN_PASSWORD_LENGTH = 12


@dataclass(frozen=True, slots=True)
class AuthPolicy:
    """Lockout and session rules; ``hasher`` holds the argon2id cost parameters."""

    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)
    idle_timeout: timedelta = timedelta(minutes=30)
    max_age: timedelta = timedelta(hours=10)
    hasher: PasswordHasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthPolicy:
        """Read PARVIS_AUTH_MAX_FAILURES, PARVIS_AUTH_LOCKOUT_MINUTES, PARVIS_SESSION_IDLE_MINUTES and
        PARVIS_SESSION_MAX_HOURS."""
        auth = settings.auth
        return cls(max_failures=auth.max_failures, lockout=timedelta(minutes=auth.lockout_minutes),
                   idle_timeout=timedelta(minutes=auth.session_idle_minutes),
                   max_age=timedelta(hours=auth.session_max_hours))


DEFAULT_POLICY = AuthPolicy()


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in agent and the token to present on later requests (shown once, never stored)."""

    agent: Agent
    token: str
    expires_at: datetime


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_password_strength(password: str) -> None:
    """Refuse passwords too short to resist guessing (ValidationError)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(reason="password_too_short", min=MIN_PASSWORD_LENGTH)
    if password.strip() != password or len(set(password)) < 5:
        raise ValidationError(reason="password_too_simple")


def hash_password(password: str, policy: AuthPolicy = DEFAULT_POLICY) -> str:
    """argon2id hash of ``password`` (after the strength check)."""
    check_password_strength(password)
    return policy.hasher.hash(password)


def _open_session(db: Database, agent: Agent, method: str, now: datetime, policy: AuthPolicy) -> Session:
    token = secrets.token_urlsafe(32)
    expires = now + policy.max_age
    repo.create_session(db, token_hash=_token_hash(token), agent_id=agent.id, method=method, now=now,
                        expires_at=expires)
    audit.record(db, audit.SignedIn(actor=agent.email, role=str(agent.role), subject=f"agent:{agent.id}",
                                    method=method), at=now)
    return Session(agent, token, expires)


def sign_in(db: Database, email: str, password: str, *, now: datetime,
            policy: AuthPolicy = DEFAULT_POLICY) -> Session:
    """Check a password; lock the account after ``policy.max_failures`` failures in a row.

    :raises AccountLocked: the account is locked (the message says until when).
    :raises AuthError: anything else (same message whether the account exists or not).
    """
    email = email.strip()
    error: AuthError | None = None
    session: Session | None = None
    with write_transaction(db):
        creds = repo.agent_credentials(db, email)
        if creds is None or not creds["password_hash"]:
            _dummy_verify(policy)
            reason = "unknown_account" if creds is None else "no_password"
            audit.record(db, audit.SignInFailed(actor=email, subject="", reason=reason), at=now)
            error = AuthError(reason="bad_credentials")
        elif not creds["active"]:
            audit.record(db, audit.SignInFailed(actor=email, subject=f"agent:{creds['id']}", reason="inactive"),
                         at=now)
            error = AuthError(reason="bad_credentials")
        elif creds["locked_until"] and creds["locked_until"] > now:
            audit.record(db, audit.SignInFailed(actor=email, subject=f"agent:{creds['id']}", reason="locked",
                                                failures=creds["failed_logins"]), at=now)
            error = AccountLocked(reason="account_still_locked", until=format_paris(creds["locked_until"], "%H:%M"))
        elif not _verify(policy, creds["password_hash"], password):
            error = _record_failure(db, email, creds, now, policy)
        else:
            agent = repo.get_agent(db, creds["id"])
            new_hash = policy.hasher.hash(password) if policy.hasher.check_needs_rehash(creds["password_hash"]) \
                else None
            repo.set_agent_credentials(db, agent.id, password_hash=new_hash, failed_logins=0, locked_until=None)
            session = _open_session(db, agent, "password", now, policy)
    if error is not None:
        raise error
    assert session is not None
    return session


def _verify(policy: AuthPolicy, stored: str, password: str) -> bool:
    try:
        return policy.hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY: dict[int, str] = {}


def _dummy_verify(policy: AuthPolicy) -> None:
    """Spend the time of a real check, so response times do not reveal which accounts exist."""
    key = id(policy.hasher)
    if key not in _DUMMY:
        _DUMMY[key] = policy.hasher.hash("parvis-dummy-password")
    _verify(policy, _DUMMY[key], "not-the-password")


def _record_failure(db: Database, email: str, creds: dict[str, object], now: datetime,
                    policy: AuthPolicy) -> AuthError:
    failures = int(creds["failed_logins"]) + 1  # type: ignore[call-overload]
    agent_id = int(creds["id"])  # type: ignore[call-overload]
    subject = f"agent:{agent_id}"
    audit.record(db, audit.SignInFailed(actor=email, subject=subject, reason="bad_password", failures=failures),
                 at=now)
    if failures >= policy.max_failures:
        until = now + policy.lockout
        repo.set_agent_credentials(db, agent_id, failed_logins=0, locked_until=until)
        audit.record(db, audit.AccountLocked(actor=email, subject=subject, until=until, failures=failures), at=now)
        return AccountLocked(reason="account_now_locked", until=format_paris(until, "%H:%M"))
    repo.set_agent_credentials(db, agent_id, failed_logins=failures)
    return AuthError(reason="bad_credentials")


def sign_in_sso(db: Database, email: str, *, now: datetime, policy: AuthPolicy = DEFAULT_POLICY) -> Session:
    """Open a session for an e-mail already verified by the identity provider (``st.user.email``).

    The agent must exist and be active: accounts and roles are created in Parvis, not by the provider.
    """
    email = email.strip()
    with write_transaction(db):
        agent = repo.agent_by_email(db, email) if email else None
        if agent is None or not agent.active:
            audit.record(db, audit.SignInFailed(actor=email or "?", subject=f"agent:{agent.id}" if agent else "",
                                                reason="inactive" if agent else "unknown_account"), at=now)
            failed = True
        else:
            failed = False
            session = _open_session(db, agent, "sso", now, policy)
    if failed:
        raise AuthError(reason="no_active_account", email=email)
    return session


def resolve_session(db: Database, token: str, *, now: datetime, policy: AuthPolicy = DEFAULT_POLICY) -> Agent:
    """The agent behind ``token``; SessionExpired if it is unknown, revoked, idle too long or too old."""
    row = repo.get_session(db, _token_hash(token)) if token else None
    if row is None or row["revoked_at"] is not None:
        raise SessionExpired(reason="session_unknown")
    if now >= row["expires_at"] or now - row["last_seen_at"] > policy.idle_timeout:
        raise SessionExpired(reason="session_timed_out")
    agent = repo.get_agent(db, row["agent_id"])
    if not agent.active:
        raise SessionExpired(reason="session_account_deactivated")
    if now - row["last_seen_at"] > timedelta(seconds=60):
        repo.touch_session(db, row["token_hash"], now=now)
    return agent


def sign_out(db: Database, token: str, *, now: datetime) -> None:
    """Revoke the session behind ``token`` (no error if it is already closed)."""
    with write_transaction(db):
        row = repo.get_session(db, _token_hash(token))
        if row is None or row["revoked_at"] is not None:
            return
        repo.revoke_sessions(db, now=now, token_hash=row["token_hash"])
        agent = repo.get_agent(db, row["agent_id"])
        audit.record(db, audit.SignedOut(actor=agent.email, role=str(agent.role), subject=f"agent:{agent.id}"),
                     at=now)


def set_password(db: Database, actor: Agent | None, agent_id: int, password: str, *, now: datetime,
                 policy: AuthPolicy = DEFAULT_POLICY) -> None:
    """Set an agent's password (themselves, an administrator, or ``actor=None`` from the command line);
    unlocks the account and closes all its sessions."""
    if actor is not None and actor.id != agent_id:
        require(actor, Action.USERS_MANAGE)
    hashed = hash_password(password, policy)
    with write_transaction(db):
        target = repo.get_agent(db, agent_id)
        repo.set_agent_credentials(db, agent_id, password_hash=hashed, failed_logins=0, locked_until=None)
        repo.revoke_sessions(db, now=now, agent_id=agent_id)
        audit.record(db, audit.PasswordChanged(actor=actor.email if actor else audit.SYSTEM_CLI,
                                               role=str(actor.role) if actor else "", subject=f"agent:{target.id}",
                                               agent_id=target.id), at=now)


AUTH_MODES = ("open", "local", "sso")


def auth_mode(db: Database, settings: Settings) -> str:
    """How the console identifies agents: ``PARVIS_AUTH`` (open | local | sso), else ``local`` as soon as one
    active agent has a password, else ``open`` (the demo: pick an agent, with a visible warning)."""
    forced = settings.auth.mode  # one of AUTH_MODES (checked by the settings declaration) or None
    if forced:
        return forced
    return "local" if repo.count_agents_with_password(db) else "open"
