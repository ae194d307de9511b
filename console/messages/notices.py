"""Outcome sentences that are not errors: what a person reads when an action went out to a platform but its record
is still being written (decision 0008; decision 0051). Services say which with a key (``Outcome.notice``), the UI
and the CLI read the sentence here with :func:`notice`. ``tests/test_text_catalogue.py`` checks both ways.
"""

from __future__ import annotations

_RECORDING = "son enregistrement est en cours (la base de données est momentanément occupée) : il sera terminé " \
             "automatiquement."

NOTICES = {
    "act_sent_not_recorded": "Action envoyée à la plateforme ; " + _RECORDING,
    "reply_sent_not_recorded": "Réponse envoyée à la plateforme ; " + _RECORDING,
}


def notice(key: str) -> str:
    """The French sentence of outcome ``key`` (KeyError for an unknown key: a test keeps the two in step)."""
    return NOTICES[key]
