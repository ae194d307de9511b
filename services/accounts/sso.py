"""Single sign-on (st.login, OpenID Connect): an allowed issuer, a verified e-mail the first time, then the bound
subject; SSO sessions under the same idle and absolute limits (issue #15, decision 0021)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlite_utils import Database

from core import audit, repo
from core.db import write_transaction
from core.errors import AuthError, SessionExpired, ValidationError
from core.models import Agent
from services.accounts.auth import DEFAULT_POLICY, AuthPolicy, Session, _open_session
from services.accounts.permissions import Action, require


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
