"""The one way Parvis writes CSV: cells that a spreadsheet would run as a formula are neutralised.

A resident who writes ``=HYPERLINK("http://evil.example","Cliquez")`` or ``=cmd|' /C calc'!A0`` must not get a
formula into the town hall's spreadsheet when an agent opens an export (CSV / formula injection, OWASP). Every
text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (or their full-width forms, which
some spreadsheets also read as operators) is prefixed with an apostrophe ``'``, as OWASP recommends; the ``csv``
module quotes what needs quoting. Numbers Parvis computes (counts, delays, scores) are written as numbers: only
``str`` cells are touched, so ``-3`` typed as an int stays ``-3``, while the text ``"-3"`` becomes ``'-3``.
JSON exports are not affected: they keep the exact text.

Use :func:`writer` / :func:`dict_writer` instead of ``csv.writer`` / ``csv.DictWriter`` (a test greps for them).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import Any

# '=' '+' '-' '@' tab, carriage return (OWASP), and the full-width '＝' '＋' '－' '＠'.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would read as a formula; others unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    """Every cell of ``row`` through :func:`safe_cell`."""
    return [safe_cell(v) for v in row]


class SafeWriter:
    """``csv.writer`` whose rows go through :func:`safe_row`."""

    def __init__(self, out: Any, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        """Write one row, neutralised."""
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        """Write rows, neutralised."""
        for row in rows:
            self.writerow(row)


class SafeDictWriter:
    """``csv.DictWriter`` whose values go through :func:`safe_cell`."""

    def __init__(self, out: Any, fieldnames: list[str], **options: Any) -> None:
        self._writer = csv.DictWriter(out, fieldnames=fieldnames, **options)

    def writeheader(self) -> Any:
        """Write the header row."""
        return self._writer.writeheader()

    def writerow(self, row: Mapping[str, Any]) -> Any:
        """Write one row, neutralised."""
        return self._writer.writerow({k: safe_cell(v) for k, v in row.items()})


def writer(out: Any, **options: Any) -> SafeWriter:
    """A CSV writer on ``out`` that neutralises formula cells (options as for ``csv.writer``)."""
    return SafeWriter(out, **options)


def dict_writer(out: Any, fieldnames: list[str], **options: Any) -> SafeDictWriter:
    """A CSV dict writer on ``out`` that neutralises formula cells (options as for ``csv.DictWriter``)."""
    return SafeDictWriter(out, fieldnames, **options)
