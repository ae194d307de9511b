"""What each platform accepts as images on a post, checked before approval rather than discovered at publish time.

Instagram: at least one image (no text-only post), at most 10 (a carousel), JPEG only. Bluesky: at most 4 images
of 2,000,000 bytes each (``app.bsky.embed.images`` lexicon). Mastodon: at most 4 images. X and Facebook: none
yet, because Parvis's connectors do not upload media there (the platforms would take 4 and more); the publisher
would refuse the post at its hour otherwise. The "needs an image" rule applies to posts only
(``CheckContext.is_post``): replies are text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.models import Platform
from editorial.charter import Finding, Severity

if TYPE_CHECKING:
    from editorial.engine import CheckContext, CompiledCharter


@dataclass(frozen=True, slots=True)
class ImageRules:
    """A platform's constraints on the images of one post."""

    needs_image: bool = False
    max_images: int | None = None
    max_bytes: int | None = None
    mime_types: frozenset[str] | None = None  # None: any image type Parvis stores


IMAGE_RULES: dict[Platform, ImageRules] = {
    Platform.INSTAGRAM: ImageRules(needs_image=True, max_images=10, mime_types=frozenset({"image/jpeg"})),
    Platform.BLUESKY: ImageRules(max_images=4, max_bytes=2_000_000),
    Platform.MASTODON: ImageRules(max_images=4),
    Platform.X: ImageRules(max_images=0),  # connectors/x: media upload not built yet
    Platform.FACEBOOK: ImageRules(max_images=0),  # connectors/facebook: media upload not built yet
}
_NAMES = {Platform.INSTAGRAM: "Instagram", Platform.BLUESKY: "Bluesky", Platform.MASTODON: "Mastodon", Platform.X: "X",
          Platform.FACEBOOK: "Facebook"}


def platform_media_rule(text: str, ctx: CheckContext, cc: CompiledCharter) -> list[Finding]:
    """The post's images fit what the platform accepts (count, size, format; Instagram needs one)."""
    sev = cc.charter.severity("platform_media")
    rules = IMAGE_RULES.get(ctx.platform)
    if sev is Severity.OFF or rules is None:
        return []
    name, end = _NAMES[ctx.platform], len(text)
    images = [m for m in ctx.media if m.kind == "image"]
    out: list[str] = []
    if rules.needs_image and ctx.is_post and not images:
        out.append(f"{name} ne publie pas de message sans image : ajoutez au moins une image (avec son texte "
                   "alternatif).")
    if rules.max_images == 0 and images:
        out.append(f"Parvis ne publie pas encore d'images sur {name} : retirez l'image de cette publication, "
                   "ou publiez-la sur une plateforme qui les accepte (Mastodon, Bluesky, Instagram).")
    elif rules.max_images is not None and len(images) > rules.max_images:
        out.append(f"{name} accepte {rules.max_images} images au plus par publication ({len(images)} jointes).")
    for image in images:
        if rules.max_bytes is not None and image.size > rules.max_bytes:
            out.append(f"L'image « {image.name} » pèse {image.size / 1e6:.1f} Mo : {name} accepte "
                       f"{rules.max_bytes / 1e6:.0f} Mo au plus ; utilisez une version plus légère.")
        if rules.mime_types is not None and image.mime and image.mime not in rules.mime_types:
            out.append(f"L'image « {image.name} » n'est pas au format JPEG, le seul que {name} publie : "
                       "exportez-la en JPEG.")
    return [Finding(code="platform_media", severity=sev, start=end, end=end, message=m) for m in out]
