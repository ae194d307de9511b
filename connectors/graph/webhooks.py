"""Meta webhooks (Facebook Page and Instagram): the signature, the verification handshake, the envelope. Pure.

Meta signs each ``POST`` with ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, key = app secret>``
and checks the callback once with ``GET ?hub.mode=subscribe&hub.verify_token=<ours>&hub.challenge=<n>``, expecting
the challenge echoed. A delivery is ``{"object": "page"|"instagram", "entry": [{"id", "time", "changes":
[{"field", "value"}]}]}``; ``messaging`` entries (Messenger, Instagram Direct) come as ``entry[].messaging[]``
and are handed on as the field ``messages``. Events carry ids (and sometimes the text): what they point to is read
through the connector afterwards (services/connections/webhooks.py).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

SIGNATURE_HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="


def signature(body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends for ``body`` (also what tests and the bench sign with)."""
    return _PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(body: bytes, header: str | None, app_secret: str | None) -> bool:
    """Whether ``header`` is the HMAC-SHA256 of the raw ``body`` with ``app_secret`` (constant-time compare).

    False when the secret is not configured, the header is absent or not ``sha256=<hex>``.
    """
    if not app_secret or not header or not header.startswith(_PREFIX):
        return False
    return hmac.compare_digest(signature(body, app_secret).encode(), header.strip().encode())


def handshake_challenge(params: Mapping[str, str], verify_token: str | None) -> str | None:
    """The challenge to echo for a valid verification ``GET`` (``hub.mode=subscribe``, our verify token), else
    None. The token is compared in constant time; an unset verify token refuses every handshake."""
    if not verify_token or params.get("hub.mode") != "subscribe":
        return None
    given = params.get("hub.verify_token") or ""
    if not hmac.compare_digest(given.encode(), verify_token.encode()):
        return None
    challenge = params.get("hub.challenge")
    return challenge if challenge else None


def body_digest(body: bytes) -> str:
    """SHA-256 of the raw body: the key under which an accepted delivery is remembered (a replay has the same)."""
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True, slots=True)
class Change:
    """One change of a delivery: ``object`` (``page``, ``instagram``), the entry's ``owner`` id (the Page or the
    Instagram account), ``field`` (``feed``, ``comments``, ``mentions``, ``messages``...), its ``value``."""

    object: str
    owner: str
    field: str
    value: Any
    time: int | None = None


@dataclass(frozen=True, slots=True)
class Envelope:
    """A parsed delivery: its changes, and what could not be read (one reason each)."""

    object: str
    changes: list[Change] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def parse(payload: Any) -> Envelope:
    """The changes of a delivery (see the module docstring); never raises on a malformed payload."""
    if not isinstance(payload, Mapping):
        return Envelope(object="", problems=["webhook payload is not an object"])
    obj = str(payload.get("object") or "")
    out = Envelope(object=obj)
    entries = payload.get("entry")
    if not isinstance(entries, list):
        out.problems.append("webhook payload without entry list")
        return out
    for entry in entries:
        if not isinstance(entry, Mapping):
            out.problems.append("webhook entry is not an object")
            continue
        owner = str(entry.get("id") or "")
        when = entry.get("time") if isinstance(entry.get("time"), int) else None
        for change in _list(entry.get("changes")):
            if isinstance(change, Mapping) and isinstance(change.get("field"), str):
                out.changes.append(Change(object=obj, owner=owner, field=change["field"], value=change.get("value"),
                                          time=when))
            else:
                out.problems.append("webhook change without field")
        for message in _list(entry.get("messaging")):
            out.changes.append(Change(object=obj, owner=owner, field="messages", value=message, time=when))
    return out


def changes_of(payload: Any) -> Iterator[Change]:
    """Every change of a delivery or of a list of deliveries (what a relay saved)."""
    for one in payload if isinstance(payload, list) else [payload]:
        yield from parse(one).changes


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
