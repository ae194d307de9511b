"""Typed settings: one declaration, typed areas, clear errors, masked secrets, unknown keys, the README table."""

from __future__ import annotations

import ast
import inspect
import re
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from core import settings_schema as schema
from core.config import Settings, location_env
from core.errors import ConfigError
from core.settings_fields import KINDS
from core.settings_schema import markdown_table

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_MODULES = {"core/config.py", "core/settings_schema.py", "core/settings_platforms.py",
                    "core/settings_fields.py", "core/settings_integrations.py"}
KEY_AT_START = re.compile(r"^PARVIS_[A-Z0-9_]*")


def test_areas_are_typed_with_their_defaults():
    s = Settings.from_values({"PARVIS_PUBLISH_TICK_S": "5", "PARVIS_PUBLISH_GRACE_MIN": "2.5", "PARVIS_DEMO": "off",
                              "PARVIS_X_USER_ID": 42, "PARVIS_PDF_FONT": "~/f.ttf", "PARVIS_SYNC_INTERVAL_S": ""})
    assert s.publish.tick_s == 5 and s.publish.grace_min == 2.5 and s.publish.stale_s == 90.0
    assert s.demo.enabled is False and s.x.user_id == "42" and s.sync.interval_s == 60
    assert s.reports.pdf_font == Path("~/f.ttf").expanduser() and s.x.bearer_token is None
    assert s.publish is s.publish  # converted once, then kept
    assert Settings.from_values({"PARVIS_DEMO": True}).demo.enabled and Settings.from_values().demo.enabled


def test_a_bad_value_names_the_key_and_the_value_and_spares_other_areas():
    s = Settings.from_values({"PARVIS_PUBLISH_TICK_S": "soon", "PARVIS_SENTIMENT_BACKEND": "offline"})
    with pytest.raises(ConfigError, match=r"PARVIS_PUBLISH_TICK_S must be a whole number, got 'soon'"):
        _ = s.publish
    assert s.sentiment.backend == "offline"
    assert s.check() == ["setting PARVIS_PUBLISH_TICK_S must be a whole number, got 'soon'"]
    cases = {"PARVIS_DEMO": ("maybe", "true or false"), "PARVIS_X_CAP_POLICY": ("stop_all", "stop_polling"),
             "PARVIS_X_MONTHLY_CAP_USD": ("-3", "at least 0"), "PARVIS_AUTH": ("ldap", "open, local, sso"),
             "PARVIS_MEDIA_BASE_URL": ("/srv/media", "http"), "PARVIS_FB_LOOKBACK_DAYS": ("une semaine", "number")}
    for key, (value, said) in cases.items():
        problems = Settings.from_values({key: value}).check()
        assert len(problems) == 1 and key in problems[0] and repr(value) in problems[0] and said in problems[0]


def test_choices_are_normalised():
    s = Settings.from_values({"PARVIS_X_CAP_POLICY": " Stop_Writes ", "PARVIS_AUTH": "SSO"})
    assert s.x_budget.cap_policy == "stop_writes" and s.auth.mode == "sso"


def test_dynamic_settings_have_typed_accessors():
    s = Settings.from_values({"PARVIS_SYNC_INTERVAL_S": "30", "PARVIS_SYNC_INTERVAL_X_S": "5",
                              "PARVIS_RETENTION_NOTES_MONTHS": "6", "PARVIS_X_PRICE_CREATE_URL": "0.3",
                              "PARVIS_SYNC_INTERVAL_FACEBOOK_S": "vite"})
    assert s.sync.interval_s_for("x") == 5 and s.sync.interval_s_for("mastodon") == 30
    assert s.retention.months_for("notes") == 6 and s.retention.months_for("scores") == 13
    assert s.x_budget.price_usd("create_url") == 0.3 and s.x_budget.price_usd("create") is None
    with pytest.raises(ConfigError, match="PARVIS_SYNC_INTERVAL_FACEBOOK_S.*'vite'"):
        s.sync.interval_s_for("facebook")
    assert schema.SYNC_INTERVAL.matches("PARVIS_SYNC_INTERVAL_X_S")
    assert not schema.SYNC_INTERVAL.matches("PARVIS_SYNC_INTERVAL_S") and schema.is_known("PARVIS_X_PRICE_MANAGE")


def test_secrets_are_masked_everywhere():
    s = Settings.from_values({"PARVIS_X_BEARER_TOKEN": "bearer-123", "PARVIS_X_USER_ID": "77",
                              "PARVIS_BLUESKY_APP_PASSWORD": "pw-456"})
    shown = repr(s) + repr(s.x) + repr(s.bluesky) + str(s.x)
    assert "bearer-123" not in shown and "pw-456" not in shown and "'77'" in repr(s.x)
    assert "bearer_token=***" in repr(s.x) and "consumer_key=None" in repr(s.x)
    assert s.x.bearer_token == "bearer-123"  # the value itself is a plain string for the client library


def test_from_values_takes_a_lookup_and_derives_the_paths(tmp_path):
    values = {"PARVIS_DATA_DIR": str(tmp_path), "PARVIS_MASTODON_RECHECK_PER_PASS": "3", "OTHER": "x"}
    s = Settings.from_values(values.get)
    assert s.mastodon.recheck_per_pass == 3 and s.data_dir == tmp_path and s.db_path == tmp_path / "parvis.db"
    assert Settings.coerce(s) is s and Settings.from_values(values).values == {
        "PARVIS_DATA_DIR": str(tmp_path), "PARVIS_MASTODON_RECHECK_PER_PASS": "3"}
    assert location_env({"PARVIS_DB": "/d.db"}) == ("", "", "/d.db")
    assert s.child_env() == {"PARVIS_DB": str(tmp_path / "parvis.db")}


def test_unknown_keys_of_the_config_files_are_listed(tmp_path, caplog):
    (tmp_path / "parvis.toml").write_text('sync_interval_x_s = 5\n[x]\nbearer_tokn = "a"\nuser_id = "1"\n')
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text('PARVIS_FOO = "1"\nOTHER_APP_KEY = "2"\n')
    with caplog.at_level("WARNING", logger="parvis.config"):
        s = Settings.load(env={"PARVIS_PAGE_BENCH": "100"}, cwd=tmp_path)
    assert s.unknown_keys == ("PARVIS_FOO", "PARVIS_X_BEARER_TOKN")  # the environment is not checked
    assert "did you mean PARVIS_X_BEARER_TOKEN?" in s.unknown_key_warnings()[1]
    assert "PARVIS_X_BEARER_TOKN" in caplog.text and s.sync.interval_s_for("x") == 5 and s.x.user_id == "1"
    assert Settings.load(env={}, cwd=tmp_path / "none").unknown_keys == ()


def test_the_declaration_is_complete_and_consistent():
    specs = [spec for cls in schema.AREAS for spec in cls.specs()]
    assert len(specs) == len(schema.SPECS), "a key is declared twice"
    assert len({cls.AREA for cls in schema.AREAS}) == len(schema.AREAS)
    kinds = {"int": int, "float": float, "bool": bool, "str": str, "secret": str, "path": Path}
    for spec in specs:
        assert spec.key.startswith("PARVIS_") and spec.kind in KINDS and spec.description, spec.key
        assert spec.default is None or isinstance(spec.default, kinds[spec.kind]), spec.key
        assert not (spec.secret and spec.default), f"{spec.key}: a secret has no default"


def test_every_key_the_docs_and_code_mention_is_declared():
    texts = [ROOT / "README.md", ROOT / "parvis.example.toml", *(ROOT / "docs").rglob("*.md"),
             *(p for pkg in ("core", "connectors", "moderation", "editorial", "services", "console")
               for p in (ROOT / pkg).rglob("*.py"))]
    families = {d.key for d in schema.DYNAMIC} | {"PARVIS_<PLATFORM>_API_BASE"}  # the last: a naming rule
    test_knobs = {"PARVIS_PAGE_BENCH", "PARVIS_PAGE_BENCH_OUT", "PARVIS_PUBLISH_EXAMPLES",  # the suite's, not Parvis's
                  "PARVIS_SCREENSHOTS"}
    mentioned = {m for p in texts for m in re.findall(r"PARVIS_(?:[A-Z0-9_]|<[A-Z]+>)+", p.read_text("utf-8"))}
    undeclared = sorted(k for k in mentioned - test_knobs if not k.endswith("_") and not (
        k in families if "<" in k else schema.is_known(k)))
    assert not undeclared, f"mentioned but not declared in core/settings_schema.py: {undeclared}"
    assert len(mentioned) > 60


def test_domain_defaults_agree_with_the_declaration():
    from connectors.bluesky.connector import DEFAULT_BASE as BLUESKY_BASE
    from connectors.facebook.connector import DEFAULT_BASE as GRAPH_BASE
    from connectors.facebook.connector import DEFAULT_VERSION
    from connectors.mastodon.connector import MastodonConnector
    from connectors.x.connector import DEFAULT_BASE as X_BASE
    from connectors.x.connector import XConnector
    from connectors.x.usage import Billable
    from core.repo.retention import WORKING_CLASSES
    from moderation import crisis, priority
    from services.accounts.auth import AUTH_MODES, AuthPolicy
    from services.archive.retention import RetentionPolicy
    from services.connections.x_budget import POLICIES
    from services.inbox.opening_hours import DEFAULT_HOURS
    from services.publishing.content import PublishPolicy
    from services.reports.dashboard import DashboardConfig

    empty = Settings.from_values({})
    assert PublishPolicy.from_settings(empty) == PublishPolicy()
    assert AuthPolicy.from_settings(empty) == AuthPolicy()
    assert RetentionPolicy.from_settings(empty) == RetentionPolicy()
    assert DashboardConfig.from_settings(empty) == DashboardConfig()
    assert (empty.x.api_base, empty.graph.api_base, empty.graph.api_version, empty.bluesky.base_url) == (
        X_BASE, GRAPH_BASE, DEFAULT_VERSION, BLUESKY_BASE)
    init = inspect.signature(XConnector.__init__).parameters
    assert empty.transport.connector_kwargs() == {k: init[k].default for k in ("retries", "backoff", "timeout")}
    mastodon = inspect.signature(MastodonConnector.__init__).parameters
    assert (empty.mastodon.recheck_days, empty.mastodon.recheck_per_pass) == (
        mastodon["recheck_days"].default, mastodon["recheck_per_pass"].default)
    assert (empty.crisis.multiple, empty.crisis.min_count) == (crisis.DEFAULT_MULTIPLE, crisis.DEFAULT_MIN_COUNT)
    assert empty.inbox.response_target_h == priority.DEFAULT_TARGET_H and empty.inbox.opening_hours == DEFAULT_HOURS
    assert schema.SPECS["PARVIS_AUTH"].choices == AUTH_MODES
    assert schema.SPECS["PARVIS_X_CAP_POLICY"].choices == POLICIES
    assert all(f"`{kind}`" in schema.X_PRICE.description for kind in Billable)
    assert all(f"`{c.upper()}`" in schema.RETENTION_CLASS.description for c in WORKING_CLASSES)
    assert timedelta(seconds=empty.publish.tick_s) == timedelta(seconds=PublishPolicy().tick_s)
    from services.operations.backups import RetentionPolicy as BackupRetention

    assert BackupRetention.from_settings(empty) == BackupRetention()


def test_readme_table_is_the_generated_one():
    from console.commands.settings_cmds import table_in

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert table_in(readme) == markdown_table(), (
        "README.md's settings table differs from core/settings_schema.py: run "
        "`python -m console settings --write README.md` (or paste `python -m console settings --markdown` between "
        "<!-- settings:start --> and <!-- settings:end -->)")


def test_settings_command(tmp_path):
    from console.cli import _load_commands, cli

    _load_commands()
    runner = CliRunner()
    assert runner.invoke(cli, ["settings", "--markdown"]).output == markdown_table()
    result = runner.invoke(cli, ["settings", "--db", str(tmp_path / "p.db")],
                           env={"PARVIS_X_BEARER_TOKEN": "tok-999", "PARVIS_PUBLISH_TICK_S": "soon",
                                "PARVIS_CONFIG": None})
    assert result.exit_code == 0, result.output
    assert "PARVIS_X_BEARER_TOKEN = ***" in result.output and "tok-999" not in result.output
    assert "[publish] unreadable: setting PARVIS_PUBLISH_TICK_S" in result.output
    readme = tmp_path / "R.md"
    readme.write_text("intro\n<!-- settings:start -->\nold\n<!-- settings:end -->\nend\n")
    assert runner.invoke(cli, ["settings", "--write", str(readme)]).exit_code == 0
    assert readme.read_text() == f"intro\n<!-- settings:start -->\n{markdown_table()}<!-- settings:end -->\nend\n"


def _stray_keys(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.JoinedStr):
            first = node.values[0] if node.values else None
            text = first.value if isinstance(first, ast.Constant) else ""
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        if KEY_AT_START.match(text):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {text[:40]!r}")
    return found


def test_no_setting_key_is_spelled_outside_the_settings_modules():
    """Code reads settings through the typed areas; a key is named through its declaration
    (``XSettings.key("user_id")``), never as a ``"PARVIS_..."`` literal (docstrings and prose may mention keys)."""
    files = [p for pkg in ("core", "connectors", "moderation", "editorial", "services", "console")
             for p in (ROOT / pkg).rglob("*.py") if "__pycache__" not in p.parts]
    files.append(ROOT / "streamlit_app.py")
    offenders = [hit for p in files if p.relative_to(ROOT).as_posix() not in SETTINGS_MODULES
                 for hit in _stray_keys(p)]
    assert not offenders, f"setting keys spelled outside core/settings_schema.py: {offenders}"
    assert _stray_keys(ROOT / "core" / "settings_schema.py"), "the check finds nothing: it is broken"


def test_connexions_lists_a_connector_with_a_malformed_value_and_building_it_names_the_value():
    from connectors import registry

    s = Settings.from_values({"PARVIS_FB_PAGE_ID": "1", "PARVIS_FB_PAGE_TOKEN": "t", "PARVIS_DEMO": "0",
                              "PARVIS_FB_LOOKBACK_DAYS": "une semaine"})
    facebook = next(e for e in registry.entries(s) if e.name == "facebook")
    assert facebook.configured and facebook.required == ("PARVIS_FB_PAGE_ID", "PARVIS_FB_PAGE_TOKEN")
    with pytest.raises(ConfigError, match="PARVIS_FB_LOOKBACK_DAYS must be a number, got 'une semaine'"):
        registry.build(s, "facebook")
