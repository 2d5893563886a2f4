"""E-mail as a delivery channel: outbox rows addressed ``email:<address>`` go out over SMTP.

Sending only; the mailing list's incoming mails are read by ``jobs/mail_inbox.py``. The
delivery worker paces and retries like for the messengers (``[email]
max_messages_per_minute``). What the SMTP server says decides the outcome:

- connection refused, timeouts, 4xx → ``TransientError(keep_trying=True)``: retried with
  backoff (capped at an hour) until delivered, however long that takes;
- 5xx (rejected) → ``PermanentError`` with ``notify_owners``: the row is kept as failed with the
  server's reason, and the owners are told once. The list is not deactivated: the next mail
  (e.g. after its posting permission is fixed) goes out as usual.
"""

from __future__ import annotations

import logging
import ssl
from datetime import datetime
from typing import Any

import aiosmtplib

from bot.capabilities import of_platform
from bot.config import Config
from bot.connectors.base import MessageCallback, PermanentError, TransientError
from bot.mail.compose import compose
from bot.types import ChatRef, Reply

log = logging.getLogger(__name__)


class EmailConnector:
    platform = "email"
    capabilities = of_platform("email")  # bot.capabilities: subjects, attachments

    def __init__(self, config: Config, hooks: object | None = None) -> None:
        self.config = config
        self.section = config.email
        self.ready = False
        self.last_ok: datetime | None = None
        self.last_error: str | None = None
        self.last_error_at: datetime | None = None
        self.unreachable = False  # the last attempt could not talk to the server at all
        from bot.mail import status

        if config.email.reading and any(e.forward_to for e in config.mailing_lists):
            status.IMAP.configured = True

    async def start(self, on_message: MessageCallback) -> None:
        self.ready = True  # nothing to receive: the IMAP side is a job

    async def prepare(self) -> None:
        """Followers may send mail too (SMTP needs no receiving side)."""
        self.ready = True

    async def stop(self) -> None:
        self.ready = False

    async def is_chat_admin(self, chat: ChatRef, person: ChatRef) -> bool:
        return False

    def health(self) -> dict[str, Any]:
        """For /healthz: "down" when the SMTP server could not be reached on the last try;
        the IMAP reader's state is reported inside (``imap``), without making the bot down."""
        from bot.mail import status

        info: dict[str, Any] = {
            "state": "down" if self.unreachable else "up",
            "smtp": f"{self.section.smtp_host}:{self.section.smtp_port_or_default}",
            "last_sent": self.last_ok,
        }
        if self.last_error is not None:
            info["error"] = self.last_error
            info["error_at"] = self.last_error_at
        info["imap"] = status.IMAP.report()
        return info

    def _tls(self) -> dict[str, Any]:
        security = self.section.smtp_security
        context = ssl.create_default_context()
        if security == "tls":
            return {"use_tls": True, "start_tls": False, "tls_context": context}
        if security == "starttls":
            return {"use_tls": False, "start_tls": True, "tls_context": context}
        return {"use_tls": False, "start_tls": False}

    async def send(self, chat: ChatRef, reply: Reply) -> None:
        now = datetime.now(self.config.tz)
        message = compose(
            reply,
            to=chat.id,
            from_header=self.section.from_ or "",
            now=now,
            lang=self.config.bot.language,
        )
        password = self.section.smtp_password
        try:
            await aiosmtplib.send(
                message,
                sender=self.section.from_address,
                recipients=[chat.id],
                hostname=self.section.smtp_host,
                port=self.section.smtp_port_or_default,
                username=self.section.smtp_username,
                password=password.get_secret_value() if password else None,
                timeout=self.section.timeout.total_seconds(),
                **self._tls(),
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            reason = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            self._failed(reason, now)
            if codes and all(code >= 500 for code in codes):
                raise _rejected(reason) from exc
            raise TransientError(f"SMTP: {reason}", keep_trying=True) from exc
        except aiosmtplib.SMTPAuthenticationError as exc:
            # a configuration problem: keep the mail and retry (after the password is fixed)
            self._failed(f"login refused: {exc.code} {exc.message}", now)
            raise TransientError(
                f"SMTP login refused: {exc.code} {exc.message}", 300, keep_trying=True
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            reason = f"{exc.code} {exc.message}"
            self._failed(reason, now)
            if exc.code >= 500:
                raise _rejected(reason) from exc
            raise TransientError(f"SMTP: {reason}", keep_trying=True) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            reason = str(exc) or type(exc).__name__
            self._failed(reason, now, unreachable=True)
            raise TransientError(f"SMTP unreachable: {reason}", keep_trying=True) from exc
        self.last_ok = now
        self.last_error = self.last_error_at = None
        self.unreachable = False
        log.info("mail sent to=%s message_id=%s", chat.id, message["Message-ID"])

    def _failed(self, reason: str, now: datetime, unreachable: bool = False) -> None:
        self.last_error, self.last_error_at = reason[:300], now
        self.unreachable = unreachable


def _rejected(reason: str) -> PermanentError:
    return PermanentError(f"SMTP rejected: {reason}", notify_owners=True)


def create(config: Config, hooks: object | None = None) -> EmailConnector:
    return EmailConnector(config, hooks)
