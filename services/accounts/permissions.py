"""Who may do what: the role matrix, enforced in the services (the UI only hides what is refused here).

Roles: community manager (works the inbox, writes replies), communication director (approves, owns the
charter and the signatures), legal (read-only plus audit and exports), administrator (accounts, roles,
connectors; no editorial power, so that approving stays with the communication team).
"""

from __future__ import annotations

import enum

from core.errors import PermissionDenied
from core.models import Agent, Role


class Action(enum.StrEnum):
    """Everything the services check before acting."""

    INBOX_READ = "inbox.read"
    INBOX_TRIAGE = "inbox.triage"  # assign, status, tags, notes
    REPLY_COMPOSE = "reply.compose"  # write, submit, send one's own replies (when no approval is needed)
    REPLY_APPROVE = "reply.approve"  # approve or request changes on someone else's reply
    POST_CREATE = "post.create"
    POST_APPROVE = "post.approve"
    CHARTER_READ = "charter.read"  # includes the YAML export
    CHARTER_EDIT = "charter.edit"  # includes the YAML import and the election dates
    SAVED_REPLY_USE = "saved_reply.use"
    SAVED_REPLY_EDIT = "saved_reply.edit"
    SIGNATURE_SET = "signature.set"  # choose an agent's signature style and needs-approval flag
    USERS_MANAGE = "users.manage"  # create/deactivate accounts, reset passwords
    ROLES_CHANGE = "roles.change"
    CONNECTORS_MANAGE = "connectors.manage"
    AUDIT_READ = "audit.read"
    AUDIT_EXPORT = "audit.export"  # audit CSV, legal archive, data exports
    MODERATE = "moderation.act"  # hide/unhide, spam, escalate, forward, dismiss, mark authors (issue #4)
    MODERATE_CONFIRM = "moderation.confirm"  # confirm hiding/banning an elected official (issue #4)


A = Action
_READ = {A.INBOX_READ, A.CHARTER_READ}
MATRIX: dict[Role, frozenset[Action]] = {
    Role.COMMUNITY_MANAGER: frozenset(_READ | {A.INBOX_TRIAGE, A.REPLY_COMPOSE, A.POST_CREATE, A.SAVED_REPLY_USE,
                                              A.MODERATE}),
    Role.DIRECTOR: frozenset(_READ | {A.INBOX_TRIAGE, A.REPLY_COMPOSE, A.REPLY_APPROVE, A.POST_CREATE,
                                      A.POST_APPROVE, A.CHARTER_EDIT, A.SAVED_REPLY_USE, A.SAVED_REPLY_EDIT,
                                      A.SIGNATURE_SET, A.AUDIT_READ, A.MODERATE,
                                      A.MODERATE_CONFIRM}),
    Role.LEGAL: frozenset(_READ | {A.AUDIT_READ, A.AUDIT_EXPORT}),
    Role.ADMIN: frozenset(_READ | {A.USERS_MANAGE, A.ROLES_CHANGE, A.CONNECTORS_MANAGE, A.AUDIT_READ}),
}


def can(agent: Agent, action: Action) -> bool:
    """True if ``agent`` (active) may perform ``action``."""
    return agent.active and action in MATRIX.get(agent.role, frozenset())


def require(agent: Agent, action: Action) -> None:
    """Raise PermissionDenied (reason ``account_deactivated`` or ``role_forbids``) unless ``agent`` may perform
    ``action``; the French sentence names the role and the action (console/messages)."""
    if not agent.active:
        raise PermissionDenied(reason="account_deactivated", email=agent.email)
    if action not in MATRIX.get(agent.role, frozenset()):
        raise PermissionDenied(reason="role_forbids", role=str(agent.role), action=str(action), email=agent.email)
