"""Train the toxicity adapter (``python -m console train tox-adapter``, decision 0230).

Data: MLMA's 80 % fit part (``split_toxicity``; the 20 % held out for ``eval risk`` is never read) plus the
ordinary French tweets (positive/neutral ``xlmt-fr/train``) as non-toxic rows at ``ORDINARY_WEIGHT``, as every
toxicity model here. The frozen bottom of e5 (int8, as the rich tier runs it) is run once; its layer outputs are
cached in ``data/cache/emb`` (git-ignored) and the top ``k`` layers are fine-tuned on them.

The fusion weights and threshold written in the header were chosen by 3-fold CV (seed 7) on the fit part
(``cv=True`` recomputes that CV: ~3× the training time).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from moderation.tox_adapter import ADAPTER_PATH, AdapterConfig, train_adapter
from moderation.use_vectors import CACHE_DIR

log = logging.getLogger(__name__)
# chosen by 3-fold CV on MLMA's fit part (decision 0230): weights of the USE head's and the adapter's logits next
# to the fast model's, and the fused probability's threshold (decision = classifier or lexicon, as eval risk)
FUSION = {"use_weight": 0.5, "ft_weight": 0.5, "threshold": 0.56}
CONFIG = AdapterConfig(k=1, r=8, lr=1e-3, epochs=4)
CV_FOLDS = 3


def cached_hidden(texts: Sequence[str], layer: int, encoder: Any, version: str,
                  cache_dir: Path | None = CACHE_DIR) -> list[Any]:
    """``encoder.hidden_states(texts, layer)``, cached on disk (one float16 array per text)."""
    import numpy as np

    key = hashlib.sha256(("\x00".join(texts) + f"|{layer}|{version}").encode("utf-8")).hexdigest()[:16]
    path = cache_dir / "emb" / f"e5h{layer}-{key}.npz" if cache_dir is not None else None
    if path is not None and path.exists():
        with np.load(path, allow_pickle=False) as data:
            flat, lengths = data["flat"], data["lengths"]
        return np.split(flat, np.cumsum(lengths)[:-1])
    log.info("running e5's %d bottom layers over %d texts", layer, len(texts))
    hidden = encoder.hidden_states(list(texts), layer)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, flat=np.concatenate(hidden), lengths=np.array([len(h) for h in hidden]))
    return list(hidden)


def _decide(truth: Any, p: Any, lexicon_toxic: Any, threshold: float) -> float:
    from moderation.evaluation import binary_report

    return float(binary_report(list(truth), list((p >= threshold) | lexicon_toxic))["macro_f1"])


def train_tox_adapter(data_dir: Path, *, out: Path = ADAPTER_PATH, config: AdapterConfig = CONFIG,
                      fusion: dict[str, float] | None = None, cv: bool = False, cache_dir: Path | None = CACHE_DIR,
                      encoder: Any = None, limit: int | None = None) -> dict[str, Any]:
    """Fine-tune the adapter on the fit part (+ ordinary tweets), write it to ``out`` and return a report.

    ``encoder``: an ``E5Encoder`` (default: the int8 one the rich tier runs); ``limit``: train on the first
    ``limit`` fit rows and ordinary rows only (tests).
    """
    import numpy as np

    from moderation.train_jobs import ORDINARY_WEIGHT, split_toxicity, text_hash
    from moderation.training import SEED, file_digest, read_jsonl

    if encoder is None:
        from moderation.encoder import E5Encoder

        encoder = E5Encoder(threads=1)
    import torch

    torch.set_num_threads(1)  # one thread: the same bytes on every machine
    mlma_path = data_dir / "mlma-fr" / "train.jsonl"
    ord_path = data_dir / "xlmt-fr" / "train.jsonl"
    rows = read_jsonl(mlma_path)
    fit_idx, held_idx = split_toxicity(rows)
    ordinary = [r["text"] for r in read_jsonl(ord_path) if r["label"] in ("positive", "neutral")] \
        if ord_path.exists() else []
    if limit is not None:
        fit_idx, ordinary = fit_idx[:limit], ordinary[:limit]
    fit_texts = [rows[i]["text"] for i in fit_idx]
    truth = np.array([bool(rows[i]["toxic"]) for i in fit_idx])
    layer = int(encoder.config["layers"]) - config.k
    hidden = cached_hidden(fit_texts + ordinary, layer, encoder, encoder.version, cache_dir)
    y = np.r_[truth, np.zeros(len(ordinary), dtype=bool)]
    weight = np.r_[np.ones(len(fit_texts)), np.full(len(ordinary), ORDINARY_WEIGHT)]
    report: dict[str, Any] = {"config": {"k": config.k, "r": config.r, "lr": config.lr, "epochs": config.epochs,
                                         "batch": config.batch}}
    if cv:
        report["cv"] = _cv(hidden, truth, len(ordinary), y, weight, config, fit_texts, encoder, rows, fit_idx,
                           data_dir)
    weights, _ = train_adapter(hidden, y.tolist(), weight.tolist(), config, weights_path=encoder.path,
                               n_layers=int(encoder.config["layers"]))
    digest = file_digest([mlma_path, *([ord_path] if ord_path.exists() else [])])
    weights.meta.update(version=f"toxft-1+{digest[:8]}", fusion=dict(fusion or FUSION),
                        lr=config.lr, epochs=config.epochs, batch=config.batch, seed=config.seed,
                        encoder=encoder.version, fit_rows=len(fit_texts), ordinary_rows=len(ordinary),
                        trained_hashes=sorted(text_hash(t) for t in fit_texts), cv=report.get("cv"))
    weights.save(out)
    report.update(path=str(out), size_bytes=out.stat().st_size, version=weights.version, fit_rows=len(fit_texts),
                  ordinary_rows=len(ordinary), held_out_rows=len(held_idx), fusion=weights.meta["fusion"])
    del SEED
    return report


def _cv(hidden: Sequence[Any], truth: Any, n_ordinary: int, y: Any, weight: Any, config: AdapterConfig,
        fit_texts: Sequence[str], encoder: Any, rows: Sequence[dict[str, Any]], fit_idx: Sequence[int],
        data_dir: Path) -> dict[str, Any]:
    """Out-of-fold macro-F1 of the adapter alone (per epoch), 3 folds, seed 7, ordinary rows in every fit."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    from moderation.train_jobs import lexicon_flags_toxic
    from moderation.training import SEED

    n = len(fit_texts)
    ordinary_idx = np.arange(n, n + n_ordinary)
    oof = {e: np.zeros(n) for e in range(1, config.epochs + 1)}
    for a, b in StratifiedKFold(CV_FOLDS, shuffle=True, random_state=SEED).split(np.zeros(n), truth):
        train = np.r_[a, ordinary_idx]
        _, res = train_adapter([hidden[i] for i in train], y[train].tolist(), weight[train].tolist(), config,
                               weights_path=encoder.path, n_layers=int(encoder.config["layers"]),
                               evaluate={"test": [hidden[i] for i in b]})
        for epoch, scores in res.items():
            oof[epoch][b] = scores["test"]
    lexicon = np.array(lexicon_flags_toxic(fit_texts))
    thresholds = [round(0.1 + 0.02 * i, 2) for i in range(40)]
    out = {}
    for epoch, p in oof.items():
        t = max(thresholds, key=lambda t: _decide(truth, p, lexicon, t))
        out[f"epoch {epoch}"] = {"macro_f1": round(_decide(truth, p, lexicon, t), 4), "threshold": t}
    return out
