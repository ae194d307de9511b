"""Sign-in: argon2 hashes, growing delays after repeated failures, session expiry, SSO mapping, bootstrap, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher

from console.messages import message_for
from core import audit, repo
from core.errors import AuthError, SessionExpired, TooManyAttempts, ValidationError
from core.models import Role
from services.accounts import auth, sso, users
from tests.french import raises_fr

POLICY = auth.AuthPolicy(free_attempts=3, max_delay=timedelta(minutes=5), idle_timeout=timedelta(minutes=30),
                         max_age=timedelta(hours=8), hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
                         sso_issuers=("https://sso.valmont.fr/realms/valmont",))
PASSWORD = "correct horse battery"


@pytest.fixture
def julie(db, now):
    return users.create_agent(db, None, email="julie@valmont.fr", name="Julie Martin", role=Role.COMMUNITY_MANAGER,
                              password=PASSWORD, now=now, policy=POLICY)


def test_password_is_stored_as_argon2id(db, julie):
    stored = repo.agent_credentials(db, "julie@valmont.fr")["password_hash"]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_sign_in_opens_a_session_and_audits(db, julie, now):
    session = auth.sign_in(db, "Julie@Valmont.fr", PASSWORD, now=now, policy=POLICY)
    assert session.agent.id == julie.id and len(session.token) > 30
    assert auth.resolve_session(db, session.token, now=now + timedelta(minutes=5), policy=POLICY).id == julie.id
    assert audit.event_names(db)[-1] == "signed-in"


def test_wrong_password_and_unknown_account_get_the_same_message(db, julie, now):
    with pytest.raises(AuthError) as wrong:
        auth.sign_in(db, "julie@valmont.fr", "nope", now=now, policy=POLICY)
    with pytest.raises(AuthError) as unknown:
        auth.sign_in(db, "nobody@valmont.fr", "nope", now=now, policy=POLICY)
    assert message_for(wrong.value) == message_for(unknown.value) == "Identifiant ou mot de passe incorrect."
    assert str(wrong.value) == str(unknown.value)
    assert audit.event_names(db)[-2:] == ["sign-in-failed", "sign-in-failed"]


def test_repeated_failures_slow_down_the_next_attempt_then_it_goes_through(db, julie, now):
    for _ in range(3):
        with pytest.raises(AuthError):
            auth.sign_in(db, "julie@valmont.fr", "bad", now=now, policy=POLICY)
    with raises_fr(TooManyAttempts, "réessayez dans 1 s"):  # even the right password waits: nothing is checked
        auth.sign_in(db, "julie@valmont.fr", PASSWORD, now=now, policy=POLICY)
    assert "account-locked" not in audit.event_names(db)
    session = auth.sign_in(db, "julie@valmont.fr", PASSWORD, now=now + timedelta(seconds=1), policy=POLICY)
    assert session.agent.id == julie.id
    assert auth.throttle_wait(db, "julie@valmont.fr", None, now=now + timedelta(seconds=1), policy=POLICY) \
        == timedelta(0)


def test_success_resets_the_failure_counter(db, julie, now):
    for _ in range(2):
        with pytest.raises(AuthError):
            auth.sign_in(db, "julie@valmont.fr", "bad", now=now, policy=POLICY)
    auth.sign_in(db, "julie@valmont.fr", PASSWORD, now=now, policy=POLICY)
    with pytest.raises(AuthError):
        auth.sign_in(db, "julie@valmont.fr", "bad", now=now, policy=POLICY)
    assert repo.throttle_state(db, "account:julie@valmont.fr")[0] == 1


def test_session_idle_timeout_and_maximum_age(db, julie, now):
    session = auth.sign_in(db, "julie@valmont.fr", PASSWORD, now=now, policy=POLICY)
    with raises_fr(SessionExpired, "expirée"):
        auth.resolve_session(db, session.token, now=now + timedelta(minutes=31), policy=POLICY)
    active = auth.sign_in(db, "julie@valmont.fr", PASSWORD, now=now, policy=POLICY)
    t = now
    for _ in range(20):  # stays active every 29 minutes... until the 8-hour maximum age
        t += timedelta(minutes=29)
        if t - now >= timedelta(hours=8):
            with pytest.raises(SessionExpired):
                auth.resolve_session(db, active.token, now=t, policy=POLICY)
            break
        auth.resolve_session(db, active.token, now=t, policy=POLICY)
    else:
        pytest.fail("the session never reached its maximum age")


def test_sign_out_and_password_change_close_sessions(db, julie, now):
    s1 = auth.sign_in(db, "julie@valmont.fr", PASSWORD, now=now, policy=POLICY)
    s2 = auth.sign_in(db, "julie@valmont.fr", PASSWORD, now=now, policy=POLICY)
    auth.sign_out(db, s1.token, now=now)
    with pytest.raises(SessionExpired):
        auth.resolve_session(db, s1.token, now=now, policy=POLICY)
    auth.set_password(db, None, julie.id, "another long password", now=now, policy=POLICY)
    with pytest.raises(SessionExpired):
        auth.resolve_session(db, s2.token, now=now, policy=POLICY)
    assert "signed-out" in audit.event_names(db) and "password-changed" in audit.event_names(db)
    with pytest.raises(SessionExpired):
        auth.resolve_session(db, "forged-token", now=now, policy=POLICY)


def test_inactive_accounts_cannot_sign_in(db, julie, now):
    session = auth.sign_in(db, "julie@valmont.fr", PASSWORD, now=now, policy=POLICY)
    users.update_profile(db, None, julie.id, active=False, now=now)
    with pytest.raises(AuthError):
        auth.sign_in(db, "julie@valmont.fr", PASSWORD, now=now, policy=POLICY)
    with pytest.raises(SessionExpired):
        auth.resolve_session(db, session.token, now=now, policy=POLICY)


def _identity(email, now):
    return sso.SsoIdentity(issuer="https://sso.valmont.fr/realms/valmont", subject=f"sub-{email}", email=email,
                            email_verified=True, issued_at=now)


def test_sso_maps_a_verified_email_to_an_existing_agent(db, now):
    agent = users.create_agent(db, None, email="sophie@valmont.fr", name="Sophie Laurent", role=Role.DIRECTOR,
                               password=None, now=now, policy=POLICY)
    session = sso.sign_in_sso(db, _identity("sophie@valmont.fr", now), now=now, policy=POLICY)
    assert session.agent.id == agent.id
    rows = [r for r in audit.events_for(db, f"agent:{agent.id}") if r["event"] == "signed-in"]
    assert rows[-1]["properties"] == {"method": "sso"}
    with raises_fr(AuthError, "demandez à l'administrateur"):
        sso.sign_in_sso(db, _identity("stranger@example.org", now), now=now, policy=POLICY)
    with pytest.raises(AuthError):  # an SSO-only account has no password to guess
        auth.sign_in(db, "sophie@valmont.fr", "", now=now, policy=POLICY)


def test_weak_passwords_are_refused():
    for weak in ("short", "aaaaaaaaaaaaaaaa", " padded password "):
        with pytest.raises(ValidationError):
            auth.check_password_strength(weak)


def test_first_admin_bootstrap_and_last_admin_guard(db, now):
    assert users.needs_bootstrap(db)
    admin = users.create_agent(db, None, email="admin@valmont.fr", name="Admin Parvis", role=Role.ADMIN,
                               password=PASSWORD, now=now, policy=POLICY)
    assert not users.needs_bootstrap(db)
    with raises_fr(ValidationError, "dernier administrateur"):
        users.set_role(db, admin, admin.id, Role.DIRECTOR, now=now)
    other = users.create_agent(db, admin, email="it@valmont.fr", name="It Team", role=Role.LEGAL, now=now,
                               policy=POLICY)
    assert users.set_role(db, admin, other.id, Role.ADMIN, now=now).role is Role.ADMIN
    assert "role-changed" in audit.event_names(db)
