"""The toxicity adapter (decision 0230): LoRA on e5's top layers, trained on a tiny subset of a tiny random e5,
run as a branch of the rich tier's e5 pass, fused with the fast model and the USE head."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from moderation.devmodels import write_tiny_e5
from moderation.tox_adapter import AdapterConfig
from tests.moderation.fake_encoders import bag_encoder as _bag

TEXTS = ["Service nul, je suis très déçu, c'est une honte.", "La mairie est ouverte de 9h à 17h.",
         "merci bravo", "la de le est"]
TINY = AdapterConfig(k=1, r=2, epochs=2, batch=4)


@pytest.fixture(scope="module")
def tiny_e5(tmp_path_factory):
    return write_tiny_e5(tmp_path_factory.mktemp("e5") / "tiny-q4.bin")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    (root / "mlma-fr").mkdir()
    (root / "xlmt-fr").mkdir()
    mlma = [{"text": f"{'nul honte' if i % 2 else 'merci la mairie'} {i}", "toxic": bool(i % 2)} for i in range(20)]
    tweets = [{"text": f"bravo la de {i}", "label": "positive" if i % 2 else "negative"} for i in range(6)]
    for path, rows in ((root / "mlma-fr" / "train.jsonl", mlma), (root / "xlmt-fr" / "train.jsonl", tweets)):
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def trained(tiny_e5, data_dir, tmp_path_factory):
    from moderation.encoder import E5Encoder
    from moderation.tox_adapter_training import train_tox_adapter

    out = tmp_path_factory.mktemp("adapter") / "a.npz"
    encoder = E5Encoder(tiny_e5)
    report = train_tox_adapter(data_dir, out=out, config=TINY, encoder=encoder, cache_dir=None)
    return encoder, out, report


def test_training_runs_on_a_subset_and_is_reproducible(trained, data_dir, tmp_path):
    from moderation.tox_adapter import AdapterWeights
    from moderation.tox_adapter_training import FUSION, train_tox_adapter

    encoder, out, report = trained
    assert report["fit_rows"] == 16 and report["ordinary_rows"] == 3 and report["held_out_rows"] == 4
    weights = AdapterWeights.load(out)
    assert weights.version.startswith("toxft-1+") and weights.k == 1 and weights.meta["fusion"] == FUSION
    assert set(weights.lora) == {f"1.{n}" for n in ("q", "k", "v", "ao", "fi", "fo")}
    assert any(np.abs(b).max() > 0 for _, b in weights.lora.values())  # the low-rank updates learned something
    again = train_tox_adapter(data_dir, out=tmp_path / "b.npz", config=TINY, encoder=encoder, cache_dir=tmp_path)
    assert (tmp_path / "b.npz").read_bytes() == out.read_bytes() and again["version"] == report["version"]
    cached = train_tox_adapter(data_dir, out=tmp_path / "c.npz", config=TINY, encoder=encoder, cache_dir=tmp_path)
    assert (tmp_path / "c.npz").read_bytes() == out.read_bytes() and cached["fit_rows"] == 16
    cv = train_tox_adapter(data_dir, out=tmp_path / "d.npz", config=TINY, encoder=encoder, cache_dir=None, cv=True)
    assert set(cv["cv"]) == {"epoch 1", "epoch 2"} and 0 <= cv["cv"]["epoch 2"]["macro_f1"] <= 1


def test_branch_shares_the_e5_pass_and_the_adapter_changes_scores(trained, tiny_e5, tmp_path):
    from moderation.tox_adapter import AdapterWeights, ToxicityAdapter, _pad

    encoder, out, _ = trained
    adapter = ToxicityAdapter(out, weights_path=tiny_e5, quantize=False)
    emb, p = encoder.embed_with_branch(TEXTS, adapter)
    assert np.allclose(emb, encoder.embed(TEXTS)) and p.shape == (4,) and ((p > 0) & (p < 1)).all()
    hidden = encoder.hidden_states(TEXTS, adapter.layer)
    import torch

    x, mask = _pad(hidden, range(4))
    assert np.allclose(adapter(x, mask).numpy(), p, atol=1e-3)  # float16 cache vs the live pass
    plain = AdapterWeights.load(out)
    plain.lora = {key: (a, np.zeros_like(b)) for key, (a, b) in plain.lora.items()}
    plain.save(tmp_path / "plain.npz")
    _, p0 = encoder.embed_with_branch(TEXTS, ToxicityAdapter(tmp_path / "plain.npz", weights_path=tiny_e5,
                                                             quantize=False))
    assert not np.allclose(p, p0, atol=1e-4)
    del torch


def _heads(tmp_path: Path) -> Path:
    from moderation.rich import RichHeads

    rng = np.random.default_rng(0)
    path = tmp_path / "heads.npz"
    RichHeads(meta={"version": "rich-1+test", "sent_weight": 2.0, "tox_weight": 1.0, "tox_threshold": 0.5},
              sent_w=rng.normal(size=(384, 3)), sent_b=np.zeros(3), sent_labels=("negative", "neutral", "positive"),
              tox_w=rng.normal(size=512), tox_b=0.0).save(path)
    return path




def test_rich_toxicity_fuses_the_adapter_with_its_weights_and_threshold(trained, tmp_path):
    from moderation.rich import RichEncoders, RichToxicity, _logit
    from moderation.tox_adapter import AdapterWeights
    from moderation.toxicity import ToxicityModel

    _, out, _ = trained
    weights = AdapterWeights.load(out)
    weights.meta["fusion"] = {"use_weight": 0.5, "ft_weight": 2.0, "threshold": 0.6}
    weights.save(tmp_path / "a.npz")
    heads = _heads(tmp_path)
    ft = np.array([0.9, 0.1, 0.5, 0.2])
    with_ft = RichToxicity(heads, encoders=RichEncoders(e5=_bag(384), use=_bag(512), adapter=tmp_path / "a.npz",
                                                        toxicity_ft=lambda texts: ft[:len(texts)]))
    without = RichToxicity(heads, encoders=RichEncoders(e5=_bag(384), use=_bag(512), adapter=tmp_path / "a.npz"))
    fast = ToxicityModel().raw_probabilities(TEXTS)
    z = _logit(fast) + 0.5 * _logit(with_ft.head_proba(TEXTS)) + 2.0 * _logit(ft)
    assert np.allclose(with_ft.raw_probabilities(TEXTS), 1 / (1 + np.exp(-z)))
    assert with_ft.threshold == 0.6 and without.threshold == 0.5  # a fake e5 without the branch: adapter off
    assert np.allclose(without.raw_probabilities(TEXTS),
                       1 / (1 + np.exp(-(_logit(fast) + _logit(without.head_proba(TEXTS))))))


def test_rich_encoders_run_the_adapter_inside_the_e5_pass(trained, tiny_e5, tmp_path, monkeypatch):
    from moderation.rich import RichEncoders
    from moderation.tox_adapter import ToxicityAdapter

    _, out, _ = trained
    monkeypatch.setenv("PARVIS_E5_WEIGHTS", str(tiny_e5))
    encoders = RichEncoders(adapter=out)
    emb = encoders.e5(TEXTS)
    calls = []
    original = encoders._e5_fn
    encoders._e5_fn = lambda texts: calls.append(1) or original(texts)
    p = encoders.toxicity_ft(TEXTS)
    assert calls == []  # the branch's scores came with the embeddings
    from moderation.encoder import E5Encoder

    reference = E5Encoder(tiny_e5).embed_with_branch(TEXTS, ToxicityAdapter(out, weights_path=tiny_e5))
    assert np.allclose(emb, reference[0]) and np.allclose(p, reference[1])
    assert encoders.adapter_meta["k"] == 1
    assert RichEncoders(adapter=None).adapter_meta == {}
