"""Append-only, hash-chained audit log.

Each action is an :class:`AuditEvent` subclass with a kebab-case ``name``; :func:`record` appends it inside
the caller's write transaction, so the change and its audit row commit (or roll back) together.
Each row stores the SHA-256 of the previous row (``prev_hash``) and its own ``hash`` over a canonical JSON
of its id, time, actor, role, event, subject, properties and ``prev_hash``: editing, deleting, inserting or
reordering a row behind Parvis's back breaks the chain, which :func:`verify_chain` detects. SQLite triggers
(core/migrations/audit.py m004) refuse UPDATE and DELETE. Every event name is documented in docs/audit-events.md
(a test checks it).

Residents' and agents' free text (fields an event names in ``erasable``) is kept beside the chain, which stores
its salted hash, so that it can be erased while the chain still verifies (``texts``, decision 0035).

Layout: ``base`` (AuditEvent), ``events_*`` (one module per area), ``chain`` (record, verify, read), ``texts``
(erasable free text), ``checkpoint`` (signed checkpoints of the head, kept outside the database: they catch a cut
tail or a rewrite that the chain alone cannot see). Everything public but ``checkpoint`` is re-exported here:
callers write ``audit.record(...)``, ``audit.MentionHidden(...)``, and ``from core.audit import checkpoint``.
"""

from core.audit.base import GENESIS, SYSTEM_CLI, SYSTEM_WORKER, AuditEvent, event_classes
from core.audit.chain import (
    AUDIT_COLUMNS,
    GUARD_TRIGGERS,
    ChainReport,
    _fast_canonical,
    canonical,
    chain_head,
    count_events,
    event_names,
    events_for,
    id_of_hash,
    iter_rows,
    missing_guards,
    previous_hash,
    record,
    row_hash,
    select_events,
    stored_hash,
    verify_chain,
)
from core.audit.events_archive import (
    ArchivedMessageChanged,
    AuditHeadExported,
    ExportCreated,
    LegalHoldLifted,
    LegalHoldSet,
    MessageArchived,
    RetentionPurged,
    RgpdAccess,
    RgpdErasure,
)
from core.audit.events_editorial import (
    AccountCodeIssued,
    AccountLocked,
    AgentUpdated,
    ChangesRequested,
    CharterChanged,
    PasswordChanged,
    ReplyApproved,
    ReplyBlocked,
    ReplyCancelled,
    ReplyEdited,
    ReplyRetryScheduled,
    ReplyScheduled,
    ReplySending,
    ReplySubmitted,
    ReplyToVerify,
    ReplyVerified,
    RoleChanged,
    SavedReplyChanged,
    SignedIn,
    SignedOut,
    SignInFailed,
    SsoSubjectBound,
    SsoSubjectUnbound,
)
from core.audit.events_inbox import (
    AgentCreated,
    CityPostRevised,
    ConnectorRetried,
    ImportStarted,
    MentionAssigned,
    MentionRevised,
    MentionsImported,
    NoteAdded,
    ReplyDrafted,
    ReplyFailed,
    ReplySent,
    StatusChanged,
    SyncCompleted,
    SyncRequested,
    TagAdded,
    TagRemoved,
    TokenRefreshed,
)
from core.audit.events_integrations import (
    IntegrationFailed,
    IntegrationQueued,
    IntegrationRetry,
    IntegrationSending,
    IntegrationSent,
    IntegrationTextsErased,
    IntegrationToVerify,
    IntegrationVerified,
    NoticePreferenceChanged,
    ServiceMappingChanged,
    ServiceRequestStatusChanged,
    WebhookEndpointChanged,
)
from core.audit.events_moderation import (
    AuthorBanned,
    AuthorMarked,
    AuthorUnbanned,
    AutomationApplied,
    AutomationRuleSaved,
    AutomationRuleSwitched,
    AutomationRuleTried,
    Dismissed,
    Escalated,
    ForwardedToService,
    MarkedSpam,
    MentionDeleted,
    MentionHidden,
    MentionUnhidden,
    ModerationActFailed,
    ModerationActSending,
    ModerationActToVerify,
    ModerationActUncertain,
    ModerationActVerified,
    ModerationConfirmationRefused,
    ModerationConfirmationRequested,
    SentimentCorrected,
)
from core.audit.events_private import PrivateConversationRead, PrivateReplyRefused, PrivateTextsErased
from core.audit.events_publishing import (
    PostApproved,
    PostCancelled,
    PostChangesRequested,
    PostCreated,
    PostEdited,
    PostFailed,
    PostHandedOff,
    PostHeld,
    PostPublished,
    PostPublishing,
    PostRescheduled,
    PostRetried,
    PostRetryScheduled,
    PostScheduled,
    PostSubmitted,
    PostToVerify,
    PostVerified,
    PublisherLeaseTaken,
    RecurrenceApproved,
    RecurrenceCancelled,
    RecurrenceCreated,
    RecurrenceEdited,
    RecurrenceExceptionAdded,
    RecurrenceSubmitted,
)
from core.audit.texts import ERASED, readable_properties, texts_by_row, verify_texts
from core.audit.texts import resolve as resolve_texts
