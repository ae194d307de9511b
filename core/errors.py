"""The one exception tree. Expected failures are translated at the boundaries with ``raise ... from err``.

Every class has a stable snake_case ``code``; a raise may add a more specific ``reason`` key and named ``params``
(``ValidationError(reason="note_too_long", max=2000)``). The French text a person reads lives in one catalogue
keyed by code and reason (``console/messages/``, decision 0008); ``str(err)`` is an English message for logs and
developers: the positional message if one is given, else the reason and its params.
"""

from __future__ import annotations


def _developer_message(reason: str | None, params: dict[str, object]) -> str:
    if not reason:
        return ""
    shown = ", ".join(f"{key}={value!r}" for key, value in params.items())
    return f"{reason} ({shown})" if shown else reason


class ParvisError(Exception):
    """Base class of every error Parvis raises on purpose.

    :param message: English text for logs (optional when ``reason`` says it all; never French).
    :param reason: snake_case key of the French sentence in the catalogue, more specific than ``code``.
    :param params: named values the sentence is built from (ids, limits, names; lists are joined).
    """

    code = "unknown"

    def __init__(self, message: str = "", /, *, reason: str | None = None, **params: object) -> None:
        super().__init__(message or _developer_message(reason, params))
        self.reason = reason
        self.params = params


class ConfigError(ParvisError):
    """A setting is missing, malformed or points at something unusable."""

    code = "config_error"


class StorageError(ParvisError):
    """The database cannot be opened or used (path, permissions, corruption)."""

    code = "storage_error"


class SchemaTooNewError(StorageError):
    """The database was written by a newer Parvis; we refuse to touch it."""

    code = "schema_too_new"


class DatabaseBusy(StorageError):
    """Another connection held the write lock longer than the busy timeout (e.g. a bulk import)."""

    code = "database_busy"


class BackupError(StorageError):
    """A backup could not be taken, or a backup file failed its checks (nothing was replaced)."""

    code = "backup_failed"


class DatabaseInUse(StorageError):
    """The database is open in a running Parvis (worker, console): it cannot be replaced now."""

    code = "database_in_use"


class NotFoundError(ParvisError):
    """The object asked for does not exist."""

    code = "not_found"


class ValidationError(ParvisError):
    """The caller's input is invalid (bad status, empty reply, bad import line...)."""

    code = "invalid_input"


class PermissionDenied(ParvisError):
    """The acting agent's role does not allow this action."""

    code = "permission_denied"


class WorkflowError(ParvisError):
    """The action is not allowed at this stage of the approval workflow."""

    code = "workflow_forbidden"


class AuthError(ParvisError):
    """Sign-in failed (wrong password, too many attempts, refused single sign-on, expired session)."""

    code = "auth_failed_login"


class ConnectorError(ParvisError):
    """A platform call failed."""

    code = "connector_error"


class AuthFailed(ConnectorError):
    """The platform refused our credentials: the connector needs reconnecting."""

    code = "auth_failed"


class RateLimited(ConnectorError):
    """The platform asks us to slow down until ``reset_at`` (epoch seconds)."""

    code = "rate_limited"

    def __init__(self, message: str = "", /, *, reset_at: float | None = None, endpoint: str = "",
                 reason: str | None = None, **params: object) -> None:
        super().__init__(message, reason=reason, **params)
        self.reset_at = reset_at
        self.endpoint = endpoint


class Unavailable(ConnectorError):
    """Transient failure (timeout, 5xx): retry later."""

    code = "unavailable"


class PermanentFailure(ConnectorError):
    """The platform rejected the request for good (4xx other than auth/rate limit)."""

    code = "permanent_failure"


class Unsupported(ConnectorError):
    """The connector does not offer this capability."""

    code = "unsupported"


class MalformedPayload(ConnectorError):
    """The platform answered something we cannot read."""

    code = "malformed_payload"


class BudgetExceeded(ConnectorError):
    """A configured monthly spending cap of a pay-per-use API (X) is reached: this kind of call is stopped."""

    code = "budget_exceeded"


class IntegrityError(ParvisError):
    """The audit chain or the legal archive does not verify: a record was altered outside Parvis."""

    code = "integrity_broken"


class TooManyAttempts(AuthError):
    """Too many failed sign-ins on this account or from this address: wait before the next attempt."""

    code = "too_many_attempts"


class SessionExpired(AuthError):
    """The session is unknown, revoked, idle for too long or past its maximum age: sign in again."""

    code = "session_expired"


class CharterBlocked(ValidationError):
    """The editorial charter blocks this message; ``findings`` says where and why."""

    code = "charter_blocked"

    def __init__(self, message: str = "", /, *, findings: tuple[dict[str, object], ...] = (),
                 reason: str | None = None, **params: object) -> None:
        super().__init__(message, reason=reason, **params)
        self.findings = findings
