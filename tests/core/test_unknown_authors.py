"""Issue #16: an author the platform did not name is nobody else (decision 0130)."""

from __future__ import annotations

from dataclasses import replace

from connectors.facebook import normalize as fb
from connectors.instagram import normalize as ig
from core import repo
from core.migrations.payloads import m130_unknown_authors
from core.models import Author, Platform
from services.inbox import triage
from tests.conftest import make_mention


def _fb_comment(cid: str, text: str) -> dict:
    return {"id": cid, "message": text, "created_time": "2026-01-05T08:12:00+0000"}  # no ``from``


def _ig_comment(cid: str, text: str, username: str) -> dict:
    return {"id": cid, "text": text, "timestamp": "2026-01-05T08:13:00+0000", "username": username}  # no id


def test_authorless_items_of_two_platforms_never_share_an_author_history(db, now):
    mentions = [fb.comment_to_mention(_fb_comment("1_1", "Le pont est fermé ?"), post_id="1"),
                fb.comment_to_mention(_fb_comment("1_2", "Honte à vous"), post_id="1"),
                ig.comment_to_mention(_ig_comment("171", "Bravo", "camille"), media={"id": "9"}),
                ig.comment_to_mention(_ig_comment("172", "Nul", "marc"), media={"id": "9"})]
    repo.upsert_mentions(db, mentions, now=now)
    ids = {m.author.platform_id for m in mentions}
    assert len(ids) == 4 and not any(m.author.known for m in mentions)
    for m in mentions:
        detail = triage.detail(db, m.uid, now=now)
        assert detail.author_history == []  # no other resident shown as "the author's earlier messages"
    assert mentions[2].author.handle == "camille"  # the username is still shown


def test_legacy_empty_author_ids_get_their_own_id_and_no_history(db, now):
    blank = Author(platform_id="", handle="")
    repo.upsert_mentions(db, [replace(make_mention("un", platform=Platform.FACEBOOK, pid="a"), author=blank),
                              replace(make_mention("deux", platform=Platform.FACEBOOK, pid="b"), author=blank)],
                         now=now)
    assert repo.author_history(db, "facebook", "", exclude_uid="facebook:a") == []
    m130_unknown_authors(db)
    rows = dict(db.execute("SELECT platform_id, author_id FROM mentions WHERE platform = 'facebook'").fetchall())
    assert rows == {"a": "unknown:a", "b": "unknown:b"}


def test_a_known_author_still_has_a_history(db, now):
    repo.upsert_mentions(db, [make_mention("un", platform=Platform.FACEBOOK, pid="a", author="sophie"),
                              make_mention("deux", platform=Platform.FACEBOOK, pid="b", author="sophie")], now=now)
    history = repo.author_history(db, "facebook", "u-sophie", exclude_uid="facebook:a")
    assert [i.mention.platform_id for i in history] == ["b"]
