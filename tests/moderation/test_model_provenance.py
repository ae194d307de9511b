"""Decision 0325: a model's identity follows its bytes, and every score keeps which models gave it (sentiment / tier in
``model_version``, the toxicity model behind the risk flags in ``risk_model_version``), through ingest, the rich
tier's re-scoring, the RGPD export and retention."""

from __future__ import annotations

import hashlib
import shutil
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from core import repo
from core.repo import Scores
from core.repo import retention as retention_repo
from moderation.lexicon import LEXICON_PATH
from moderation.rich import RichEncoders, RichHeads, RichSentiment, RichToxicity, is_rich_version
from moderation.risk import RiskScorer
from moderation.scoring import Moderator
from moderation.sentiment import OfflineSentiment
from moderation.sentiment_model import DEFAULT_MODEL_PATH, LinearTextModel
from moderation.toxicity import DEFAULT_TOXICITY_PATH, ToxicityModel
from services.archive import retention
from services.connections.ingest import store_mentions
from services.inbox import rescoring
from tests.conftest import make_mention
from tests.moderation.fake_encoders import bag_encoder as _bag


def _sha8(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:8]


def _rebuilt(src: Path, out: Path, nudge: float) -> Path:
    """``src`` written again with its intercept moved by ``nudge``: other bytes, the same header (version)."""
    model = LinearTextModel.load(src)
    model.intercept = model.intercept + nudge
    model.save(out)
    return out


def test_a_rebuilt_toxicity_file_reports_another_version(tmp_path):
    shipped_bytes = DEFAULT_TOXICITY_PATH.read_bytes()
    shipped = ToxicityModel()
    copy = shutil.copyfile(DEFAULT_TOXICITY_PATH, tmp_path / "copy.npz")
    rebuilt = ToxicityModel(_rebuilt(DEFAULT_TOXICITY_PATH, tmp_path / "rebuilt.npz", 0.01))
    # the same training data, the same header version: the name the two models shared before decision 0325...
    assert shipped.model.version == rebuilt.model.version
    # ...but each file's bytes now name it
    assert rebuilt.version != shipped.version
    assert shipped.version == f"{shipped.model.version}+{_sha8(DEFAULT_TOXICITY_PATH)}"
    assert ToxicityModel(copy).version == shipped.version  # the same bytes, the same name
    resaved = ToxicityModel(_rebuilt(DEFAULT_TOXICITY_PATH, tmp_path / "resaved.npz", 0.0))
    assert resaved.version == shipped.version  # the writer is deterministic: unchanged weights, unchanged name
    assert shipped.version.startswith("offline-toxicity-")
    assert DEFAULT_TOXICITY_PATH.read_bytes() == shipped_bytes  # the shipped file is only read


def test_a_rebuilt_sentiment_file_reports_another_version_still_fast_tier(tmp_path):
    a = OfflineSentiment(_rebuilt(DEFAULT_MODEL_PATH, tmp_path / "a.npz", 0.0))
    b = OfflineSentiment(_rebuilt(DEFAULT_MODEL_PATH, tmp_path / "b.npz", 0.01))
    assert a.model.version == b.model.version and a.version != b.version
    # the re-scoring queue takes the fast tier's scores by their prefix (core/repo/rescoring.py)
    assert a.version.startswith("offline") and OfflineSentiment().version.startswith("offline-sentiment-")




def _heads(path: Path, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    RichHeads(meta={"version": "rich-1+test", "sent_weight": 2.0, "tox_weight": 1.0, "tox_threshold": 0.5},
              sent_w=rng.normal(size=(384, 3)), sent_b=np.zeros(3), sent_labels=("negative", "neutral", "positive"),
              tox_w=rng.normal(size=512), tox_b=0.0).save(path)
    return path


def _rich_moderator(heads: Path) -> Moderator:
    encoders = RichEncoders(e5=_bag(384), use=_bag(512), adapter=None)
    return Moderator(sentiment=RichSentiment(heads, encoders=encoders),
                     risk=RiskScorer(toxicity=RichToxicity(heads, encoders=encoders)))


def test_rich_versions_name_the_heads_file_and_the_fast_models_they_fuse(tmp_path):
    one, two = _heads(tmp_path / "one.npz", 0), _heads(tmp_path / "two.npz", 1)
    m1, m2 = _rich_moderator(one), _rich_moderator(two)
    assert m1.model_version != m2.model_version and m1.risk_model_version != m2.risk_model_version
    assert is_rich_version(m1.model_version) and is_rich_version(m1.risk_model_version)
    assert m1.risk_model_version == f"rich-1+test+{_sha8(one)}/{ToxicityModel().version}/lexicon-{_sha8(LEXICON_PATH)}"
    assert m1.model_version.startswith(f"rich-1+test+{_sha8(one)}/offline-sentiment-")


def test_the_moderator_reports_the_toxicity_model_or_the_lexicon(now):
    with_model = Moderator.from_settings()
    lexicon_only = Moderator.from_settings(toxicity=False)
    # the threat, urgency and personal-data flags come from the lexicon: a changed lexicon is another risk model
    assert with_model.risk_model_version == f"{ToxicityModel().version}/lexicon-{_sha8(LEXICON_PATH)}"
    assert lexicon_only.risk_model_version == f"lexicon-{_sha8(LEXICON_PATH)}"
    scores = with_model.score([make_mention("Merci pour le parc")], now)
    assert (scores[0].model_version, scores[0].risk_model_version) == (with_model.model_version,
                                                                       with_model.risk_model_version)


def test_ingest_stores_the_risk_model_with_each_score(db, now):
    moderator = Moderator.from_settings()
    mentions = [make_mention("espèce de connard, démissionne", pid="p1"), make_mention("Merci !", pid="p2")]
    store_mentions(db, mentions, now=now, score=moderator.score)
    for m in mentions:
        item = repo.get_item(db, m.uid)
        assert item.model_version == OfflineSentiment().version
        assert item.risk_model_version == f"{ToxicityModel().version}/lexicon-{_sha8(LEXICON_PATH)}"
    assert any(f["kind"] == "insult" for f in repo.get_item(db, "x:p1").risk_flags)


@pytest.fixture(scope="module")
def heads(tmp_path_factory):
    return _heads(tmp_path_factory.mktemp("heads") / "heads.npz", 0)


def test_the_rich_rescoring_stores_its_risk_model(db, now, heads):
    fast = Moderator.from_settings()
    mention = make_mention("Quel scandale ce chantier", created_at=now - timedelta(minutes=5))
    store_mentions(db, [mention], now=now, score=fast.score)
    assert repo.get_item(db, mention.uid).risk_model_version == fast.risk_model_version
    rich = _rich_moderator(heads)
    result = rescoring.rescore(db, rich, now=now)
    assert result.stored == 1
    item = repo.get_item(db, mention.uid)
    assert item.model_version == rich.model_version and item.risk_model_version == rich.risk_model_version
    assert is_rich_version(item.risk_model_version) and fast.risk_model_version in item.risk_model_version


def test_update_scores_writes_the_risk_model_and_retention_clears_it(db, now):
    old = make_mention("Ancien message", author="camille", created_at=now - timedelta(days=730))
    repo.upsert_mentions(db, [old], now=now, scores=[Scores(sentiment="neutral", model_version="offline-s+1")])
    repo.update_scores(db, old.uid, Scores(sentiment="negative", risk_score=0.4, model_version="offline-s+2",
                                           risk_model_version="offline-toxicity-2+aaaa+bbbb"))
    assert repo.get_item(db, old.uid).risk_model_version == "offline-toxicity-2+aaaa+bbbb"
    # the RGPD access export carries it next to model_version
    (data,) = retention_repo.working_data(db, [old.uid])
    assert (data["model_version"], data["risk_model_version"]) == ("offline-s+2", "offline-toxicity-2+aaaa+bbbb")
    report = retention.purge(db, retention.RetentionPolicy(), now=now)
    assert report.counts["scores"] == 1
    item = repo.get_item(db, old.uid)
    assert item.model_version is None and item.risk_model_version is None


def test_retention_clears_a_risk_model_left_alone(db, now):
    """A score whose only remaining trace is the risk model's name is still purged (the "pending" test sees it)."""
    old = make_mention("Ancien message", author="dominique", created_at=now - timedelta(days=730))
    repo.upsert_mentions(db, [old], now=now, scores=[Scores(risk_model_version="lexicon-12345678")])
    assert retention.purge(db, retention.RetentionPolicy(), now=now).counts["scores"] == 1
    assert repo.get_item(db, old.uid).risk_model_version is None


def test_rgpd_access_exports_the_risk_model_and_erasure_clears_it(db, agents, now, tmp_path):
    import json

    from services.archive import rgpd

    mention = make_mention("Quel scandale ce chantier", author="camille")
    store_mentions(db, [mention], now=now, score=Moderator.from_settings(toxicity=False).score)
    expected = f"lexicon-{_sha8(LEXICON_PATH)}"
    result = rgpd.access_request(db, "@camille", out_dir=tmp_path, actor=agents["marc"], now=now)
    (data,) = json.loads(result.path.read_text(encoding="utf-8"))["working_data"]
    assert data["risk_model_version"] == expected and data["model_version"].startswith("offline-sentiment-")
    rgpd.erasure_request(db, "x:u-camille", actor=agents["marc"], now=now)
    item = repo.get_item(db, mention.uid)
    assert item.model_version is None and item.risk_model_version is None
