"""`parvis doctor`: a healthy installation passes (exit 0); one planted problem of each kind is reported in French
with what to do (exit 1), and no secret value is ever printed."""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from console.cli import main
from console.commands.doctor import TEXTS
from core import audit, repo
from core.audit.events_inbox import AgentCreated
from core.clock import utcnow
from core.config import Settings
from core.db import open_db, write_transaction
from services.operations import backups, doctor
from tests.fakes.base import serve
from tests.fakes.mastodon_api import FakeMastodonApi

SECRET = "masto-secret-token-value-42"


class _Dated(BaseHTTPRequestHandler):
    """Answers 404 with a Date header ``offset`` from the real time."""

    offset = timedelta(0)

    def do_HEAD(self) -> None:
        self.send_response(404)
        self.end_headers()

    def date_time_string(self, timestamp: float | None = None) -> str:
        return format_datetime(utcnow() + self.offset, usegmt=True)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def time_server() -> Iterator[type[_Dated]]:
    handler = type("Dated", (_Dated,), {"offset": timedelta(0)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}/"  # type: ignore[attr-defined]
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def mastodon() -> Iterator[tuple[FakeMastodonApi, str]]:
    fake = FakeMastodonApi(token=SECRET)
    with serve(fake) as (_, base_url):
        yield fake, base_url


@pytest.fixture
def site(tmp_path, monkeypatch, mastodon):
    """A healthy installation: private data directory and database, a fresh heartbeat, a backup, the Mastodon
    connector with valid credentials, an env file 600, no unknown key."""
    for key in [k for k in os.environ if k.startswith("PARVIS_")]:
        monkeypatch.delenv(key)
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    db_path = data / "parvis.db"
    db = open_db(db_path)
    now = utcnow()
    with write_transaction(db):
        repo.beat(db, "worker", pid=1, started_at=now, now=now)
    db.close()
    db_path.chmod(0o600)
    for extra in (data / "parvis.db-wal", data / "parvis.db-shm"):
        if extra.exists():
            extra.chmod(0o600)
    backups.take_backup(db_path, data / "backups", now=now)
    env_file = tmp_path / "parvis.env"
    env_file.write_text(f"PARVIS_MASTODON_ACCESS_TOKEN={SECRET}\n")
    env_file.chmod(0o600)
    work = tmp_path / "etc"
    work.mkdir()
    monkeypatch.chdir(work)
    _, base_url = mastodon
    for key, value in {"PARVIS_DATA_DIR": str(data), "PARVIS_DEMO": "0", "PARVIS_MASTODON_BASE_URL": base_url,
                       "PARVIS_MASTODON_ACCESS_TOKEN": SECRET}.items():
        monkeypatch.setenv(key, value)
    return SimpleNamespace(data=data, db_path=db_path, env_file=env_file, work=work, base_url=base_url)


def _doctor(capsys, site, time_server, *extra: str) -> tuple[int, str, list[dict]]:
    args = ["doctor", "--env-file", str(site.env_file), "--time-server", time_server.url, *extra]
    code = main(args)
    text = capsys.readouterr().out
    assert main([*args, "--json"]) == code
    found = json.loads(capsys.readouterr().out)
    assert SECRET not in text
    return code, text, found


def _codes(found: list[dict], status: str = doctor.PROBLEM) -> set[str]:
    return {f["code"] for f in found if f["status"] == status}


def test_a_healthy_installation_passes(capsys, site, time_server):
    code, text, found = _doctor(capsys, site, time_server)
    assert code == 0, text
    assert _codes(found) == set()
    assert {"config_ok", "permissions_ok", "disk_ok", "database_ok", "schema_ok", "clock_ok", "connector_ok",
            "worker_ok", "backup_ok"} <= _codes(found, doctor.OK)
    assert "[OK] Connecteur : mastodon : identifiants acceptés (@villedetest@" in text
    assert "Bilan : aucun problème" in text


def test_configuration_problems_name_the_keys_never_the_values(capsys, site, time_server, monkeypatch):
    monkeypatch.setenv("PARVIS_MASTODON_ACESS_TOKEN", SECRET)  # a typo
    monkeypatch.setenv("PARVIS_X_BEARER_TOKEN", "x-bearer-secret-value")  # X half configured
    monkeypatch.setenv("PARVIS_DEMO", "1")
    code, text, found = _doctor(capsys, site, time_server)
    assert code == 1
    assert {"unknown_keys", "connector_incomplete"} <= _codes(found)
    assert "demo_in_service" in _codes(found, doctor.WARNING)
    assert "clés inconnues de Parvis : PARVIS_MASTODON_ACESS_TOKEN" in text
    assert "le connecteur x est configuré à moitié : il manque PARVIS_X_USER_ID" in text
    assert "x-bearer-secret-value" not in text and "→ À faire :" in text


def test_open_permissions_and_readable_secrets_are_problems(capsys, site, time_server):
    site.data.chmod(0o755)
    site.db_path.chmod(0o644)
    (site.work / ".streamlit").mkdir()
    secrets = site.work / ".streamlit" / "secrets.toml"
    secrets.write_text('[auth]\ncookie_secret = "a-long-cookie-secret-value"\n')
    secrets.chmod(0o644)
    site.env_file.chmod(0o640)
    code, text, found = _doctor(capsys, site, time_server)
    assert code == 1
    assert {"data_dir_open", "database_open", "secrets_world_readable"} <= _codes(found)
    assert "env_file_group" in _codes(found, doctor.WARNING)
    assert f"chmod 700 {site.data}" in text and f"chmod 600 {site.db_path}" in text
    assert "a-long-cookie-secret-value" not in text
    (p,) = [f for f in found if f["code"] == "secrets_world_readable"]
    assert p["params"]["path"] == str(secrets) and p["params"]["mode"] == "644"


def test_a_wrong_clock_is_reported_and_offline_is_not_a_failure(capsys, site, time_server):
    time_server.offset = timedelta(minutes=-10)  # the server says 10 minutes earlier: ours is ahead
    code, text, found = _doctor(capsys, site, time_server)
    assert code == 1 and "clock_ahead" in _codes(found)
    assert "avance de 10 min" in text
    time_server.offset = timedelta(0)
    offline = "http://127.0.0.1:9/"  # nothing listens there
    code = main(["doctor", "--env-file", str(site.env_file), "--time-server", offline])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "[NON VÉRIFIÉ] Horloge : l'heure n'a pas pu être comparée" in out


def test_a_clock_behind_the_last_recorded_event_is_a_problem(site):
    db = open_db(site.db_path, migrate=False)
    with write_transaction(db):
        audit.record(db, AgentCreated(actor="cli", role="admin", subject="agent:1", email="a@valmont.fr",
                                      agent_role="admin"), at=utcnow() + timedelta(hours=2))
    db.close()
    settings = Settings.load()
    where = doctor.Environment(env={}, cwd=site.work, fetch_date=lambda url: utcnow(), time_servers=("https://x",))
    found = doctor.check_clock(settings, where, now=utcnow())
    assert [(f.status, f.code) for f in found] == [("ok", "clock_ok"), ("problem", "clock_behind_database")]
    assert found[1].params["skew"] == "2 h"


def test_refused_credentials_are_reported_through_the_connectors_health(capsys, site, time_server, monkeypatch,
                                                                       mastodon):
    monkeypatch.setenv("PARVIS_MASTODON_ACCESS_TOKEN", "a-revoked-token-value")
    code, text, found = _doctor(capsys, site, time_server)
    assert code == 1 and "connector_failed" in _codes(found)
    assert "mastodon : la plateforme refuse les identifiants" in text
    assert "a-revoked-token-value" not in text
    fake, _ = mastodon
    assert fake.calls("/api/v1/accounts/verify_credentials", "GET")  # one harmless authenticated read


def test_a_stopped_worker_and_an_old_backup_are_problems(site):
    settings = Settings.load()
    later = utcnow() + timedelta(days=3)
    (worker,) = doctor.check_worker(settings, now=later)
    assert (worker.status, worker.code, worker.params["age"]) == ("problem", "worker_stale", "3 j")
    (backup,) = doctor.check_backup(settings, now=later)
    assert (backup.status, backup.code) == ("problem", "backup_old")
    for old in (site.data / "backups").iterdir():
        old.unlink()
    (backup,) = doctor.check_backup(settings, now=utcnow())
    assert backup.code == "backup_none"
    db = open_db(site.db_path, migrate=False)
    with write_transaction(db):
        db.execute("DELETE FROM worker_heartbeat")
    db.close()
    assert [f.code for f in doctor.check_worker(settings, now=utcnow())] == ["worker_never"]


def test_a_nearly_full_disk_is_a_problem(site):
    settings = Settings.load()
    where = doctor.Environment(env={}, cwd=site.work, disk_usage=lambda _p: SimpleNamespace(free=20_000_000))
    (disk,) = doctor.check_disk(settings, where)
    assert (disk.status, disk.code, disk.params["free_mb"]) == ("problem", "disk_full", 20)
    where = doctor.Environment(env={}, cwd=site.work, disk_usage=lambda _p: SimpleNamespace(free=500_000_000))
    assert [f.code for f in doctor.check_disk(settings, where)] == ["disk_low"]


def test_a_missing_data_directory_and_an_unreadable_config(capsys, tmp_path, monkeypatch):
    for key in [k for k in os.environ if k.startswith("PARVIS_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PARVIS_DATA_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("PARVIS_DEMO", "0")
    assert main(["doctor", "--json", "--time-server", "http://127.0.0.1:9/"]) == 1
    codes = {f["code"] for f in json.loads(capsys.readouterr().out)}
    assert {"data_dir_missing", "database_missing", "worker_never", "backup_none", "connector_none"} <= codes
    Path("parvis.toml").write_text("not = [valid")
    assert main(["doctor"]) == 1
    assert "[PROBLÈME] Configuration : la configuration ne peut pas être lue" in capsys.readouterr().out


def test_an_old_schema_is_a_problem(site, capsys):
    import sqlite3

    from core.db import schema_version

    conn = sqlite3.connect(site.db_path)
    conn.execute(f"PRAGMA user_version = {schema_version() - 1}")
    conn.close()
    found = doctor.check_database(Settings.load(), now=utcnow())
    assert [(f.status, f.code) for f in found] == [("ok", "database_ok"), ("problem", "schema_old")]
    assert found[1].params == {"found": schema_version() - 1, "expected": schema_version()}


def test_every_code_has_its_french_text():
    source = Path(doctor.__file__).read_text()
    codes = set(re.findall(r'Finding\("\w+", (?:OK|WARNING|PROBLEM|UNKNOWN|[^,]+), "(\w+)"', source))
    codes |= {"database_ok", "database_problem", "schema_ok", "schema_old", "clock_ok", "clock_ahead",
              "clock_behind", "clock_unchecked", "clock_no_server", "worker_ok",
              "worker_stale", "connector_ok", "connector_failed", "config_invalid"}
    assert codes <= set(TEXTS), codes - set(TEXTS)
    assert set(TEXTS) <= codes, set(TEXTS) - codes
