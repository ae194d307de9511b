"""DML for worker leases: one row per singleton job (e.g. ``publisher``) so that two workers started by mistake
on the same database never both run it. A lease is held until ``expires_at``; the holder renews it, and another
worker may take it over only once it has expired (the ``token`` then increases, a fencing counter).
Call inside a :func:`core.db.write_transaction` (``BEGIN IMMEDIATE`` serialises competing workers).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlite_utils import Database

from core.clock import from_iso, to_iso


def acquire(db: Database, name: str, holder: str, *, now: datetime, until: datetime) -> dict[str, Any] | None:
    """Take or renew lease ``name`` for ``holder`` until ``until``; None if another live holder has it.

    The returned dict has ``token`` and ``previous`` (the holder taken over, or None).
    """
    row = db.execute("SELECT holder, token, expires_at FROM worker_leases WHERE name = ?", (name,)).fetchone()
    if row is None:
        db.execute("INSERT INTO worker_leases (name, holder, token, acquired_at, renewed_at, expires_at) "
                   "VALUES (?, ?, 1, ?, ?, ?)", (name, holder, to_iso(now), to_iso(now), to_iso(until)))
        return {"token": 1, "previous": None, "new": True}
    current, token, expires = row[0], int(row[1]), from_iso(row[2])
    if current == holder:
        db.execute("UPDATE worker_leases SET renewed_at = ?, expires_at = ? WHERE name = ?",
                   (to_iso(now), to_iso(until), name))
        return {"token": token, "previous": None, "new": False}
    if expires is not None and expires > now:
        return None
    db.execute("UPDATE worker_leases SET holder = ?, token = ?, acquired_at = ?, renewed_at = ?, expires_at = ? "
               "WHERE name = ?", (holder, token + 1, to_iso(now), to_iso(now), to_iso(until), name))
    return {"token": token + 1, "previous": current, "new": True}


def release(db: Database, name: str, holder: str, *, now: datetime) -> bool:
    """Let the lease go (graceful stop), so another worker need not wait for it to expire."""
    return db.execute("UPDATE worker_leases SET expires_at = ? WHERE name = ? AND holder = ?",
                      (to_iso(now), name, holder)).rowcount == 1


def holder(db: Database, name: str, *, now: datetime) -> str | None:
    """Who holds lease ``name`` now (None: free or expired)."""
    row = db.execute("SELECT holder, expires_at FROM worker_leases WHERE name = ?", (name,)).fetchone()
    if row is None:
        return None
    expires = from_iso(row[1])
    return str(row[0]) if expires is not None and expires > now else None


def expires_at(db: Database, name: str) -> datetime | None:
    """When lease ``name`` expires (None: never taken)."""
    row = db.execute("SELECT expires_at FROM worker_leases WHERE name = ?", (name,)).fetchone()
    return from_iso(row[0]) if row else None
