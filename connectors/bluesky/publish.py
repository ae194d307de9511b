"""Images on Bluesky posts: each uploaded as a blob, then embedded with its alt text (``app.bsky.embed.images``).

A post carries up to 4 images, each uploaded with ``com.atproto.repo.uploadBlob`` (the raw bytes, with their MIME
type) and referred to by the blob the PDS answers. The lexicon caps a blob at 2,000,000 bytes (the prose docs
still say 1 MB); every file is checked before anything is sent, and a heavier one is refused
(``PermanentFailure`` naming the file). Replies stay text-only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from connectors.media import Image, load_images
from core.errors import MalformedPayload, PermanentFailure

IMAGES = "app.bsky.embed.images"
UPLOAD = "com.atproto.repo.uploadBlob"
MAX_IMAGES = 4  # app.bsky.embed.images lexicon: images maxLength 4
MAX_IMAGE_BYTES = 2_000_000  # same lexicon: blob maxSize 2000000 ("May be up to 2 MB, formerly limited to 1 MB")


def check_images(media: Sequence[Mapping[str, Any]]) -> list[Image]:
    """Read and check every image of a post (count, alt text, type, weight) before anything is uploaded."""
    images = load_images(media, platform="Bluesky", max_count=MAX_IMAGES)
    for image in images:
        if image.size > MAX_IMAGE_BYTES:
            raise PermanentFailure(f"« {image.name} » weighs {image.size / 1e6:.1f} MB: Bluesky accepts images "
                                   f"up to {MAX_IMAGE_BYTES / 1e6:.0f} MB ({MAX_IMAGE_BYTES:,} bytes); use a "
                                   "lighter version")
    return images


def images_embed(images: Sequence[Image], upload: Callable[[Image], dict[str, Any]]) -> dict[str, Any]:
    """Upload each image (``upload`` answers the PDS's ``{"blob": ...}``) and return the post's images embed."""
    embedded = []
    for image in images:
        blob = upload(image).get("blob")
        if not isinstance(blob, dict) or not isinstance(blob.get("ref"), dict):
            raise MalformedPayload(f"{UPLOAD}: no blob reference in the answer")
        embedded.append({"$type": f"{IMAGES}#image", "alt": image.alt, "image": blob})
    return {"$type": IMAGES, "images": embedded}
