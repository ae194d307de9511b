"""Report and « Questions fréquentes » downloads of the "Tableau de bord".

The files are built only when the button is clicked (Streamlit's deferred download data), so choosing a period
or a format costs nothing; the bytes are those of ``python -m console report`` / ``faq``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from functools import partial
from typing import Any

import streamlit as st

from console.ui import deps
from core.clock import PARIS
from services.reports.dashboard import DashboardConfig, DashboardFilters, period
from services.reports.faq import build_faq, faq_html, faq_markdown
from services.reports.weekly import build_report, render

REPORT_FORMATS = {"pdf": "PDF", "html": "HTML", "csv": "CSV"}
REPORT_MIME = {"pdf": "application/pdf", "html": "text/html", "csv": "text/csv"}
FAQ_FORMATS = {"html": "page HTML", "md": "Markdown"}
FAQ_MIME = {"html": "text/html", "md": "text/markdown"}


def report_bytes(first: date, last: date, fmt: str, filters: DashboardFilters) -> bytes:
    """The report for Paris days ``first``..``last`` with the dashboard's other filters, as ``fmt`` bytes."""
    since, until = period(first, last)
    with deps.db() as db:
        config = DashboardConfig.from_settings(deps.settings())
        report = build_report(db, since=since, until=until, config=config, now=deps.now(),
                              filters=replace(filters, since=since, until=until))
        return render(report, fmt)


def faq_bytes(first: date, last: date, fmt: str, filters: DashboardFilters) -> bytes:
    """The public FAQ (personal data removed) of Paris days ``first``..``last``, as Markdown or HTML bytes."""
    since, until = period(first, last)
    with deps.db() as db:
        config = DashboardConfig.from_settings(deps.settings())
        entries = build_faq(db, since=since, until=until, config=config, now=deps.now(), filters=filters)
    intro = f"Les questions les plus posées à la ville du {first:%d/%m/%Y} au {last:%d/%m/%Y}, et nos réponses."
    text = faq_html(entries, intro=intro) if fmt == "html" else faq_markdown(entries, intro=intro)
    return text.encode("utf-8")


def _days(value: Any) -> tuple[date, date] | None:
    """A date_input range value as (first, last), or None while only one end is chosen."""
    if isinstance(value, tuple | list) and len(value) == 2:
        return value[0], value[1]
    return None


def exports_section(filters: DashboardFilters) -> None:
    """Choose a period and a format, then download the report or the public FAQ."""
    today = deps.now().astimezone(PARIS).date()
    c1, c2, c3 = st.columns([2, 1, 1])
    chosen = c1.date_input("Période du rapport", value=(today - timedelta(days=7), today - timedelta(days=1)),
                           max_value=today, format="DD/MM/YYYY", key="dashboard_report_period")
    fmt = c2.radio("Format du rapport", list(REPORT_FORMATS), format_func=REPORT_FORMATS.get, horizontal=True,
                   key="dashboard_report_format")
    faq_fmt = c3.radio("Format de la FAQ", list(FAQ_FORMATS), format_func=FAQ_FORMATS.get, horizontal=True,
                       key="dashboard_faq_format")
    days = _days(chosen)
    if days is None:
        st.info("Choisissez le premier et le dernier jour de la période.")
        return
    first, last = days
    st.caption("Les filtres du tableau de bord (canal, compte, étiquette, service) s'appliquent aussi au rapport "
               "et à la FAQ. Les exemples et la FAQ ne contiennent pas de données personnelles.")
    d1, d2 = st.columns(2)
    d1.download_button(f"Télécharger le rapport ({REPORT_FORMATS[fmt]})", type="primary", on_click="ignore",
                       data=partial(report_bytes, first, last, fmt, filters), mime=REPORT_MIME[fmt],
                       file_name=f"rapport-{first.isoformat()}-{last.isoformat()}.{fmt}",
                       key="dashboard_report_download")
    d2.download_button(f"Exporter les questions fréquentes ({FAQ_FORMATS[faq_fmt]})", on_click="ignore",
                       data=partial(faq_bytes, first, last, faq_fmt, filters), mime=FAQ_MIME[faq_fmt],
                       file_name=f"questions-frequentes-{first.isoformat()}-{last.isoformat()}.{faq_fmt}",
                       key="dashboard_faq_download")
