"""Residents' access and erasure requests: working data erased, the record kept and the reason given."""

from __future__ import annotations

import json

from core import audit, repo
from services.archive import retention, rgpd


def test_access_request_exports_everything_and_is_audited(db, published, agents, tmp_path, now):
    mention, message = published
    repo.add_note(db, mention.uid, agents["julie"].id, "Habitante déjà venue en mairie", now=now)
    result = rgpd.access_request(db, "@Camille", out_dir=tmp_path, actor=agents["marc"], now=now)
    document = json.loads(result.path.read_text(encoding="utf-8"))
    assert [m["text"] for m in document["record"]["messages_received"]] == [mention.text]
    assert document["record"]["city_replies"][0]["text"] == message.text
    assert document["working_data"][0]["notes"][0]["text"] == "Habitante déjà venue en mairie"
    (event,) = audit.select_events(db, events=("rgpd-access",))
    assert result.sha256 in event["properties"] and event["actor"] == "marc@valmont.fr"
    assert rgpd.requests(db)[0]["outcome"] == "answered"


def test_erasure_erases_working_data_and_keeps_the_record(db, published, agents, now):
    mention, message = published
    repo.add_note(db, mention.uid, agents["julie"].id, "Note", now=now)
    result = rgpd.erasure_request(db, "x:u-camille", actor=agents["marc"], now=now)
    assert result.erased["notes"] == 1 and result.held == 0
    assert "17(3)(d)" in result.outcome and "17(3)(d)" in result.kept
    item = repo.get_item(db, mention.uid)
    assert repo.notes_for(db, mention.uid) == [] and item.mention.author.display_name == ""
    assert item.mention.text == mention.text and item.mention.raw  # the message received is kept
    from services.archive import published as archive
    assert archive.history(db, message.id).message.text == message.text  # the city's answer is kept
    (event,) = audit.select_events(db, events=("rgpd-erasure",))
    assert "17(3)(d)" in event["properties"]
    stored = rgpd.requests(db)[0]
    assert stored["kind"] == "erasure" and stored["details"]["erased"]["notes"] == 1


def test_erasure_under_legal_hold_is_partial_and_says_why(db, published, agents, now):
    mention, _ = published
    repo.add_note(db, mention.uid, agents["julie"].id, "Note", now=now)
    retention.hold_mention(db, mention.uid, scope="conversation", reason="Contentieux", actor=agents["marc"], now=now)
    result = rgpd.erasure_request(db, "camille", actor=agents["marc"], now=now)
    assert result.held >= 1 and result.erased["notes"] == 0 and "legal hold" in result.outcome
    assert "17(3)(e)" in result.kept
    assert len(repo.notes_for(db, mention.uid)) == 1


def test_unknown_resident_is_recorded_with_no_data(db, agents, now):
    result = rgpd.erasure_request(db, "@personne", actor=agents["marc"], now=now)
    assert result.authors == [] and "no data" in result.outcome
    assert rgpd.requests(db)[0]["query"] == "@personne"
    assert audit.count_events(db, events=("rgpd-erasure",)) == 1


def test_access_shows_a_ban_and_a_councillor_mark_and_erasure_keeps_them(db, published, agents, tmp_path, now):
    from core.repo import author_bans as author_bans_repo
    from core.repo import author_marks as author_marks_repo

    mention, _ = published
    author_bans_repo.add_ban(db, author_bans_repo.Ban(
        platform="x", author_platform_id="u-camille", handle="camille", mention_uid=mention.uid,
        ground="insult", connector="x", banned_by=agents["sophie"].id, banned_at=now))
    author_marks_repo.set_mark(db, "x", "u-camille", "opposition", handle="camille", agent_id=agents["sophie"].id,
                               now=now)
    result = rgpd.access_request(db, "@camille", out_dir=tmp_path, actor=agents["marc"], now=now)
    (moderation,) = json.loads(result.path.read_text(encoding="utf-8"))["record"]["moderation_of_author"]
    assert moderation["councillor_mark"] == "opposition"
    assert moderation["ban"]["ground"] == "insult" and moderation["ban"]["because_of"] == mention.uid
    erased = rgpd.erasure_request(db, "@camille", actor=agents["marc"], now=now)
    assert "ban" in erased.kept and "L.2121-27-1" in erased.kept
    assert author_bans_repo.ban_of(db, "x", "u-camille") is not None  # lifting it is a moderation act, not erasure
    assert author_marks_repo.mark_of(db, "x", "u-camille") == "opposition"
