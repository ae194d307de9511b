"""Agent accounts: create (first-admin bootstrap included), change role, set signature and approval flag.

Administrators manage accounts and roles; the communication director chooses each agent's signature style
and whether their replies always need approval. ``actor=None`` means the command line, run by someone with
shell access to the server (that is how the first administrator is created).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlite_utils import Database

from core import audit, repo
from core.db import write_transaction
from core.errors import ValidationError
from core.models import Agent, Role, SignatureStyle
from editorial.signatures import signature_for
from services.accounts.auth import DEFAULT_POLICY, AuthPolicy, hash_password
from services.accounts.permissions import Action, require


def _actor(actor: Agent | None) -> tuple[str, str]:
    return (actor.email, str(actor.role)) if actor else (audit.SYSTEM_CLI, "")


def _initials(name: str) -> str:
    parts = [p for p in name.replace("-", " ").split() if p]
    return "".join(p[0] for p in parts[:3]).upper() or "XX"


def create_agent(db: Database, actor: Agent | None, *, email: str, name: str, role: Role, initials: str = "",
                 password: str | None = None, signature_style: SignatureStyle = SignatureStyle.FIRST_NAME,
                 team_signature: str = "", needs_approval: bool = False, now: datetime,
                 policy: AuthPolicy = DEFAULT_POLICY) -> Agent:
    """Create an account (administrators, or the command line). ``password=None``: SSO-only account."""
    if actor is not None:
        require(actor, Action.USERS_MANAGE)
    email, name = email.strip(), name.strip()
    if "@" not in email or not name:
        raise ValidationError(reason="agent_email_and_name_required")
    if signature_style is SignatureStyle.TEAM and not team_signature.strip():
        raise ValidationError(reason="team_signature_empty")
    hashed = hash_password(password, policy) if password is not None else None
    who, role_of_actor = _actor(actor)
    with write_transaction(db):
        agent = repo.create_agent(db, email=email, name=name, initials=(initials or _initials(name)).upper(),
                                  role=role, signature_style=signature_style, team_signature=team_signature.strip(),
                                  needs_approval=needs_approval, password_hash=hashed, now=now)
        audit.record(db, audit.AgentCreated(actor=who, role=role_of_actor, subject=f"agent:{agent.id}",
                                            email=agent.email, agent_role=str(role)), at=now)
    return agent


def needs_bootstrap(db: Database) -> bool:
    """True while no active administrator exists (the console then asks for `users add --role admin`)."""
    return repo.count_agents(db, role=Role.ADMIN) == 0


def set_role(db: Database, actor: Agent | None, agent_id: int, role: Role, *, now: datetime) -> Agent:
    """Change an agent's role (administrators); the last active administrator cannot be demoted."""
    if actor is not None:
        require(actor, Action.ROLES_CHANGE)
    who, role_of_actor = _actor(actor)
    with write_transaction(db):
        before = repo.get_agent(db, agent_id)
        if before.role is role:
            return before
        if before.role is Role.ADMIN and repo.count_agents(db, role=Role.ADMIN) <= 1:
            raise ValidationError(reason="last_admin_demoted")
        after = repo.update_agent(db, agent_id, role=role)
        audit.record(db, audit.RoleChanged(actor=who, role=role_of_actor, subject=f"agent:{agent_id}",
                                           agent_id=agent_id, before=str(before.role), after=str(role)), at=now)
    return after


_PROFILE_FIELDS = {"signature_style", "team_signature", "needs_approval", "name", "initials", "active"}


def update_profile(db: Database, actor: Agent | None, agent_id: int, *, now: datetime, **changes: Any) -> Agent:
    """Set signature style / team signature / needs-approval (director), or name/initials/active (admin)."""
    bad = set(changes) - _PROFILE_FIELDS
    if bad:
        raise ValidationError(reason="profile_field_read_only", field=sorted(bad)[0])
    if actor is not None:
        editorial = {"signature_style", "team_signature", "needs_approval"} & set(changes)
        if editorial:
            require(actor, Action.SIGNATURE_SET)
        if set(changes) - editorial:
            require(actor, Action.USERS_MANAGE)
    if "signature_style" in changes:
        changes["signature_style"] = SignatureStyle(changes["signature_style"])
    who, role_of_actor = _actor(actor)
    with write_transaction(db):
        before = repo.get_agent(db, agent_id)
        after = repo.update_agent(db, agent_id, **changes)
        if after.signature_style is SignatureStyle.TEAM and not after.team_signature.strip():
            raise ValidationError(reason="team_signature_empty")
        if before.role is Role.ADMIN and not after.active and repo.count_agents(db, role=Role.ADMIN) == 0:
            raise ValidationError(reason="last_admin_deactivated")
        diff = {k: str(getattr(after, k)) for k in changes if getattr(before, k) != getattr(after, k)}
        if diff:
            audit.record(db, audit.AgentUpdated(actor=who, role=role_of_actor, subject=f"agent:{agent_id}",
                                                agent_id=agent_id, changes=diff), at=now)
    return after


def signatures_of_others(db: Database, agent: Agent) -> tuple[str, ...]:
    """Every other agent's signature, for the impersonation check."""
    return tuple(signature_for(a) for a in repo.list_agents(db, active_only=False) if a.id != agent.id)


def list_agents(db: Database, *, active_only: bool = True) -> list[Agent]:
    """Agents by name (active ones unless ``active_only=False``), for pickers and name lookups."""
    return repo.list_agents(db, active_only=active_only)


def count_agents_with_password(db: Database) -> int:
    """Active agents who can sign in with a password."""
    return repo.count_agents_with_password(db)


def get_agent(db: Database, agent_id: int) -> Agent:
    """One agent by id, or NotFoundError."""
    return repo.get_agent(db, agent_id)
