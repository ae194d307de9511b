"""The team's moderation decisions as toxicity labels for ``train toxicity|rich --with-feedback`` (decision 0316).

A town hall's own decisions are the labels closest to its traffic: a message hidden or deleted (or its author
banned) for insult, hate or threat is toxic; one dismissed after reading as not offending, as legitimate criticism
or as a false alarm is not. Only a person's latest settling decision on a message counts (an unhide after a hide
takes the label back); private messages never do.
"""

from __future__ import annotations

from sqlite_utils import Database

from core.repo import moderation_actions as decisions_repo
from moderation.legal import SETTLING_ACTIONS, toxicity_label


def toxicity_feedback(db: Database) -> list[tuple[str, bool]]:
    """``(text, toxic)`` of every public message whose latest decision says toxic or not, oldest first."""
    out = []
    for text, action, ground, detail in decisions_repo.latest_settling_decisions(db, SETTLING_ACTIONS):
        label = toxicity_label(action, ground, detail)
        if label is not None:
            out.append((text, label))
    return out
