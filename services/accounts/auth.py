"""Sign-in: local accounts (argon2id hashes), throttled attempts, expiring sessions, and SSO.

Sessions are random tokens (only their SHA-256 is stored) with an idle timeout and a maximum age. Failed password
sign-ins slow down the next attempt on the same account and from the same client address (growing delays, never a
lockout someone else can trigger for long), and every attempt that is not throttled costs one argon2 verification
whatever the account (unknown, inactive, SSO-only, active), so timing does not tell which accounts exist.

SSO (Streamlit ``st.login``, OpenID Connect: ProConnect, Keycloak, Entra) is verified by Streamlit;
:func:`sign_in_sso` accepts only allowed issuers, matches a *verified* e-mail once, then binds the account to the
provider's subject (``iss`` + ``sub``): later sign-ins must come from that subject. SSO sessions obey the same idle
and absolute limits as password sessions, counted from the provider login (its ``iat``). Every outcome is audited:
``signed-in``, ``sign-in-failed``, ``sso-subject-bound``, ``signed-out``, ``password-changed``.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlite_utils import Database

from core import audit, repo
from core.config import Settings
from core.db import write_transaction
from core.errors import AuthError, SessionExpired, TooManyAttempts, ValidationError
from core.models import Agent
from services.accounts.permissions import Action, can, require

MIN_PASSWORD_LENGTH = 12
AUTH_MODES = ("open", "local", "sso")


@dataclass(frozen=True, slots=True)
class AuthPolicy:
    """Throttling, session and SSO rules; ``hasher`` holds the argon2id cost parameters.

    After ``free_attempts`` failures in a row on one account (``address_free_attempts`` from one client address),
    each further attempt waits 1 s, 2 s, 4 s... up to ``max_delay``; failures older than ``forget_after`` are
    forgotten. ``mode`` is PARVIS_AUTH as set (``sso``: no local password but the ``break_glass`` administrator's).
    """

    free_attempts: int = 3
    address_free_attempts: int = 10
    max_delay: timedelta = timedelta(minutes=5)
    forget_after: timedelta = timedelta(hours=1)
    idle_timeout: timedelta = timedelta(minutes=30)
    max_age: timedelta = timedelta(hours=10)
    hasher: PasswordHasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile
    mode: str | None = None
    break_glass: str = ""
    sso_issuers: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthPolicy:
        """Read the PARVIS_AUTH*, PARVIS_SESSION_* and PARVIS_SSO_ISSUERS settings."""
        auth = settings.auth
        return cls(free_attempts=auth.free_attempts, address_free_attempts=auth.address_free_attempts,
                   max_delay=timedelta(seconds=auth.max_delay_s),
                   idle_timeout=timedelta(minutes=auth.session_idle_minutes),
                   max_age=timedelta(hours=auth.session_max_hours), mode=auth.mode,
                   break_glass=(auth.break_glass or "").strip(), sso_issuers=parse_issuers(auth.sso_issuers))

    def delay_after(self, failures: int, free: int) -> timedelta:
        """How long to wait after ``failures`` failures in a row when ``free`` are allowed without delay."""
        if failures < free:
            return timedelta(0)
        return min(timedelta(seconds=2 ** min(failures - free, 30)), self.max_delay)


DEFAULT_POLICY = AuthPolicy()


def parse_issuers(text: str) -> tuple[str, ...]:
    """``PARVIS_SSO_ISSUERS`` as a tuple of issuers (trailing slashes ignored)."""
    return tuple(i.strip().rstrip("/") for i in text.split(",") if i.strip())


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


def _open_session(db: Database, agent: Agent, method: str, now: datetime, policy: AuthPolicy, *,
                  expires: datetime | None = None, sso_login: str | None = None) -> Session:
    token = secrets.token_urlsafe(32)
    expires = expires or now + policy.max_age
    repo.create_session(db, token_hash=_token_hash(token), agent_id=agent.id, method=method, now=now,
                        expires_at=expires, sso_login=sso_login)
    audit.record(db, audit.SignedIn(actor=agent.email, role=str(agent.role), subject=f"agent:{agent.id}",
                                    method=method), at=now)
    return Session(agent, token, expires)


# ---- throttling ----------------------------------------------------------------------------------------------

def _throttle_keys(email: str, address: str | None) -> list[tuple[str, str]]:
    """``(key, kind)`` pairs: the account (whether or not it exists) and the client address if known."""
    keys = [(f"account:{email.casefold()}", "account")]
    if address:
        keys.append((f"address:{address}", "address"))
    return keys


def _free(policy: AuthPolicy, kind: str) -> int:
    return policy.free_attempts if kind == "account" else policy.address_free_attempts


def throttle_wait(db: Database, email: str, address: str | None, *, now: datetime,
                  policy: AuthPolicy = DEFAULT_POLICY) -> timedelta:
    """How long the next attempt for ``email`` from ``address`` must still wait (zero: go ahead)."""
    wait = timedelta(0)
    for key, kind in _throttle_keys(email.strip(), address):
        state = repo.throttle_state(db, key)
        if state is None or now - state[1] > policy.forget_after:
            continue
        wait = max(wait, state[1] + policy.delay_after(state[0], _free(policy, kind)) - now)
    return wait


def count_failure(db: Database, email: str, address: str | None, now: datetime, policy: AuthPolicy) -> int:
    """Count one failure on every throttle key; return the account's failures in a row."""
    repo.purge_throttle(db, before=now - policy.forget_after)  # keys of made-up e-mails do not pile up
    account_failures = 0
    for key, kind in _throttle_keys(email, address):
        state = repo.throttle_state(db, key)
        failures = 1 if state is None or now - state[1] > policy.forget_after else state[0] + 1
        repo.set_throttle_state(db, key, failures, now)
        if kind == "account":
            account_failures = failures
    return account_failures


# ---- password sign-in ----------------------------------------------------------------------------------------

def sign_in(db: Database, email: str, password: str, *, now: datetime, policy: AuthPolicy = DEFAULT_POLICY,
            address: str | None = None) -> Session:
    """Check a password (``address``: the client's IP address, for throttling).

    :raises TooManyAttempts: too many recent failures on this account or from this address (the message says
        how many seconds to wait); nothing is checked then.
    :raises AuthError: anything else, with the same message whether the account exists, is inactive, has no
        password, may not use one (``PARVIS_AUTH=sso``), or the password is wrong.
    """
    email = email.strip()
    wait = throttle_wait(db, email, address, now=now, policy=policy)
    if wait > timedelta(0):
        raise TooManyAttempts(reason="sign_in_wait", seconds=max(1, math.ceil(wait.total_seconds())))
    creds = repo.agent_credentials(db, email) if email else None
    stored = creds["password_hash"] if creds is not None else None
    # exactly one argon2 verification on every path, so that timing reveals nothing about the account
    matches = _verify(policy, stored or _dummy_hash(policy), password) and bool(stored)
    error: AuthError | None = None
    session: Session | None = None
    with write_transaction(db):
        agent = repo.get_agent(db, creds["id"]) if creds is not None else None
        if creds is None:
            reason = "unknown_account"
        elif not stored:
            reason = "no_password"
        elif not creds["active"]:
            reason = "inactive"
        elif policy.mode == "sso" and not _is_break_glass(policy, agent):
            reason = "sso_only"
        elif not matches:
            reason = "bad_password"
        else:
            reason = ""
        if reason:
            failures = count_failure(db, email, address, now, policy)
            audit.record(db, audit.SignInFailed(actor=email or "?", subject=f"agent:{agent.id}" if agent else "",
                                                reason=reason, failures=failures), at=now)
            error = AuthError(reason="bad_credentials")
        else:
            assert agent is not None and stored is not None
            new_hash = policy.hasher.hash(password) if policy.hasher.check_needs_rehash(stored) else None
            repo.set_agent_credentials(db, agent.id, password_hash=new_hash, failed_logins=0, locked_until=None)
            repo.clear_throttle(db, _throttle_keys(email, None)[0][0])
            method = "password" if policy.mode != "sso" else "break-glass"
            session = _open_session(db, agent, method, now, policy)
    if error is not None:
        raise error
    assert session is not None
    return session


def _is_break_glass(policy: AuthPolicy, agent: Agent | None) -> bool:
    """The one administrator allowed a local password under ``PARVIS_AUTH=sso`` (PARVIS_AUTH_BREAK_GLASS)."""
    return (agent is not None and bool(policy.break_glass) and can(agent, Action.USERS_MANAGE)
            and agent.email.casefold() == policy.break_glass.casefold())


def _verify(policy: AuthPolicy, stored: str, password: str) -> bool:
    try:
        return policy.hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY: dict[tuple[int, int, int, int, int], str] = {}


def _dummy_hash(policy: AuthPolicy) -> str:
    """A hash with the policy's cost parameters, checked instead of a missing one: same work, no secret."""
    h = policy.hasher
    key = (h.time_cost, h.memory_cost, h.parallelism, h.hash_len, h.salt_len)
    if key not in _DUMMY:
        _DUMMY[key] = h.hash(secrets.token_urlsafe(24))
    return _DUMMY[key]


# ---- single sign-on ------------------------------------------------------------------------------------------

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
        if row["sso_login"]:  # every tab opened from this provider login, and any later one, is signed out
            repo.revoke_sessions(db, now=now, sso_login=row["sso_login"])
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
        repo.clear_throttle(db, _throttle_keys(target.email, None)[0][0])
        repo.revoke_sessions(db, now=now, agent_id=agent_id)
        audit.record(db, audit.PasswordChanged(actor=actor.email if actor else audit.SYSTEM_CLI,
                                               role=str(actor.role) if actor else "", subject=f"agent:{target.id}",
                                               agent_id=target.id), at=now)
