"""Typed reads and writes (DML) over the schema in core/migrations/; returns domain dataclasses.

Functions here do not open transactions of their own unless said so: services wrap a change and its audit
record in :func:`core.db.write_transaction`.

Layout: one module per subject (mention_writes, inbox, agents, drafts, connector_state, charters);
everything public is re-exported here, so callers write ``repo.upsert_mentions(...)``.
"""

from core.models import (
    OPEN_STATUSES,
    Agent,
    Author,
    ConnectorHealth,
    Draft,
    DraftState,
    InboxItem,
    Mention,
    Note,
    Platform,
    Role,
    SignatureStyle,
    Status,
)
from core.repo.account_codes import (
    agents_with_password,
    count_admins_with_password,
    get_account_code,
    insert_account_code,
    pending_account_codes,
    use_account_code,
)
from core.repo.agents import (
    agent_by_email,
    agent_by_sso_subject,
    agent_credentials,
    agent_emails,
    clear_throttle,
    count_agents,
    count_agents_with_password,
    create_agent,
    create_session,
    get_agent,
    get_session,
    list_agents,
    purge_throttle,
    revoke_sessions,
    sessions_of_sso_login,
    set_agent_credentials,
    set_sso_binding,
    set_throttle_state,
    sso_binding,
    throttle_state,
    touch_session,
    update_agent,
)
from core.repo.charters import (
    get_charter,
    insert_charter,
    latest_charter,
    list_charters,
)
from core.repo.city_posts import (
    CityPost,
    city_post_edits_recorded,
    city_post_revisions,
    city_post_state,
    record_city_post_change,
    record_city_posts,
    thread_root,
)
from core.repo.connector_state import (
    all_connector_health,
    beat,
    connector_counts,
    connector_health,
    last_beat,
    request_sync,
    save_connector_state,
    take_sync_requests,
)
from core.repo.drafts import (
    count_sent_between,
    create_draft,
    create_saved_reply,
    drafts_due,
    drafts_for,
    drafts_in_state,
    get_draft,
    get_saved_reply,
    list_saved_replies,
    save_draft,
    update_saved_reply,
)
from core.repo.inbox import (
    _OPEN_SQL,
    MENTION_COLUMNS,
    InboxQuery,
    add_note,
    add_tag,
    all_tags,
    author_history,
    conversation,
    count_inbox,
    fts_query,
    get_item,
    list_inbox,
    mention_count,
    mention_exists,
    notes_for,
    open_statuses,
    remove_tag,
    set_agent_sentiment,
    set_assignee,
    set_hidden,
    set_status,
    simulate_team_work,
    status_counts,
    touch_presence,
    viewers,
)
from core.repo.mention_bulk import BulkLoad, bulk_load, secondary_indexes
from core.repo.mention_writes import (
    Scores,
    UpsertResult,
    edits_recorded,
    free_mention_keys,
    record_platform_change,
    revisions,
    update_scores,
    upsert_mentions,
)
from core.repo.rejected import RejectedItem, record_rejected, rejected_count, rejected_items
from core.repo.rescoring import mentions_to_rescore, rescore_backlog, store_rescored
from core.repo.similar import (
    AnsweredMatch,
    answered_by_ids,
    answered_count,
    answered_matches,
    answered_to_embed,
    answered_vectors_after,
    answered_vectors_of,
    answered_vectors_state,
    mention_vector,
    mention_vectors_of,
    mentions_to_embed,
    store_answered_vectors,
    store_mention_vectors,
)
