"""Sentiment: the shipped offline model, the transformers backend and its fallback, label mapping."""

from __future__ import annotations

import json
import logging

import pytest
from click.testing import CliRunner

from moderation import sentiment as sentiment_mod
from moderation.devmodels import SAMPLE
from moderation.sentiment import LABELS_FR, OfflineSentiment, load_backend
from moderation.sentiment_model import LABELS
from moderation.transformers_backend import TransformersSentiment, map_labels


@pytest.fixture(scope="module")
def offline():
    return OfflineSentiment()


@pytest.mark.parametrize(("text", "label"), [
    ("Merci beaucoup pour votre réactivité, bravo à l'équipe !", "positive"),
    ("C'est une honte, toujours pas de réponse 😡", "negative"),
    ("Pas terrible du tout ce nouveau marché", "negative"),
    ("Thank you so much, great job!", "positive"),
])
def test_offline_model_reads_clear_cases(offline, text, label):
    result = offline.predict([text])[0]
    assert result.label == label
    assert 0.34 < result.confidence <= 1.0
    assert set(result.probabilities) == set(LABELS)
    assert abs(sum(result.probabilities.values()) - 1.0) < 1e-3


def test_offline_batch_equals_one_by_one(offline):
    texts = ["Super initiative !", "Le bus est encore en retard", "La mairie ouvre à 9h", "", "🙂"]
    batch = offline.predict(texts)
    single = [offline.predict([t])[0] for t in texts]
    assert [r.label for r in batch] == [r.label for r in single]
    assert [r.confidence for r in batch] == pytest.approx([r.confidence for r in single], abs=1e-4)


def test_offline_model_version_is_stable(offline):
    assert offline.version.startswith("offline-sentiment-")
    assert LABELS_FR["negative"] == "négatif"


@pytest.mark.parametrize(("id2label", "expected"), [
    ({0: "Negative", 1: "Neutral", 2: "Positive"}, ["negative", "neutral", "positive"]),
    ({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, ["negative", "neutral", "positive"]),
    ({0: "1 star", 1: "2 stars", 2: "3 stars", 3: "4 stars", 4: "5 stars"},
     ["negative", "negative", "neutral", "positive", "positive"]),
    ({0: "NEG", 1: "POS"}, ["negative", "positive"]),
])
def test_label_mapping_from_model_config(id2label, expected):
    assert [map_labels(id2label)[i] for i in sorted(id2label)] == expected


def test_unmappable_labels_are_refused():
    with pytest.raises(ValueError, match="joy"):
        map_labels({0: "joy", 1: "anger"})


def test_missing_model_falls_back_to_offline_and_warns_once(caplog, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(sentiment_mod, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="moderation.sentiment"):
        first = load_backend("transformers", "no-such-org/no-such-model")
        second = load_backend("transformers", "no-such-org/no-such-model")
    assert first.name == second.name == "offline"
    warnings = [r for r in caplog.records if "no-such-org/no-such-model" in r.getMessage()]
    assert len(warnings) == 1
    assert "offline" in warnings[0].getMessage()
    assert first.predict(["Merci !"])[0].label in LABELS


def test_transformers_backend_uses_a_local_model(tiny_model_dir):
    backend = load_backend("transformers", str(tiny_model_dir), batch_size=4)
    assert isinstance(backend, TransformersSentiment)
    assert backend.version == f"transformers:{tiny_model_dir}"
    results = backend.predict([t for t, _ in SAMPLE])
    assert [r.label for r in results] == [label for _, label in SAMPLE]
    assert all(abs(sum(r.probabilities.values()) - 1) < 1e-3 for r in results)


def test_eval_sentiment_command_prints_the_metrics(tmp_path):
    from console.cli import _load_commands, cli

    data = tmp_path / "small.jsonl"
    rows = [{"text": "Merci, bravo !", "label": "positive"}, {"text": "Honteux, nul", "label": "negative"},
            {"text": "La mairie ouvre à 9h", "label": "neutral"}]
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    _load_commands()
    result = CliRunner().invoke(cli, ["eval", "sentiment", "--data", str(data), "--backend", "offline", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["n"] == 3
    assert {"accuracy", "macro_f1", "per_class"} <= set(report)
    assert set(report["per_class"]) == set(LABELS)
    assert set(report["per_class"]["negative"]) >= {"precision", "recall", "f1"}


def test_eval_measures_the_tier_whose_score_the_inbox_shows(tmp_path, monkeypatch):
    """Without --backend, eval measures what agents end up seeing: the rich tier when the worker re-scores."""
    import moderation.measure as measure
    import moderation.rich as rich
    from console.cli import _load_commands, cli

    data = tmp_path / "small.jsonl"
    data.write_text(json.dumps({"text": "Merci", "label": "positive", "toxic": False}), encoding="utf-8")
    asked: list[tuple[str, str]] = []
    monkeypatch.setattr(measure, "eval_sentiment", lambda path, backend, model: asked.append(("s", backend)) or {})
    monkeypatch.setattr(measure, "eval_risk",
                        lambda path, include_trained, backend: asked.append(("r", backend)) or {})
    _load_commands()

    def run(*extra):
        for what in ("sentiment", "risk"):
            result = CliRunner().invoke(cli, ["eval", what, "--data", str(data), "--json", *extra])
            assert result.exit_code == 0, result.output

    monkeypatch.setattr(rich, "rich_available", lambda: True)
    run()
    assert asked == [("s", "rich"), ("r", "rich")]
    monkeypatch.setenv("PARVIS_RESCORE_BATCH", "0")  # re-scoring off: the ingest tier's score stays
    run()
    assert asked[2:] == [("s", "offline"), ("r", "fast")]
    monkeypatch.delenv("PARVIS_RESCORE_BATCH")
    monkeypatch.setenv("PARVIS_SENTIMENT_BACKEND", "transformers")  # a chosen model is never re-scored
    run()
    assert asked[4:] == [("s", "transformers"), ("r", "fast")]
    monkeypatch.setattr(rich, "rich_available", lambda: False)  # tier not installed
    monkeypatch.delenv("PARVIS_SENTIMENT_BACKEND")
    run()
    assert asked[6:] == [("s", "offline"), ("r", "fast")]
