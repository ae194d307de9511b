"""Invitation and reset codes, and the first administrator created with the server log's setup code."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from argon2 import PasswordHasher

from core import audit, repo
from core.errors import AuthError, PermissionDenied, TooManyAttempts, ValidationError
from core.models import Role
from services.accounts import auth, codes, users

POLICY = auth.AuthPolicy(hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
NEW = "un mot de passe tout neuf"


@pytest.fixture(autouse=True)
def _fresh_setup_code(monkeypatch):
    monkeypatch.setattr(codes, "_SETUP", codes._Setup())


def test_an_invitation_code_lets_the_agent_choose_a_password_once(db, agents, now):
    admin, julie = agents["admin"], agents["julie"]
    code = codes.issue_code(db, admin, julie.id, purpose="invite", now=now)
    assert len(code) == 14 and code not in str(list(db.query("SELECT * FROM account_codes")))
    assert codes.pending_codes(db, now=now) == {julie.id: "invite"}
    codes.redeem_code(db, "julie@valmont.fr", code.lower().replace("-", ""), NEW, now=now, policy=POLICY)
    assert auth.sign_in(db, "julie@valmont.fr", NEW, now=now, policy=POLICY).agent.id == julie.id
    assert codes.pending_codes(db, now=now) == {}
    with pytest.raises(AuthError):  # once
        codes.redeem_code(db, "julie@valmont.fr", code, NEW + "!", now=now, policy=POLICY)
    names = audit.event_names(db)
    assert "account-code-issued" in names and "password-changed" in names


def test_codes_are_refused_for_another_agent_when_expired_or_replaced(db, agents, now):
    admin, julie = agents["admin"], agents["julie"]
    policy = auth.AuthPolicy(hasher=POLICY.hasher, free_attempts=10)
    first = codes.issue_code(db, admin, julie.id, purpose="reset", now=now)
    second = codes.issue_code(db, admin, julie.id, purpose="reset", now=now)
    with pytest.raises(AuthError, match="bad_account_code"):
        codes.redeem_code(db, "julie@valmont.fr", first, NEW, now=now, policy=policy)
    with pytest.raises(AuthError):
        codes.redeem_code(db, "karim@valmont.fr", second, NEW, now=now, policy=policy)
    with pytest.raises(ValidationError):  # weak password: refused before the code is spent
        codes.redeem_code(db, "julie@valmont.fr", second, "court", now=now, policy=policy)
    codes.redeem_code(db, "julie@valmont.fr", second, NEW, now=now, policy=policy)
    third = codes.issue_code(db, admin, julie.id, purpose="reset", now=now)
    with pytest.raises(AuthError):
        codes.redeem_code(db, "julie@valmont.fr", third, NEW, now=now + codes.CODE_VALIDITY + timedelta(1),
                          policy=policy)


def test_wrong_codes_are_throttled(db, agents, now):
    admin = agents["admin"]
    codes.issue_code(db, admin, agents["julie"].id, purpose="reset", now=now)
    for _ in range(POLICY.free_attempts):
        with pytest.raises(AuthError):
            codes.redeem_code(db, "julie@valmont.fr", "AAAA-BBBB-CCCC", NEW, now=now, policy=POLICY)
    with pytest.raises(TooManyAttempts):
        codes.redeem_code(db, "julie@valmont.fr", "AAAA-BBBB-CCCC", NEW, now=now, policy=POLICY)


def test_only_administrators_issue_codes(db, agents, now):
    for who in ("julie", "sophie", "marc"):
        with pytest.raises(PermissionDenied):
            codes.issue_code(db, agents[who], agents["karim"].id, purpose="reset", now=now)


def test_a_reset_closes_the_agents_sessions(db, agents, now):
    admin = agents["admin"]
    auth.set_password(db, admin, agents["julie"].id, "ancien mot de passe", now=now, policy=POLICY)
    session = auth.sign_in(db, "julie@valmont.fr", "ancien mot de passe", now=now, policy=POLICY)
    code = codes.issue_code(db, admin, agents["julie"].id, purpose="reset", now=now)
    codes.redeem_code(db, "julie@valmont.fr", code, NEW, now=now, policy=POLICY)
    with pytest.raises(AuthError):
        auth.resolve_session(db, session.token, now=now, policy=POLICY)


def test_first_admin_needs_the_code_printed_in_the_log(db, agents, now, caplog):
    assert codes.needs_first_admin(db)  # the admin of the fixture has no password
    with caplog.at_level(logging.WARNING, logger="parvis.accounts"):
        code = codes.setup_code()
    assert code in caplog.text
    with pytest.raises(AuthError, match="bad_setup_code"):
        codes.create_first_admin(db, "NOPE-NOPE-NOPE-NOPE", email="anne@valmont.fr", name="Anne", password=NEW,
                                 now=now, policy=POLICY)
    admin = codes.create_first_admin(db, code, email="anne@valmont.fr", name="Anne Roy", password=NEW, now=now,
                                     policy=POLICY)
    assert admin.role is Role.ADMIN and not codes.needs_first_admin(db)
    assert auth.sign_in(db, "anne@valmont.fr", NEW, now=now, policy=POLICY).agent.id == admin.id
    with pytest.raises(AuthError, match="setup_done"):
        codes.create_first_admin(db, codes.setup_code(), email="x@valmont.fr", name="X", password=NEW, now=now,
                                 policy=POLICY)
    assert repo.get_agent(db, admin.id).email == "anne@valmont.fr"


def test_the_setup_code_changes_after_wrong_tries(db, now):
    code = codes.setup_code()
    for _ in range(codes.SETUP_ATTEMPTS):
        with pytest.raises(AuthError):
            codes.create_first_admin(db, "WRONG", email="a@b.fr", name="A", password=NEW, now=now, policy=POLICY)
    assert codes.setup_code() != code


def test_first_admin_can_be_an_existing_admin_without_password(db, agents, now):
    admin = codes.create_first_admin(db, codes.setup_code(), email="admin@valmont.fr", name="Admin", password=NEW,
                                     now=now, policy=POLICY)
    assert admin.id == agents["admin"].id
    assert len(users.list_agents(db)) == 5
