"""The report as PDF (fpdf2): a summary page with the volume chart, a page of charts, then the tables.

Charts are drawn with fpdf2 primitives from the same model as the HTML charts (services/reports/charts.py).
A Unicode TrueType font is used when found (DejaVu Sans, or ``PARVIS_PDF_FONT``); otherwise Helvetica with
characters outside Latin-1 replaced.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from core.clock import format_paris
from core.config import Settings
from services.reports.charts import HIGHLIGHT, Chart, number
from services.reports.weekly import Report, charts, sections, summary_lines

FONTS = (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"), Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"))
logging.getLogger("fpdf").setLevel(logging.ERROR)  # missing emoji glyphs are expected


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


class _Pdf(FPDF):
    def __init__(self, report: Report) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.report = report
        configured = Settings.from_values(os.environ).reports.pdf_font
        font = next((p for p in ([configured] if configured else list(FONTS)) if p.is_file()), None)
        self.unicode = font is not None
        if font is not None:
            bold = font.with_name(font.stem + "-Bold" + font.suffix)
            self.add_font("Body", "", str(font))
            self.add_font("Body", "B", str(bold if bold.is_file() else font))
        self.family_name = "Body" if self.unicode else "Helvetica"
        self.set_auto_page_break(auto=True, margin=16)
        self.set_margins(15, 15, 15)

    def clean(self, text: str) -> str:
        """Text the font can show."""
        if self.unicode:
            return text
        swaps = {"\u2019": "'", "\u2014": "-", "\u2013": "-", "\u2026": "...", "\u202f": " ", "\u0153": "oe"}
        return "".join(swaps.get(c, c) for c in text).encode("latin-1", "replace").decode("latin-1")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family_name, "", 7)
        self.set_text_color(110)
        self.cell(0, 4, self.clean(f"{self.report.title} — {self.report.period_text} — page {self.page_no()}/{{nb}}"),
                  align="C")
        self.set_text_color(0)

    def para(self, text: str, size: float = 10, bold: bool = False) -> None:
        """A wrapped paragraph."""
        self.set_font(self.family_name, "B" if bold else "", size)
        self.multi_cell(0, size * 0.5, self.clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def chart(self, chart: Chart, height: float = 70) -> None:
        """Draw ``chart`` across the page width at the current position."""
        if self.get_y() + height + 6 > self.h - 16:
            self.add_page()
        x0, y0 = self.l_margin, self.get_y()
        width = self.w - self.l_margin - self.r_margin
        self.set_font(self.family_name, "B", 10)
        self.cell(0, 6, self.clean(chart.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        left, plot_top, plot_h = x0 + 12, y0 + 8, height - 26
        plot_w = width - 14
        n = max(1, len(chart.categories))
        slot = plot_w / n
        vmax = chart.scale_max()
        ypos = lambda v: plot_top + plot_h - plot_h * v / vmax  # noqa: E731
        self.set_fill_color(*_rgb(HIGHLIGHT))
        for i in chart.highlight:
            self.rect(left + i * slot, plot_top, slot, plot_h, style="F")
        self.set_font(self.family_name, "", 6)
        self.set_draw_color(220)
        for k in range(5):
            v = vmax * k / 4
            self.line(left, ypos(v), left + plot_w, ypos(v))
            self.text(x0, ypos(v) + 1, number(v))
        for i in range(len(chart.categories)):
            base = 0.0
            for s, (_name, values) in enumerate(chart.series):
                v = values[i]
                if v > 0:
                    self.set_fill_color(*_rgb(chart.colours[s % len(chart.colours)]))
                    self.rect(left + i * slot + slot * 0.12, ypos(base + v), slot * 0.76, ypos(base) - ypos(base + v),
                              style="F")
                base += v
        every = chart.label_every()
        for i, cat in enumerate(chart.categories):
            if i % every == 0:
                self.text(left + i * slot + slot * 0.5 - self.get_string_width(cat) / 2, plot_top + plot_h + 4,
                          self.clean(cat))
        if chart.target is not None:
            self.set_draw_color(200, 65, 75)
            self.set_dash_pattern(dash=1.5, gap=1)
            self.line(left, ypos(chart.target), left + plot_w, ypos(chart.target))
            self.set_dash_pattern()
            self.set_text_color(200, 65, 75)
            label = self.clean(chart.target_label)
            self.text(left + plot_w - self.get_string_width(label), ypos(chart.target) - 1, label)
            self.set_text_color(0)
        x = left
        for s, (name, _values) in enumerate(chart.series):
            self.set_fill_color(*_rgb(chart.colours[s % len(chart.colours)]))
            self.rect(x, plot_top + plot_h + 7, 3, 3, style="F")
            self.text(x + 4, plot_top + plot_h + 9.5, self.clean(name))
            x += 8 + self.get_string_width(name)
        self.set_draw_color(0)
        self.set_y(y0 + height)

    def titled_table(self, title: str, headers: list[str], rows: list[list[Any]]) -> None:
        """A titled table (fpdf2 table, header row repeated on page breaks)."""
        if self.get_y() > self.h - 50:
            self.add_page()
        self.ln(3)
        self.para(title, 12, bold=True)
        self.ln(1)
        self.set_font(self.family_name, "", 8)
        with self.table(first_row_as_headings=True, line_height=4.2, text_align="LEFT") as table:
            table.row([self.clean(h) for h in headers])
            for row in rows:
                table.row([self.clean(str(c)) for c in row])


def report_pdf(report: Report) -> bytes:
    """Render ``report`` as PDF bytes (creation date = generation time, for reproducible files)."""
    pdf = _Pdf(report)
    pdf.set_creation_date(report.generated_at)
    pdf.set_title(report.title)
    pdf.set_creator("Parvis")
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.para(report.title, 16, bold=True)
    pdf.para(f"Période {report.period_text} — généré le {format_paris(report.generated_at)}", 9)
    pdf.ln(3)
    pdf.para("En bref", 12, bold=True)
    for line in summary_lines(report):
        pdf.para(f"• {line}", 10)
    for crisis in report.dashboard.crises:
        pdf.para(f"Épisode de crise : {format_paris(crisis['start'])} – {format_paris(crisis['end'], '%H:%M')}, "
                 f"{crisis['alerts']} messages négatifs ou signalés (habituellement {number(crisis['usual_per_hour'])}"
                 " par heure).", 9)
    pdf.ln(4)
    all_charts = charts(report)
    pdf.chart(all_charts[0])
    if len(all_charts) > 1:
        pdf.add_page()
        for chart in all_charts[1:]:
            pdf.chart(chart)
            pdf.ln(4)
    pdf.add_page()
    for title, headers, rows in sections(report):
        pdf.titled_table(title, headers, rows)
    return bytes(pdf.output())
