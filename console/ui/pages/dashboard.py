"""Tableau de bord: volumes, share answered, response times against the target, backlog, sentiment, risk and
crises; topics with the group answer; the report and the public FAQ. Figures: services/reports/dashboard.py.

Every role that may read the inbox sees it (the figures aggregate the inbox); answering a group needs the reply
and saved-reply rights, which the reply services check again.
"""

from datetime import timedelta

import streamlit as st

from console.messages.labels import CHOOSE_ONE
from console.ui import page
from console.ui.dashboard import charts as view
from console.ui.dashboard import exports as dashboard_exports
from console.ui.dashboard import topics as dashboard_topics
from core.clock import PARIS, format_paris
from core.errors import ParvisError
from services.accounts import permissions
from services.reports import dashboard

REFUSAL = "Accès refusé : votre rôle ne permet pas de consulter le tableau de bord."

ctx = page.preamble("Tableau de bord", needs=lambda a: permissions.can(a, permissions.Action.INBOX_READ),
                    refusal=REFUSAL)
agent = ctx.agent
config = page.load(lambda db: dashboard.DashboardConfig.from_settings(ctx.settings))
choices = page.load(dashboard.filter_choices)

today = ctx.now.astimezone(PARIS).date()
services = sorted({*config.services,
                   *(t.removeprefix("service:") for t in choices["tags"] if t.startswith("service:"))})
with st.expander("Filtres", expanded=True):
    c1, c2, c3, c4, c5 = st.columns([2, 1, 1, 1, 1])
    chosen = c1.date_input("Période", value=(today - timedelta(days=dashboard.DEFAULT_DAYS - 1), today),
                           max_value=today, format="DD/MM/YYYY", key="dashboard_period")
    platforms = c2.multiselect("Canal", choices["platforms"], format_func=view.channel, key="dashboard_platforms",
                               placeholder="Tous")
    accounts = c3.multiselect("Compte", choices["accounts"], key="dashboard_accounts", placeholder="Tous")
    tags = c4.multiselect("Étiquette", choices["tags"], key="dashboard_tags", placeholder="Toutes")
    service = c5.selectbox("Service", ["", *services], format_func=lambda s: s or "Tous", key="dashboard_service",
                           placeholder=CHOOSE_ONE)
if isinstance(chosen, tuple | list) and not chosen:
    st.info("Choisissez une période.")
    st.stop()
first, last = (chosen[0], chosen[-1]) if isinstance(chosen, tuple | list) else (chosen, chosen)
since, until = dashboard.period(first, last)
filters = dashboard.DashboardFilters(since=since, until=until, platforms=tuple(platforms), accounts=tuple(accounts),
                                     tags=tuple(tags), service=service or None)
dash = page.load(lambda db: dashboard.load_dashboard(db, filters, config, now=ctx.now))


def _h(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} h".replace(".", ",")


def _n(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


t = dash.totals
st.caption(f"Du {first:%d/%m/%Y} au {last:%d/%m/%Y} · objectif de première réponse : {dash.target_h:g} h ouvrées "
           f"· calculé le {format_paris(dash.generated_at)}")
k = st.columns(6)
k[0].metric("Messages reçus", _n(t["mentions"]))
k[1].metric("Ayant reçu une réponse", _pct(t["share_answered"]))
k[2].metric("Délai médian", _h(t["median_h"]), help="Première réponse, en heures ouvrées.")
k[3].metric("90e centile", _h(t["p90_h"]), help="9 réponses sur 10 arrivent en moins de ce délai (heures ouvrées).")
k[4].metric("Dans l'objectif", _pct(t["within_target"]))
k[5].metric("En attente", _n(t["open_backlog"]), help=f"Dont {_n(t['overdue'])} au-delà de l'objectif.")

st.subheader("Volumes et réponses")
view.chart_block(view.volume_chart(dash), "volume", dash.volume, dash)
view.chart_block(view.answered_chart(dash), "reponses_par_canal", dash.answered_by_channel, dash)

st.subheader("Délais de première réponse")
left, right = st.columns(2)
with left:
    view.chart_block(view.response_chart(dash.response_by_channel, dash.target_h, by="channel",
                                         title="Par canal : médiane et 90e centile"),
                     "delais_par_canal", dash.response_by_channel, dash)
with right:
    view.chart_block(view.response_chart(dash.response_by_agent, dash.target_h, by="agent",
                                         title="Par agent : médiane et 90e centile"),
                     "delais_par_agent", dash.response_by_agent, dash)

st.subheader("Messages en attente")
view.chart_block(view.backlog_chart(dash), "backlog", dash.backlog, dash)

st.subheader("Tonalité, risques et crises")
view.chart_block(view.sentiment_chart(dash), "sentiment", dash.sentiment, dash)
view.chart_block(view.risk_chart(dash), "risques", dash.risk, dash)
if dash.crises:
    st.warning(f"{len(dash.crises)} épisode(s) de crise : pic inhabituel de messages négatifs ou signalés.")
    st.dataframe([{"Début": format_paris(c["start"]), "Fin": format_paris(c["end"]), "Heures": c["hours"],
                   "Messages négatifs ou signalés": c["alerts"], "Pic": format_paris(c["peak_at"]),
                   "Au pic (par heure)": c["peak_alerts"], "Habituel (par heure)": c["usual_per_hour"]}
                  for c in dash.crises], hide_index=True, width="stretch")
else:
    st.caption("Aucun épisode de crise sur cette période.")
view.csv_button("crises", dash.crises, dash)
with st.expander("Chiffres par jour"):
    st.dataframe(view.frame(dash.days), hide_index=True, width="stretch")
    view.csv_button("jours", dash.days, dash)

st.subheader("Sujets")
try:
    topics = dashboard_topics.cached_topics(str(ctx.settings.db_path), filters)
except ParvisError as err:
    page.error(err)
    topics = []
dashboard_topics.topics_section(agent, topics)

st.subheader("Rapport et questions fréquentes")
dashboard_exports.exports_section(filters)
