"""`python -m console instagram-mention`: a saved Instagram 'mentions' webhook payload reaches the inbox once."""

from __future__ import annotations

import io
import json

import pytest

from console.cli import main
from core import repo
from core.db import open_db
from tests.fakes import FakeInstagramApi


@pytest.fixture
def env(tmp_path, monkeypatch, httpserver):
    fake = FakeInstagramApi()
    base = fake.install(httpserver)
    monkeypatch.chdir(tmp_path)
    for key, value in {"PARVIS_DATA_DIR": str(tmp_path / "data"), "PARVIS_DEMO": "0",
                       "PARVIS_IG_USER_ID": fake.ig_user_id, "PARVIS_IG_ACCESS_TOKEN": fake.token,
                       "PARVIS_GRAPH_API_BASE": base, "PARVIS_GRAPH_API_VERSION": fake.version,
                       "PARVIS_CONNECTOR_BACKOFF_S": "0"}.items():
        monkeypatch.setenv(key, value)
    (tmp_path / "data").mkdir()
    return fake, tmp_path


def inbox(tmp_path):
    db = open_db(tmp_path / "data" / "parvis.db")
    try:
        return repo.list_inbox(db, repo.InboxQuery(open_only=False, limit=100))
    finally:
        db.close()


def test_a_webhook_payload_is_ingested_once(env, capsys):
    fake, tmp_path = env
    value = fake.add_mention("@villedetest le marché est-il maintenu dimanche ?")
    payload = tmp_path / "hook.json"
    payload.write_text(json.dumps({"object": "instagram", "entry": [{"id": fake.ig_user_id, "time": 1767600000,
                                   "changes": [{"field": "mentions", "value": value}]}]}), "utf-8")
    assert main(["instagram-mention", "--payload", str(payload)]) == 0
    assert "new 1" in capsys.readouterr().out
    assert main(["instagram-mention", "--payload", str(payload)]) == 0  # Meta may deliver a webhook twice
    assert "new 0" in capsys.readouterr().out
    items = inbox(tmp_path)
    assert [(i.mention.platform_id, i.mention.kind, i.mention.text) for i in items] == [
        (value["comment_id"], "mention", "@villedetest le marché est-il maintenu dimanche ?")]


def test_an_unreadable_payload_is_a_clean_error(env, capsys):
    _, tmp_path = env
    (tmp_path / "bad.json").write_text("{not json", "utf-8")
    assert main(["instagram-mention", "--payload", str(tmp_path / "bad.json")]) == 1
    assert "cannot read the webhook payload" in capsys.readouterr().err


def test_a_webhook_payload_can_come_on_standard_input(env, capsys, monkeypatch):
    fake, tmp_path = env
    value = fake.add_mention("@villedetest la piscine ouvre-t-elle à 9 h ?")
    body = json.dumps({"object": "instagram", "entry": [{"id": fake.ig_user_id, "time": 1767600000,
                       "changes": [{"field": "mentions", "value": value}]}]})
    monkeypatch.setattr("sys.stdin", io.StringIO(body))
    assert main(["instagram-mention", "--payload", "-"]) == 0
    assert "new 1" in capsys.readouterr().out
    assert [i.mention.platform_id for i in inbox(tmp_path)] == [value["comment_id"]]
