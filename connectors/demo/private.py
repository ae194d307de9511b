"""The demo city's private conversations (issue #20), so that the private inbox, Meta's answer window and the
stricter rules can be seen without any account.

Every twelve hours (UTC blocks) the city receives, on its Facebook Page (Messenger shapes, ``account="demo"``):

- a public complaint on the Page, then, a minute later, the same resident writing privately with their address,
  as the charter asks (« proposez-lui d'écrire en message privé »): inside the 24-hour window for a while;
- a private message that arrived 30 hours before the block: outside the 24-hour window (the Page has no Human
  Agent permission in the demo), so Parvis refuses to answer it, before any call;
- a Mastodon ``direct`` status and a Bluesky chat message (no window on those channels).

Ids are derived from the block, so a fetch returns each message once (upserts are idempotent anyway).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.models import PRIVATE_KIND, Author, Mention, Platform

BLOCK = timedelta(hours=12)
ACCOUNT = "demo"
_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def _block_start(moment: datetime) -> tuple[int, datetime]:
    n = int((moment - _EPOCH) / BLOCK)
    return n, _EPOCH + n * BLOCK


def _resident(n: int, first: str, last: str) -> Author:
    handle = f"{first.lower()}.{last.lower()}"
    return Author(platform_id=f"demo-psid-{first.lower()}-{n}", handle=handle, display_name=f"{first} {last}")


def conversations_of_block(n: int) -> list[Mention]:
    """The messages of block ``n`` (public complaint, private address, one outside the window, Mastodon, Bluesky)."""
    start = _EPOCH + n * BLOCK
    camille = _resident(n, "Camille", "Roux")
    yves = _resident(n, "Yves", "Moreau")
    convo = f"t_demo{n}c"
    public = Mention(
        platform=Platform.FACEBOOK, platform_id=f"demo-pub-{n}", account=ACCOUNT, kind="comment",
        text="Ça fait dix jours que les encombrants sont devant mon immeuble, personne ne passe ! C'est honteux.",
        author=camille, created_at=start + timedelta(minutes=1), conversation_id=f"demo-post-{n}",
        raw={"demo": True})
    address = Mention(
        platform=Platform.FACEBOOK, platform_id=f"m_demo{n}a", account=ACCOUNT, kind=PRIVATE_KIND,
        text="Bonjour, suite à mon commentaire : j'habite au 14 rue des Tilleuls, 3e étage, interphone Roux. "
             "Les encombrants sont devant la porte du local poubelles.",
        author=camille, created_at=start + timedelta(minutes=3), conversation_id=convo,
        raw={"channel": "messenger", "demo": True})
    late = Mention(
        platform=Platform.FACEBOOK, platform_id=f"m_demo{n}b", account=ACCOUNT, kind=PRIVATE_KIND,
        text="Bonjour, je voudrais savoir si mon dossier de carte de stationnement résident est complet. "
             "Mon numéro : 06 71 42 18 90.",
        author=yves, created_at=start - timedelta(hours=30), conversation_id=f"t_demo{n}y",
        raw={"channel": "messenger", "demo": True})
    mastodon = Mention(
        platform=Platform.MASTODON, platform_id=f"demo-direct-{n}", account=ACCOUNT, kind=PRIVATE_KIND,
        text="@valmont Bonjour, en privé : le lampadaire devant le 3 impasse des Roses ne s'allume plus.",
        author=Author(platform_id=f"demo-masto-{n}", handle="lea@piaille.fr", display_name="Léa"),
        created_at=start + timedelta(minutes=20), conversation_id=f"demo-direct-{n}",
        raw={"visibility": "direct", "mentions": [], "demo": True, "channel": "mastodon"})
    bluesky = Mention(
        platform=Platform.BLUESKY, platform_id=f"chat:demo{n}", account=ACCOUNT, kind=PRIVATE_KIND,
        text="Bonjour ! Mon fils est inscrit à la cantine mais n'apparaît pas sur la liste, pouvez-vous vérifier ?",
        author=Author(platform_id=f"did:plc:demo{n}", handle="nora.bsky.social", display_name="Nora"),
        created_at=start + timedelta(minutes=40), conversation_id=f"3ldemo{n}",
        raw={"demo": True, "channel": "bluesky_chat"})
    return [late, public, address, mastodon, bluesky]


def private_conversations(start: datetime, end: datetime) -> list[Mention]:
    """The demo's private conversations (and the public complaint before one) created in ``[start, end)``."""
    first, _ = _block_start(start - timedelta(hours=31))
    last, _ = _block_start(end)
    out = [m for n in range(first, last + 1) for m in conversations_of_block(n) if start <= m.created_at < end]
    return sorted(out, key=lambda m: (m.created_at, m.platform_id))
