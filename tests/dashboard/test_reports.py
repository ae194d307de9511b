"""Reports (PDF page by page, HTML, CSV), the public FAQ, and the report/faq/bench commands."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, timedelta

import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from pypdf.generic import ContentStream

from core import repo
from core.db import write_transaction
from core.models import DraftState, Platform
from services.archive.published import archive_published
from services.reports.dashboard import DashboardConfig
from services.reports.faq import build_faq, faq_html, faq_markdown, is_question
from services.reports.weekly import build_report, moderation_actions, render
from tests.dashboard.conftest import NOW, SINCE, UNTIL, add_mention, paris

PHONE = "06 12 34 56 78"
QUESTIONS = ["La piscine est fermée ? rappelez-moi au " + PHONE, "Pourquoi la piscine est fermée depuis lundi ?",
             "piscine fermee encore ce matin ?", "Quand rouvre la piscine fermée ?"]


@pytest.fixture
def reported(city, agents):
    """The dashboard city plus piscine questions answered by the team and one published post."""
    with write_transaction(city):
        for i, text in enumerate(QUESTIONS):
            uid = add_mention(city, text, paris(2026, 4, 9, 10 + i), sentiment="neutral")
            author = repo.get_item(city, uid).mention.author
            body = f"Merci {author.display_name} : la piscine rouvre le 14 avril après la vidange annuelle."
            repo.create_draft(city, mention_uid=uid, author_id=agents["julie"].id, body=body, signed_text=body,
                              platform=Platform.X, state=DraftState.SENT, now=paris(2026, 4, 9, 16))
    archive_published(city, kind="post", platform="facebook", platform_id="p1", text="Fête de la musique : "
                      "programme", author="julie@valmont.fr", published_at=paris(2026, 4, 3, 12),
                      now=paris(2026, 4, 3, 12), payload={"public_metrics": {"like_count": 12}})
    return city


def _report(db):
    return build_report(db, since=SINCE, until=UNTIL, config=DashboardConfig(), now=NOW.astimezone(UTC))


def _ops(page) -> list[bytes]:
    return [op for _operands, op in ContentStream(page.get_contents(), page.pdf).operations]


def test_pdf_report_page_by_page_has_text_and_charts(reported):
    pdf = PdfReader(io.BytesIO(render(_report(reported), "pdf")))
    pages = [p.extract_text() for p in pdf.pages]
    assert len(pages) >= 3
    assert "Rapport d'activité des réseaux sociaux" in pages[0]  # 19 days: neither weekly nor monthly
    assert "du 23/03/2026 au 10/04/2026" in pages[0] and "En bref" in pages[0]
    assert "messages reçus" in pages[0] and "Messages reçus par jour et par canal" in pages[0]
    assert "Tonalité des messages par jour" in pages[1] and "objectif 4 h" in pages[1]
    tables = "\n".join(pages[2:])
    for title in ("Délais de première réponse par agent", "Sujets les plus fréquents", "Publications"):
        assert title in tables
    assert "Julie Martin" in tables and "like_count 12" in tables
    assert PHONE not in "\n".join(pages)
    # charts: filled rectangles (bars) drawn on the chart pages
    assert _ops(pdf.pages[0]).count(b"re") >= 12
    assert _ops(pdf.pages[1]).count(b"re") >= 20
    assert f"page 1/{len(pages)}" in pages[0]


def test_topic_examples_have_personal_data_and_names_removed(db):
    from services.reports.topics import topics_for

    messages = [{"uid": f"x:{i}", "platform": "x", "account": "", "author_handle": f"jdupont{i}",
                 "author_name": "Jean Dupont", "text": f"Piscine fermée ? Jean Dupont, appelez le {PHONE} ou "
                 f"@jdupont{i}", "created_at": "2026-04-09T10:00:00+00:00", "status": "new"} for i in range(3)]
    topic = topics_for(db, None, None, now=NOW, messages=messages)[0]  # type: ignore[arg-type]
    assert topic.examples and all("[téléphone]" in e and "[nom]" in e and "@…" in e for e in topic.examples)
    assert not any(PHONE in e or "Dupont" in e for e in topic.examples)


def test_html_report_is_self_contained_with_charts(reported):
    html = render(_report(reported), "html").decode()
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") == 3 and "<script" not in html
    assert "piscine" in html and PHONE not in html and "Épisodes de crise" in html
    assert 'class="bar"' in html and "objectif 4 h" in html


def test_csv_report_has_every_section(reported):
    rows = [line.split(",") for line in render(_report(reported), "csv").decode().splitlines()]
    assert rows[0] == ["section", "dimension", "metric", "value"]
    assert ["totaux", "", "mentions", "25"] in rows
    assert ["delais_canal", "facebook", "median_h", "6.75"] in rows
    assert ["sentiment", "négatif", "mentions", "15"] in rows
    assert any(r[0] == "sujets" and "piscine" in r[1] for r in rows)
    assert ["publications", "facebook", "post", "2026-04-03T10:00:00.000000+00:00"] in rows


def test_moderation_actions_are_picked_from_audit_events():
    counts = [("mention-hidden", 3), ("author-banned", 1), ("reply-sent", 9), ("mention-escalated", 2)]
    assert [r["event"] for r in moderation_actions(counts)] == ["mention-hidden", "author-banned",
                                                                 "mention-escalated"]


def test_faq_lists_frequent_questions_with_the_team_answer_without_personal_data(reported):
    entries = build_faq(reported, since=SINCE, until=UNTIL, config=DashboardConfig(), now=NOW.astimezone(UTC))
    assert len(entries) == 1
    entry = entries[0]
    assert entry.asked == 5 and "piscine" in entry.question.lower()  # 4 questions + "Horaires piscine ?"
    assert entry.answer.startswith("Merci [nom] : la piscine rouvre le 14 avril")
    md, html = faq_markdown(entries), faq_html(entries)
    assert md.startswith("# Questions fréquentes") and "## " in md
    for text in (md, html):
        assert PHONE not in text and "Camille" not in text
    assert is_question("Comment faire une carte grise") and not is_question("Merci pour tout")


def test_report_faq_and_bench_commands(reported, db_path, tmp_path):
    from console.cli import _load_commands, cli

    _load_commands()
    runner = CliRunner()
    out = tmp_path / "r.csv"
    res = runner.invoke(cli, ["report", "--from", "2026-03-23", "--to", "2026-04-10", "--format", "csv",
                              "--out", str(out), "--db", str(db_path)])
    assert res.exit_code == 0, res.output
    assert "section,dimension,metric,value" in out.read_text(encoding="utf-8")
    res = runner.invoke(cli, ["faq", "--from", "2026-04-01", "--to", "2026-04-10", "--db", str(db_path)])
    assert res.exit_code == 0 and "Questions fréquentes" in res.output and PHONE not in res.output
    res = runner.invoke(cli, ["report", "--from", "2026-04-10", "--to", "2026-04-01", "--db", str(db_path)])
    assert res.exit_code != 0
    res = runner.invoke(cli, ["bench", "dashboard", "--mentions", "3000", "--queries", "2", "--no-topics",
                              "--json", "--db", str(tmp_path / "bench" / "b.db")])
    assert res.exit_code == 0, res.output
    result = json.loads(res.output)
    assert result["mentions"] == 3000 and result["p95_ms"] > 0 and result["window_mentions"] > 0
    assert date.fromisoformat("2026-04-10") - timedelta(days=18) == date(2026, 3, 23)
