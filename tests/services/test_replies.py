"""Reply workflow end to end against an in-memory connector: sign, check, submit, approve, send, audit."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from core import audit, repo
from core.errors import CharterBlocked, PermissionDenied, RateLimited, Unavailable, WorkflowError
from core.models import DraftState, Mention, Published, Status
from editorial.charter import Election
from editorial.charter_yaml import default_charter
from services.accounts import users
from services.editorial import charter as charters
from services.inbox import replies
from services.publishing import approvals, reply_sending
from tests.french import raises_fr


class FakeConnector:
    """Records what it "sends"; can be told to fail once."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.fail_next = False

    def reply(self, mention: Mention, text: str) -> Published:
        if self.fail_next:
            error = self.fail_next if isinstance(self.fail_next, Exception) else Unavailable("timeout")
            self.fail_next = False
            raise error
        self.sent.append((mention.uid, text))
        n = len(self.sent)
        return Published(platform_id=f"r{n}", permalink=f"https://x.com/valmont/status/r{n}")


@pytest.fixture
def connector():
    return FakeConnector()


@pytest.fixture
def mention(db, now, mention_factory):
    m = mention_factory("Les poubelles ne sont pas ramassées rue Hoche", author="camille")
    repo.upsert_mentions(db, [m], now=now)
    return m


@pytest.fixture
def risky(db, now, mention_factory):
    m = mention_factory("Vous êtes des incapables, je vais venir à la mairie", author="dom")
    repo.upsert_mentions(db, [m], now=now, scores=[repo.Scores(risk_score=0.9)])
    return m


CLEAN = "Bonjour, merci pour votre signalement : la collecte passe demain matin rue Hoche."


def test_compose_signs_and_checks(db, agents, now, mention):
    composed = replies.compose(db, agents["julie"], body=CLEAN + "  ", platform=mention.platform, now=now,
                               mention_uid=mention.uid)
    assert composed.signed_text == CLEAN + "\n— Julie" and composed.body == CLEAN
    assert not composed.blocked and not composed.needs_approval
    karim = replies.compose(db, agents["karim"], body=CLEAN, platform=mention.platform, now=now)
    assert karim.signed_text.endswith(" ^KB")


def test_direct_send_records_exact_text_platform_id_permalink(db, agents, now, mention, connector):
    draft = replies.create_draft(db, agents["julie"], mention_uid=mention.uid, body=CLEAN, now=now)
    sent = replies.send(db, agents["julie"], draft.id, connector, now=now)
    assert sent.state is DraftState.SENT and sent.platform_post_id == "r1"
    assert connector.sent == [(mention.uid, CLEAN + "\n— Julie")]
    rows = audit.events_for(db, mention.uid)
    assert [r["event"] for r in rows] == ["reply-drafted", "reply-sending", "reply-sent", "status-changed"]
    props = rows[2]["properties"]
    assert props["text"] == CLEAN + "\n— Julie" and props["platform_id"] == "r1" and props["via"] == "api"
    assert props["permalink"] == "https://x.com/valmont/status/r1"
    assert repo.get_item(db, mention.uid).status is Status.ANSWERED
    assert audit.verify_chain(db).ok


def test_charter_block_then_fix_then_approval_then_send(db, agents, now, mention, connector):
    julie, sophie = agents["julie"], agents["sophie"]
    draft = replies.create_draft(db, julie, mention_uid=mention.uid, body="C'est n'importe quoi, voyez bit.ly/x",
                                 now=now)
    assert {f["code"] for f in draft.charter_result} >= {"banned_term", "link_not_allowed"}
    with raises_fr(CharterBlocked, "La charte bloque") as blocked:
        replies.submit(db, julie, draft.id, now=now)
    assert blocked.value.code == "charter_blocked" and blocked.value.findings
    assert repo.get_draft(db, draft.id).state is DraftState.DRAFT
    with pytest.raises(CharterBlocked):
        replies.send(db, julie, draft.id, connector, now=now)
    fixed = replies.edit(db, julie, draft.id, body="Malheureusement la collecte a du retard : elle passe demain.",
                         now=now)
    assert fixed.approval_reasons == ("charter_warnings",) and fixed.needs_approval
    with raises_fr(WorkflowError, "validé par la direction"):
        replies.send(db, julie, draft.id, connector, now=now)
    submitted = replies.submit(db, julie, draft.id, now=now)
    assert submitted.state is DraftState.SUBMITTED
    approved = replies.approve(db, sophie, draft.id, now=now, seen_text=submitted.signed_text)
    assert approved.state is DraftState.APPROVED and approved.approver_id == sophie.id
    sent = replies.send(db, julie, draft.id, connector, now=now)
    assert sent.state is DraftState.SENT and connector.sent[0][1].endswith("\n— Julie")
    names = [r["event"] for r in audit.events_for(db, mention.uid)]
    assert names == ["reply-drafted", "reply-blocked", "reply-drafted", "reply-submitted", "reply-approved",
                     "reply-sending", "reply-sent", "status-changed"]


def test_high_risk_mention_needs_approval_and_author_cannot_approve(db, agents, now, risky, connector):
    sophie = agents["sophie"]
    draft = replies.create_draft(db, sophie, mention_uid=risky.uid, body=CLEAN, now=now)
    assert draft.approval_reasons == ("risk",)
    replies.submit(db, sophie, draft.id, now=now)
    with raises_fr(WorkflowError, "quatre yeux"):
        replies.approve(db, sophie, draft.id, now=now)
    with pytest.raises(PermissionDenied):
        replies.approve(db, agents["karim"], draft.id, now=now)
    other = users.create_agent(db, None, email="dir2@valmont.fr", name="Paul Roy", role=sophie.role, now=now)
    assert replies.approve(db, other, draft.id, now=now).state is DraftState.APPROVED


def test_request_changes_then_resubmit(db, agents, now, risky):
    julie, sophie = agents["julie"], agents["sophie"]
    draft = replies.create_draft(db, julie, mention_uid=risky.uid, body=CLEAN, now=now)
    replies.submit(db, julie, draft.id, now=now)
    with raises_fr(WorkflowError, "commentaire"):
        replies.request_changes(db, sophie, draft.id, comment="", now=now)
    back = replies.request_changes(db, sophie, draft.id, comment="Ajoutez le lien vers la page propreté", now=now)
    assert back.state is DraftState.CHANGES_REQUESTED and back.comment.startswith("Ajoutez")
    with raises_fr(PermissionDenied, "Seul l'auteur"):
        replies.edit(db, agents["karim"], draft.id, body="x", now=now)
    replies.edit(db, julie, draft.id, body=CLEAN + " Infos : https://www.valmont.fr/proprete", now=now)
    assert replies.submit(db, julie, draft.id, now=now).state is DraftState.SUBMITTED


def test_editing_an_approved_reply_sends_it_back_with_a_diff(db, agents, now, risky):
    julie, sophie = agents["julie"], agents["sophie"]
    draft = replies.create_draft(db, julie, mention_uid=risky.uid, body=CLEAN, now=now)
    replies.submit(db, julie, draft.id, now=now)
    replies.approve(db, sophie, draft.id, now=now)
    edited = replies.edit(db, julie, draft.id, body=CLEAN.replace("demain", "lundi"), now=now)
    assert edited.state is DraftState.SUBMITTED and edited.approver_id is None
    (item,) = approvals.queue(db, sophie)
    assert item.draft.id == draft.id and item.item.risk_score == 0.9 and item.author.id == julie.id
    assert any(line.startswith("-") and "demain" in line for line in item.diff)
    assert any(line.startswith("+") and "lundi" in line for line in item.diff)
    with raises_fr(WorkflowError, "a changé"):
        replies.approve(db, sophie, draft.id, now=now, seen_text=CLEAN)
    assert "reply-edited" in [r["event"] for r in audit.events_for(db, risky.uid)]


def test_approval_after_the_scheduled_time_waits_for_a_new_time(db, agents, now, risky, connector):
    julie, sophie = agents["julie"], agents["sophie"]
    draft = replies.create_draft(db, julie, mention_uid=risky.uid, body=CLEAN, now=now,
                                 scheduled_at=now + timedelta(hours=1))
    replies.submit(db, julie, draft.id, now=now)
    late = replies.approve(db, sophie, draft.id, now=now + timedelta(hours=2))
    assert late.state is DraftState.APPROVED and late.scheduled_at is None
    assert approvals.publish_due(db, {risky.platform: connector}, now=now + timedelta(hours=3)) == []
    assert connector.sent == []
    rescheduled = replies.schedule(db, julie, draft.id, at=now + timedelta(hours=4), now=now + timedelta(hours=3))
    assert rescheduled.state is DraftState.SCHEDULED
    results = approvals.publish_due(db, {risky.platform: connector}, now=now + timedelta(hours=4))
    assert [r.ok for r in results] == [True] and len(connector.sent) == 1


def test_approval_before_the_scheduled_time_schedules_it(db, agents, now, risky, connector):
    draft = replies.create_draft(db, agents["julie"], mention_uid=risky.uid, body=CLEAN, now=now,
                                 scheduled_at=now + timedelta(hours=1))
    replies.submit(db, agents["julie"], draft.id, now=now)
    assert replies.approve(db, agents["sophie"], draft.id, now=now).state is DraftState.SCHEDULED
    assert approvals.publish_due(db, {risky.platform: connector}, now=now + timedelta(minutes=59)) == []
    due = approvals.publish_due(db, {risky.platform: connector}, now=now + timedelta(hours=1))
    assert [r.ok for r in due] == [True]


def test_an_uncertain_failure_is_never_sent_again_blindly(db, agents, now, mention, connector):
    draft = replies.create_draft(db, agents["julie"], mention_uid=mention.uid, body=CLEAN, now=now)
    connector.fail_next = True  # a timeout: the reply may be on the platform, and this one cannot be searched
    with pytest.raises(Unavailable):
        replies.send(db, agents["julie"], draft.id, connector, now=now)
    assert repo.get_draft(db, draft.id).state is DraftState.TO_VERIFY
    with raises_fr(WorkflowError, "incertain"):
        replies.send(db, agents["julie"], draft.id, connector, now=now)
    assert connector.sent == []
    assert "reply-to-verify" in [r["event"] for r in audit.events_for(db, mention.uid)]
    # the person looked: it is not there -> failed, and it may be sent again
    assert reply_sending.verify(db, agents["julie"], draft.id, published=False, now=now).state is DraftState.FAILED
    assert replies.send(db, agents["julie"], draft.id, connector, now=now).state is DraftState.SENT
    assert len(connector.sent) == 1


def test_a_reply_left_to_verify_that_is_on_the_platform_is_recorded_with_its_link(db, agents, now, mention,
                                                                                   connector):
    draft = replies.create_draft(db, agents["julie"], mention_uid=mention.uid, body=CLEAN, now=now)
    connector.fail_next = True
    with pytest.raises(Unavailable):
        replies.send(db, agents["julie"], draft.id, connector, now=now)
    with pytest.raises(PermissionDenied):
        reply_sending.verify(db, agents["karim"], draft.id, published=True, link="https://x.com/v/status/9", now=now)
    done = reply_sending.verify(db, agents["julie"], draft.id, published=True, link="https://x.com/v/status/9",
                                now=now)
    assert done.state is DraftState.SENT and done.platform_post_id == "9"
    sent = [r for r in audit.events_for(db, mention.uid) if r["event"] == "reply-sent"]
    assert [e["properties"]["via"] for e in sent] == ["person"]
    assert repo.get_item(db, mention.uid).status is Status.ANSWERED


def test_a_rate_limited_send_certainly_did_not_go_out_and_can_be_sent_again(db, agents, now, mention, connector):
    draft = replies.create_draft(db, agents["julie"], mention_uid=mention.uid, body=CLEAN, now=now)
    connector.fail_next = RateLimited("429 too many requests")
    with pytest.raises(RateLimited):
        replies.send(db, agents["julie"], draft.id, connector, now=now)
    assert repo.get_draft(db, draft.id).state is DraftState.FAILED
    assert "reply-failed" in [r["event"] for r in audit.events_for(db, mention.uid)]
    assert replies.send(db, agents["julie"], draft.id, connector, now=now).state is DraftState.SENT


def test_agent_flag_and_reserve_require_approval_and_eve_blackout_blocks(db, agents, now, mention, connector):
    users.update_profile(db, agents["sophie"], agents["karim"].id, needs_approval=True, now=now)
    karim = repo.get_agent(db, agents["karim"].id)
    assert replies.compose(db, karim, body=CLEAN, platform=mention.platform, now=now).reasons == ("agent",)
    ballot = (now + timedelta(days=30)).date()
    reserve = replace(default_charter().reserve, elections=(Election(name="Partielle", rounds=(ballot,)),))
    charters.save(db, agents["sophie"], replace(default_charter(), reserve=reserve), now=now)
    julie = agents["julie"]
    text = "Le bilan de la collecte est excellent."
    draft = replies.create_draft(db, julie, mention_uid=mention.uid, body=text, now=now,
                                 scheduled_at=now + timedelta(days=29, hours=2))
    assert set(draft.approval_reasons) == {"charter_warnings", "reserve"}
    replies.submit(db, julie, draft.id, now=now)
    assert replies.approve(db, agents["sophie"], draft.id, now=now).state is DraftState.SCHEDULED
    results = approvals.publish_due(db, {mention.platform: connector}, now=now + timedelta(days=29, hours=2))
    assert [(r.ok, r.error_code) for r in results] == [(False, "charter_blocked")]
    assert connector.sent == []
    assert "reply-blocked" in [r["event"] for r in audit.events_for(db, mention.uid)]
    assert repo.get_draft(db, draft.id).state is DraftState.FAILED  # not retried on every worker pass
    assert approvals.publish_due(db, {mention.platform: connector}, now=now + timedelta(days=29, hours=3)) == []


def test_cancel_and_permissions_of_others(db, agents, now, mention):
    draft = replies.create_draft(db, agents["julie"], mention_uid=mention.uid, body=CLEAN, now=now)
    with pytest.raises(PermissionDenied):
        replies.cancel(db, agents["karim"], draft.id, now=now)
    assert replies.cancel(db, agents["sophie"], draft.id, now=now).state is DraftState.CANCELLED
    with raises_fr(WorkflowError, "Impossible de"):
        replies.submit(db, agents["julie"], draft.id, now=now)
