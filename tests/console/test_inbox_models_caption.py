"""The inbox detail says which models gave a message's scores (decision 0325): « Modèles : sentiment …, risque … »."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from console.messages.labels import models_text
from core import repo
from tests.conftest import make_mention

ENTRYPOINT = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
SENTIMENT = "rich-1+dc2a426e+942daf58/offline-sentiment-3+08e5eaaa+60f18ffa"
RISK = "rich-1+dc2a426e+942daf58/offline-toxicity-2+cac9ae7f+a2c545eb"


@pytest.fixture
def app(db_path, db, agents, now, monkeypatch):
    monkeypatch.setenv("PARVIS_DB", str(db_path))
    mentions = [make_mention("Quel scandale ce chantier", pid="m1", author="camille"),
                make_mention("Message d'avant la décision 0325", pid="m2", author="lea"),
                make_mention("Message sans score", pid="m3", author="paul")]
    repo.upsert_mentions(db, mentions, now=now, scores=[
        repo.Scores(sentiment="negative", sentiment_confidence=0.8, priority=5, model_version=SENTIMENT,
                    risk_model_version=RISK),
        repo.Scores(sentiment="neutral", sentiment_confidence=0.6, priority=3, model_version="offline-sentiment-2+ab"),
        repo.Scores(priority=1)])
    return AppTest.from_file(ENTRYPOINT, default_timeout=30)


def _captions(app, uid):
    app.run()
    app.session_state["inbox_selected"] = uid
    app.run()
    assert not app.exception
    return [c.value.replace("\\", "") for c in app.caption]  # md_escape's backslashes: shown as plain text


def test_the_detail_names_the_sentiment_and_the_risk_models(app):
    captions = _captions(app, "x:m1")
    assert f"Modèles : sentiment {SENTIMENT}, risque {RISK}" in captions
    assert any("analyse approfondie" in c for c in captions)  # the rich tier, as before


def test_a_score_stored_before_the_risk_model_was_recorded_says_so(app):
    assert "Modèles : sentiment offline-sentiment-2+ab, risque non enregistré" in _captions(app, "x:m2")


def test_no_caption_without_a_recorded_model(app):
    assert not [c for c in _captions(app, "x:m3") if c.startswith("Modèles")]
    assert models_text(None, None) == ""
