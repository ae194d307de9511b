"""Issue #15 finding 8: one permission source. The role matrix (services/accounts/permissions.py) is the only one:
before, ``AUDIT_READERS`` let admins and directors export everything, erase residents' data and lift legal holds
set by legal, although the matrix gave exports to legal only; a community manager could take the elected mark off
an author and then ban them without the director; ``replies.edit`` checked neither role nor active account."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from core import repo
from core.config import Settings
from core.errors import PermissionDenied
from core.models import Role
from core.repo.archive import ArchiveFilter
from services.accounts import permissions, users
from services.accounts.permissions import MATRIX, Action
from services.archive import exports, retention, rgpd, transfer
from services.inbox import replies, triage
from services.moderation import actions
from tests.conftest import make_mention
from tests.french import raises_fr

ROOT = Path(__file__).resolve().parents[2]
LEGAL_ONLY = "Réservé au service juridique"


def _export_audit(db, actor, now, tmp_path):
    return exports.export_audit(db, exports.AuditSelection(), tmp_path / "audit", actor=actor, now=now)


def _export_archive(db, actor, now, tmp_path):
    return exports.export_archive(db, ArchiveFilter(), tmp_path / "archive", actor=actor, now=now)


def _transfer(db, actor, now, tmp_path):
    return transfer.transfer_package(db, tmp_path / "transfer", since=None, until=now, actor=actor, now=now,
                                     parties=transfer.TransferParties(archival_agency="FRAD000"))


def _access(db, actor, now, tmp_path):
    return rgpd.access_request(db, "@camille", out_dir=tmp_path, actor=actor, now=now)


def _erase(db, actor, now, tmp_path):
    return rgpd.erasure_request(db, "camille", actor=actor, now=now)


def _hold(db, actor, now, tmp_path):
    return retention.set_hold(db, scope="author", platform="x", key="u-camille", reason="Plainte 2026-118",
                              actor=actor, now=now)


LEGAL_STAFF_ONLY = {"audit export": _export_audit, "archive export": _export_archive, "transfer": _transfer,
                    "rgpd access": _access, "rgpd erasure": _erase, "legal hold": _hold}


@pytest.mark.parametrize("who", ["sophie", "admin"])
@pytest.mark.parametrize("what", sorted(LEGAL_STAFF_ONLY))
def test_admins_and_directors_cannot_export_answer_rgpd_or_hold(db, agents, now, tmp_path, who, what):
    repo.upsert_mentions(db, [make_mention("Bonjour", author="camille")], now=now)
    with raises_fr(PermissionDenied, LEGAL_ONLY):
        LEGAL_STAFF_ONLY[what](db, agents[who], now, tmp_path)
    LEGAL_STAFF_ONLY[what](db, agents["marc"], now, tmp_path)  # legal staff may


@pytest.mark.parametrize("who", ["sophie", "admin"])
def test_a_legal_hold_set_by_legal_is_lifted_by_legal_only(db, agents, now, tmp_path, who):
    hold = _hold(db, agents["marc"], now, tmp_path)
    with raises_fr(PermissionDenied, LEGAL_ONLY):
        retention.lift_hold(db, hold.id, reason="Affaire classée", actor=agents[who], now=now)
    assert [h.id for h in retention.holds(db)] == [hold.id]
    assert not retention.lift_hold(db, hold.id, reason="Affaire classée", actor=agents["marc"], now=now).active


@pytest.mark.parametrize("mark", ["elected", "opposition"])
def test_a_community_manager_cannot_unmark_an_elected_official_then_ban_alone(db, agents, now, tmp_path, mark):
    mention = make_mention("Le maire ment", author="elu-1")
    repo.upsert_mentions(db, [mention], now=now)
    julie, sophie = agents["julie"], agents["sophie"]
    actions.mark_author(db, mention.uid, mark, actor=sophie, now=now)
    with raises_fr(PermissionDenied, "retirer la marque d'élu"):
        actions.mark_author(db, mention.uid, None, actor=julie, now=now)
    actions.mark_author(db, mention.uid, "opposition" if mark == "elected" else "elected", actor=julie, now=now)
    settings = Settings(data_dir=tmp_path, db_path=tmp_path / "p.db", values={})
    outcome = actions.restrict(db, settings, mention.uid, "ban", "insult_defamation", actor=julie, now=now)
    assert not outcome.done and outcome.request_id is not None  # still waits for the director
    actions.mark_author(db, mention.uid, None, actor=sophie, now=now)  # the director may take the mark off


def test_reply_edit_checks_the_role_and_the_active_account(db, agents, now):
    mention = make_mention("Les poubelles ne sont pas ramassées", author="camille")
    repo.upsert_mentions(db, [mention], now=now)
    julie = agents["julie"]
    draft = replies.create_draft(db, julie, mention_uid=mention.uid, body="Merci, nous regardons.", now=now)
    with raises_fr(PermissionDenied, "désactivé"):
        replies.edit(db, replace(julie, active=False), draft.id, body="Texte changé après départ.", now=now)
    moved = users.set_role(db, agents["admin"], julie.id, Role.LEGAL, now=now)  # now in the legal department
    with raises_fr(PermissionDenied, "Action refusée"):
        replies.edit(db, moved, draft.id, body="Texte changé par le service juridique.", now=now)
    assert repo.get_draft(db, draft.id).body == "Merci, nous regardons."


def test_only_those_who_work_the_inbox_are_given_items(db, agents, now):
    mention = make_mention("Bonjour", author="camille")
    repo.upsert_mentions(db, [mention], now=now)
    for who in ("marc", "admin"):
        with raises_fr(Exception, "ne peut pas se voir attribuer"):
            triage.assign(db, mention.uid, agents[who].id, actor=agents["sophie"], now=now)
    assert triage.assign(db, mention.uid, agents["karim"].id, actor=agents["sophie"], now=now).assigned_to


def test_the_matrix_gives_legal_holds_exports_and_rgpd_to_legal_staff_only():
    for action in (Action.AUDIT_EXPORT, Action.RGPD_ANSWER, Action.LEGAL_HOLD):
        assert [r for r in MATRIX if action in MATRIX[r]] == [Role.LEGAL], action
    assert [r for r in MATRIX if Action.UNMARK_ELECTED in MATRIX[r]] == [Role.DIRECTOR]


# ---- no role compared by hand outside the matrix -------------------------------------------------------------

SCANNED = ("services", "console", "core", "editorial", "moderation", "streamlit_app.py")
# The matrix itself, and benchmarks that only create agents.
ALLOWED = {"services/accounts/permissions.py", "console/bench"}
# Role comparisons that grant nothing: keeping one administrator, a role change to the same role, and the
# open-mode sidebar choosing a community manager by default.
NOT_PERMISSIONS = (re.compile(r"Role\.ADMIN.*count_agents"), re.compile(r"^if before\.role is role:$"),
                   re.compile(r"^workers = \[a\.id for a in team if a\.role == \"community_manager\"\]$"))
HAND_CHECK = re.compile(r"\.role\s*(?:is not|is|==|!=|not in|in)\b|\brole\s*(?:==|!=)\s*['\"]|AUDIT_READERS")


def _python_files():
    for name in SCANNED:
        path = ROOT / name
        yield from ([path] if path.is_file() else sorted(path.rglob("*.py")))


def test_no_service_or_page_checks_a_role_by_hand():
    found = []
    for path in _python_files():
        rel = path.relative_to(ROOT).as_posix()
        if any(rel == a or rel.startswith(a + "/") for a in ALLOWED):
            continue
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0].strip()
            if HAND_CHECK.search(code) and not any(p.search(code) for p in NOT_PERMISSIONS):
                found.append(f"{rel}:{lineno}: {line.strip()}")
    assert found == [], "check roles through services.accounts.permissions (can/require), not by hand"


@pytest.mark.parametrize("who", ["sophie", "admin"])
def test_the_audit_page_offers_exports_holds_and_rgpd_to_legal_staff_only(db, db_path, agents, monkeypatch, who):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("PARVIS_DB", str(db_path))
    monkeypatch.setenv("PARVIS_AUTH", "open")  # agents without passwords: open mode by choice (finding 3)
    legal_only = {"export_archive", "export_audit", "hold_set", "rgpd_access", "rgpd_erase"}
    for agent, offered in ((agents[who], set()), (agents["marc"], legal_only)):
        app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=30)
        app.run()
        app.selectbox(key="sidebar_agent").select(agent.id).run()
        app.switch_page("console/ui/pages/audit.py").run()
        assert not app.exception, app.exception
        assert {b.key for b in app.button} & legal_only == offered, agent.email


def test_docs_security_holds_the_matrix_of_the_code():
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    assert permissions.matrix_table() in text, (
        "docs/security.md: paste the output of "
        "python -c 'from services.accounts.permissions import matrix_table; print(matrix_table())'")
