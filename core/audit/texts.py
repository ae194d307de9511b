"""Erasable free text of the audit log: personal text lives beside the chain, the chain keeps a salted hash.

An append-only, hash-chained log cannot forget, so the free text of residents and agents does not go into the
chained rows (decision 0035). For each field an event class names in ``erasable`` (a note's text, a comment on a
resident's message, a resident's edited message), :func:`record <core.audit.chain.record>` stores in the chained
``properties`` only ``{"text_ref": sha256(salt + text)}`` and puts the text, with its random salt, in
``audit_texts`` (core/migrations/erasable_texts.py m036). While the text is there anyone can check it against the
chained hash (:func:`verify_texts`); erasing it removes the row (``PRAGMA secure_delete`` zeroes it in the file)
and the chain still verifies, since the hash never changes. The random salt keeps the hash from confirming a
guess of the erased text.

Each text has an ``owner`` (what it belongs to, e.g. ``note:12`` or a mention uid) and a ``kind``:

- ``note``: an internal note's text (``note-added``); erased with the note (a trigger on ``notes``: retention
  purge and RGPD erasure);
- ``comment``: an agent's free-text comment on a resident's message (escalation, forward, unhide, unban,
  changes requested); erased by the RGPD erasure of the message's author;
- ``message``: a resident's own words (``mention-revised``); kept with the record like the mention itself, and
  erasable the same way the day the record goes;
- ``private``: the city's texts in a private conversation (a reply's body in ``reply-drafted``, ``reply-sent``...:
  an event's ``private_erasable`` fields, kept apart only when its subject is a private message, issue #20);
  erased with the private message (private retention, RGPD erasure of its author).

Readers show the text while it exists and :data:`ERASED` after (:func:`resolve`, :func:`texts_by_row`).
Rows written before this mechanism keep their text inline (the chain forbids rewriting them).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlite_utils import Database

from core.audit.base import AuditEvent, event_classes

TEXT_REF = "text_ref"
ERASED = "effacé (RGPD)"
KINDS = ("note", "comment", "message", "private")
PRIVATE_SUBJECT_SQL = "SELECT 1 FROM mentions WHERE uid = ? AND kind = 'private'"


@dataclass(frozen=True, slots=True)
class PendingText:
    """A text taken out of an event's properties, to store once the audit row exists."""

    ref: str
    salt: str
    text: str
    owner: str
    kind: str


def text_ref(salt: str, text: str) -> str:
    """The hash the chain stores for ``text``: SHA-256 hex of the salt then the text (UTF-8)."""
    return hashlib.sha256((salt + text).encode("utf-8")).hexdigest()


def extract(event: AuditEvent, props: dict[str, Any], *, private: bool = False) -> list[PendingText]:
    """Replace the erasable text fields of ``props`` by their reference; return the texts to store.

    ``private``: the event's subject is a private message, so its ``private_erasable`` fields go apart too.
    Empty texts and None stay as they are (nothing personal to keep apart).
    """
    fields = type(event).erasable
    extra = type(event).private_erasable if private else ()
    if not fields and not extra:
        return []
    pending = []
    for name in (*fields, *extra):
        value = props.get(name)
        if not isinstance(value, str) or not value:
            continue
        salt = secrets.token_hex(16)
        ref = text_ref(salt, value)
        props[name] = {TEXT_REF: ref}
        pending.append(PendingText(ref=ref, salt=salt, text=value, owner=event.text_owner(),
                                   kind="private" if name in extra else type(event).text_kind))
    return pending


def store(db: Database, audit_id: int, pending: Sequence[PendingText]) -> None:
    """Insert the texts of audit row ``audit_id`` (inside the caller's transaction)."""
    if pending:
        db.conn.executemany(
            "INSERT INTO audit_texts (ref, salt, text, owner, kind, audit_id) VALUES (?, ?, ?, ?, ?, ?)",
            [(p.ref, p.salt, p.text, p.owner, p.kind, audit_id) for p in pending])


@cache
def _erasable_fields() -> dict[str, tuple[str, ...]]:
    return {cls.name: (*cls.erasable, *cls.private_erasable) for cls in event_classes()
            if cls.erasable or cls.private_erasable}


def _refs(event: str, props: dict[str, Any]) -> dict[str, str]:
    """``{field: ref}`` of the erasable fields of a decoded row that hold a reference."""
    out = {}
    for name in _erasable_fields().get(event, ()):
        value = props.get(name)
        if isinstance(value, dict) and isinstance(value.get(TEXT_REF), str):
            out[name] = value[TEXT_REF]
    return out


def _lookup(db: Database, refs: Iterable[str]) -> dict[str, str]:
    """``{ref: text}`` of the references still stored (the erased ones are absent)."""
    wanted = sorted(set(refs))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        for ref, text in db.execute(f"SELECT ref, text FROM audit_texts WHERE ref IN ({','.join('?' * len(chunk))})",
                                    chunk):
            found[ref] = text
    return found


def resolve(db: Database, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with decoded ``properties`` (as :func:`core.audit.events_for` gives): each reference replaced by its
    text, or by :data:`ERASED` once erased. The rows are changed in place and returned."""
    refs = {id(r): _refs(r["event"], r["properties"]) for r in rows}
    texts = _lookup(db, (ref for found in refs.values() for ref in found.values()))
    for row in rows:
        for name, ref in refs[id(row)].items():
            row["properties"][name] = texts.get(ref, ERASED)
    return rows


def texts_by_row(db: Database, rows: Sequence[dict[str, Any]]) -> dict[int, dict[str, str]]:
    """For stored rows (``properties`` as JSON text, as :func:`core.audit.select_events` gives): ``{row id:
    {field: text or ERASED}}`` for the rows that reference erasable text (others are left out)."""
    refs: dict[int, dict[str, str]] = {}
    for row in rows:
        if row["event"] not in _erasable_fields() or TEXT_REF not in row["properties"]:
            continue
        found = _refs(row["event"], json.loads(row["properties"]))
        if found:
            refs[int(row["id"])] = found
    texts = _lookup(db, (ref for found in refs.values() for ref in found.values()))
    return {rid: {name: texts.get(ref, ERASED) for name, ref in found.items()} for rid, found in refs.items()}


def readable_properties(row: dict[str, Any], texts: dict[int, dict[str, str]]) -> str:
    """A stored row's ``properties`` JSON with its texts (or :data:`ERASED`) in place of the references."""
    found = texts.get(int(row["id"]))
    if not found:
        return str(row["properties"])
    props = json.loads(row["properties"])
    props.update(found)
    return json.dumps(props, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def verify_texts(db: Database) -> list[str]:
    """Problems with the stored texts: one whose hash no longer matches the chained reference (text edited)."""
    problems = []
    for ref, salt, text, audit_id in db.execute("SELECT ref, salt, text, audit_id FROM audit_texts ORDER BY audit_id"):
        if text_ref(str(salt), str(text)) != ref:
            problems.append(f"audit event #{audit_id}: its erasable text was edited (hash mismatch)")
    return problems
