"""Outgoing e-mail through SMTP, as the ``email`` kind of the outbox (decision 0120; docs/integrations.md).

Settings (:class:`core.settings_integrations.SmtpSettings`): ``PARVIS_SMTP_HOST``, ``_PORT``, ``_SECURITY``
(``starttls``: plain connection upgraded by STARTTLS; ``tls``: implicit TLS; ``none``: a loopback relay only),
``_USER`` / ``_PASSWORD`` (authenticated when a user is set), ``_FROM``, ``_CA_FILE``, ``_TIMEOUT_S``.

Every e-mail carries the ``Message-ID`` fixed when it was queued (derived from its outbox key). What is certain
is told apart from what is not: anything refused before the data (connection refused, TLS or login failure,
sender or recipients refused) did not leave (4xx: :class:`NotSent`, tried again; 5xx, login: failed); once the
data was handed over, a lost connection or a timeout may have delivered it: SMTP cannot be asked afterwards, so
the message is « à vérifier » for a person, never sent a second time by Parvis.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from typing import Any

from sqlite_utils import Database

from core.config import Settings
from core.errors import AuthFailed, ConfigError, PermanentFailure
from core.repo.integrations import OutRow
from core.settings_integrations import SmtpSettings
from services.integrations.kind import IntegrationKind, NotSent, queue

CHANNEL = "email"
DEADLINE = timedelta(hours=24)  # an e-mail not sent within a day is failed (a person is told on Connexions)


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """A file sent with an e-mail."""

    filename: str
    content: bytes
    mime: str = "application/pdf"


def configured(settings: Settings) -> bool:
    """Whether e-mail can be sent (a host and a sender are set)."""
    smtp = settings.area(SmtpSettings)
    return bool(smtp.host and smtp.sender)


def build_message(settings: Settings, row: OutRow, attachments: tuple[Attachment, ...] = ()) -> EmailMessage:
    """The e-mail of an outbox row: its recipients, subject and text; its stable ``Message-ID``."""
    smtp = settings.area(SmtpSettings)
    msg = EmailMessage()
    msg["From"] = smtp.sender
    msg["To"] = row.recipient
    msg["Subject"] = str(row.payload.get("subject", "Parvis"))
    msg["Message-ID"] = row.message_id
    msg["Date"] = format_datetime(row.created_at)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(str(row.payload.get("body", "")), cte="quoted-printable")  # 7-bit safe: no 8BITMIME needed
    for item in attachments:
        maintype, subtype = item.mime.split("/", 1)
        msg.add_attachment(item.content, maintype=maintype, subtype=subtype, filename=item.filename)
    return msg


class Mailer:
    """One SMTP conversation per message, with STARTTLS or implicit TLS and authentication."""

    def __init__(self, smtp: SmtpSettings) -> None:
        self.smtp = smtp

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.smtp.ca_file or None)

    def _connect(self) -> smtplib.SMTP:
        s = self.smtp
        if not s.host:
            raise ConfigError(f"{SmtpSettings.key('host')} is not set", reason="smtp_unset")
        if s.security == "tls":
            return smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s, context=self._context())
        conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
        if s.security == "starttls":
            conn.starttls(context=self._context())
        return conn

    def send(self, msg: EmailMessage) -> str:
        """Send ``msg``; the server's answer to the data. Raises :class:`NotSent` (certainly not sent, try later),
        :class:`AuthFailed` / :class:`PermanentFailure` (refused), or anything else once the data may have left."""
        recipients = [addr for _name, addr in getaddresses(msg.get_all("To", []) + msg.get_all("Cc", [])) if addr]
        sender = next((addr for _n, addr in getaddresses([str(msg["From"])]) if addr), "")
        try:
            conn = self._connect()
        except (OSError, smtplib.SMTPException) as err:  # refused, unreachable, TLS handshake: nothing left
            raise NotSent(f"SMTP server unreachable: {err}", reason="smtp_unreachable") from err
        try:
            try:
                if self.smtp.user:
                    conn.login(self.smtp.user, self.smtp.password or "")
                code, answer = conn.mail(sender)
                if code != 250:
                    raise smtplib.SMTPSenderRefused(code, answer, sender)
                accepted = 0
                for rcpt in recipients:
                    code, answer = conn.rcpt(rcpt)
                    accepted += code in (250, 251)
                    last = (code, answer)
                if not accepted:
                    raise smtplib.SMTPRecipientsRefused({r: last for r in recipients})
            except smtplib.SMTPAuthenticationError as err:
                raise AuthFailed(f"SMTP login refused: {err.smtp_code}", reason="smtp_auth_failed") from err
            except smtplib.SMTPResponseException as err:
                _refused(err.smtp_code, str(err.smtp_error))
            except smtplib.SMTPRecipientsRefused as err:
                codes = [c for c, _m in err.recipients.values()]
                _refused(min(codes) if codes else 550, "recipients refused")
            except (OSError, smtplib.SMTPException) as err:  # before the data: nothing was handed over
                raise NotSent(f"SMTP conversation lost before the data: {err}", reason="smtp_unreachable") \
                    from err
            try:  # from here the message may have been delivered
                code, answer = conn.data(msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")))
            except smtplib.SMTPDataError as err:  # the server refused the data: not delivered
                _refused(err.smtp_code, str(err.smtp_error))
            if code != 250:
                _refused(code, answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer))
            return answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)
        finally:
            try:
                conn.quit()
            except (OSError, smtplib.SMTPException):
                conn.close()


def _refused(code: int, answer: str) -> None:
    if 400 <= code < 500:
        raise NotSent(f"SMTP server refused for now ({code} {answer})", reason="smtp_temporary")
    raise PermanentFailure(f"SMTP server refused ({code} {answer})", reason="smtp_refused")


class EmailKind(IntegrationKind):
    """E-mails as outbox rows; ``attachments`` builds the files of a row at send time (the weekly report)."""

    name = "email"
    channel = CHANNEL
    what = "l'e-mail"

    def __init__(self, settings: Settings, *, mailer: Mailer | None = None) -> None:
        self.settings = settings
        self.mailer = mailer or Mailer(settings.area(SmtpSettings))

    def attachments(self, row: OutRow) -> tuple[Attachment, ...]:
        from services.integrations import notices  # the weekly report's PDF, built at send time

        return notices.attachments_for(self.db, self.settings, row, now=self.clock())

    def send(self, row: OutRow) -> Any:
        msg = build_message(self.settings, row, self.attachments(row))
        return self.mailer.send(msg)[:200]


def queue_email(db: Database, settings: Settings, *, dedupe: str, topic: str, subject_uid: str, to: list[str],
                title: str, body: str, now: datetime, extra: dict[str, Any] | None = None, actor: str = "",
                role: str = "", agent_id: int | None = None, quotes: str | None = None) -> int | None:
    """Queue one e-mail (in the caller's write transaction); None when it was queued before or nobody gets it.
    ``quotes``: the uid of the resident's message the body quotes (found by its author's RGPD erasure)."""
    recipients = [t.strip() for t in to if t and t.strip()]
    if not recipients:
        return None
    payload: dict[str, Any] = {"subject": title, "body": body, **(extra or {})}
    kwargs: dict[str, Any] = {"actor": actor, "role": role} if actor else {}
    return queue(db, channel=CHANNEL, dedupe=f"email:{dedupe}", topic=topic, subject=subject_uid,
                 recipient=", ".join(recipients), payload=payload, now=now, deadline=DEADLINE, agent_id=agent_id,
                 domain=sender_domain(settings), mention_uid=quotes, **kwargs)


def sender_domain(settings: Settings) -> str:
    """The domain of ``PARVIS_SMTP_FROM`` (the right-hand side of our Message-IDs), "" when there is none."""
    addresses = [addr for _name, addr in getaddresses([settings.area(SmtpSettings).sender]) if "@" in addr]
    return addresses[0].rsplit("@", 1)[1].lower() if addresses else ""
