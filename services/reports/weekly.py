"""Weekly or monthly report for the mayor's office: volumes, response times, sentiment, top topics with examples,
moderation actions and published posts, as PDF (services/reports/pdf.py), HTML (inline SVG charts) or CSV.

Text is French (the readers are the city's staff). Examples have personal data removed; the report names
agents (response times per agent) but never residents.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from html import escape
from typing import Any

from sqlite_utils import Database

from core import csv_safe
from core.clock import PARIS, format_paris
from core.errors import ValidationError
from core.repo import stats as stats_repo
from services.reports.charts import SENTIMENT_COLOURS, Chart, number, svg
from services.reports.dashboard import Dashboard, DashboardConfig, DashboardFilters, load_dashboard
from services.reports.topics import Topic, topics_for

FORMATS = ("pdf", "html", "csv")
SENTIMENT_FR = {"positive": "positif", "neutral": "neutre", "negative": "négatif", "unknown": "non évalué"}
MODERATION_HINTS = ("hid", "hide", "ban", "block", "spam", "escalat", "dismiss", "forward", "moderat", "delet")
_ENGAGEMENT_KEYS = ("like_count", "retweet_count", "reply_count", "quote_count", "impression_count",
                    "reactions", "comments", "shares", "likes")


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """Everything a report shows, ready to render in any format."""

    title: str
    since: datetime
    until: datetime
    generated_at: datetime
    dashboard: Dashboard
    topics: list[Topic]
    moderation: list[dict[str, Any]]  # event, actions
    published: list[dict[str, Any]]  # kind, platform, account, published_at, text, permalink, engagement
    private: dict[str, int] = field(default_factory=dict)  # private messages: counts only ("received", "answered")

    @property
    def period_text(self) -> str:
        """« du 16/11/2026 au 22/11/2026 » (inclusive Paris days)."""
        last = self.until - timedelta(seconds=1)
        return f"du {format_paris(self.since, '%d/%m/%Y')} au {format_paris(last, '%d/%m/%Y')}"


def _engagement(payload: str) -> dict[str, int]:
    try:
        data = json.loads(payload or "{}")
    except ValueError:
        return {}
    found: dict[str, int] = {}

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key in _ENGAGEMENT_KEYS and isinstance(inner, int):
                    found[key] = inner
                elif key in _ENGAGEMENT_KEYS and isinstance(inner, dict):
                    total = inner.get("summary", {}).get("total_count", inner.get("count"))
                    if isinstance(total, int):
                        found[key] = total
                else:
                    walk(inner)

    walk(data)
    return found


def moderation_actions(counts: list[tuple[str, int]]) -> list[dict[str, Any]]:
    """Audit event counts that are moderation actions (hide, ban, spam, escalate, dismiss, forward, delete)."""
    return [{"event": e, "actions": n} for e, n in counts if any(h in e for h in MODERATION_HINTS)]


def build_report(db: Database, *, since: datetime, until: datetime, config: DashboardConfig, now: datetime,
                 filters: DashboardFilters | None = None, top_topics: int = 5) -> Report:
    """Gather the report's figures for [since, until) (Paris days, see services.reports.dashboard.period)."""
    if until <= since:
        raise ValidationError("the report period must end after it starts", reason="report_period_empty")
    filters = replace(filters or DashboardFilters(), since=since, until=until)
    dash = load_dashboard(db, filters, config, now=now)
    topics = topics_for(db, filters, config, now=now, top=top_topics)
    moderation = moderation_actions(stats_repo.audit_counts(db, since, until))
    published = [{**{k: v for k, v in row.items() if k != "payload"}, "engagement": _engagement(row["payload"])}
                 for row in stats_repo.published(db, since, until)]
    days = round((until - since).total_seconds() / 86400)
    kind = "hebdomadaire" if days == 7 else "mensuel" if 28 <= days <= 31 else "d'activité"
    return Report(title=f"Rapport {kind} des réseaux sociaux", since=since, until=until, generated_at=now,
                  dashboard=dash, topics=topics, moderation=moderation, published=published,
                  private=stats_repo.private_counts(db, since, until))


# The channels' names in the PDF's legends and axes (issue #17: « facebook x »).
CHANNEL_NAMES = {"x": "X", "facebook": "Facebook", "instagram": "Instagram", "mastodon": "Mastodon",
                 "bluesky": "Bluesky", "demo": "Démo"}


def channel_name(channel: str) -> str:
    """``facebook`` → ``Facebook``."""
    return CHANNEL_NAMES.get(channel, channel[:1].upper() + channel[1:])


def charts(report: Report) -> list[Chart]:
    """The report's charts: volume per day and channel, sentiment per day, response time per channel vs target."""
    d = report.dashboard
    days = [row["day"] for row in d.days]
    labels = tuple(day.strftime("%d/%m") for day in days)
    index = {day: i for i, day in enumerate(days)}
    channels = sorted({r["channel"] for r in d.volume})
    volume = {c: [0.0] * len(days) for c in channels}
    for r in d.volume:
        if r["day"] in index:
            volume[r["channel"]][index[r["day"]]] += r["mentions"]
    crisis = tuple(i for i, row in enumerate(d.days) if row["crisis"])
    keys = [k for k in ("negative", "neutral", "positive", "unknown") if any(r["sentiment"] == k for r in d.sentiment)]
    sentiment = {k: [0.0] * len(days) for k in keys}
    for r in d.sentiment:
        if r["day"] in index and r["sentiment"] in sentiment:
            sentiment[r["sentiment"]][index[r["day"]]] += r["mentions"]
    out = [Chart(title="Messages reçus par jour et par canal", categories=labels,
                 series=tuple((channel_name(c), tuple(v)) for c, v in volume.items()), highlight=crisis),
           Chart(title="Tonalité des messages par jour", categories=labels,
                 series=tuple((SENTIMENT_FR[k], tuple(v)) for k, v in sentiment.items()),
                 colours=tuple(SENTIMENT_COLOURS[k] for k in keys), highlight=crisis)]
    by_channel = [r for r in d.response_by_channel if r["median_h"] is not None]
    if by_channel:
        out.append(Chart(title="Délai de première réponse (heures ouvrées) : médiane et 90e centile",
                         categories=tuple(channel_name(r["channel"]) for r in by_channel),
                         series=(("médiane", tuple(r["median_h"] for r in by_channel)),
                                 ("90e centile (au-delà de la médiane)",
                                  tuple(max(r["p90_h"] - r["median_h"], 0) for r in by_channel))),
                         target=d.target_h, target_label=f"objectif {number(d.target_h)} h", unit="h"))
    return out


def summary_lines(report: Report) -> list[str]:
    """The key figures as French sentences."""
    t = report.dashboard.totals
    lines = [f"{number(t['mentions'])} messages reçus, dont {number(t['answered'])} ont reçu une réponse"
             + (f" ({t['share_answered'] * 100:.0f} %)." if t["share_answered"] is not None else ".")]
    if t["median_h"] is not None:
        lines.append(f"Délai de première réponse en heures ouvrées : médiane {number(t['median_h'])} h, "
                     f"90e centile {number(t['p90_h'])} h ; {t['within_target'] * 100:.0f} % des réponses dans "
                     f"l'objectif de {number(report.dashboard.target_h)} h.")
    lines.append(f"En attente : {number(t['open_backlog'])} messages, dont {number(t['overdue'])} sans réponse "
                 "au-delà de l'objectif.")
    if report.private.get("received"):
        lines.append(f"Messages privés : {number(report.private['received'])} reçus, "
                     f"{number(report.private.get('answered', 0))} réponses privées envoyées (contenu non repris).")
    if t["mentions"]:
        lines.append(f"Tonalité négative : {t['negative'] * 100 / t['mentions']:.0f} % ; messages signalés "
                     f"(risque) : {number(t['flagged'])} ; épisodes de crise : {t['crises']}.")
    return lines


def report_csv(report: Report) -> str:
    """The report's figures in one long CSV: section, dimension, metric, value."""
    out = io.StringIO()
    w = csv_safe.writer(out, lineterminator="\n")
    w.writerow(["section", "dimension", "metric", "value"])
    d = report.dashboard
    w.writerow(["periode", "", "debut", report.since.astimezone(PARIS).date().isoformat()])
    w.writerow(["periode", "", "fin", (report.until - timedelta(seconds=1)).astimezone(PARIS).date().isoformat()])
    for key, value in d.totals.items():
        w.writerow(["totaux", "", key, value])
    for r in d.volume:
        w.writerow(["volume", f"{r['day'].isoformat()} {r['channel']}", "mentions", r["mentions"]])
    for section, rows, key in (("delais_canal", d.response_by_channel, "channel"),
                               ("delais_agent", d.response_by_agent, "agent")):
        for r in rows:
            for metric in ("answered", "median_h", "p90_h", "within_target"):
                w.writerow([section, r[key], metric, r[metric]])
    totals = Counter[str]()
    for r in d.sentiment:
        totals[r["sentiment"]] += r["mentions"]
    for k, v in sorted(totals.items()):
        w.writerow(["sentiment", SENTIMENT_FR.get(k, k), "mentions", v])
    for t in report.topics:
        w.writerow(["sujets", t.label, "messages", t.count])
        w.writerow(["sujets", t.label, "exemple", t.examples[0] if t.examples else ""])
    for r in report.moderation:
        w.writerow(["moderation", r["event"], "actions", r["actions"]])
    for r in report.published:
        w.writerow(["publications", f"{r['platform']} {r['account']}".strip(), r["kind"], r["published_at"]])
    return out.getvalue()


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def sections(report: Report) -> list[tuple[str, list[str], list[list[Any]]]]:
    """Report tables as (title, headers, rows), shared by the HTML and PDF renderers."""
    d = report.dashboard
    fmt = lambda v: "—" if v is None else number(v)  # noqa: E731
    pct = lambda v: "—" if v is None else f"{v * 100:.0f} %"  # noqa: E731
    out = [("Délais de première réponse par canal", ["Canal", "Réponses", "Médiane (h)", "90e centile (h)",
                                                     "Dans l'objectif"],
            [[r["channel"], r["answered"], fmt(r["median_h"]), fmt(r["p90_h"]), pct(r["within_target"])]
             for r in d.response_by_channel]),
           ("Délais de première réponse par agent", ["Agent", "Réponses", "Médiane (h)", "90e centile (h)",
                                                     "Dans l'objectif"],
            [[r["agent"], r["answered"], fmt(r["median_h"]), fmt(r["p90_h"]), pct(r["within_target"])]
             for r in d.response_by_agent])]
    out.append(("Sujets les plus fréquents", ["Sujet", "Messages", "Exemple (données personnelles retirées)"],
                [[t.label, t.count, t.examples[0] if t.examples else ""] for t in report.topics]))
    out.append(("Actions de modération", ["Action", "Nombre"],
                [[r["event"], r["actions"]] for r in report.moderation] or [["aucune", 0]]))
    out.append(("Publications", ["Date", "Canal", "Type", "Texte", "Engagement"],
                [[format_paris(datetime.fromisoformat(r["published_at"])), f"{r['platform']} {r['account']}",
                  "publication" if r["kind"] == "post" else "réponse", r["text"][:140],
                  ", ".join(f"{k} {v}" for k, v in r["engagement"].items()) or "—"]
                 for r in report.published if r["kind"] == "post"] or [["—", "", "", "aucune publication", ""]]))
    return out


def report_html(report: Report) -> str:
    """A self-contained HTML page (inline CSS and SVG charts)."""
    parts = ["<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\">",
             f"<title>{escape(report.title)}</title><style>body{{font-family:sans-serif;max-width:60rem;"
             "margin:2rem auto;color:#222}table{border-collapse:collapse;margin:.5rem 0 1.5rem}"
             "td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;font-size:.9rem}"
             "figure{margin:1rem 0}</style></head><body>",
             f"<h1>{escape(report.title)}</h1><p>Période {escape(report.period_text)} — généré le "
             f"{escape(format_paris(report.generated_at))}</p><h2>En bref</h2><ul>"]
    parts += [f"<li>{escape(line)}</li>" for line in summary_lines(report)]
    parts.append("</ul>")
    if report.dashboard.crises:
        parts.append("<p><strong>Épisodes de crise :</strong> " + escape("; ".join(
            f"{format_paris(c['start'])} – {format_paris(c['end'], '%H:%M')} ({c['alerts']} messages négatifs ou "
            "signalés)" for c in report.dashboard.crises)) + "</p>")
    parts += [f"<figure>{svg(chart)}</figure>" for chart in charts(report)]
    for title, headers, rows in sections(report):
        parts.append(f"<h2>{escape(title)}</h2>{_table(headers, rows)}")
    parts.append("</body></html>")
    return "".join(parts)


def render(report: Report, fmt: str) -> bytes:
    """The report as bytes in ``fmt`` (pdf, html or csv)."""
    if fmt == "csv":
        return report_csv(report).encode("utf-8")
    if fmt == "html":
        return report_html(report).encode("utf-8")
    if fmt == "pdf":
        from services.reports.pdf import report_pdf

        return report_pdf(report)
    raise ValidationError(f"unknown report format {fmt!r} (pdf, html or csv)", reason="report_format_unknown",
                          format=fmt)
