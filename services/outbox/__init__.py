"""One outbox for every effect Parvis has on the outside world (decision 0051; docs/publishing.md).

- :mod:`services.outbox.engine`: the protocol shared by every kind (intent before the call, outcome under the
  claim token, classification, retries, lookups, reconciliation, unrecorded outcomes, wake-on-due);
- :mod:`services.outbox.runner`: the worker's pass over every kind under the ``publisher`` lease, and when the
  next one is due;
- :mod:`services.outbox.moderation`: the moderation acts' kind (hide, unhide, delete, ban, unban);
- :mod:`services.outbox.content`: the posts' content rules and the timing policy (formerly ``services/outbox.py``).

The posts' kind lives in :mod:`services.publishing` (with :mod:`services.publishing_outcomes` and
:mod:`services.publishing_reconcile`), the replies' in :mod:`services.reply_sending` and
:mod:`services.reply_outbox`.

The names of the former ``services/outbox.py`` are re-exported here, so ``from services.outbox import
PublishPolicy`` keeps working.
"""

from services.outbox.content import (
    DEFAULT_POLICY,
    RELEASED,
    CharterCheck,
    PublishPolicy,
    aggregate,
    blocking_messages,
    charter_check,
    content_hash,
    hash_of,
    media_of,
    refresh_state,
    text_for,
)

__all__ = ["DEFAULT_POLICY", "RELEASED", "CharterCheck", "PublishPolicy", "aggregate", "blocking_messages",
           "charter_check", "content_hash", "hash_of", "media_of", "refresh_state", "text_for"]
