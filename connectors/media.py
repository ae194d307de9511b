"""A scheduled post's images as the connectors read them: ``Post.media`` entries checked and loaded from disk.

A media entry is ``{"kind": "image", "name", "path", "alt"}`` (services/editorial/calendar_inputs.py stores the file
under ``<data dir>/media/`` with a content-addressed name). Problems are :class:`core.errors.PermanentFailure` naming
the file: retrying would not help, a person must change the post.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import PermanentFailure


def image_mime(data: bytes) -> str | None:
    """The MIME type of an image judged from its first bytes (PNG, JPEG, GIF, WebP), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


@dataclass(frozen=True, slots=True)
class Image:
    """One image of a post: its label, stored file, alternative text, bytes and MIME type."""

    name: str
    path: Path
    alt: str
    data: bytes
    mime: str

    @property
    def size(self) -> int:
        """Size in bytes."""
        return len(self.data)

    @property
    def digest(self) -> str:
        """SHA-256 of the bytes (what an idempotency key must cover, with the alt text)."""
        return hashlib.sha256(self.data).hexdigest()


def describe(media: Sequence[Mapping[str, Any]]) -> list[str]:
    """Stable text for each entry (file name and alt text) without reading the files, for idempotency keys."""
    return [f"{Path(str(m.get('path', ''))).name}|{str(m.get('alt', '')).strip()}" for m in media]


def load_images(media: Sequence[Mapping[str, Any]], *, platform: str, max_count: int) -> list[Image]:
    """Check and read every entry; raises PermanentFailure naming the file when one cannot be published."""
    if len(media) > max_count:
        raise PermanentFailure(f"{platform} accepts at most {max_count} image(s) per post; this one has "
                               f"{len(media)}")
    images: list[Image] = []
    for entry in media:
        name = str(entry.get("name") or Path(str(entry.get("path", ""))).name or "image")
        if entry.get("kind", "image") != "image":
            raise PermanentFailure(f"« {name} »: only images can be published on {platform}")
        alt = str(entry.get("alt") or "").strip()
        if not alt:
            raise PermanentFailure(f"« {name} » has no alternative text: add one before publishing")
        path = Path(str(entry.get("path") or ""))
        try:
            data = path.read_bytes()
        except OSError as err:
            raise PermanentFailure(f"« {name} » cannot be read ({path}): {err.strerror or err}") from err
        mime = image_mime(data)
        if mime is None:
            raise PermanentFailure(f"« {name} » is not a PNG, JPEG, GIF or WebP image")
        images.append(Image(name=name, path=path, alt=alt, data=data, mime=mime))
    return images
