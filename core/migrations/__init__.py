"""THE schema: every table, index and trigger of Parvis, as migrations (DDL only), one module per subject.

:data:`MIGRATIONS` is the order in which they are applied; :func:`core.db.open_db` applies the pending ones.
Each database records the names it has applied (``_sqlite_migrations``) and never runs one twice, so:

- migrations are append-only: never edit, rename, remove or reorder one that has been released;
- a new migration is a function ``mNNN_<what>(db)`` in the module of its subject, **added at the end** of
  :data:`MIGRATIONS`.

The number in a name is a subject band, not a position: m001-m009 foundation (mentions, agents, connectors,
audit log), m010-m019 moderation, m020-m029 editorial and sign-in, m030-m039 audit trail and legal archive,
m040-m049 connectors and worker, m050-m059 publishing, m060-m069 dashboard, m070-m079 more channels, m080-m089
moderation queue, m090-m099 the one outbox (effects on the outside world). The list keeps the order in which fresh
databases have always applied them (docs/decisions/0006-migrations-order.md). DML lives in ``core/repo/`` and
``core/audit/``.
"""

from __future__ import annotations

from sqlite_utils.migrations import Migrations

from core.migrations.agents import m002_agents_and_work, m021_sessions, m025_sign_in_hardening, m160_account_codes
from core.migrations.archive import m030_legal_archive, m031_legal_holds_retention_rgpd
from core.migrations.audit import m004_audit_log
from core.migrations.automation import m150_automation_rules, m151_mentions_risk_index
from core.migrations.connectors import m003_connectors_and_worker, m005_sync_requests
from core.migrations.dashboard import m060_dashboard_rollups, m061_dashboard_responses, m062_batch_dashboard_insert
from core.migrations.editorial import m020_charters, m022_saved_replies, m023_draft_review
from core.migrations.erasable_texts import m036_erasable_audit_texts
from core.migrations.integrations import m120_integrations, m180_integration_texts
from core.migrations.language import m171_answered_fts, m172_answered_fts_public_only, m195_similar_vectors
from core.migrations.mentions import (
    m001_mentions,
    m006_bulk_fts_insert,
    m007_time_ordered_mention_keys,
    m008_drop_redundant_open_index,
)
from core.migrations.moderation import (
    m010_sentiment_feedback,
    m080_moderation_queue,
    m081_author_bans,
    m090_moderation_acts,
    m325_risk_model_version,
)
from core.migrations.payloads import m130_unknown_authors, m131_rejected_items, m132_mention_quotes
from core.migrations.publishing import m050_posts_outbox, m051_worker_leases, m052_reply_outbox
from core.migrations.realtime import m110_webhook_events
from core.migrations.revisions import m024_editorial_revisions
from core.migrations.threads import m210_city_posts, m305_city_post_revisions
from core.migrations.tokens import m185_connector_tokens
from core.migrations.usage import m070_x_usage

MIGRATION_SET = "parvis"

# The order of application. Append new migrations at the end; never reorder (see the module docstring).
MIGRATIONS = [
    m001_mentions,
    m002_agents_and_work,
    m003_connectors_and_worker,
    m004_audit_log,
    m005_sync_requests,
    m006_bulk_fts_insert,
    m007_time_ordered_mention_keys,
    m008_drop_redundant_open_index,
    m010_sentiment_feedback,
    m020_charters,
    m021_sessions,
    m022_saved_replies,
    m023_draft_review,
    m030_legal_archive,
    m031_legal_holds_retention_rgpd,
    m050_posts_outbox,
    m051_worker_leases,
    m060_dashboard_rollups,
    m061_dashboard_responses,
    m062_batch_dashboard_insert,
    m080_moderation_queue,
    m081_author_bans,
    m070_x_usage,  # after m081: added when databases already carried m060-m081
    m052_reply_outbox,  # after m070, for the same reason (issue #6 follow-up)
    m036_erasable_audit_texts,  # issue #15: appended, like every new migration
    m024_editorial_revisions,  # issue #15: four eyes over every revision's editor
    m025_sign_in_hardening,  # issue #15: SSO subject binding, sign-in throttling
    m090_moderation_acts,  # one outbox: moderation acts recorded before the platform call (decision 0051)
    m110_webhook_events,  # issue #19: pushed webhook events (inbox of events) and live streams' state
    m120_integrations,  # issue #19: e-mail, Open311 and outgoing webhooks through the outbox (decision 0120)
    m150_automation_rules,  # issue #17: automation rules and their runs
    m151_mentions_risk_index,  # issue #17: the moderation queue reads by risk score
    m130_unknown_authors,  # issue #16: an unknown author is nobody else (decision 0130)
    m131_rejected_items,  # issue #16: items that failed validation stay visible (decision 0132)
    m132_mention_quotes,  # issue #16: a quote is linked to the post it quotes
    m171_answered_fts,  # issue #21: full-text index of answered messages (similar answers, decision 0170)
    m172_answered_fts_public_only,  # issues #20/#21: private conversations never in the similar-answers index
    m160_account_codes,  # issue #17: invitation and password-reset codes (services/accounts/codes.py)
    m180_integration_texts,  # residents' words in integration messages: RGPD erasure and retention (0180)
    m185_connector_tokens,  # issue #16: token expiry, refresh and the reconnect block (decision 0185)
    m195_similar_vectors,  # issue #21: sentence vectors for similar answers (decision 0195)
    m210_city_posts,  # issue #17: the city's own post at the top of a thread (« Fil »)
    m305_city_post_revisions,  # a root's later edits and deletion, the previous texts kept (decision 0305)
    m325_risk_model_version,  # the toxicity model behind each score's risk flags (decision 0325)
]

migrations = Migrations(MIGRATION_SET)
for _migration in MIGRATIONS:
    migrations()(_migration)
del _migration
