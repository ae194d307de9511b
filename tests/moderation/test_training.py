"""Training rebuilds a loadable model deterministically; the shipped artefacts stay small and pickle-free."""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
from pathlib import Path

from moderation.sentiment import OfflineSentiment
from moderation.sentiment_model import DEFAULT_MODEL_PATH
from moderation.toxicity import DEFAULT_TOXICITY_PATH
from moderation.train_jobs import train_sentiment

ROWS = [("Merci beaucoup, bravo, super travail", "positive"), ("Génial ce parc, j'adore", "positive"),
        ("Nul, honteux, scandaleux", "negative"), ("Toujours en retard, c'est une honte", "negative"),
        ("La mairie ouvre à 9h", "neutral"), ("Conseil municipal jeudi à 18h", "neutral")] * 4


def _data(tmp_path: Path) -> Path:
    folder = tmp_path / "data" / "xlmt-fr"
    folder.mkdir(parents=True)
    (folder / "train.jsonl").write_text(
        "\n".join(json.dumps({"text": t, "label": label}, ensure_ascii=False) for t, label in ROWS), encoding="utf-8")
    return tmp_path / "data"


def test_training_is_reproducible_and_uses_feedback(tmp_path):
    data = _data(tmp_path)
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    report = train_sentiment(data, out=first, use_vectors=False, extra_languages=())
    train_sentiment(data, out=second, use_vectors=False, extra_languages=())
    assert report["train_rows"] == len(ROWS)
    assert hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()
    model = OfflineSentiment(first)
    assert model.predict(["bravo, super"])[0].label == "positive"
    fed = train_sentiment(data, out=tmp_path / "c.npz", use_vectors=False, extra_languages=(),
                          feedback=[("le marché de Noël, bof", "negative")] * 3)
    assert fed["feedback_rows"] == 3 and fed["version"].endswith("-fb3")


def test_shipped_models_are_small_and_load_without_pickles():
    assert DEFAULT_MODEL_PATH.stat().st_size < 4_000_000
    assert DEFAULT_TOXICITY_PATH.stat().st_size < 1_000_000
    import numpy as np

    with np.load(DEFAULT_MODEL_PATH, allow_pickle=False) as data:
        assert "meta" in data.files


def test_scoring_does_not_import_heavy_libraries():
    code = ("import sys; from datetime import datetime, UTC; from moderation.scoring import Moderator; "
            "from tests.conftest import make_mention; m = Moderator.from_settings(); "
            "m.score([make_mention('Merci !')], datetime.now(UTC)); "
            "heavy = [x for x in ('torch', 'transformers', 'sklearn', 'scipy') if x in sys.modules]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])


def _mlma(tmp_path: Path, with_ordinary: bool = True) -> Path:
    """A small MLMA-shaped data set: insults addressed to someone are toxic, shared news links are not."""
    ordinary = tmp_path / "data" / "xlmt-fr"
    ordinary.mkdir(parents=True)
    if with_ordinary:
            (ordinary / "train.jsonl").write_text("\n".join(json.dumps({"text": t, "label": label}, ensure_ascii=False)
                                                      for t, label in ROWS), encoding="utf-8")
    toxic = ["@user t'es qu'un connard", "@user @user bande de débiles", "rt @user ferme ta gueule abruti",
             "@user espèce d'imbécile", "@user quel bouffon celui-là"]
    normal = ["le marché du samedi est ouvert @url", "nouvelle piste cyclable inaugurée @url",
              "merci pour le concert de ce soir", "la piscine rouvre lundi @url", "bonne journée à tous"]
    rows = [{"text": f"{t} {i}", "toxic": True, "labels": ["offensive"]} for i in range(8) for t in toxic]
    rows += [{"text": f"{t} {i}", "toxic": False, "labels": ["normal"]} for i in range(4) for t in normal]
    folder = tmp_path / "data" / "mlma-fr"
    folder.mkdir(parents=True)
    (folder / "train.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return tmp_path / "data"


def test_toxicity_training_is_reproducible_and_records_its_cross_validation(tmp_path):
    from moderation.toxicity import EXTRA_V2, ToxicityModel
    from moderation.train_jobs import train_toxicity

    data = _mlma(tmp_path)
    first, second = tmp_path / "t1.npz", tmp_path / "t2.npz"
    report = train_toxicity(data, out=first)
    train_toxicity(data, out=second)
    assert first.read_bytes() == second.read_bytes()
    assert report["fit_rows"] + report["held_out_rows"] == 60
    assert report["ordinary_rows"] == sum(1 for _, label in ROWS if label != "negative")
    assert 0.0 <= report["cv_macro_f1_std"] <= report["cv_macro_f1_mean"] <= 1.0
    model = ToxicityModel(first)
    meta = model.model.meta
    assert meta["extra"] == EXTRA_V2 and meta["threshold"] == report["threshold"]
    assert meta["cv_macro_f1"] == report["cv_macro_f1"] and len(meta["cv_macro_f1_folds"]) == 5
    insult, news = model.probabilities(["@user t'es qu'un gros connard", "la médiathèque rouvre mardi @url"])
    assert insult > 0.5 > news


def test_toxicity_trains_on_mlma_alone_when_no_ordinary_tweets_are_there(tmp_path):
    from moderation.toxicity import ToxicityModel
    from moderation.train_jobs import train_toxicity

    report = train_toxicity(_mlma(tmp_path, with_ordinary=False), out=tmp_path / "t.npz")
    assert report["ordinary_rows"] == 0
    assert ToxicityModel(tmp_path / "t.npz").probabilities(["@user espèce de connard"])[0] > 0.5


def test_toxicity_text_is_written_like_the_training_tweets():
    from moderation.toxicity import handles_and_links, normalise

    text = normalise("RT @Marie_L @mairie Regardez https://example.org/x et www.ville.fr")
    assert text == "rt @user @user regardez @url et @url"
    assert normalise("la piscine rouvre @url") == "la piscine rouvre @url"  # MLMA's placeholder stays a link
    assert handles_and_links(text) == math.log(5)
    assert handles_and_links(normalise("Merci !")) == 0.0


def test_product_rule_f1_reads_what_eval_risk_counts_not_probability_or_lexicon():
    """The training jobs pick their threshold with "probability ≥ t or lexicon"; the product lets the model alone
    flag only from MODEL_ALONE_MIN (re-centred), and a weak insult word lowers that line (decision 0315)."""
    from moderation.evaluation import binary_report
    from moderation.risk import MODEL_ALONE_MIN
    from moderation.train_jobs import product_rule_f1

    texts = ["la piscine est fermée", "tu es un gros connard", "le parc est propre",
             "les gens comme toi on en veut plus", "la cantine reprend lundi"]
    truth = [False, True, False, True, False]
    t = 0.4
    # re-centred: 0.55 lands between 0.5 and the model-alone line; 0.9 above it; 0.1 below 0.5
    mid = 1 / (1 + math.exp(-(math.log(0.55 / 0.45) + math.log(t / (1 - t)))))
    assert 0.5 < 0.55 < MODEL_ALONE_MIN
    raw = [mid, 0.1, 0.1, 0.9, 0.1]
    # probability-or-lexicon calls the first text toxic (mid >= t); the product does not (model alone, 0.55)
    or_rule = binary_report(truth, [p >= t for p in raw])["macro_f1"]
    assert product_rule_f1(texts, truth, raw, t) == 1.0 > or_rule
    # the strong insult word flags the second text whatever the model says; the fourth (no lexicon word) needs
    # the model: at 0.1 it is missed
    assert product_rule_f1(texts, truth, [0.1, 0.1, 0.1, 0.1, 0.1], t) < 1.0
    assert product_rule_f1(texts, truth, [0.1, 0.1, 0.1, 0.9, 0.1], t) == 1.0
