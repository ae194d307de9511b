"""Who may do what: THE role matrix, the one permission source of Parvis, enforced in the services (the UI only
hides what is refused here). Every role check goes through :func:`can`, :func:`require`, :func:`require_actor` or
:func:`require_owner_or`; ``tests/security/test_role_matrix.py`` fails on a role compared by hand elsewhere, and
checks the table in docs/security.md against :data:`MATRIX` (:func:`matrix_table` writes it).

Roles: community manager (works the inbox, writes replies and posts, edits only their own posts), communication
director (approves, owns the charter and the signatures, may change anyone's posts but never approves what they
wrote or edited), legal (reads everything; the only role that exports, answers residents' RGPD requests and sets
or lifts legal holds), administrator (accounts, roles, connectors, reads the audit trail; no editorial power, so
that approving stays with the communication team, and no export of residents' data, and no private messages).
Private messages (``private.read``, issue #20, docs/decisions/0140): community managers and directors, who answer
them, and legal, read-only, for audits and RGPD requests; administrators do not see them, nor their counts.
"""

from __future__ import annotations

import enum

from core.errors import PermissionDenied
from core.models import Agent, Role

SYSTEM_PREFIX = "system:"  # actors that are not agents: the worker, the CLI run by the server's operator


class Action(enum.StrEnum):
    """Everything the services check before acting."""

    INBOX_READ = "inbox.read"
    INBOX_TRIAGE = "inbox.triage"  # assign, status, tags, notes; also: may be given inbox items
    REPLY_COMPOSE = "reply.compose"  # write, submit, send one's own replies (when no approval is needed)
    REPLY_APPROVE = "reply.approve"  # approve or request changes on someone else's reply; handle others' replies
    POST_CREATE = "post.create"  # write posts and series, edit and move one's own; submit, cancel, retry any
    POST_EDIT_ANY = "post.edit_any"  # edit and move posts and series written by someone else
    POST_APPROVE = "post.approve"  # never what one wrote or edited (four eyes, services/editorial/revisions.py)
    CHARTER_READ = "charter.read"  # includes the YAML export
    CHARTER_EDIT = "charter.edit"  # includes the YAML import and the election dates
    SAVED_REPLY_USE = "saved_reply.use"
    SAVED_REPLY_EDIT = "saved_reply.edit"
    SIGNATURE_SET = "signature.set"  # choose an agent's signature style and needs-approval flag
    USERS_MANAGE = "users.manage"  # create/deactivate accounts, reset passwords
    ROLES_CHANGE = "roles.change"
    CONNECTORS_MANAGE = "connectors.manage"
    SYNC_REQUEST = "connectors.sync"  # ask the worker for an immediate sync
    AUDIT_READ = "audit.read"  # audit trail, legal archive, integrity, the chain head (and its countersigning)
    AUDIT_EXPORT = "audit.export"  # audit CSV, legal archive exports, archival transfer package
    RGPD_ANSWER = "rgpd.answer"  # residents' access (art. 15) and erasure (art. 17) requests
    LEGAL_HOLD = "legal.hold"  # set and lift legal holds
    MODERATION_READ = "moderation.read"  # the moderation queue and its decisions
    MODERATE = "moderation.act"  # hide/unhide, spam, escalate, forward, dismiss, mark authors (issue #4)
    MODERATE_CONFIRM = "moderation.confirm"  # confirm hiding/banning an elected official (issue #4)
    UNMARK_ELECTED = "moderation.unmark_elected"  # take the elected-official mark off an author
    AUTOMATION_MANAGE = "automation.manage"  # write, try, switch on and off the automation rules (issue #17)
    PRIVATE_READ = "private.read"  # private messages: see them, their counts by author, their archived answers


A = Action
_READ = {A.INBOX_READ, A.CHARTER_READ}
MATRIX: dict[Role, frozenset[Action]] = {
    Role.COMMUNITY_MANAGER: frozenset(_READ | {A.INBOX_TRIAGE, A.REPLY_COMPOSE, A.POST_CREATE, A.SAVED_REPLY_USE,
                                              A.SYNC_REQUEST, A.MODERATION_READ, A.MODERATE, A.PRIVATE_READ}),
    Role.DIRECTOR: frozenset(_READ | {A.INBOX_TRIAGE, A.REPLY_COMPOSE, A.REPLY_APPROVE, A.POST_CREATE,
                                      A.POST_EDIT_ANY, A.POST_APPROVE, A.CHARTER_EDIT, A.SAVED_REPLY_USE,
                                      A.SAVED_REPLY_EDIT, A.SIGNATURE_SET, A.SYNC_REQUEST, A.AUDIT_READ,
                                      A.MODERATION_READ, A.MODERATE, A.MODERATE_CONFIRM, A.UNMARK_ELECTED,
                                      A.AUTOMATION_MANAGE, A.PRIVATE_READ}),
    Role.LEGAL: frozenset(_READ | {A.AUDIT_READ, A.AUDIT_EXPORT, A.RGPD_ANSWER, A.LEGAL_HOLD, A.MODERATION_READ,
                                   A.PRIVATE_READ}),
    Role.ADMIN: frozenset(_READ | {A.USERS_MANAGE, A.ROLES_CHANGE, A.CONNECTORS_MANAGE, A.SYNC_REQUEST,
                                   A.AUDIT_READ, A.AUTOMATION_MANAGE}),
}

# What each action lets a person do, in English, for docs/security.md (:func:`matrix_table`).
DESCRIPTIONS: dict[Action, str] = {
    A.INBOX_READ: "read the inbox, the dashboard and the charter",
    A.INBOX_TRIAGE: "assign, change status, tag, annotate mentions; be given mentions",
    A.REPLY_COMPOSE: "write, submit and send one's own replies",
    A.REPLY_APPROVE: "approve or send back others' replies; schedule, send or cancel them",
    A.POST_CREATE: "write posts and series; edit and move one's own; submit, cancel, retry any",
    A.POST_EDIT_ANY: "edit and move posts and series written by someone else",
    A.POST_APPROVE: "approve posts and series (never ones they wrote or edited)",
    A.CHARTER_READ: "read the editorial charter (and its YAML export)",
    A.CHARTER_EDIT: "change the charter, its YAML and the election dates",
    A.SAVED_REPLY_USE: "use saved replies",
    A.SAVED_REPLY_EDIT: "write and retire saved replies",
    A.SIGNATURE_SET: "choose agents' signatures and their needs-approval flag",
    A.USERS_MANAGE: "create and deactivate accounts, reset passwords",
    A.ROLES_CHANGE: "change roles",
    A.CONNECTORS_MANAGE: "configure the platform connections",
    A.SYNC_REQUEST: "ask the worker for an immediate sync",
    A.AUDIT_READ: "read the audit trail and the legal archive, verify them, countersign the chain head",
    A.AUDIT_EXPORT: "export the audit trail and the archive, build the archival transfer package",
    A.RGPD_ANSWER: "answer residents' access and erasure requests",
    A.LEGAL_HOLD: "set and lift legal holds",
    A.MODERATION_READ: "see the moderation queue and its decisions",
    A.MODERATE: "hide, delete, ban (not an elected official), spam, escalate, mark authors",
    A.MODERATE_CONFIRM: "hide, delete or ban an elected official's message; confirm or refuse such requests",
    A.UNMARK_ELECTED: "take the elected-official mark off an author",
    A.AUTOMATION_MANAGE: "write, try and switch on or off the automation rules (a hiding rule: only with moderation)",
    A.PRIVATE_READ: "read private messages (Messenger, Instagram Direct, Mastodon direct, Bluesky chat), their "
                    "counts by author and the archived private answers; answering also needs reply.compose",
}
_COLUMNS = (Role.COMMUNITY_MANAGER, Role.DIRECTOR, Role.LEGAL, Role.ADMIN)
_LEGAL_ONLY = frozenset(a for a in Action if [r for r in MATRIX if a in MATRIX[r]] == [Role.LEGAL])


def can(agent: Agent, action: Action) -> bool:
    """True if ``agent`` (active) may perform ``action``."""
    return agent.active and action in MATRIX.get(agent.role, frozenset())


def require(agent: Agent, action: Action) -> None:
    """Raise PermissionDenied (reason ``account_deactivated`` or ``role_forbids``) unless ``agent`` may perform
    ``action``; the French sentence names the role and the action (console/messages)."""
    if not agent.active:
        raise PermissionDenied(reason="account_deactivated", email=agent.email)
    if action not in MATRIX.get(agent.role, frozenset()):
        raise PermissionDenied(reason="legal_only" if action in _LEGAL_ONLY else "role_forbids",
                               role=str(agent.role), action=str(action), email=agent.email)


def require_actor(actor: Agent | str, action: Action) -> None:
    """:func:`require` for services the worker and the CLI also call with a system name (``system:cli``): such
    an actor is whoever runs the server's commands, who holds the database file anyway (docs/security.md)."""
    if isinstance(actor, Agent):
        require(actor, action)
    elif not actor.startswith(SYSTEM_PREFIX):
        raise PermissionDenied(f"unknown actor {actor!r}", reason="actor_unknown", actor=actor)


def owns_or_may(agent: Agent, owner_id: int, action: Action) -> bool:
    """True if ``agent`` is ``owner_id`` or may ``action`` on what others own (``POST_EDIT_ANY``...)."""
    return agent.id == owner_id or can(agent, action)


# The refusal of :func:`require_owner_or`, per action that lets one act on what others wrote.
_OWNER_REASONS = {Action.REPLY_APPROVE: "reply_author_or_director_only",
                  Action.POST_EDIT_ANY: "post_author_or_director_only"}


def require_owner_or(agent: Agent, owner_id: int, action: Action, *, base: Action) -> None:
    """``base`` is required; on something ``owner_id`` wrote, ``action`` too unless ``agent`` is its author
    (``action`` is one of :data:`_OWNER_REASONS`)."""
    require(agent, base)
    if agent.id != owner_id and not can(agent, action):
        raise PermissionDenied(f"{agent.email} may not act on what someone else wrote ({action})",
                               reason=_OWNER_REASONS[action], role=str(agent.role), email=agent.email)


def matrix_table() -> str:
    """The role matrix as the Markdown table of docs/security.md (``x``: allowed)."""
    head = "| Action | What it allows | " + " | ".join(str(r) for r in _COLUMNS) + " |"
    rule = "|---|---|" + "---|" * len(_COLUMNS)
    rows = [f"| `{a}` | {DESCRIPTIONS[a]} | " + " | ".join("x" if a in MATRIX[r] else "" for r in _COLUMNS) + " |"
            for a in Action]
    return "\n".join([head, rule, *rows])
