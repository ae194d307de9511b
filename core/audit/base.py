"""The audit event base class, the system actors and the chain's genesis value."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any, ClassVar

GENESIS = "0" * 64
SYSTEM_WORKER = "system:worker"
SYSTEM_CLI = "system:cli"


@dataclass(frozen=True, kw_only=True)
class AuditEvent:
    """Base class: ``actor`` is an agent e-mail or ``system:*``; ``subject`` the object acted on.

    ``erasable`` names the fields that hold residents' or agents' free text: they are kept out of the chained
    row (core/audit/texts.py), as ``text_kind`` texts owned by :meth:`text_owner`.
    """

    name: ClassVar[str] = ""
    erasable: ClassVar[tuple[str, ...]] = ()
    # The city's own texts (a reply's body) stay in the chain, except in a private conversation: when the subject
    # is a private message, these fields are kept beside the chain too, as ``private`` texts (issue #20).
    private_erasable: ClassVar[tuple[str, ...]] = ()
    text_kind: ClassVar[str] = "comment"
    actor: str
    role: str = ""
    subject: str = ""

    def text_owner(self) -> str:
        """What the erasable texts belong to (erased with it): the subject unless an event says otherwise."""
        return self.subject

    def properties(self) -> dict[str, Any]:
        """Event-specific fields (everything but actor, role and subject)."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _BASE_FIELDS}
        if not all(isinstance(v, _SCALARS) for v in data.values()):
            data = asdict(self)  # containers may hold dataclasses: convert them (slower, rarely needed)
            for key in _BASE_FIELDS:
                data.pop(key)
        return data


_BASE_FIELDS = frozenset({"actor", "role", "subject"})
_SCALARS = (str, int, float, bool, type(None), datetime)


def event_classes() -> list[type[AuditEvent]]:
    """Every concrete AuditEvent subclass (used by the docs test)."""
    seen: list[type[AuditEvent]] = []
    stack = list(AuditEvent.__subclasses__())
    while stack:
        cls = stack.pop()
        if cls.name:
            seen.append(cls)
        stack.extend(cls.__subclasses__())
    return sorted(seen, key=lambda c: c.name)
