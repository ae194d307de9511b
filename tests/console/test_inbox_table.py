"""The inbox list's rows and its keyboard script (issue #17): short columns, no « None », the script allowed by CSP."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

from console import server
from console.ui.inbox import table
from core import repo
from core.models import Status
from tests.conftest import NOW, make_mention


def test_rows_are_short_strings_never_none(db, agents, now):
    m = make_mention("  Bonjour,\n\nla   fontaine fuit  ", pid="r1", author="camille",
                     created_at=now - timedelta(hours=3))
    repo.upsert_mentions(db, [m], now=now)
    repo.set_assignee(db, m.uid, agents["julie"].id, now=now)
    repo.set_status(db, m.uid, Status.ASSIGNED, now=now)
    (row,) = table.rows([repo.get_item(db, m.uid)], list(agents.values()), now)
    assert list(row) == list(table.WIDTHS) == ["Risque", "Message", "Auteur", "Réseau", "État"]
    assert row == {"Risque": "—", "Message": "Bonjour, la fontaine fuit", "Auteur": "@camille", "Réseau": "X",
                   "État": f"Assigné {agents['julie'].initials} · 3 h"}
    assert all(isinstance(v, str) and v and v.lower() not in ("none", "nan", "nat") for v in row.values())


def test_age_is_short():
    assert [table.age(NOW - d, NOW) for d in (timedelta(seconds=20), timedelta(minutes=12), timedelta(hours=5),
                                               timedelta(days=2))] == ["1 min", "12 min", "5 h", "2 j"]
    assert table.age(NOW - timedelta(days=30), NOW) == (NOW - timedelta(days=30)).strftime("%d/%m")


def test_the_keyboard_script_is_allowed_by_its_hash_only():
    digest = base64.b64encode(hashlib.sha256(table.KEYS_SCRIPT.read_bytes()).digest()).decode()
    policy = server.csp()
    script_src = policy.split("script-src")[1].split(";")[0]
    assert f"'sha256-{digest}'" in script_src and "'unsafe-inline'" not in script_src
    assert server.INBOX_KEYS_SCRIPT == table.KEYS_SCRIPT


def test_the_open_message_key_changes_with_the_message_and_is_a_class_name():
    keys = {table.open_message_key(uid) for uid in ("x:1", "x:2", "mastodon:https://m.fr/@a/1")}
    assert len(keys) == 3 and table.open_message_key("x:1") == table.open_message_key("x:1")
    assert all(k.startswith(table.OPEN_KEY_PREFIX) and k.replace("_", "").isalnum() for k in keys)


def test_the_script_brings_the_detail_only_at_the_stacked_widths():
    """The script's media query is the layout's: the detail is under the list below SIDE_BY_SIDE_MIN_PX."""
    script = table.KEYS_SCRIPT.read_text(encoding="utf-8")
    assert f'"(max-width: {table.SIDE_BY_SIDE_MIN_PX - 1}px)"' in script
    assert f"st-key-{table.OPEN_KEY_PREFIX}" in script and f".st-key-{table.HEADING_KEY}" in script
