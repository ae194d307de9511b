"""Files that hold residents' data are private to the account that runs Parvis.

The database (and its ``-wal`` / ``-shm``), exports, PDF reports, transfer packages and RGPD answers hold
residents' messages and, for the database, password hashes: Parvis creates them ``0600`` (owner read/write) and
the folders it creates for them ``0700``, whatever the umask. Files and folders that already exist keep their
mode, except a file Parvis rewrites, which is set back to ``0600`` (docs/security.md, « Data and files »).
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) if needed; every folder created here is ``0700``. Returns ``path``."""
    missing = []
    folder = path
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:  # created meanwhile by another process: leave its mode
            continue
        os.chmod(folder, DIR_MODE)  # mkdir's mode is filtered by the umask: make it exact
    if not path.is_dir():
        raise NotADirectoryError(str(path))
    return path


def create_private(path: Path) -> bool:
    """Create ``path`` empty with mode ``0600`` if it does not exist; True when it was created here."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return True


def write_private(path: Path, data: bytes | str, *, encoding: str = "utf-8") -> None:
    """Write ``data`` to ``path`` (created or truncated) with mode ``0600``."""
    raw = data.encode(encoding) if isinstance(data, str) else data
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # an existing file keeps its mode through O_CREAT: set it
        with os.fdopen(fd, "wb") as out:
            fd = -1
            out.write(raw)
    finally:
        if fd != -1:
            os.close(fd)
