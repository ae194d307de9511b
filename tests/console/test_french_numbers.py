"""Numbers the console shows are written the French way (issue #17: « 0.50 », « 1,000 » read as English)."""

from __future__ import annotations

from console.ui.components import fr_number


def test_decimal_comma_and_narrow_space_between_thousands():
    assert fr_number(0.5, 2) == "0,50"
    assert fr_number(1234.5, 1) == "1\u202f234,5"
    assert fr_number(1_000_000) == "1\u202f000\u202f000"
    assert fr_number(97) == "97"
