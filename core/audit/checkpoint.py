"""Signed checkpoints of the audit chain, kept outside the database (issue #15 item 5, decision 0090).

The hash chain proves that the rows agree with each other, not that they are all there: with the triggers
dropped, cutting the tail of the log, editing the last row and recomputing its hash, or rewriting everything
after some row all leave a chain that verifies. A checkpoint fixes the head outside the database: a small JSON
file holding the head's id, hash and time, the number of rows, when it was taken, the SHA-256 of the checkpoint
before it, the signing key's id, and an Ed25519 signature over all of that. Files are written once, never
overwritten (``O_EXCL``), into a folder that should live elsewhere (a mounted remote or write-once folder).

:func:`take` signs only a chain that extends the latest checkpoint (its rows since then are verified first), so
a database altered behind Parvis's back is never blessed by a later checkpoint. :func:`check` compares the chain
with every checkpoint of a folder and checks each signature with keys the verifier trusts.

What is signed: the UTF-8 bytes of the JSON object of every field but ``signature``, keys sorted, no spaces,
non-ASCII kept (:meth:`Checkpoint.signed_bytes`); ``signature`` is the standard base64 of the 64-byte Ed25519
signature; ``key_id`` the first 16 hex digits of the SHA-256 of the raw 32-byte public key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlite_utils import Database

from core.audit.chain import chain_head, count_events, stored_hash, verify_chain
from core.clock import to_iso
from core.errors import ConfigError, IntegrityError, StorageError, ValidationError

log = logging.getLogger("parvis.audit.checkpoint")
FORMAT = "parvis-audit-checkpoint/1"
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.DOTALL)
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpoint:
    """One signed checkpoint; ``path`` and ``digest`` (SHA-256 of the file) are known once written or read."""

    head_id: int
    head_hash: str
    head_at: str
    count: int
    taken_at: str
    database: str
    previous: str | None
    key_id: str
    signature: str = ""
    format: str = FORMAT
    path: Path | None = field(default=None, compare=False)
    digest: str = field(default="", compare=False)

    def payload(self) -> dict[str, Any]:
        """The signed fields."""
        data = asdict(self)
        for name in ("signature", "path", "digest"):
            data.pop(name)
        return data

    def signed_bytes(self) -> bytes:
        """The exact bytes the signature covers."""
        return json.dumps(self.payload(), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def file_bytes(self) -> bytes:
        """The file written: the signed fields and the signature, indented for a person to read."""
        return (json.dumps({**self.payload(), "signature": self.signature}, sort_keys=True, ensure_ascii=False,
                           indent=2) + "\n").encode("utf-8")

    @property
    def name(self) -> str:
        """The file's name (or a description before it is written)."""
        return self.path.name if self.path else f"checkpoint of event #{self.head_id}"


# ---- keys ------------------------------------------------------------------------------------------------------

def key_id(public: Ed25519PublicKey) -> str:
    """The first 16 hex digits of the SHA-256 of the raw public key."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public: Ed25519PublicKey) -> str:
    """The public key as PEM text (SubjectPublicKeyInfo), to hand to whoever verifies."""
    return public.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key stored (PEM, PKCS#8, unencrypted) at ``path``.

    :raises ConfigError: missing, unreadable, or not an Ed25519 private key.
    """
    try:
        data = path.read_bytes()
        key = serialization.load_pem_private_key(data, password=None)
    except (OSError, ValueError, TypeError) as err:
        raise ConfigError(f"the audit signing key {path} cannot be read: {err}", reason="checkpoint_key_unreadable",
                          path=str(path)) from err
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"the audit signing key {path} is not an Ed25519 key", reason="checkpoint_key_unreadable",
                          path=str(path))
    if path.stat().st_mode & 0o077:
        log.warning("the audit signing key %s is readable by other users: chmod 600 it", path)
    return key


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The key at ``path``, created on first use (a new Ed25519 key, file mode 0600, never replaced)."""
    if path.exists():
        return load_private_key(path)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temp, path)  # atomic, and fails if another process created the key meanwhile: use theirs
        except FileExistsError:
            return load_private_key(path)
        finally:
            temp.unlink(missing_ok=True)
    except OSError as err:
        raise ConfigError(f"the audit signing key {path} cannot be created: {err}", reason="checkpoint_key_unreadable",
                          path=str(path)) from err
    log.info("created the audit signing key %s (key id %s)", path, key_id(key.public_key()))
    return key


def load_public_keys(path: Path) -> list[Ed25519PublicKey]:
    """Every Ed25519 public key of a PEM file (several may follow each other; a private key gives its public one).

    :raises ConfigError: unreadable, or holding no Ed25519 key.
    """
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ConfigError(f"the public key file {path} cannot be read: {err}",
                          reason="checkpoint_public_key_unreadable", path=str(path)) from err
    keys: list[Ed25519PublicKey] = []
    for block in _PEM_BLOCK.finditer(data):
        try:
            if b"PRIVATE" in block.group(1):
                private = serialization.load_pem_private_key(block.group(0), password=None)
                key: object = private.public_key()
            else:
                key = serialization.load_pem_public_key(block.group(0))
        except (ValueError, TypeError):
            continue
        if isinstance(key, Ed25519PublicKey):
            keys.append(key)
    if not keys:
        raise ConfigError(f"no Ed25519 public key in {path}", reason="checkpoint_public_key_unreadable",
                          path=str(path))
    return keys


def signature_ok(checkpoint: Checkpoint, keys: Iterable[Ed25519PublicKey]) -> bool:
    """Whether one of ``keys`` (with the checkpoint's key id) signed exactly these fields."""
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
    except ValueError:
        return False
    for key in keys:
        if key_id(key) != checkpoint.key_id:
            continue
        try:
            key.verify(signature, checkpoint.signed_bytes())
        except InvalidSignature:
            continue
        return True
    return False


# ---- files -----------------------------------------------------------------------------------------------------

def _parse(path: Path, data: bytes) -> Checkpoint:
    raw = json.loads(data.decode("utf-8"))
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} file")
    head_id, count = raw["head_id"], raw["count"]
    text = {k: raw[k] for k in ("head_hash", "head_at", "taken_at", "database", "key_id", "signature")}
    previous = raw["previous"]
    if (type(head_id) is not int or type(count) is not int or not all(isinstance(v, str) for v in text.values())
            or not (previous is None or isinstance(previous, str)) or not _HEX64.fullmatch(text["head_hash"])):
        raise ValueError("a field has the wrong type")
    extra = set(raw) - {"format", "head_id", "count", "previous", *text}
    if extra:
        raise ValueError(f"unknown field(s) {sorted(extra)}")
    return Checkpoint(head_id=head_id, count=count, previous=previous, path=path,
                      digest=hashlib.sha256(data).hexdigest(), **text)


def read_folder(folder: Path) -> tuple[list[Checkpoint], list[str]]:
    """The checkpoints of ``folder`` (oldest head first) and one problem line per file that is not one."""
    if not folder.is_dir():
        return [], []
    found: list[Checkpoint] = []
    problems: list[str] = []
    for path in sorted(folder.glob("*.json")):
        try:
            found.append(_parse(path, path.read_bytes()))
        except (OSError, ValueError, KeyError, UnicodeDecodeError) as err:
            problems.append(f"{path.name}: not a readable checkpoint ({err})")
    found.sort(key=lambda cp: (cp.head_id, cp.taken_at, cp.name))
    return found, problems


def latest(checkpoints: Sequence[Checkpoint]) -> Checkpoint | None:
    """The checkpoint of the highest head (the last taken among equals)."""
    return max(checkpoints, key=lambda cp: (cp.head_id, cp.taken_at, cp.name), default=None)


def _file_name(taken: datetime, head_id: int, attempt: int) -> str:
    stamp = taken.strftime("%Y%m%dT%H%M%S.%fZ")
    return f"{stamp}-{head_id:012d}" + (f"-{attempt}" if attempt else "") + ".json"


def write(checkpoint: Checkpoint, folder: Path, *, taken: datetime) -> Checkpoint:
    """Write ``checkpoint`` as a new read-only file of ``folder`` (never over an existing one); synced to disk."""
    data = checkpoint.file_bytes()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for attempt in range(1000):
            path = folder / _file_name(taken, checkpoint.head_id, attempt)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
            except FileExistsError:
                continue
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            _sync_folder(folder)
            return replace(checkpoint, path=path, digest=hashlib.sha256(data).hexdigest())
    except OSError as err:
        raise StorageError(f"cannot write a checkpoint into {folder}: {err}", reason="checkpoint_dir_unwritable",
                           folder=str(folder)) from err
    raise StorageError(f"cannot find a free checkpoint name in {folder}", reason="checkpoint_dir_unwritable",
                       folder=str(folder))


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems (network mounts) refuse fsync on a directory
    finally:
        os.close(fd)


# ---- taking and checking ---------------------------------------------------------------------------------------

def take(db: Database, folder: Path, key: Ed25519PrivateKey, *, now: datetime, database: str,
         only_if_moved: bool = False) -> Checkpoint | None:
    """Sign the current head into a new file of ``folder``; None when ``only_if_moved`` and nothing was appended
    since the latest checkpoint (or the log is empty).

    The rows since the latest checkpoint (all of them for the first one) are verified first, in the same read
    snapshot as the head, and the latest checkpoint must be this key's: a chain that does not extend it is
    refused, so an altered database never gets a fresh signature.

    :raises IntegrityError: the chain is broken or no longer holds the latest checkpoint's head, or that
        checkpoint is not signed by ``key``.
    :raises ValidationError: the log is empty (only when not ``only_if_moved``).
    :raises StorageError: the folder cannot be written.
    """
    public = key.public_key()
    found, _unreadable = read_folder(folder)  # unreadable files are reported by `audit verify`
    last = latest(found)
    if last is not None and not signature_ok(last, [public]):
        raise IntegrityError(f"the latest checkpoint {last.name} is not signed by key {key_id(public)}",
                             reason="checkpoint_not_ours", file=last.name, key_id=key_id(public))
    db.conn.execute("BEGIN")  # one read snapshot: the rows verified are the rows signed
    try:
        head = chain_head(db)
        if head is None:
            if only_if_moved:
                return None
            raise ValidationError("the audit log is empty: nothing to checkpoint", reason="checkpoint_log_empty")
        if last is not None:
            if stored_hash(db, last.head_id) != last.head_hash:
                raise IntegrityError(f"event #{last.head_id} no longer has the hash signed in {last.name}",
                                     reason="checkpoint_chain_diverged", file=last.name, head_id=last.head_id)
            if only_if_moved and head["id"] == last.head_id:
                return None
        report = verify_chain(db, after=(last.head_id, last.head_hash) if last else None)
        if not report.ok:
            raise IntegrityError(f"audit chain broken at event #{report.broken_id}: {report.reason}",
                                 reason="checkpoint_chain_broken", broken_id=report.broken_id)
        count = count_events(db)
    finally:
        db.conn.execute("COMMIT")
    assert report.head_id == head["id"] and report.head_hash == head["hash"]
    unsigned = Checkpoint(head_id=int(head["id"]), head_hash=str(head["hash"]), head_at=str(head["at"]), count=count,
                          taken_at=to_iso(now), database=database, previous=last.digest if last else None,
                          key_id=key_id(public))
    signature = base64.b64encode(key.sign(unsigned.signed_bytes())).decode("ascii")
    return write(replace(unsigned, signature=signature), folder, taken=now)


@dataclass(frozen=True, slots=True, kw_only=True)
class AnchorReport:
    """Outcome of :func:`check`: the checkpoints found, the latest one, and every problem (empty when all hold)."""

    folder: Path
    checkpoints: int
    latest: Checkpoint | None
    problems: list[str]
    signatures_checked: bool

    @property
    def ok(self) -> bool:
        """True when every checkpoint is intact, correctly signed, linked, and held by the chain."""
        return not self.problems


def check(db: Database, folder: Path, keys: Sequence[Ed25519PublicKey]) -> AnchorReport:
    """Compare the chain with every checkpoint of ``folder``; check their signatures with ``keys``.

    Detects a cut tail (a checkpoint's head is past the end of the log), a rewrite or a rehashed row (a
    checkpoint's head hash differs from the stored one), a forged or edited checkpoint (its signature), and a
    deleted checkpoint (the next one names it as ``previous``). The chain's own links are
    :func:`verify_chain`'s job.
    """
    found, problems = read_folder(folder)
    if found and not keys:
        problems.append("no public key to check the checkpoints' signatures: give --public-key "
                        "(file from `audit checkpoint --public-key`) or set PARVIS_AUDIT_PUBLIC_KEY")
    digests = {cp.digest for cp in found}
    last_id = int(db.execute("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()[0])
    trusted: list[Checkpoint] = []
    for cp in found:
        if keys and not signature_ok(cp, keys):
            problems.append(f"{cp.name}: signature does not verify with the trusted key(s) (checkpoint forged or "
                            f"edited, or signed by key {cp.key_id})")
            continue
        trusted.append(cp)
        if cp.previous is not None and cp.previous not in digests:
            problems.append(f"{cp.name}: the checkpoint before it is missing (a checkpoint file was deleted)")
        if cp.head_id > last_id:
            problems.append(f"{cp.name}: signed {cp.count} event(s) up to #{cp.head_id} at {cp.taken_at}, but the log "
                            f"ends at #{last_id}: events were cut from the end (truncated)")
            continue
        stored = stored_hash(db, cp.head_id)
        if stored is None:
            problems.append(f"{cp.name}: event #{cp.head_id}, signed at {cp.taken_at}, is missing (deleted)")
        elif stored != cp.head_hash:
            problems.append(f"{cp.name}: event #{cp.head_id} has hash {stored[:16]}…, not the {cp.head_hash[:16]}… "
                            f"signed at {cp.taken_at}: the chain was rewritten or that event edited and rehashed")
    return AnchorReport(folder=folder, checkpoints=len(found), latest=latest(trusted), problems=problems,
                        signatures_checked=bool(keys))
