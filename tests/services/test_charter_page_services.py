"""Service helpers behind the charter and approvals pages: version history, a version's YAML, the draft tester,
and the text a director compares a resubmitted reply with."""

from __future__ import annotations

from core.models import Platform
from editorial.charter_yaml import default_charter, dump_yaml
from services.editorial import charter as charters
from services.inbox import replies
from services.publishing import approvals
from tests.conftest import make_mention


def test_history_lists_saved_versions_then_the_default(db, agents, now):
    assert [v["version"] for v in charters.history(db, agents["marc"])] == [0]
    charters.save(db, agents["sophie"], default_charter(), now=now, comment="v1")
    versions = charters.history(db, agents["admin"])
    assert [(v["version"], v["comment"]) for v in versions] == [(1, "v1"), (0, "charte par défaut intégrée")]
    assert charters.version_yaml(db, agents["julie"], 0) == dump_yaml(default_charter())
    assert "version: 1" in charters.version_yaml(db, agents["julie"], 1)


def test_try_text_signs_as_the_viewer_unless_asked_not_to(db, agents, now):
    final, result = charters.try_text(db, agents["karim"], "Bonjour", platform=Platform.X, now=now)
    assert final == "Bonjour ^KB" and not result.findings
    final, result = charters.try_text(db, agents["julie"], "Merci ^KB", platform=Platform.X, now=now)
    assert "signature_mismatch" in result.codes  # another agent's signature is caught, as in the composer
    final, result = charters.try_text(db, agents["marc"], "Bonjour", platform=Platform.X, now=now, signed=False)
    assert final == "Bonjour" and not result.findings  # no signature rule when unsigned


def test_baseline_is_the_previous_differing_submission(db, agents, now):
    from core import repo

    repo.upsert_mentions(db, [make_mention("Horaires ?", pid="b1")], now=now)
    julie = repo.update_agent(db, agents["julie"].id, needs_approval=True)
    draft = replies.submit(db, julie, replies.create_draft(db, julie, mention_uid="x:b1", body="Version A",
                                                           now=now).id, now=now)
    assert approvals.baseline(db, draft) == ("", None)
    replies.request_changes(db, agents["sophie"], draft.id, comment="Plus précis", now=now)
    replies.edit(db, julie, draft.id, body="Version B", now=now)
    draft = replies.submit(db, julie, draft.id, now=now)
    assert approvals.baseline(db, draft) == ("submitted", "Version A\n— Julie")
    draft = replies.approve(db, agents["sophie"], draft.id, now=now)
    draft = replies.edit(db, julie, draft.id, body="Version C", now=now)
    assert approvals.baseline(db, draft) == ("approved", "Version B\n— Julie")
