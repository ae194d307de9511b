"""What the "Calendrier" page's forms need: the accounts one can publish to, and stored image uploads.

Uploaded images are kept under ``<data dir>/media/`` with a content-addressed name (the SHA-256 of the bytes), so
uploading the same file twice stores it once and a post's media entry never points at a file that changed.
Only PNG, JPEG, GIF and WebP are accepted (checked on the bytes, not the file name), up to 5 MB (X's limit).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from connectors import registry
from connectors.base import Capability
from connectors.media import image_mime
from core.config import Settings
from core.errors import StorageError, ValidationError
from core.models import Platform

MAX_IMAGE_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishAccount:
    """An account a post can target, as the form lists it."""

    name: str
    platform: Platform
    label: str
    enabled: bool
    native: bool  # the platform can schedule natively (Facebook, demo)


def publish_accounts(settings: Settings) -> list[PublishAccount]:
    """Every account whose connector can publish, enabled (configured) or not."""
    return [PublishAccount(name=e.name, platform=e.platform, label=e.label, enabled=e.enabled,
                           native=Capability.NATIVE_SCHEDULE in e.capabilities)
            for e in registry.entries(settings) if Capability.PUBLISH in e.capabilities]


_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}


def _image_type(data: bytes) -> str | None:
    """The file extension for an uploaded image, judged from its bytes (connectors.media.image_mime)."""
    return _EXTENSIONS.get(image_mime(data) or "")


def store_image(data_dir: Path, name: str, data: bytes) -> dict[str, str]:
    """Save an uploaded image; returns its media entry (``kind``, ``name``, ``path``) without the alt text."""
    label = Path(name).name or "image"
    if len(data) > MAX_IMAGE_BYTES:
        raise ValidationError(reason="image_too_big", image=label, max_mb=MAX_IMAGE_BYTES // 2**20)
    kind = _image_type(data)
    if kind is None:
        raise ValidationError(reason="image_type_refused", image=label)
    folder = data_dir / "media"
    path = folder / f"{hashlib.sha256(data).hexdigest()}.{kind}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            tmp = path.with_suffix(".part")
            tmp.write_bytes(data)
            tmp.replace(path)
    except OSError as err:
        raise StorageError(f"cannot store image {label!r}: {err.strerror}", reason="image_not_stored",
                           image=label, error=err.strerror) from err
    return {"kind": "image", "name": label, "path": str(path)}
