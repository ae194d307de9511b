"""Issue #15, findings 3 (open mode by accident), 4 (SSO) and 12 (sign-in work and throttling).

Each test here failed on the code before the fix (checked by running this file against that tree). The whole SSO
flow in a real browser against a real OpenID Connect provider is tests/e2e/test_sso_browser.py.
"""

from __future__ import annotations

import statistics
import time
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from console.messages import message_for
from core import audit, repo
from core.config import Settings
from core.errors import AuthError, ConfigError, SessionExpired
from core.models import Role
from services.accounts import auth, open_mode, sso, users
from services.connections.demo import seed_agents
from tests.conftest import NOW

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = str(ROOT / "streamlit_app.py")
ISSUER = "https://sso.valmont.fr/realms/valmont"
PASSWORD = "correct horse battery"
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def _policy(**rules) -> auth.AuthPolicy:
    """The rules given, among those AuthPolicy knows (this file also runs against the tree before the fix, to
    show that its tests fail there on behaviour, not on a keyword)."""
    rules = {"hasher": FAST, "sso_issuers": (ISSUER,), "idle_timeout": timedelta(minutes=30),
             "max_age": timedelta(hours=10), **rules}
    return auth.AuthPolicy(**{k: v for k, v in rules.items() if k in auth.AuthPolicy.__dataclass_fields__})


def _settings(**values: str) -> Settings:
    return Settings.from_values(values)


def _too_many(exc: BaseException) -> bool:
    return "réessayez dans" in message_for(exc)


# ---- finding 3: open mode is explicit, stays on this machine, and shows on every page ------------------------

def test_sso_only_accounts_do_not_open_the_console(db, agents):
    """Five real accounts, none with a password (SSO-only), PARVIS_AUTH unset: sign-in stays required."""
    assert open_mode.auth_mode(db, _settings()) == "local"


def test_deactivating_the_last_password_holder_does_not_open_the_console(db, agents, now):
    users.create_agent(db, None, email="it@valmont.fr", name="It Team", role=Role.ADMIN, password=PASSWORD,
                       now=now, policy=_policy())
    assert open_mode.auth_mode(db, _settings()) == "local"
    it = repo.agent_by_email(db, "it@valmont.fr")
    users.update_profile(db, None, it.id, active=False, now=now)  # the only password holder leaves
    assert repo.count_agents_with_password(db) == 0
    assert open_mode.auth_mode(db, _settings()) == "local"


def test_open_mode_only_when_asked_or_for_the_demo_team_alone(db, now):
    assert open_mode.auth_mode(db, _settings()) == "open"  # a new, empty database: nothing to pick anyway
    seed_agents(db, now=now)
    assert open_mode.auth_mode(db, _settings()) == "open"  # `python -m console demo`
    users.create_agent(db, None, email="julie@valmont.fr", name="Julie Martin", role=Role.COMMUNITY_MANAGER,
                       now=now, policy=_policy())
    assert open_mode.auth_mode(db, _settings()) == "local"  # a real account: sign-in required
    assert open_mode.auth_mode(db, _settings(PARVIS_AUTH="open")) == "open"  # explicit


@pytest.fixture
def demo_db(tmp_path, now):
    from core.db import open_db

    path = tmp_path / "data" / "parvis.db"
    path.parent.mkdir(parents=True)
    db = open_db(path)
    seed_agents(db, now=now)
    db.close()
    return path


def test_up_refuses_to_listen_beyond_loopback_in_open_mode(demo_db, monkeypatch):
    from console.cli import _load_commands, cli

    started: list[object] = []
    monkeypatch.setattr("subprocess.run", lambda *a, **k: started.append(a))
    monkeypatch.setattr("subprocess.Popen", lambda *a, **k: started.append(a))
    monkeypatch.delenv("PARVIS_AUTH", raising=False)
    _load_commands()
    result = CliRunner().invoke(cli, ["up", "--db", str(demo_db), "--address", "0.0.0.0", "--no-worker"])
    assert result.exit_code != 0 and not started
    text = message_for(result.exception) if result.exception else result.output
    assert "Mode ouvert" in text and "127.0.0.1" in text and "0.0.0.0" in text


def test_open_mode_listens_on_loopback_only():
    for address in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"):
        open_mode.check_listen_address("open", address)
    for address in ("0.0.0.0", "::", "", None, "192.168.1.10", "parvis.valmont.fr"):
        with pytest.raises(ConfigError) as refused:
            open_mode.check_listen_address("open", address)
        assert "Mode ouvert" in message_for(refused.value)
        open_mode.check_listen_address("local", address)  # signing in is required: any address
        open_mode.check_listen_address("sso", address)


def test_open_mode_serves_this_machine_only():
    ok = open_mode.open_mode_reachable
    assert ok("127.0.0.1", None, {"Host": "localhost:8501"})
    assert ok(None, None, {"Host": "127.0.0.1:8501"})  # every interface, but this request is local
    assert ok(None, None, {"host": "[::1]:8501"})
    assert not ok("0.0.0.0", None, {"Host": "localhost:8501"})  # `streamlit run --server.address 0.0.0.0`
    assert not ok(None, "192.168.1.20", {"Host": "192.168.1.5:8501"})  # a colleague's browser
    assert not ok(None, None, {"Host": "parvis.valmont.fr"})  # a proxy on this machine, public name
    assert not ok(None, None, {"Host": "localhost:8501", "X-Forwarded-For": "203.0.113.9"})  # a local proxy


def _agents_app(db_path, monkeypatch, **env: str) -> AppTest:
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    monkeypatch.delenv("PARVIS_AUTH", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return AppTest.from_file(ENTRYPOINT, default_timeout=30)


def test_the_app_refuses_open_mode_when_streamlit_listens_on_the_network(db_path, db, agents, monkeypatch):
    from streamlit import config

    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    try:
        app = _agents_app(db_path, monkeypatch, PARVIS_AUTH="open").run()
    finally:
        config.set_option("server.address", before)
    assert not app.exception
    assert any("Mode ouvert" in e.value for e in app.error)
    assert not app.selectbox and not app.title  # no agent picker, no page


def test_the_open_mode_banner_shows_on_every_page(db_path, db, agents, monkeypatch):
    app = _agents_app(db_path, monkeypatch, PARVIS_AUTH="open").run()
    pages = sorted(p.name for p in (ROOT / "console" / "ui" / "pages").glob("*.py")
                   if p.name not in ("__init__.py", "sign_in.py"))
    seen = []
    for who in ("admin", "sophie", "marc"):
        app.selectbox(key="sidebar_agent").select(agents[who].id).run()
        for name in pages:
            try:
                app.switch_page(f"console/ui/pages/{name}").run()
            except (KeyError, ValueError, RuntimeError):  # not in this role's navigation
                continue
            assert not app.exception, name
            assert any("Mode ouvert" in w.value for w in app.warning), f"no open-mode banner on {name}"
            seen.append(name)
    assert set(seen) == set(pages)


def test_a_signed_in_console_shows_no_open_mode_banner(db_path, db, agents, monkeypatch):
    repo.set_agent_credentials(db, agents["julie"].id, password_hash=auth.hash_password(PASSWORD))
    app = _agents_app(db_path, monkeypatch).run()
    app.text_input(key="signin_email").input("julie@valmont.fr")
    app.text_input(key="signin_password").input(PASSWORD)
    app.button[0].click().run()
    assert app.title[0].value == "Boîte de réception"
    assert not any("Mode ouvert" in w.value for w in app.warning)


# ---- finding 4: SSO ---------------------------------------------------------------------------------------------

def _claims(email="sophie@valmont.fr", *, sub="kc-sophie", iss=ISSUER, verified=True, iat=NOW):
    return {"iss": iss, "sub": sub, "email": email, "email_verified": verified, "iat": int(iat.timestamp())}


def _sso(db, now=NOW, policy=None, **claims):
    return sso.sign_in_sso(db, sso.SsoIdentity.from_claims(_claims(**claims)), now=now, policy=policy or _policy())


def test_sso_needs_an_email_the_provider_verified(db, agents):
    for verified in (False, None, "false"):
        with pytest.raises(AuthError) as refused:
            _sso(db, verified=verified)
        assert "n'a pas vérifié" in message_for(refused.value)
    assert repo.sso_binding(db, agents["sophie"].id) is None
    assert _sso(db, verified="true").agent.id == agents["sophie"].id  # some providers send a string


def test_sso_accepts_allowed_issuers_only(db, agents):
    with pytest.raises(AuthError) as refused:
        _sso(db, iss="https://evil.example.org")
    assert "n'est pas autorisé" in message_for(refused.value)
    with pytest.raises(AuthError) as none_allowed:
        _sso(db, policy=auth.AuthPolicy(hasher=FAST))  # PARVIS_SSO_ISSUERS empty: no SSO at all
    assert "PARVIS_SSO_ISSUERS" in message_for(none_allowed.value)
    assert auth.AuthPolicy.from_settings(_settings(PARVIS_SSO_ISSUERS=f"{ISSUER}/, https://b.example")).sso_issuers \
        == (ISSUER, "https://b.example")


def test_sso_binds_the_subject_and_refuses_another_one(db, agents, now):
    first = _sso(db, sub="kc-sophie")
    assert repo.sso_binding(db, agents["sophie"].id) == (ISSUER, "kc-sophie")
    assert "sso-subject-bound" in audit.event_names(db)
    with pytest.raises(AuthError) as refused:  # someone else at the provider got the same (verified) e-mail
        _sso(db, sub="kc-impostor", iat=NOW + timedelta(minutes=1), now=NOW + timedelta(minutes=1))
    assert "déjà lié à une autre identité" in message_for(refused.value)
    # the bound subject signs in even when its e-mail changed at the provider
    again = _sso(db, sub="kc-sophie", email="s.laurent@valmont.fr", iat=NOW + timedelta(minutes=2),
                 now=NOW + timedelta(minutes=2))
    assert again.agent.id == first.agent.id
    sso.unbind_sso(db, None, agents["sophie"].id, now=now)  # the administrator's way out
    assert _sso(db, sub="kc-new", iat=NOW + timedelta(minutes=3), now=NOW + timedelta(minutes=3)).agent.id \
        == agents["sophie"].id


def test_sso_mode_disables_local_passwords_except_the_break_glass_admin(db, agents, now):
    for who in ("julie", "admin"):
        repo.set_agent_credentials(db, agents[who].id, password_hash=FAST.hash(PASSWORD))
    sso_only = _policy(mode="sso")
    with pytest.raises(AuthError):
        auth.sign_in(db, "julie@valmont.fr", PASSWORD, now=now, policy=sso_only)
    with pytest.raises(AuthError):  # break-glass is off by default
        auth.sign_in(db, "admin@valmont.fr", PASSWORD, now=now, policy=sso_only)
    glass = auth.AuthPolicy.from_settings(_settings(PARVIS_AUTH="sso", PARVIS_AUTH_BREAK_GLASS="admin@valmont.fr"))
    glass = auth.AuthPolicy(hasher=FAST, mode=glass.mode, break_glass=glass.break_glass)
    with pytest.raises(AuthError):
        auth.sign_in(db, "julie@valmont.fr", PASSWORD, now=now + timedelta(hours=2), policy=glass)
    session = auth.sign_in(db, "admin@valmont.fr", PASSWORD, now=now + timedelta(hours=2), policy=glass)
    assert session.agent.id == agents["admin"].id
    rows = [r for r in audit.events_for(db, f"agent:{agents['admin'].id}") if r["event"] == "signed-in"]
    assert rows[-1]["properties"] == {"method": "break-glass"}


def test_sso_login_obeys_the_absolute_limit(db, agents):
    _sso(db)
    with pytest.raises(SessionExpired):  # the provider's cookie lives 30 days; Parvis's limit is 10 hours
        _sso(db, now=NOW + timedelta(hours=10, minutes=1))
    fresh = _sso(db, iat=NOW + timedelta(hours=11), now=NOW + timedelta(hours=11))  # a new provider login
    assert fresh.expires_at == NOW + timedelta(hours=21)


def test_sso_login_obeys_the_idle_limit_and_sign_out(db, agents):
    first = _sso(db)  # a tab
    second = _sso(db, now=NOW + timedelta(minutes=10))  # another tab, same provider login: fine
    assert auth.resolve_session(db, second.token, now=NOW + timedelta(minutes=20), policy=_policy())
    with pytest.raises(SessionExpired):  # nothing for 31 minutes: the provider cookie may not reopen it
        _sso(db, now=NOW + timedelta(minutes=51))
    other_login = NOW + timedelta(hours=1)
    third = _sso(db, iat=other_login, now=other_login)
    auth.sign_out(db, third.token, now=other_login)
    with pytest.raises(SessionExpired):  # signed out: a new tab with the same cookie does not sign in again
        _sso(db, iat=other_login, now=other_login + timedelta(minutes=1))
    with pytest.raises(SessionExpired):
        auth.resolve_session(db, first.token, now=NOW + timedelta(minutes=51), policy=_policy())


@pytest.fixture
def example_secrets(tmp_path):
    """Streamlit reads `.streamlit/secrets.toml.example` as its secrets file (``secrets.files``)."""
    from streamlit import config
    from streamlit.runtime.secrets import secrets_singleton

    path = tmp_path / "secrets.toml"
    path.write_text((ROOT / ".streamlit" / "secrets.toml.example").read_text(encoding="utf-8"), encoding="utf-8")
    before = config.get_option("secrets.files")
    config.set_option("secrets.files", [str(path)])
    secrets_singleton._reset()
    yield tomllib.loads(path.read_text(encoding="utf-8"))
    config.set_option("secrets.files", before)
    secrets_singleton._reset()


def test_the_example_secrets_work_with_st_login(db_path, db, agents, monkeypatch, example_secrets):
    app = _agents_app(db_path, monkeypatch).run()
    assert app.title[0].value == "Connexion à Parvis"
    providers = [k for k, v in example_secrets["auth"].items() if isinstance(v, dict)]
    buttons = [b for b in app.button if b.key and b.key.startswith("signin_sso")]
    assert len(buttons) == len(providers) == 3
    for button in buttons:
        button.click().run()
        assert not app.exception, button.key  # st.login(provider) accepted the configuration
    issuers = auth.parse_issuers(example_secrets["PARVIS_SSO_ISSUERS"])
    for name in providers:
        url = example_secrets["auth"][name]["server_metadata_url"]
        assert any(url.startswith(i + "/") for i in issuers), name


def test_streamlit_auth_dependency_is_pinned():
    from importlib.metadata import requires

    import authlib

    pins = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    pinned = [p for p in pins if p.lower().startswith("authlib==")]
    assert pinned == [f"Authlib=={authlib.__version__}"]
    extra = [r for r in requires("streamlit") or [] if r.lower().startswith("authlib") and "auth" in r]
    minimum = extra[0].split(">=")[1].split(";")[0].strip()
    def as_tuple(v):
        return tuple(int(x) for x in v.split(".")[:3])
    assert as_tuple(authlib.__version__) >= as_tuple(minimum)


# ---- finding 12: same work whatever the account, growing delays instead of a lockout ---------------------------

class CountingHasher(PasswordHasher):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.verifies = 0

    def verify(self, hash, password):
        self.verifies += 1
        return super().verify(hash, password)


def test_every_kind_of_account_costs_one_argon2_verification(db, agents, now):
    hasher = CountingHasher(time_cost=1, memory_cost=8, parallelism=1)
    policy = _policy(hasher=hasher, free_attempts=100, address_free_attempts=100)
    for who in ("julie", "karim"):
        repo.set_agent_credentials(db, agents[who].id, password_hash=hasher.hash(PASSWORD))
    users.update_profile(db, None, agents["karim"].id, active=False, now=now)
    for email in ("nobody@valmont.fr", "karim@valmont.fr", "sophie@valmont.fr", "julie@valmont.fr"):
        for password in ("wrong password!", PASSWORD):  # unknown, inactive, SSO-only, active
            before = hasher.verifies
            try:
                auth.sign_in(db, email, password, now=now, policy=policy)
            except AuthError as err:
                assert message_for(err) == "Identifiant ou mot de passe incorrect."
            assert hasher.verifies - before == 1, (email, password)


def test_sign_in_time_does_not_tell_inactive_from_active_accounts(db, agents, now):
    hasher = PasswordHasher(time_cost=2, memory_cost=16384, parallelism=1)  # ~15-30 ms: measurable
    policy = _policy(hasher=hasher, free_attempts=1000, address_free_attempts=1000)
    for who in ("julie", "karim"):
        repo.set_agent_credentials(db, agents[who].id, password_hash=hasher.hash(PASSWORD))
    users.update_profile(db, None, agents["karim"].id, active=False, now=now)

    def median_ms(email: str) -> float:
        times = []
        for _ in range(7):
            start = time.perf_counter()
            with pytest.raises(AuthError):
                auth.sign_in(db, email, "wrong password!", now=now, policy=policy)
            times.append((time.perf_counter() - start) * 1000)
        return statistics.median(times)

    active, inactive, unknown = (median_ms(e) for e in ("julie@valmont.fr", "karim@valmont.fr", "x@valmont.fr"))
    assert inactive > active * 0.5 and unknown > active * 0.5, (active, inactive, unknown)


def test_failures_slow_down_the_account_instead_of_locking_it(db, agents, now):
    repo.set_agent_credentials(db, agents["julie"].id, password_hash=FAST.hash(PASSWORD))
    policy = _policy(free_attempts=3, max_delay=timedelta(minutes=5))
    t = now
    waits = []
    for _ in range(12):  # an attacker guesses as fast as allowed
        wait = auth.throttle_wait(db, "julie@valmont.fr", "203.0.113.9", now=t, policy=policy)
        t += wait
        waits.append(wait.total_seconds())
        with pytest.raises(AuthError):
            auth.sign_in(db, "julie@valmont.fr", "guess", now=t, policy=policy, address="203.0.113.9")
    assert waits[:4] == [0, 0, 0, 1] and waits[4:8] == [2, 4, 8, 16]
    assert max(waits) <= 300  # never longer than PARVIS_AUTH_MAX_DELAY_S
    with pytest.raises(AuthError) as early:  # during the delay: refused, unchecked, with the time to wait
        auth.sign_in(db, "julie@valmont.fr", PASSWORD, now=t, policy=policy, address="198.51.100.7")
    assert _too_many(early.value)
    later = t + auth.throttle_wait(db, "julie@valmont.fr", "198.51.100.7", now=t, policy=policy)
    assert later - t <= timedelta(minutes=5)
    assert auth.sign_in(db, "julie@valmont.fr", PASSWORD, now=later, policy=policy,
                        address="198.51.100.7").agent.id == agents["julie"].id  # no 15-minute lockout
    assert "account-locked" not in audit.event_names(db)


def test_unknown_accounts_are_throttled_like_real_ones(db, agents, now):
    repo.set_agent_credentials(db, agents["julie"].id, password_hash=FAST.hash(PASSWORD))
    policy = _policy(free_attempts=2)
    for email in ("julie@valmont.fr", "nobody@valmont.fr"):
        for _ in range(2):
            with pytest.raises(AuthError):
                auth.sign_in(db, email, "guess", now=now, policy=policy)
        with pytest.raises(AuthError) as third:
            auth.sign_in(db, email, "guess", now=now, policy=policy)
        assert _too_many(third.value), email


def test_one_address_spraying_many_accounts_is_slowed_down(db, agents, now):
    policy = _policy(free_attempts=3, address_free_attempts=4)
    for i in range(4):  # one guess per account: the account counters never grow
        with pytest.raises(AuthError) as err:
            auth.sign_in(db, f"agent{i}@valmont.fr", "Printemps2026!", now=now, policy=policy, address="203.0.113.9")
        assert not _too_many(err.value)
    with pytest.raises(AuthError) as fifth:
        auth.sign_in(db, "agent9@valmont.fr", "Printemps2026!", now=now, policy=policy, address="203.0.113.9")
    assert _too_many(fifth.value)
    with pytest.raises(AuthError) as elsewhere:  # another address is not affected
        auth.sign_in(db, "agent9@valmont.fr", "Printemps2026!", now=now, policy=policy, address="198.51.100.7")
    assert not _too_many(elsewhere.value)


def test_throttle_counters_of_made_up_accounts_do_not_pile_up(db, now):
    policy = _policy()
    for i in range(5):
        with pytest.raises(AuthError):
            auth.sign_in(db, f"made-up-{i}@example.org", "guess", now=now, policy=policy)
    with pytest.raises(AuthError):
        auth.sign_in(db, "another@example.org", "guess", now=now + timedelta(hours=2), policy=policy)
    assert db.execute("SELECT key FROM sign_in_throttle").fetchall() == [("account:another@example.org",)]
