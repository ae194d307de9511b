"""Append-only, hash-chained audit log.

Each action is an :class:`AuditEvent` subclass with a kebab-case ``name``; :func:`record` appends it inside
the caller's write transaction, so the change and its audit row commit (or roll back) together.
Each row stores the SHA-256 of the previous row (``prev_hash``) and its own ``hash`` over a canonical JSON
of its id, time, actor, role, event, subject, properties and ``prev_hash``: editing, deleting, inserting or
reordering a row behind Parvis's back breaks the chain, which :func:`verify_chain` detects. SQLite triggers
(core/migrations/audit.py m004) refuse UPDATE and DELETE. Every event name is documented in docs/audit-events.md
(a test checks it).

Layout: ``base`` (AuditEvent), ``events_*`` (one module per area), ``chain`` (record, verify, read).
Everything public is re-exported here: callers write ``audit.record(...)``, ``audit.MentionHidden(...)``.
"""

from core.audit.base import AuditEvent, GENESIS, SYSTEM_CLI, SYSTEM_WORKER, event_classes
from core.audit.chain import (
    AUDIT_COLUMNS, ChainReport, GUARD_TRIGGERS, _fast_canonical, canonical, chain_head, count_events,
    event_names, events_for, id_of_hash, iter_rows, missing_guards, previous_hash, record, row_hash,
    select_events, stored_hash, verify_chain,
)
from core.audit.events_inbox import (
    SyncCompleted, SyncRequested, MentionsImported, MentionRevised, MentionAssigned, StatusChanged, TagAdded,
    TagRemoved, NoteAdded, ReplyDrafted, ReplySent, ReplyFailed, AgentCreated,
)
from core.audit.events_archive import (
    MessageArchived, ArchivedMessageChanged, LegalHoldSet, LegalHoldLifted, RetentionPurged, ExportCreated,
    AuditHeadExported, RgpdAccess, RgpdErasure,
)
from core.audit.events_editorial import (
    ReplySubmitted, ReplyApproved, ChangesRequested, ReplyEdited, ReplyScheduled, ReplyCancelled, ReplyBlocked,
    ReplySending, ReplyRetryScheduled, ReplyToVerify, ReplyVerified, CharterChanged, RoleChanged, AgentUpdated,
    SignedIn, SignInFailed, AccountLocked, SignedOut, PasswordChanged, SavedReplyChanged,
)
from core.audit.events_publishing import (
    PostCreated, PostEdited, PostSubmitted, PostApproved, PostChangesRequested, PostScheduled, PostRescheduled,
    PostHeld, PostPublishing, PostPublished, PostHandedOff, PostRetryScheduled, PostFailed, PostToVerify,
    PostVerified, PostRetried, PostCancelled, RecurrenceCreated, RecurrenceEdited, RecurrenceSubmitted,
    RecurrenceApproved, RecurrenceCancelled, RecurrenceExceptionAdded, PublisherLeaseTaken,
)
from core.audit.events_moderation import (
    MentionHidden, MentionUnhidden, MentionDeleted, AuthorBanned, AuthorUnbanned, MarkedSpam, Escalated,
    ForwardedToService, Dismissed, AuthorMarked, ModerationConfirmationRequested, ModerationConfirmationRefused,
    SentimentCorrected, ModerationActSending, ModerationActUncertain, ModerationActFailed, ModerationActToVerify,
    ModerationActVerified,
)
