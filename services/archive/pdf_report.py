"""Readable PDF reports (fpdf2) of an audit selection or of archived messages, in French, for legal staff.

The PDF is a reading aid: the exact data is in the CSV/JSON files of the same export, whose SHA-256 are in the
manifest. Output is reproducible: the creation date is fixed by the caller (the end of the selection), so the
same selection gives the same bytes on the same installation. A Unicode TrueType font is used when found
(DejaVu Sans, or ``PARVIS_PDF_FONT``); otherwise the built-in Helvetica with characters outside Latin-1 replaced.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from core.clock import format_paris
from core.config import Settings

FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
    Path("/Library/Fonts/DejaVuSans.ttf"),
)
# Missing-glyph notices are expected (the exact text is in CSV/JSON); font subsetting chatter is noise.
logging.getLogger("fpdf").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.WARNING)


def _font_paths() -> tuple[Path, Path | None] | None:
    configured = Settings.from_values(os.environ).reports.pdf_font
    candidates = [configured] if configured else list(FONT_CANDIDATES)
    for regular in candidates:
        if regular.is_file():
            bold = regular.with_name(regular.stem + "-Bold" + regular.suffix)
            return regular, bold if bold.is_file() else None
    return None


class _Report(FPDF):
    def __init__(self, title: str, footer_note: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self._title = title
        self._footer_note = footer_note
        fonts = _font_paths()
        self.unicode = fonts is not None
        if fonts is not None:
            self.add_font("Body", "", str(fonts[0]))
            self.add_font("Body", "B", str(fonts[1] or fonts[0]))
            self.family_name = "Body"
        else:
            self.family_name = "Helvetica"
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(15, 15, 15)

    def clean(self, text: str) -> str:
        """Text the current font can show (Latin-1 only without a Unicode font)."""
        if self.unicode:
            return text
        swaps = {"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2014": "-", "\u2013": "-",
                 "\u2026": "...", "\u0153": "oe", "\u0152": "OE", "\u20ac": "EUR"}
        text = "".join(swaps.get(ch, ch) for ch in text)
        return text.encode("latin-1", "replace").decode("latin-1")

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(self.family_name, "", 7)
        self.set_text_color(110)
        self.cell(0, 4, self.clean(f"{self._title} — {self._footer_note} — page {self.page_no()}/{{nb}}"),
                  align="C")
        self.set_text_color(0)

    def heading(self, text: str, size: float = 14) -> None:
        """A bold heading line."""
        self.set_font(self.family_name, "B", size)
        self.multi_cell(0, size * 0.5, self.clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def line_text(self, text: str, *, size: float = 9, bold: bool = False, indent: float = 0) -> None:
        """A wrapped paragraph."""
        self.set_font(self.family_name, "B" if bold else "", size)
        self.set_x(self.l_margin + indent)
        self.multi_cell(0, size * 0.48, self.clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")

    def field(self, label: str, value: str, *, indent: float = 4) -> None:
        """``label : value`` on one wrapped line."""
        self.line_text(f"{label} : {value}", indent=indent)

    def rule(self) -> None:
        """A thin separator."""
        self.ln(1.5)
        self.set_draw_color(180)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(2)


def _start(title: str, intro: Sequence[str], created: datetime, footer_note: str) -> _Report:
    pdf = _Report(title, footer_note)
    pdf.set_creation_date(created)
    pdf.set_title(title)
    pdf.set_creator("Parvis")
    pdf.set_producer("Parvis (fpdf2)")
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.heading(title, 15)
    for line in intro:
        pdf.line_text(line)
    pdf.line_text("Ce PDF est une lecture : les données exactes sont dans les fichiers CSV et JSON de l'export, "
                  "dont les empreintes SHA-256 figurent dans manifest.json.", size=8)
    pdf.rule()
    return pdf


STATUS_FR = {"published": "publié", "edited": "modifié sur la plateforme", "hidden": "masqué sur la plateforme",
             "deleted": "supprimé de la plateforme", "unhidden": "de nouveau visible"}


def _short(text: str, limit: int = 600) -> str:
    return text if len(text) <= limit else text[:limit] + " […]"


def audit_pdf(events: Iterable[dict[str, object]], *, intro: Sequence[str], created: datetime,
              last_hash: str) -> bytes:
    """A readable report of audit rows (as stored: id, at, actor, role, event, subject, properties, hash)."""
    pdf = _start("Journal d'audit Parvis", intro, created, f"dernière empreinte {last_hash[:16]}…")
    count = 0
    for e in events:
        count += 1
        at = datetime.fromisoformat(str(e["at"]))
        role = f" ({e['role']})" if e["role"] else ""
        pdf.line_text(f"#{e['id']}  {format_paris(at, '%d/%m/%Y %H:%M:%S')}  {e['event']}", bold=True)
        pdf.field("Acteur", f"{e['actor']}{role}")
        if e["subject"]:
            pdf.field("Objet", str(e["subject"]))
        if e["properties"] not in ("{}", ""):
            pdf.field("Détails", _short(str(e["properties"])))
        pdf.field("Empreinte", str(e["hash"]))
        pdf.ln(1.5)
    if not count:
        pdf.line_text("Aucun événement dans cette sélection.")
    return bytes(pdf.output())


def archive_pdf(messages: Iterable[dict[str, Any]], *, intro: Sequence[str], created: datetime) -> bytes:
    """A readable report of archived messages with their history (dicts as written in the JSON export)."""
    pdf = _start("Archive des messages publiés", intro, created, "archive légale")
    count = 0
    for m in messages:
        count += 1
        published = datetime.fromisoformat(str(m["published_at"]))
        pdf.line_text(f"Message #{m['id']} — {m['platform']} {m['account'] or ''} — publié le "
                      f"{format_paris(published, '%d/%m/%Y à %H:%M')}", bold=True, size=10)
        pdf.field("Statut", STATUS_FR.get(str(m["status"]), str(m["status"])))
        pdf.field("Rédigé par", f"{m['author_name'] or ''} <{m['author']}>")
        if m["approver"]:
            pdf.field("Validé par", f"{m['approver_name'] or ''} <{m['approver']}>")
        if m["charter_version"] is not None:
            findings = m["charter_result"] or []
            summary = ", ".join(str(f.get("code", f)) for f in findings if isinstance(f, dict)) or "aucune remarque"
            pdf.field("Charte", f"version {m['charter_version']} — {summary}")
        answered = m.get("in_reply_to_snapshot") or {}
        if isinstance(answered, dict) and answered.get("text"):
            handle = answered.get("author_handle", "?")
            pdf.field("En réponse à", f"@{handle} : « {_short(str(answered['text']))} »")
        pdf.field("Texte publié", f"« {m['text']} »")
        pdf.field("Identifiant plateforme", str(m["platform_id"]))
        if m["permalink"]:
            pdf.field("Lien", str(m["permalink"]))
        for change in m.get("changes", []) or []:
            seen = datetime.fromisoformat(str(change["seen_at"]))
            extra = f" : « {_short(str(change['text']))} »" if change.get("text") else ""
            label = STATUS_FR.get(str(change["change"]), str(change["change"]))
            pdf.field("Ensuite", f"{format_paris(seen, '%d/%m/%Y %H:%M')} {label} "
                                 f"(vu par {change['actor']}){extra}")
        pdf.field("Empreinte de l'enregistrement", str(m["record_sha256"]))
        pdf.rule()
    if not count:
        pdf.line_text("Aucun message dans cette sélection.")
    return bytes(pdf.output())
