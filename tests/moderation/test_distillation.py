"""Distillation of the fast sentiment model from the e5 head, and the gated English valences (decision 0270)."""

from __future__ import annotations

import hashlib
import json
import zlib
from pathlib import Path

import numpy as np
import pytest

from moderation.features import Lexicon, extract
from moderation.sentiment import OfflineSentiment
from moderation.sentiment_model import LABELS, LinearTextModel
from moderation.train_jobs import (
    DISTIL_LABEL_WEIGHT,
    language_folds,
    sentiment_cv,
    sentiment_lexicon_lists,
    teacher_targets,
    train_sentiment,
)
from moderation.training import Featurized, Params, fit_linear

FR = [("Merci beaucoup, bravo, super travail", "positive"), ("Génial ce parc, j'adore", "positive"),
      ("Nul, honteux, scandaleux", "negative"), ("Toujours en retard, c'est une honte", "negative"),
      ("La mairie ouvre à 9h", "neutral"), ("Conseil municipal jeudi à 18h", "neutral")]
EN = [("Thanks a lot, great job", "positive"), ("I love this park", "positive"),
      ("Awful, a shame, terrible", "negative"), ("Late again, this is bad", "negative"),
      ("The town hall opens at 9", "neutral"), ("Council meeting on Thursday", "neutral")]
PARAMS = Params(C=3.0, min_df=1, vec2_scale=0.0)


class _Bag:
    """A deterministic fake sentence encoder: hashed bag of lowercase words; counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, texts):
        self.calls += 1
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().replace(",", " ").split():
                out[i, zlib.crc32(word.encode()) % 64] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)


def _data(tmp_path: Path, *, val: bool = True) -> Path:
    for lang, rows in (("fr", FR), ("en", EN)):
        folder = tmp_path / "data" / f"xlmt-{lang}"
        folder.mkdir(parents=True)
        lines = [json.dumps({"text": f"{t} {i}", "label": label}, ensure_ascii=False) for i in range(5)
                 for t, label in rows]
        (folder / "train.jsonl").write_text("\n".join(lines), encoding="utf-8")
        if val:
            (folder / "val.jsonl").write_text("\n".join(lines[:6]), encoding="utf-8")
    return tmp_path / "data"


def test_teacher_targets_mix_the_label_and_an_out_of_fold_head():
    labels = [label for _ in range(5) for _, label in FR + EN]
    emb = _Bag()([t for _ in range(5) for t, _ in FR + EN])
    targets = teacher_targets(emb, labels)
    assert targets.shape == (len(labels), len(LABELS))
    assert np.allclose(targets.sum(axis=1), 1.0)
    truth = np.array([LABELS.index(label) for label in labels])
    own = targets[np.arange(len(labels)), truth]
    # the label alone gives DISTIL_LABEL_WEIGHT; the head adds its (never certain) probability
    assert (own > DISTIL_LABEL_WEIGHT).all() and (own < 1.0).all()
    assert np.allclose(teacher_targets(emb, labels, label_weight=1.0), np.eye(3)[truth])


def test_no_row_is_scored_by_a_head_fitted_on_it():
    # random embeddings and labels: a head fitted on a row memorises its label, one that never saw it cannot
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    emb = rng.normal(size=(60, 200))
    labels = [LABELS[i] for i in rng.permutation(np.arange(60) % 3)]
    truth = np.array([LABELS.index(label) for label in labels])
    seen = LogisticRegression(C=3.0, max_iter=5000).fit(emb, labels).predict_proba(emb)[np.arange(60), truth]
    unseen = teacher_targets(emb, labels, label_weight=0.0)[np.arange(60), truth]
    assert seen.mean() > 0.8 and unseen.mean() < 0.5


def test_one_hot_targets_fit_the_same_model():
    rows = [(f"{t} {i}", label) for i in range(3) for t, label in FR + EN]
    lists = sentiment_lexicon_lists()
    feats = Featurized([t for t, _ in rows], Lexicon.from_lists(lists)).feats
    labels = [label for _, label in rows]
    plain = fit_linear(feats, labels, params=PARAMS, lexicon_lists=lists)
    onehot = np.eye(3)[[LABELS.index(label) for label in labels]]
    soft = fit_linear(feats, labels, params=PARAMS, lexicon_lists=lists, targets=onehot)
    assert np.allclose(plain.word_w, soft.word_w, atol=1e-3) and np.allclose(plain.dense_w, soft.dense_w, atol=1e-3)
    with pytest.raises(ValueError, match="targets must have shape"):
        fit_linear(feats, labels, params=PARAMS, lexicon_lists=lists, targets=onehot[:-1])


def test_distilled_training_is_reproducible_and_needs_no_e5_to_predict(tmp_path):
    data = _data(tmp_path)
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    bag = _Bag()
    kwargs = {"use_vectors": False, "use_words": False, "params": PARAMS, "distil": True, "e5": bag}
    report = train_sentiment(data, out=first, e5_cache=tmp_path / "cache", **kwargs)
    assert bag.calls == 1
    train_sentiment(data, out=second, e5_cache=tmp_path / "cache", **kwargs)
    assert bag.calls == 1  # the second run reads the cached embeddings
    assert hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()
    assert report["version"].startswith("offline-sentiment-4+")
    model = LinearTextModel.load(first)
    assert model.meta["distilled"] == {"teacher": "test", "label_weight": DISTIL_LABEL_WEIGHT, "C": 3.0}
    plain = tmp_path / "plain.npz"
    train_sentiment(data, out=plain, **{**kwargs, "distil": False})
    assert first.read_bytes() != plain.read_bytes()
    assert OfflineSentiment(first).predict(["bravo, super travail"])[0].label == "positive"


def test_language_folds_split_each_language_and_leave_feedback_out():
    labels = [label for _ in range(5) for _, label in FR + EN] + ["neutral"]
    groups = [g for _ in range(5) for g in ["fr"] * 6 + ["en"] * 6] + ["feedback"]
    folds = language_folds(labels, groups, scored=("fr", "en"))
    assert folds[-1] == -1
    for lang in ("fr", "en"):
        mine = folds[:-1][np.array(groups[:-1]) == lang]
        assert sorted(np.bincount(mine).tolist()) == [6, 6, 6, 6, 6]


def test_cross_validation_scores_each_language_without_reading_val(tmp_path):
    data = _data(tmp_path, val=False)
    for lang in ("fr", "en"):
        (data / f"xlmt-{lang}" / "val.jsonl").write_text("not json", encoding="utf-8")  # reading it would raise
    report = sentiment_cv(data, variants=("plain", "distil"), use_vectors=False, use_words=False, params=PARAMS,
                          e5=_Bag(), e5_cache=None)
    assert report["rows"] == {"en": 30, "fr": 30}
    for variant in ("plain", "distil"):
        assert set(report[variant]) == {"en", "fr", "en_folds", "fr_folds", "rich", "rich_weights"}
        assert set(report[variant]["rich"]) == {"en", "fr"}
        assert 0.0 <= report[variant]["fr"] <= 1.0 and len(report[variant]["en_folds"]) == 5


def test_gated_english_valences_are_zero_in_french_texts():
    open_ = Lexicon.from_lists(sentiment_lexicon_lists())
    gated = Lexicon.from_lists(sentiment_lexicon_lists(gated=True))
    french = "Le concert était super, bravo à la mairie"  # "super" is an English valence too
    assert extract(french, open_).dense[-3] > 0 and extract(french, open_).dense[-1] == 0.0
    assert extract(french, gated).dense[-3] == 0.0
    english = "I like this park, thanks"
    assert extract(english, gated).dense == extract(english, open_).dense
    assert extract(english, gated).dense[-3] > 0


def test_the_train_command_distils_by_default_and_cv_writes_no_model(monkeypatch, tmp_path):
    from click.testing import CliRunner

    from console.cli import _load_commands, cli
    from moderation import train_jobs

    calls: list[tuple[str, dict]] = []
    monkeypatch.setattr(train_jobs, "train_sentiment", lambda data_dir, **kw: calls.append(("train", kw)) or {})
    monkeypatch.setattr(train_jobs, "sentiment_cv", lambda data_dir, **kw: calls.append(("cv", kw)) or {"ok": 1})
    _load_commands()
    out = tmp_path / "m.npz"
    for args in (["--out", str(out)], ["--no-distil", "--out", str(out)], ["--cv"]):
        result = CliRunner().invoke(cli, ["train", "sentiment", "--data-dir", str(tmp_path), "--json", *args])
        assert result.exit_code == 0, result.output
    assert [(name, kw.get("distil"), kw.get("gated")) for name, kw in calls] == [
        ("train", True, True), ("train", False, True), ("cv", None, True)]


def test_the_rich_tier_fuses_its_own_labels_only_fast_model_not_the_distilled_one(monkeypatch, tmp_path):
    """Decision 0271: the shipped rich tier reads sentiment_rich_base.npz (fitted on labels alone, no gate);
    `train sentiment --rich-base` rebuilds that file."""
    from click.testing import CliRunner

    from console.cli import _load_commands, cli
    from moderation import train_jobs
    from moderation.rich import RICH_BASE_PATH, RichSentiment

    base, ingest = RichSentiment().fast, OfflineSentiment()
    assert base.path == RICH_BASE_PATH and base.path != ingest.path
    assert "distilled" not in base.model.meta and "distilled" in ingest.model.meta
    assert base.version != ingest.version
    calls: list[dict] = []
    monkeypatch.setattr(train_jobs, "train_sentiment", lambda data_dir, **kw: calls.append(kw) or {})
    _load_commands()
    result = CliRunner().invoke(cli, ["train", "sentiment", "--data-dir", str(tmp_path), "--rich-base", "--json"])
    assert result.exit_code == 0, result.output
    assert [(kw["out"], kw["distil"], kw["gated"]) for kw in calls] == [(RICH_BASE_PATH, False, False)]
