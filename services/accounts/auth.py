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
import ipaddress
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlite_utils import Database

from connectors.demo.team import demo_agents
from core import audit, repo
from core.config import Settings
from core.db import write_transaction
from core.errors import AuthError, ConfigError, SessionExpired, TooManyAttempts, ValidationError
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


def _count_failure(db: Database, email: str, address: str | None, now: datetime, policy: AuthPolicy) -> int:
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
            failures = _count_failure(db, email, address, now, policy)
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

@dataclass(frozen=True, slots=True)
class SsoIdentity:
    """What the identity provider asserted in its ID token (Streamlit's ``st.user``)."""

    issuer: str
    subject: str
    email: str
    email_verified: bool
    issued_at: datetime | None

    @classmethod
    def from_claims(cls, claims: Mapping[str, object]) -> SsoIdentity:
        """Read ``iss``, ``sub``, ``email``, ``email_verified`` (true or "true" only) and ``iat``."""
        verified = claims.get("email_verified")
        iat = claims.get("iat")
        issued = (datetime.fromtimestamp(float(iat), UTC)
                  if isinstance(iat, int | float) or (isinstance(iat, str) and iat.isdigit()) else None)
        return cls(issuer=str(claims.get("iss") or "").strip().rstrip("/"), subject=str(claims.get("sub") or ""),
                   email=str(claims.get("email") or "").strip(),
                   email_verified=verified is True or (isinstance(verified, str) and verified.lower() == "true"),
                   issued_at=issued)

    @property
    def login_key(self) -> str:
        """Identifies one provider login (issuer, subject, time of the ID token): its Parvis sessions share it."""
        stamp = self.issued_at.isoformat() if self.issued_at else ""
        return hashlib.sha256(f"{self.issuer}\n{self.subject}\n{stamp}".encode()).hexdigest()


def sign_in_sso(db: Database, identity: SsoIdentity, *, now: datetime,
                policy: AuthPolicy = DEFAULT_POLICY) -> Session:
    """Open a session for an identity the provider asserted (Streamlit checked the ID token's signature).

    The issuer must be in ``policy.sso_issuers``. An account bound to the identity's subject signs in; otherwise
    the provider must have *verified* the e-mail, which must name an active account not bound to another
    subject, and the account is then bound to this subject. Accounts and roles are created in Parvis, not by the
    provider.

    :raises SessionExpired: this provider login is older than the maximum session age, idle for too long, or was
        signed out: the caller must end the provider login (``st.logout()``) and ask for a new one.
    :raises AuthError: anything else (issuer, unverified e-mail, unknown or inactive account, other subject).
    """
    failure: tuple[str, AuthError] | None = None
    session: Session | None = None
    agent: Agent | None = None
    with write_transaction(db):
        if not policy.sso_issuers:
            failure = ("issuer_not_allowed", AuthError(reason="sso_no_issuers"))
        elif identity.issuer not in policy.sso_issuers:
            failure = ("issuer_not_allowed", AuthError(reason="sso_issuer_not_allowed", issuer=identity.issuer))
        elif not identity.subject or identity.issued_at is None:
            failure = ("identity_incomplete", AuthError(reason="sso_identity_incomplete"))
        else:
            failure = _sso_login_over(db, identity, now, policy)
        if failure is None:
            agent, failure = _sso_agent(db, identity, now)
        if failure is None:
            assert agent is not None and identity.issued_at is not None
            session = _open_session(db, agent, "sso", now, policy, expires=identity.issued_at + policy.max_age,
                                    sso_login=identity.login_key)
        else:
            audit.record(db, audit.SignInFailed(actor=identity.email or "?",
                                                subject=f"agent:{agent.id}" if agent else "",
                                                reason=f"sso_{failure[0]}"), at=now)
    if failure is not None:
        raise failure[1]
    assert session is not None
    return session


def _sso_login_over(db: Database, identity: SsoIdentity, now: datetime,
                    policy: AuthPolicy) -> tuple[str, AuthError] | None:
    """Why this provider login may not open a session any more (None: it may)."""
    assert identity.issued_at is not None
    expired = SessionExpired(reason="sso_login_expired")
    if now >= identity.issued_at + policy.max_age:
        return "login_too_old", expired
    previous = repo.sessions_of_sso_login(db, identity.login_key)
    if any(s["revoked_at"] is not None for s in previous):
        return "login_signed_out", expired
    if previous and now - max(s["last_seen_at"] for s in previous) > policy.idle_timeout:
        return "login_idle", expired
    return None


def _sso_agent(db: Database, identity: SsoIdentity,
               now: datetime) -> tuple[Agent | None, tuple[str, AuthError] | None]:
    """The account this identity signs in as (binding it on first use), or why there is none."""
    no_account = AuthError(reason="no_active_account", email=identity.email or identity.subject)
    bound = repo.agent_by_sso_subject(db, identity.issuer, identity.subject)
    if bound is not None:
        return bound, (None if bound.active else ("inactive", no_account))
    if not identity.email_verified or not identity.email:
        return None, ("email_unverified", AuthError(reason="sso_email_unverified", email=identity.email or "?"))
    agent = repo.agent_by_email(db, identity.email)
    if agent is None:
        return None, ("unknown_account", no_account)
    if not agent.active:
        return agent, ("inactive", no_account)
    if repo.sso_binding(db, agent.id) is not None:
        return agent, ("subject_mismatch", AuthError(reason="sso_subject_mismatch", email=agent.email))
    repo.set_sso_binding(db, agent.id, identity.issuer, identity.subject)
    audit.record(db, audit.SsoSubjectBound(actor=agent.email, role=str(agent.role), subject=f"agent:{agent.id}",
                                           issuer=identity.issuer, sso_subject=identity.subject), at=now)
    return agent, None


def unbind_sso(db: Database, actor: Agent | None, agent_id: int, *, now: datetime) -> None:
    """Forget the provider subject an account is bound to (administrators, or the command line): its next SSO
    sign-in binds it again from a verified e-mail. Closes the account's sessions."""
    if actor is not None:
        require(actor, Action.USERS_MANAGE)
    with write_transaction(db):
        target = repo.get_agent(db, agent_id)
        binding = repo.sso_binding(db, agent_id)
        if binding is None:
            raise ValidationError(reason="sso_not_bound", email=target.email)
        repo.set_sso_binding(db, agent_id, None, None)
        repo.revoke_sessions(db, now=now, agent_id=agent_id)
        audit.record(db, audit.SsoSubjectUnbound(actor=actor.email if actor else audit.SYSTEM_CLI,
                                                 role=str(actor.role) if actor else "", subject=f"agent:{agent_id}",
                                                 issuer=binding[0], sso_subject=binding[1]), at=now)


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


def is_demo_team(emails: list[str]) -> bool:
    """Whether these agent e-mails are all the built-in demo team's (``python -m console demo``), or none."""
    demo = {spec["email"].casefold() for spec in demo_agents()}
    return all(e.casefold() in demo for e in emails)


def auth_mode(db: Database, settings: Settings) -> str:
    """How the console identifies agents: ``PARVIS_AUTH`` (open | local | sso); unset, ``open`` (the demo: pick
    an agent) only while the database holds the demo team alone (or no agent), else ``local``.

    Open mode is never reached by accident: SSO-only accounts, or the last password holder deactivated, leave
    the console in ``local`` mode, where nobody signs in until a password is set or ``PARVIS_AUTH=sso``.
    """
    forced = settings.auth.mode  # one of AUTH_MODES (checked by the settings declaration) or None
    if forced:
        return forced
    return "open" if is_demo_team(repo.agent_emails(db)) else "local"


# ---- open mode stays on this machine -------------------------------------------------------------------------

def is_loopback(host: str | None) -> bool:
    """Whether ``host`` (an address or ``localhost``, IPv6 in brackets or not) is this machine only."""
    name = (host or "").strip().strip("[]")
    if name.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_listen_address(mode: str, address: str | None) -> None:
    """Refuse (ConfigError) to serve the open mode on anything but a loopback address."""
    if mode == "open" and not is_loopback(address):
        raise ConfigError(f"open mode refuses to listen on {address or '*'}", reason="open_mode_not_loopback",
                          address=address or "*")


_FORWARDED = ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip")


def _host_name(host: str) -> str:
    host = host.strip()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def open_mode_reachable(listen_address: str | None, peer: str | None, headers: Mapping[str, str]) -> bool:
    """Whether one request may use the open mode: the server listens on loopback (or on every interface, then
    the request must come from this machine), the peer is this machine (``None``: Streamlit's word for it),
    no proxy forwarded it (``Forwarded``, ``X-Forwarded-*``, ``X-Real-IP``), and its Host names this machine."""
    if listen_address and not is_loopback(listen_address):
        return False
    if peer is not None and not is_loopback(peer):
        return False
    lowered = {k.lower(): v for k, v in headers.items()}
    if any(name in lowered for name in _FORWARDED):
        return False
    host = lowered.get("host")
    return host is None or is_loopback(_host_name(host))
