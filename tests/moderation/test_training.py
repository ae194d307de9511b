"""Training rebuilds a loadable model deterministically; the shipped artefacts stay small and pickle-free."""

from __future__ import annotations

import hashlib
import json
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
