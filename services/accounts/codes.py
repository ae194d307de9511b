"""Passwords chosen by the agent, never typed by the administrator: one-time codes, and the first administrator.

* Invitation and reset: an administrator (``USERS_MANAGE``) issues a code for an agent (:func:`issue_code`); it is
  shown once, stored only as its SHA-256, valid :data:`CODE_VALIDITY` and once; issuing another one voids the
  previous. The agent enters their e-mail, the code and a new password on the sign-in page
  (:func:`redeem_code`): attempts are throttled like sign-ins (same keys, same delays), and a wrong e-mail, a
  wrong code, a used or expired one all get the same refusal.
* First administrator: while no active administrator has a password (a fresh install, or the demo team switched to
  ``PARVIS_AUTH=local``), the sign-in page offers to create one, with the setup code that this process prints in
  its log (:func:`setup_code`): someone who can read the server's log, not anyone who reaches the page. The code
  is in memory, changes at each restart and after :data:`SETUP_ATTEMPTS` wrong tries, and stops working once an
  administrator with a password exists.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import threading
from datetime import datetime, timedelta

from sqlite_utils import Database

from core import audit, repo
from core.db import write_transaction
from core.errors import AuthError, TooManyAttempts, ValidationError
from core.models import Agent, Role, SignatureStyle
from services.accounts import auth
from services.accounts.permissions import Action, can, require

CODE_VALIDITY = timedelta(hours=72)
PURPOSES = ("invite", "reset")
SETUP_ATTEMPTS = 5
SYSTEM_SETUP = "system:setup"  # the audit actor of the first administrator's creation
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or copied by hand
log = logging.getLogger("parvis.accounts")


def _new_code(groups: int = 3) -> str:
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(groups))


def _normalise(code: str) -> str:
    return "".join(c for c in code.upper() if c.isalnum())


def _hash(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode("ascii", "ignore")).hexdigest()


def issue_code(db: Database, actor: Agent, agent_id: int, *, purpose: str, now: datetime) -> str:
    """A one-time code for ``agent_id`` to choose a password (``invite`` or ``reset``); shown once."""
    require(actor, Action.USERS_MANAGE)
    if purpose not in PURPOSES:
        raise ValidationError(reason="account_code_purpose", purpose=purpose)
    code = _new_code()
    with write_transaction(db):
        target = repo.get_agent(db, agent_id)
        if not target.active:
            raise ValidationError(reason="account_code_inactive", email=target.email)
        repo.insert_account_code(db, code_hash=_hash(code), agent_id=agent_id, purpose=purpose, now=now,
                                 expires_at=now + CODE_VALIDITY)
        audit.record(db, audit.AccountCodeIssued(actor=actor.email, role=str(actor.role), subject=f"agent:{agent_id}",
                                                 agent_id=agent_id, purpose=purpose), at=now)
    return code


def pending_codes(db: Database, *, now: datetime) -> dict[int, str]:
    """Agent id → purpose of the code still waiting for them."""
    return repo.pending_account_codes(db, now=now)


def agents_with_password(db: Database) -> set[int]:
    """Ids of the agents that have a password."""
    return repo.agents_with_password(db)


def redeem_code(db: Database, email: str, code: str, password: str, *, now: datetime,
                policy: auth.AuthPolicy = auth.DEFAULT_POLICY, address: str | None = None) -> None:
    """Set the password of the agent ``email`` with their one-time ``code`` (then they sign in as usual).

    :raises TooManyAttempts: too many recent failures for this account or address.
    :raises AuthError: unknown e-mail, wrong, used or expired code, inactive account (one message for all).
    :raises ValidationError: the password is too weak (the code stays valid).
    """
    email = email.strip()
    wait = auth.throttle_wait(db, email, address, now=now, policy=policy)
    if wait > timedelta(0):
        raise TooManyAttempts(reason="sign_in_wait", seconds=max(1, math.ceil(wait.total_seconds())))
    auth.check_password_strength(password)
    hashed = policy.hasher.hash(password)
    error: AuthError | None = None
    with write_transaction(db):
        row = repo.get_account_code(db, _hash(code))
        agent = repo.agent_by_email(db, email) if email else None
        valid = (row is not None and agent is not None and row["agent_id"] == agent.id and row["used_at"] is None
                 and row["expires_at"] > now and agent.active)
        if not valid:
            failures = auth.count_failure(db, email, address, now, policy)
            audit.record(db, audit.SignInFailed(actor=email or "?", subject=f"agent:{agent.id}" if agent else "",
                                                reason="bad_account_code", failures=failures), at=now)
            error = AuthError(reason="bad_account_code")
        else:
            assert agent is not None and row is not None
            repo.use_account_code(db, row["code_hash"], now=now)
            repo.set_agent_credentials(db, agent.id, password_hash=hashed, failed_logins=0, locked_until=None)
            repo.revoke_sessions(db, now=now, agent_id=agent.id)
            audit.record(db, audit.PasswordChanged(actor=agent.email, role=str(agent.role), subject=f"agent:{agent.id}",
                                                   agent_id=agent.id), at=now)
    if error is not None:
        raise error


# ---- the first administrator ---------------------------------------------------------------------------------

class _Setup:
    """The process's setup code (printed in the log when first needed) and its wrong tries."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.code: str | None = None
        self.failures = 0

    def current(self) -> str:
        with self.lock:
            if self.code is None:
                self.code, self.failures = _new_code(4), 0
                log.warning("First administrator: enter the setup code %s on the console's sign-in page "
                            "(valid until it is used, the server restarts or %d wrong tries).",
                            self.code, SETUP_ATTEMPTS)
            return self.code

    def check(self, given: str) -> bool:
        expected = self.current()
        ok = hmac.compare_digest(_normalise(given).encode(), _normalise(expected).encode())
        with self.lock:
            if not ok:
                self.failures += 1
                if self.failures >= SETUP_ATTEMPTS:
                    self.code = None  # a new one is printed when next needed
        return ok


_SETUP = _Setup()


def needs_first_admin(db: Database) -> bool:
    """True while no active administrator can sign in with a password."""
    return repo.count_admins_with_password(db) == 0


def setup_code() -> str:
    """Announce the setup code in the server's log (once per code); the page never shows it."""
    return _SETUP.current()


def create_first_admin(db: Database, code: str, *, email: str, name: str, password: str, now: datetime,
                       policy: auth.AuthPolicy = auth.DEFAULT_POLICY) -> Agent:
    """Create the first administrator (or give a password to the existing administrator ``email`` without one)
    with the setup code of the server's log."""
    if not needs_first_admin(db):
        raise AuthError(reason="setup_done")
    if not _SETUP.check(code):
        raise AuthError(reason="bad_setup_code")
    hashed = auth.hash_password(password, policy)
    email, name = email.strip(), name.strip()
    if "@" not in email or not name:
        raise ValidationError(reason="agent_email_and_name_required")
    with write_transaction(db):
        if repo.count_admins_with_password(db):
            raise AuthError(reason="setup_done")
        existing = repo.agent_by_email(db, email)
        if existing is not None:
            if not can(existing, Action.USERS_MANAGE):
                raise ValidationError(reason="setup_email_taken", email=email)
            repo.update_agent(db, existing.id, active=True)
            repo.set_agent_credentials(db, existing.id, password_hash=hashed, failed_logins=0, locked_until=None)
            audit.record(db, audit.PasswordChanged(actor=SYSTEM_SETUP, role="", subject=f"agent:{existing.id}",
                                                   agent_id=existing.id), at=now)
            agent = repo.get_agent(db, existing.id)
        else:
            initials = "".join(p[0] for p in name.replace("-", " ").split()[:3]).upper() or "AD"
            agent = repo.create_agent(db, email=email, name=name, initials=initials, role=Role.ADMIN,
                                      signature_style=SignatureStyle.FIRST_NAME, team_signature="",
                                      needs_approval=False, password_hash=hashed, now=now)
            audit.record(db, audit.AgentCreated(actor=SYSTEM_SETUP, role="", subject=f"agent:{agent.id}",
                                                email=agent.email, agent_role=str(Role.ADMIN)), at=now)
    with _SETUP.lock:
        _SETUP.code = None
    log.info("First administrator %s created from the console", agent.email)
    return agent
