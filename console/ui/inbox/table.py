"""The inbox list (issue #17): columns readable at 1280 px, list and detail stacked on screens too narrow for
both side by side, and Enter or Space opening the focused row from the keyboard.

At 1280 px the page's content is about 820 px wide: the list takes it all (the detail pane goes below it) until
the screen is wide enough for both side by side (:data:`SIDE_BY_SIDE_MIN_PX`). The columns: the compact risk,
the message (about 60 characters), the author, the network and the state (status, who holds it, age). Priority
and sentiment are in the detail pane; the list is sorted by priority.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

import streamlit as st

from console.messages import PLATFORM_LABELS, STATUS_LABELS
from console.messages.labels import BACK_TO_LIST_LABEL
from console.ui import components
from core.clock import PARIS
from core.models import Agent, InboxItem

KEYS_SCRIPT = Path(__file__).resolve().parents[1] / "static" / "inbox_keys.js"  # CSP hash: console/server.py
LAYOUT_KEY = "inbox_layout"
OPEN_KEY_PREFIX = "inbox_msg_"  # + a digest of the open message's uid: the script sees another message open
HEADING_KEY = "inbox_heading"  # the open message's heading: where the script moves the focus
SIDE_BY_SIDE_MIN_PX = 1800  # below: the list full width, the detail pane under it
# Column widths in px (the selection column adds about 33): 785 px fit the 820 px of a 1280 px screen.
WIDTHS = {"Risque": 110, "Message": 390, "Auteur": 105, "Réseau": 80, "État": 100}
MESSAGE_CHARS = 200  # the cell holds more than it shows; the whole text is in the detail pane

_LAYOUT_CSS = f"""<style>
@media (max-width: {SIDE_BY_SIDE_MIN_PX - 1}px) {{
  .st-key-{LAYOUT_KEY} [data-testid="stHorizontalBlock"]:not([data-testid="stColumn"] *) {{ flex-wrap: wrap; }}
  .st-key-{LAYOUT_KEY} [data-testid="stHorizontalBlock"]:not([data-testid="stColumn"] *) > [data-testid="stColumn"] {{
    flex: 1 1 100% !important; width: 100% !important; min-width: 100% !important; }}
  .st-key-{LAYOUT_KEY}, .st-key-{LAYOUT_KEY} [class*="st-key-{OPEN_KEY_PREFIX}"] {{ scroll-margin-top: 4.5rem; }}
}}
@media (min-width: {SIDE_BY_SIDE_MIN_PX}px) {{
  .st-key-{LAYOUT_KEY} [data-testid="stElementContainer"]:has(> * .parvis-inbox-back) {{ display: none; }}
}}
.st-key-{LAYOUT_KEY} .parvis-inbox-back {{ background: none; border: none; padding: 0; cursor: pointer;
  color: inherit; font: inherit; text-decoration: underline; }}
.st-key-{HEADING_KEY}:focus-visible {{ outline: 2px solid currentColor; outline-offset: 2px; }}
</style>"""


def age(created_at: datetime, now: datetime) -> str:
    """How long ago, short: « 5 min », « 3 h », « 2 j », then the date (« 12/11 »)."""
    seconds = max(0, int((now - created_at).total_seconds()))
    if seconds < 3600:
        return f"{max(1, seconds // 60)} min"
    if seconds < 86_400:
        return f"{seconds // 3600} h"
    if seconds < 7 * 86_400:
        return f"{seconds // 86_400} j"
    return created_at.astimezone(PARIS).strftime("%d/%m")


def rows(items: list[InboxItem], agents: list[Agent], now: datetime) -> list[dict[str, str]]:
    """The list's rows: every cell a string, « — » or empty for a missing value (never « None »)."""
    initials = {a.id: a.initials for a in agents}
    out = []
    for it in items:
        platform = PLATFORM_LABELS.get(str(it.mention.platform), str(it.mention.platform))
        state = STATUS_LABELS.get(str(it.status), str(it.status))
        if it.assigned_to and initials.get(it.assigned_to):
            state += f" {initials[it.assigned_to]}"
        out.append({
            "Risque": components.risk_summary(it) or "—",
            "Message": " ".join((it.mention.text or "").split())[:MESSAGE_CHARS] or "—",
            "Auteur": f"@{it.mention.author.handle}" if it.mention.author.handle else "—",
            "Réseau": platform + (" 🔒" if it.private else ""),
            "État": f"{state} · {age(it.mention.created_at, now)}",
        })
    return out


def column_config() -> dict[str, Any]:
    """Widths and the headers' help (the headers are short to fit)."""
    helps = {"Risque": "Risques repérés (menace, données personnelles…)",
             "Message": "Le message (texte entier dans le détail, une fois ouvert)",
             "Auteur": "Auteur sur la plateforme", "Réseau": "Plateforme ; 🔒 : message privé",
             "État": "Statut, initiales de l'agent assigné, ancienneté"}
    return {name: st.column_config.TextColumn(name, width=width, help=helps[name]) for name, width in WIDTHS.items()}


def layout() -> tuple[Any, Any]:
    """The list's and the detail pane's containers: side by side on a wide screen, stacked below
    :data:`SIDE_BY_SIDE_MIN_PX` (CSS media query on this layout only)."""
    st.html(_LAYOUT_CSS)
    left, right = st.container(key=LAYOUT_KEY).columns([3, 2], gap="medium")
    return left, right


def open_message_key(uid: str) -> str:
    """The key of the open message's container: another message, another key (a class name: hex digits only)."""
    return OPEN_KEY_PREFIX + hashlib.sha256(uid.encode()).hexdigest()[:16]


def back_to_list() -> None:
    """« Retour à la liste » at the top of the detail pane, shown only when the pane is under the list; the
    keyboard script (static/inbox_keys.js) scrolls back to the list and gives it the focus."""
    st.html(f'<button type="button" class="parvis-inbox-back">{BACK_TO_LIST_LABEL}</button>')


def keyboard() -> None:
    """Enter or Space on the focused row opens it (static/inbox_keys.js; allowed by hash in the server's CSP)."""
    st.html(f"<script>{KEYS_SCRIPT.read_text(encoding='utf-8')}</script>", unsafe_allow_javascript=True)
