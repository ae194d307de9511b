"""Measurements behind ``python -m console eval ...`` and ``bench score`` (each returns one JSON-able dict)."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from moderation.evaluation import binary_report, classification_report
from moderation.sentiment import load_backend
from moderation.sentiment_model import LABELS
from moderation.train_jobs import DEFAULT_DATA_DIR
from moderation.training import read_jsonl

_LABEL_ALIASES = {"0": "negative", "1": "neutral", "2": "positive", "negatif": "negative", "négatif": "negative",
                  "neutre": "neutral", "positif": "positive"}


def _label(value: object) -> str:
    text = str(value).strip().lower()
    return _LABEL_ALIASES.get(text, text)


def eval_sentiment(path: Path, *, backend: str = "offline", model: str = "", batch_size: int = 64) -> dict[str, Any]:
    """Accuracy, macro-F1 and per-class P/R/F1 of a sentiment backend on a JSONL file with ``text``/``label``."""
    rows = read_jsonl(path)
    scorer = load_backend(backend, model, batch_size=batch_size)
    texts = [str(r["text"]) for r in rows]
    started = time.perf_counter()
    predicted = []
    for i in range(0, len(texts), batch_size):
        predicted += [p.label for p in scorer.predict(texts[i:i + batch_size])]
    seconds = time.perf_counter() - started
    report = classification_report([_label(r["label"]) for r in rows], predicted, LABELS)
    report.update(data=str(path), backend=scorer.name, model_version=scorer.version,
                  texts_per_s=round(len(texts) / seconds, 1) if seconds else None)
    return report


def eval_risk(path: Path, *, include_trained: bool = False, backend: str = "fast") -> dict[str, Any]:
    """Toxicity quality of the risk flags on a JSONL file with ``text``/``toxic``.

    Texts the toxicity model was trained on are skipped unless ``include_trained`` (reported as ``n_skipped``),
    so running it on ``mlma-fr/train.jsonl`` scores the 20 % held-out part only. ``backend``: ``fast`` (the
    ingest tier) or ``rich`` (the worker's re-scoring tier, moderation/rich.py).
    """
    rows = [(str(r["text"]), bool(r["toxic"])) for r in read_jsonl(path)]
    return eval_risk_rows(rows, source=str(path), include_trained=include_trained, backend=backend)


def eval_risk_rows(rows: Sequence[tuple[str, bool]], *, source: str, include_trained: bool = False,
                   backend: str = "fast") -> dict[str, Any]:
    """:func:`eval_risk` on ``(text, toxic)`` pairs (e.g. the team's moderation decisions, decision 0316)."""
    from moderation.risk import RiskScorer, is_toxic
    from moderation.toxicity import DEFAULT_TOXICITY_PATH, ToxicityModel
    from moderation.train_jobs import text_hash

    toxicity: Any = ToxicityModel() if DEFAULT_TOXICITY_PATH.exists() else None
    trained = set(toxicity.model.meta.get("trained_hashes", [])) if toxicity and not include_trained else set()
    if backend == "rich":
        from moderation.rich import RichToxicity

        toxicity = RichToxicity(fast=toxicity)
        if not include_trained:
            trained |= set(toxicity.heads.meta.get("trained_hashes", []))
            trained |= set(toxicity.encoders.adapter_meta.get("trained_hashes", []))
    elif backend != "fast":
        raise ValueError(f"unknown risk backend {backend!r} (expected fast or rich)")
    kept = [(text, toxic) for text, toxic in rows if text_hash(text) not in trained]
    scorer = RiskScorer(toxicity=toxicity)
    flags = scorer.flags([text for text, _ in kept])
    report = binary_report([toxic for _, toxic in kept], [is_toxic(f) for f in flags])
    report.update(data=source, n_skipped=len(rows) - len(kept), backend=backend,
                  toxicity_model=toxicity.version if toxicity else None)
    return report


def eval_personal_data(n: int = 600, seed: int = 4) -> dict[str, Any]:
    """Recall / precision of core.personal_data on the generated test set."""
    from moderation.personal_data_eval import evaluate, generate_cases

    report = evaluate(generate_cases(n, seed))
    report["seed"] = seed
    return report


def _rate(fn: Callable[[Sequence[str]], Any], texts: Sequence[str], batch: int, repeats: int = 3,
          clock: Callable[[], float] = time.perf_counter) -> float:
    """Best-of-``repeats`` throughput (texts per ``clock`` second) of ``fn`` over ``texts`` in batches."""
    rates = []
    for _ in range(repeats):
        started = clock()
        for i in range(0, len(texts), batch):
            fn(texts[i:i + batch])
        rates.append(len(texts) / max(clock() - started, 1e-9))
    return max(rates)


def _transformer_pair(model_dir: Path, texts: Sequence[str], batch: int, repeats: int) -> dict[str, float]:
    """Our wrapper vs the bare pipeline on the same model, texts and batch size (interleaved runs)."""
    from moderation.transformers_backend import TransformersSentiment

    ours = TransformersSentiment(str(model_dir), batch_size=batch, device="cpu")
    pipe = ours.pipeline

    def bare(chunk: Sequence[str]) -> Any:
        return list(pipe(list(chunk), batch_size=batch, truncation=True, max_length=128, top_k=None))

    ours.predict(texts[:batch])  # warm-up
    bare(texts[:batch])
    wall: dict[str, list[float]] = {"ours": [], "bare": []}
    cpu: dict[str, list[float]] = {"ours": [], "bare": []}
    for _ in range(repeats):  # interleaved, so load changes hit both sides alike
        for name, fn in (("bare", bare), ("ours", ours.predict)):
            wall[name].append(_rate(fn, texts, batch, 1))
            cpu[name].append(_rate(fn, texts, batch, 1, clock=time.process_time))
    # overhead from CPU time of this process (robust to other jobs on the machine), median of the runs
    overhead = statistics.median(cpu["bare"]) / statistics.median(cpu["ours"]) - 1
    return {"texts_per_s": round(max(wall["ours"]), 1), "bare_pipeline_texts_per_s": round(max(wall["bare"]), 1),
            "overhead_pct": round(overhead * 100, 2),
            "overhead_pct_wall": round((statistics.median(wall["bare"]) / statistics.median(wall["ours"]) - 1) * 100,
                                       2)}


def rich_tier(texts: Sequence[str], *, threads: int = 2, batch: int = 64) -> dict[str, Any]:
    """Throughput of the worker's re-scoring tier (rich sentiment + every risk flag with the rich toxicity)."""
    import torch

    from moderation.rich import RICH_PATH, RichEncoders, RichSentiment, RichToxicity, rich_available
    from moderation.risk import RiskScorer

    if not rich_available():
        return {"rich_tier_texts_per_s": None, "rich_tier": f"unavailable ({RICH_PATH.name} or encoders missing)"}
    torch.set_num_threads(threads)
    started = time.perf_counter()
    encoders = RichEncoders(threads=threads)
    sentiment, risk = RichSentiment(encoders=encoders), RiskScorer(toxicity=RichToxicity(encoders=encoders))
    sentiment.predict(list(texts[:8]))
    risk.flags(list(texts[:8]))
    load_s = time.perf_counter() - started

    def run(chunk: Sequence[str]) -> None:
        sentiment.predict(chunk)
        risk.flags(chunk)

    return {"rich_tier_texts_per_s": round(_rate(run, list(texts), batch, 2), 1),
            "rich_tier_cpu_texts_per_s": round(_rate(run, list(texts), batch, 1, clock=time.process_time), 1),
            "rich_tier_threads": threads, "rich_tier_texts": len(texts), "rich_tier_load_s": round(load_s, 1),
            "rich_tier_version": sentiment.version}


def bench_score(*, n: int = 5000, data: Path | None = None, base_size: bool = False, batch: int = 32,
                base_batches: int = 3, rich: bool = True, rich_n: int = 640, rich_threads: int = 2) -> dict[str, Any]:
    """Throughput of both tiers, the offline model, the full scorer, and the transformers wrapper vs the bare
    pipeline."""
    import torch

    from moderation.devmodels import build_xlmr
    from moderation.risk import RiskScorer
    from moderation.sentiment import OfflineSentiment
    from moderation.toxicity import DEFAULT_TOXICITY_PATH, ToxicityModel

    source = data or DEFAULT_DATA_DIR / "xlmt-fr" / "val.jsonl"
    base = [str(r["text"]) for r in read_jsonl(source)] if source.exists() else [
        "Merci pour la réactivité du service propreté !", "Toujours pas de réponse, c'est une honte.",
        "Quels sont les horaires de la piscine ?"]
    texts = (base * (n // len(base) + 1))[:n]
    offline = OfflineSentiment()
    offline.predict(texts[:10])
    risk = RiskScorer(toxicity=ToxicityModel() if DEFAULT_TOXICITY_PATH.exists() else None)
    result: dict[str, Any] = {
        "texts": n, "batch_offline": 256, "torch_threads": torch.get_num_threads(),
        "offline_texts_per_s": round(_rate(offline.predict, texts, 256), 1),
        "risk_texts_per_s": round(_rate(risk.flags, texts[:2000], 256, 2), 1),
    }

    def fast_tier(chunk: Sequence[str]) -> None:  # what ingest runs per batch: sentiment + every risk flag
        offline.predict(chunk)
        risk.flags(chunk)

    result["fast_tier_texts_per_s"] = round(_rate(fast_tier, texts[:2000], 256, 2), 1)
    if rich:
        result.update(rich_tier(texts[:rich_n], threads=rich_threads))
    with tempfile.TemporaryDirectory() as tmp:
        tiny = build_xlmr(Path(tmp) / "tiny", corpus=base[:300])
        pair = _transformer_pair(tiny, texts[:1024], batch, repeats=7)
        result.update(transformers_model="tiny random XLM-R (2 layers, hidden 32)", transformers_batch=batch,
                      transformers_texts_per_s=pair["texts_per_s"],
                      transformers_bare_texts_per_s=pair["bare_pipeline_texts_per_s"],
                      transformers_overhead_pct=pair["overhead_pct"],
                      transformers_overhead_pct_wall=pair["overhead_pct_wall"])
        if base_size:
            big = build_xlmr(Path(tmp) / "base", size="base", corpus=base, vocab_size=8000)
            pair = _transformer_pair(big, texts[:batch * base_batches], batch, repeats=2)
            result.update(base_model="random xlm-roberta-base-size (12 layers, 278M params)",
                          base_texts_per_s=pair["texts_per_s"],
                          base_bare_texts_per_s=pair["bare_pipeline_texts_per_s"],
                          base_overhead_pct=pair["overhead_pct"], base_overhead_pct_wall=pair["overhead_pct_wall"])
    return result
