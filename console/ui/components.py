"""Small UI pieces shared by pages. Residents' text is always shown as plain text, never HTML or Markdown."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import streamlit as st

from console.messages import PLATFORM_LABELS, RISK_SHORT_LABELS, SENTIMENT_LABELS, STATUS_LABELS
from core.clock import format_paris
from core.models import InboxItem

# Every character that can start Markdown, HTML, an entity, a link, LaTeX or a Streamlit directive (:red[…],
# :material/…:). Parentheses are left alone: they only matter after "]", which is escaped.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]#+\-.!|<>~$:&])")


def fr_number(value: float, decimals: int = 0) -> str:
    """A number as French readers write it: decimal comma, narrow no-break space between thousands
    (« 1 234,5 »)."""
    return f"{value:,.{decimals}f}".replace(",", "\u202f").replace(".", ",")


def md_escape(text: str) -> str:
    """Escape Markdown/HTML-significant characters so untrusted text renders literally inside Markdown (the one
    escaping rule of the console: page.alert and page.flash apply it when they show a message)."""
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\n", " ")


def resident_text(text: str) -> None:
    """Show a resident's message verbatim (st.text: no Markdown, no HTML)."""
    st.text(text)


RISK_ORDER = tuple(RISK_SHORT_LABELS)  # severe kinds first: the order of the compact risk column


def risk_summary(item: InboxItem) -> str:
    """Compact French summary of an item's risk flags, severe kinds first, e.g. "⚠ menace, urgence" (never a raw
    code such as ``threat``; an unknown kind is shown as « autre »)."""
    kinds = {str(f.get("kind", "")) for f in item.risk_flags if f}
    known = [RISK_SHORT_LABELS[k] for k in RISK_ORDER if k in kinds]
    return ", ".join(known + (["autre"] if kinds - set(RISK_SHORT_LABELS) else []))


MARK_OPEN, MARK_CLOSE = "⟦", "⟧"


def marked_text(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each flagged span (start, end) wrapped in ⟦ ⟧, overlapping spans merged; plain text, to be
    shown with st.text (never as Markdown or HTML)."""
    merged: list[list[int]] = []
    for start, end in sorted(s for s in spans if 0 <= s[0] < s[1] <= len(text)):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, last = [], 0
    for start, end in merged:
        out += [text[last:start], MARK_OPEN, text[start:end], MARK_CLOSE]
        last = end
    return "".join([*out, text[last:]])


def resident_text_marked(text: str, spans: list[tuple[int, int]]) -> None:
    """A resident's message verbatim with the flagged passages between ⟦ ⟧ (st.text: no Markdown, no HTML)."""
    st.text(marked_text(text, spans))


def item_header(item: InboxItem) -> str:
    """One-line header (safe for Markdown): platform, author, time, status."""
    m = item.mention
    return (f"**{PLATFORM_LABELS.get(str(m.platform), str(m.platform))}** · {md_escape(m.author.display_name or '')} "
            f"@{md_escape(m.author.handle)} · {format_paris(m.created_at)} · "
            f"{STATUS_LABELS.get(str(item.status), str(item.status))}")


def sentiment_label(item: InboxItem) -> str:
    """French sentiment label with confidence."""
    if not item.sentiment:
        return "—"
    label = SENTIMENT_LABELS.get(item.sentiment, item.sentiment)
    return f"{label} ({item.sentiment_confidence:.0%})" if item.sentiment_confidence is not None else label


def kept_tabs(labels: list[str], key: str) -> Sequence[Any]:
    """``st.tabs`` that keep the open tab across reruns (an action, a form, a download), instead of jumping back to
    the first one (issue #17). A label that carries a count (« Notes (2) ») is matched on the text before its
    parenthesis, so the tab stays open when the count changes."""
    def stem(label: str) -> str:
        return label.split(" (", 1)[0]

    current = st.session_state.get(key)
    if isinstance(current, str) and current not in labels:
        st.session_state[key] = next((lab for lab in labels if stem(lab) == stem(current)), labels[0])
    return st.tabs(labels, key=key, on_change="rerun")
