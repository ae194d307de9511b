"""Charts of the "Tableau de bord" (Altair, shipped with Streamlit), each with its "download data (CSV)" button.

The figures come from :func:`services.reports.dashboard.load_dashboard`; the CSV files are the service tables as they
are (:meth:`Dashboard.tables` + :func:`services.reports.dashboard.to_csv`), the charts only translate labels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any, TypeAlias

import altair as alt
import pandas as pd
import streamlit as st

from console.messages import PLATFORM_LABELS, SENTIMENT_LABELS, STATUS_LABELS
from services.reports.dashboard import Dashboard, to_csv
from services.reports.metrics import AGE_BUCKETS

Rows = Sequence[Mapping[str, Any]]
# What these functions build and what st.altair_chart takes (alt.layer may give a FacetChart).
Chart: TypeAlias = "alt.Chart | alt.LayerChart | alt.FacetChart"
CSV_LABEL = "Télécharger les données (CSV)"
SENTIMENTS_FR = {**SENTIMENT_LABELS, "unknown": "non évalué"}
SENTIMENT_COLOURS = {"négatif": "#d62728", "neutre": "#9e9e9e", "positif": "#2ca02c", "non évalué": "#dddddd"}
RISK_LABELS = {"threat": "menace", "self_harm": "détresse", "hate": "haine", "urgent": "urgence",
               "harassment": "harcèlement", "insult": "insulte", "personal_data": "données personnelles",
               "spam": "spam"}
AGES = [label for label, _ in AGE_BUCKETS]
CRISIS_COLOUR = "#ff7f0e"
_DAY_TIP = alt.Tooltip("utcyearmonthdate(day):T", title="Jour", format="%d/%m/%Y")
_DAY = alt.X("utcyearmonthdate(day):T", title="Jour", axis=alt.Axis(format="%d/%m", labelAngle=-45))


def channel(name: str) -> str:
    """French label of a channel (platform)."""
    return PLATFORM_LABELS.get(name, name)


def frame(rows: Rows, **labels: Mapping[str, str]) -> pd.DataFrame:
    """Rows as a DataFrame: dates as ISO days, the named columns translated through their label maps."""
    out = []
    for row in rows:
        item = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()}
        for column, mapping in labels.items():
            item[column] = mapping.get(str(item[column]), str(item[column]))
        out.append(item)
    return pd.DataFrame(out)


def _crisis_layer(days: Rows) -> alt.Chart | None:
    """Shaded bands over the days touched by a crisis period (None when there was none)."""
    marked = [{"start": d["day"].isoformat(), "end": (d["day"] + timedelta(days=1)).isoformat(),
               "label": "épisode de crise"} for d in days if d.get("crisis")]
    if not marked:
        return None
    return alt.Chart(pd.DataFrame(marked)).mark_rect(opacity=0.15, color=CRISIS_COLOUR).encode(
        x="utcyearmonthdate(start):T", x2="utcyearmonthdate(end):T", tooltip=[alt.Tooltip("label:N", title="")])


def _with_crises(chart: alt.Chart, days: Rows) -> Chart:
    layer = _crisis_layer(days)
    return chart if layer is None else alt.layer(layer, chart)


def volume_chart(dash: Dashboard) -> Chart:
    """Mentions per Paris day, stacked by channel; crisis days shaded."""
    bars = alt.Chart(frame(dash.volume, channel=PLATFORM_LABELS)).mark_bar().encode(
        x=_DAY, y=alt.Y("sum(mentions):Q", title="Messages"), color=alt.Color("channel:N", title="Canal"),
        tooltip=[_DAY_TIP, alt.Tooltip("channel:N", title="Canal"),
                 alt.Tooltip("mentions:Q", title="Messages"), alt.Tooltip("answered:Q", title="Répondus")])
    return _with_crises(bars, dash.days).properties(title="Messages reçus par jour et par canal", height=280)


def answered_chart(dash: Dashboard) -> Chart:
    """Share of mentions answered, per channel."""
    return alt.Chart(frame(dash.answered_by_channel, channel=PLATFORM_LABELS)).mark_bar().encode(
        y=alt.Y("channel:N", title="Canal"),
        x=alt.X("share_answered:Q", title="Part des messages ayant reçu une réponse",
                axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("channel:N", title="Canal"), alt.Tooltip("mentions:Q", title="Messages"),
                 alt.Tooltip("answered:Q", title="Répondus"),
                 alt.Tooltip("share_answered:Q", title="Part", format=".0%")],
    ).properties(title="Part des messages ayant reçu une réponse", height=alt.Step(28))


def response_chart(rows: Rows, target_h: float, *, by: str, title: str) -> Chart:
    """Median and 90th percentile of the first-response time (opening hours) per ``by``, with the target line."""
    long = [{by: (channel(str(r[by])) if by == "channel" else r[by]), "mesure": measure, "heures": r[key],
             "answered": r["answered"]}
            for r in rows if r["median_h"] is not None
            for measure, key in (("médiane", "median_h"), ("90e centile", "p90_h"))]
    label = "Canal" if by == "channel" else "Agent"
    bars = alt.Chart(pd.DataFrame(long, columns=[by, "mesure", "heures", "answered"])).mark_bar().encode(
        y=alt.Y(f"{by}:N", title=label), yOffset=alt.YOffset("mesure:N", sort=["médiane", "90e centile"]),
        x=alt.X("heures:Q", title="Heures ouvrées"),
        color=alt.Color("mesure:N", title="", sort=["médiane", "90e centile"],
                        scale=alt.Scale(range=["#1f77b4", "#aec7e8"])),
        tooltip=[alt.Tooltip(f"{by}:N", title=label), alt.Tooltip("mesure:N", title="Mesure"),
                 alt.Tooltip("heures:Q", title="Heures ouvrées"), alt.Tooltip("answered:Q", title="Réponses")])
    target = alt.Chart(pd.DataFrame([{"objectif": target_h, "label": f"objectif {target_h:g} h"}])).mark_rule(
        color="#d62728", strokeDash=[6, 4], size=2).encode(x="objectif:Q", tooltip=[alt.Tooltip("label:N", title="")])
    return alt.layer(bars, target).properties(title=title, height=alt.Step(18))


def backlog_chart(dash: Dashboard) -> Chart:
    """Open mentions now, by status, stacked by age."""
    return alt.Chart(frame(dash.backlog, status=STATUS_LABELS)).mark_bar().encode(
        y=alt.Y("status:N", title="Statut"), x=alt.X("sum(mentions):Q", title="Messages en attente"),
        color=alt.Color("age:N", title="Âge", sort=AGES, scale=alt.Scale(domain=AGES, scheme="oranges")),
        order=alt.Order("age_rank:Q"),
        tooltip=[alt.Tooltip("status:N", title="Statut"), alt.Tooltip("age:N", title="Âge"),
                 alt.Tooltip("mentions:Q", title="Messages"), alt.Tooltip("overdue:Q", title="Au-delà de l'objectif")],
    ).transform_calculate(age_rank=f"indexof({AGES!r}, datum.age)").properties(
        title="Messages en attente par statut et ancienneté", height=alt.Step(36))


def sentiment_chart(dash: Dashboard) -> Chart:
    """Mentions per day by sentiment; crisis days shaded."""
    names = list(SENTIMENT_COLOURS)
    bars = alt.Chart(frame(dash.sentiment, sentiment=SENTIMENTS_FR)).mark_bar().encode(
        x=_DAY, y=alt.Y("sum(mentions):Q", title="Messages"),
        color=alt.Color("sentiment:N", title="Tonalité", sort=names,
                        scale=alt.Scale(domain=names, range=list(SENTIMENT_COLOURS.values()))),
        tooltip=[_DAY_TIP, alt.Tooltip("sentiment:N", title="Tonalité"),
                 alt.Tooltip("mentions:Q", title="Messages")])
    return _with_crises(bars, dash.days).properties(title="Tonalité des messages par jour", height=260)


def risk_chart(dash: Dashboard) -> Chart:
    """Mentions per day carrying each risk flag; crisis days shaded."""
    lines = alt.Chart(frame(dash.risk, kind=RISK_LABELS)).mark_line(point=True).encode(
        x=_DAY, y=alt.Y("mentions:Q", title="Messages signalés"), color=alt.Color("kind:N", title="Risque"),
        tooltip=[_DAY_TIP, alt.Tooltip("kind:N", title="Risque"),
                 alt.Tooltip("mentions:Q", title="Messages")])
    return _with_crises(lines, dash.days).properties(
        title="Signalements de risque par jour (bandes orangées : épisodes de crise)", height=320)


def csv_button(name: str, rows: Rows, dash: Dashboard) -> None:
    """The "download data (CSV)" button for one service table."""
    first = dash.since.date().isoformat() if not dash.days else dash.days[0]["day"].isoformat()
    last = dash.days[-1]["day"].isoformat() if dash.days else dash.until.date().isoformat()
    st.download_button(CSV_LABEL, data=to_csv(rows), file_name=f"{name}-{first}-{last}.csv", mime="text/csv",
                       key=f"dashboard_csv_{name}", on_click="ignore", disabled=not rows)


# French number format on every axis and tooltip: « 1 000 » and « 0,5 », not « 1,000 » and « 0.5 » (issue #17).
FRENCH_NUMBERS = {"decimal": ",", "thousands": "\u202f", "grouping": [3], "currency": ["", "\u00a0€"]}


def chart_block(chart: Chart | None, name: str, rows: Rows, dash: Dashboard) -> None:
    """One chart (or an empty-state note) followed by its CSV button."""
    if rows and chart is not None:
        st.altair_chart(chart.configure(locale={"number": FRENCH_NUMBERS}), width="stretch",
                        key=f"dashboard_chart_{name}")
    else:
        st.info("Aucune donnée pour cette sélection.")
    csv_button(name, rows, dash)
