"""Role matrix: every role tries every editorial action through the real services; refusals are clear."""

from __future__ import annotations

from itertools import product

import pytest

from core.errors import PermissionDenied
from core.models import Agent, Role, SignatureStyle
from editorial.charter_yaml import default_charter
from services.accounts import auth, users
from services.accounts.permissions import MATRIX, Action, can, require
from services.editorial import charter as charters
from services.inbox import replies, saved_replies
from services.publishing import approvals
from tests.french import raises_fr

EXPECTED = {
    Role.COMMUNITY_MANAGER: {"inbox.read", "inbox.triage", "reply.compose", "post.create", "charter.read",
                             "saved_reply.use", "connectors.sync", "moderation.read", "moderation.act",
                             "private.read"},
    Role.DIRECTOR: {"inbox.read", "inbox.triage", "reply.compose", "reply.approve", "post.create", "post.edit_any",
                    "post.approve", "charter.read", "charter.edit", "saved_reply.use", "saved_reply.edit",
                    "signature.set", "connectors.sync", "audit.read", "moderation.read", "moderation.act",
                    "moderation.confirm", "moderation.unmark_elected", "automation.manage", "private.read"},
    Role.LEGAL: {"inbox.read", "charter.read", "audit.read", "audit.export", "rgpd.answer", "legal.hold",
                 "moderation.read", "private.read"},
    Role.ADMIN: {"inbox.read", "charter.read", "users.manage", "roles.change", "connectors.manage",
                 "connectors.sync", "audit.read", "automation.manage"},  # issue #17: automation rules
}


def test_matrix_is_the_documented_one():
    assert {role: {str(a) for a in actions} for role, actions in MATRIX.items()} == EXPECTED


@pytest.mark.parametrize(("role", "action"), sorted(product(Role, Action)))
def test_require_refuses_with_a_french_message(role, action):
    agent = Agent(id=1, email="x@valmont.fr", name="X Y", initials="XY", role=role)
    if str(action) in EXPECTED[role]:
        require(agent, action)
        assert can(agent, action)
    else:
        with raises_fr(PermissionDenied, "Action refusée : le rôle"):
            require(agent, action)


def test_inactive_agents_can_do_nothing():
    agent = Agent(id=1, email="x@valmont.fr", name="X", initials="X", role=Role.DIRECTOR, active=False)
    with raises_fr(PermissionDenied, "désactivé"):
        require(agent, Action.CHARTER_READ)


CALLS = {
    Action.REPLY_COMPOSE: lambda db, a, now: replies.compose(db, a, body="Bonjour", platform="x", now=now),
    Action.REPLY_APPROVE: lambda db, a, now: approvals.queue(db, a),
    Action.CHARTER_EDIT: lambda db, a, now: charters.save(db, a, default_charter(), now=now),
    Action.SAVED_REPLY_EDIT: lambda db, a, now: saved_replies.create(db, a, title="T", body="Bonjour", now=now),
    Action.SAVED_REPLY_USE: lambda db, a, now: saved_replies.list_saved(db, a),
    Action.SIGNATURE_SET: lambda db, a, now: users.update_profile(db, a, 1, signature_style=SignatureStyle.INITIALS,
                                                                   now=now),
    Action.USERS_MANAGE: lambda db, a, now: users.create_agent(db, a, email="new@valmont.fr", name="New One",
                                                               role=Role.LEGAL, now=now),
    Action.ROLES_CHANGE: lambda db, a, now: users.set_role(db, a, 1, Role.DIRECTOR, now=now),
}


@pytest.mark.parametrize(("role", "action"), sorted(product(Role, CALLS)))
def test_services_enforce_the_matrix(db, agents, now, role, action):
    actor = next(a for a in agents.values() if a.role is role)
    if str(action) in EXPECTED[role]:
        CALLS[action](db, actor, now)
    else:
        with raises_fr(PermissionDenied, "Action refusée"):
            CALLS[action](db, actor, now)


def test_only_admins_reset_someone_elses_password(db, agents, now):
    policy = auth.AuthPolicy(hasher=__import__("argon2").PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    with pytest.raises(PermissionDenied):
        auth.set_password(db, agents["sophie"], agents["julie"].id, "un-long-mot-de-passe", now=now, policy=policy)
    auth.set_password(db, agents["julie"], agents["julie"].id, "un-long-mot-de-passe", now=now, policy=policy)
    auth.set_password(db, agents["admin"], agents["julie"].id, "un-autre-mot-de-passe", now=now, policy=policy)
