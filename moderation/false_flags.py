"""False flags of each risk kind on benign municipal messages (issue #17).

``moderation/data/benign_municipal_fr.jsonl``: 310 realistic French messages a town hall receives (questions,
thanks, events, services), written to hold the words that used to trip the lexicon and the toxicity model
(« pourriez-vous », « dans le noir », « droits des femmes », « sans porc », « match nul », « couteau suisse »...).
Each line is ``{"text": ..., "risks": [...]}``: ``risks`` names the kinds the message really carries (none so far).
A flag of a kind the line does not list is a false flag. Reported in BENCHMARKS.md; the bound for ``insult`` and
``hate`` (<= 2 %) is asserted by tests/moderation/test_false_flags.py.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from moderation.risk import KINDS, RiskScorer

BENIGN_PATH = Path(__file__).with_name("data") / "benign_municipal_fr.jsonl"
QUEUE_LINE = 0.5  # PARVIS_MODERATION_THRESHOLD's default: a flag from here on puts the message in the queue


@dataclass(frozen=True, slots=True, kw_only=True)
class BenignLine:
    """One labelled message."""

    text: str
    risks: tuple[str, ...]


def load_benign(path: Path = BENIGN_PATH) -> list[BenignLine]:
    """The labelled benign set."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out.append(BenignLine(text=str(row["text"]), risks=tuple(row.get("risks", ()))))
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class FalseFlagReport:
    """Per kind: the share of messages flagged with a kind they do not carry (any reported flag, and flags at or
    above the queue line), and the messages so flagged."""

    total: int
    any_flag: dict[str, float]
    at_queue_line: dict[str, float]
    examples: dict[str, list[str]]

    def as_dict(self) -> dict[str, object]:
        """JSON-able form (rates rounded to 0.1 %)."""
        return {"messages": self.total,
                "false_flag_rate": {k: round(v, 4) for k, v in self.any_flag.items()},
                "false_flag_rate_at_queue_line": {k: round(v, 4) for k, v in self.at_queue_line.items()}}


def false_flags(scorer: RiskScorer, lines: Sequence[BenignLine]) -> FalseFlagReport:
    """Run ``scorer`` over ``lines`` and count the false flags of each kind."""
    flags = scorer.flags([line.text for line in lines])
    any_count = dict.fromkeys(KINDS, 0)
    line_count = dict.fromkeys(KINDS, 0)
    examples: dict[str, list[str]] = {k: [] for k in KINDS}
    for line, found in zip(lines, flags, strict=True):
        for flag in found:
            if flag.kind in line.risks:
                continue
            any_count[flag.kind] += 1
            examples[flag.kind].append(line.text)
            if flag.score >= QUEUE_LINE:
                line_count[flag.kind] += 1
    n = max(1, len(lines))
    return FalseFlagReport(total=len(lines), any_flag={k: v / n for k, v in any_count.items()},
                           at_queue_line={k: v / n for k, v in line_count.items()}, examples=examples)
