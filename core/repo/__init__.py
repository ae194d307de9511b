"""Typed reads and writes (DML) over the schema in core/migrations/; returns domain dataclasses.

Functions here do not open transactions of their own unless said so: services wrap a change and its audit
record in :func:`core.db.write_transaction`.

Layout: one module per subject (mention_writes, inbox, agents, drafts, connector_state, charters);
everything public is re-exported here, so callers write ``repo.upsert_mentions(...)``.
"""

from core.models import (
    OPEN_STATUSES, Agent, Author, ConnectorHealth, Draft, DraftState, InboxItem, Mention, Note, Platform, Role,
    SignatureStyle, Status,
)
from core.repo.mention_writes import (
    Scores, UpsertResult, upsert_mentions, free_mention_keys, record_platform_change, edits_recorded, revisions,
    update_scores,
)
from core.repo.mention_bulk import BulkLoad, bulk_load, secondary_indexes
from core.repo.inbox import (
    MENTION_COLUMNS, _OPEN_SQL, mention_exists, get_item, InboxQuery, fts_query, list_inbox, count_inbox,
    conversation, author_history, set_status, set_assignee, set_hidden, set_agent_sentiment, add_tag,
    remove_tag, all_tags, add_note, notes_for, mention_count, simulate_team_work, status_counts, open_statuses,
    touch_presence, viewers,
)
from core.repo.agents import (
    create_agent, get_agent, agent_by_email, list_agents, update_agent, count_agents_with_password,
    agent_credentials, set_agent_credentials, create_session, get_session, touch_session, revoke_sessions,
    count_agents, agent_emails, agent_by_sso_subject, sso_binding, set_sso_binding, sessions_of_sso_login,
    throttle_state, set_throttle_state, clear_throttle, purge_throttle,
)
from core.repo.drafts import (
    create_draft, get_draft, save_draft, drafts_for, drafts_in_state, create_saved_reply, update_saved_reply,
    get_saved_reply, list_saved_replies, drafts_due, count_sent_between,
)
from core.repo.connector_state import (
    connector_health, all_connector_health, save_connector_state, request_sync, take_sync_requests,
    connector_counts, beat, last_beat,
)
from core.repo.charters import (
    latest_charter, get_charter, list_charters, insert_charter,
)
