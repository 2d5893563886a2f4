"""``netzbot doctor`` for e-mail: log into SMTP and IMAP and say in plain words what is wrong."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable

import aiosmtplib

from bot import i18n
from bot.config import Config
from bot.doctor import Check as MailCheck  # bot.doctor imports this module lazily
from bot.mail import imap


class MailDoctor:
    def __init__(self, config: Config, redact: Callable[[str], str], lang: str) -> None:
        self.config, self.redact, self.lang = config, redact, lang
        self.email = config.email

    def _text(self, key: str, **kw: object) -> str:
        return i18n.plain(self.lang, f"mail.doctor.{key}", **kw)

    def ok(self, key: str, **kw: object) -> MailCheck:
        return MailCheck(True, self._text(key, **kw))

    def bad(self, key: str, hint: str, **kw: object) -> MailCheck:
        kw = {k: self.redact(str(v)) for k, v in kw.items()}
        return MailCheck(False, self._text(key, **kw), self._text(f"hint.{hint}", **kw))

    def _error(self, exc: BaseException) -> str:
        if isinstance(exc, TimeoutError | asyncio.TimeoutError | aiosmtplib.SMTPTimeoutError):
            return i18n.plain(self.lang, "ops.doctor.timeout")
        text = str(exc) or type(exc).__name__
        return self.redact(text.splitlines()[0])

    async def smtp(self) -> list[MailCheck]:
        e = self.email
        where = f"{e.smtp_host}:{e.smtp_port_or_default}"
        checks: list[MailCheck] = []
        if not e.from_:
            checks.append(self.bad("no_from", "from"))
        context = ssl.create_default_context()
        client = aiosmtplib.SMTP(
            hostname=e.smtp_host,
            port=e.smtp_port_or_default,
            use_tls=e.smtp_security == "tls",
            start_tls=e.smtp_security == "starttls",
            tls_context=context,
            timeout=e.timeout.total_seconds(),
        )
        try:
            await client.connect()
        except ssl.SSLError as exc:
            return [*checks, self.bad("smtp_tls", "smtp_tls", where=where, error=self._error(exc))]
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            text = self._error(exc)
            if "tls" in text.lower() or "ssl" in text.lower():
                return [*checks, self.bad("smtp_tls", "smtp_tls", where=where, error=text)]
            return [
                *checks,
                self.bad("smtp_unreachable", "smtp_unreachable", where=where, error=text),
            ]
        try:
            if e.smtp_username:
                if e.smtp_password is None:
                    checks.append(
                        self.bad("smtp_no_password", "smtp_password", user=e.smtp_username)
                    )
                    return checks
                try:
                    await client.login(e.smtp_username, e.smtp_password.get_secret_value())
                except aiosmtplib.SMTPAuthenticationError as exc:
                    checks.append(
                        self.bad(
                            "smtp_login",
                            "smtp_password",
                            user=e.smtp_username,
                            error=f"{exc.code} {exc.message}",
                        )
                    )
                    return checks
                except aiosmtplib.SMTPException as exc:
                    checks.append(
                        self.bad(
                            "smtp_login", "smtp_auth", user=e.smtp_username, error=self._error(exc)
                        )
                    )
                    return checks
            who = e.smtp_username or i18n.plain(self.lang, "mail.doctor.anonymous")
            checks.append(self.ok("smtp_ok", where=where, user=who, security=e.smtp_security))
        finally:
            try:
                await client.quit()
            except Exception:
                client.close()
        return checks

    def _imap_blocking(self) -> int:
        conn = imap.connect(self.email)
        try:
            imap.open_folder(conn, self.email.imap_folder)
            typ, data = conn.uid("SEARCH", "ALL")
            return len((data[0] or b"").split()) if typ == "OK" and data else 0
        finally:
            with contextlib.suppress(Exception):
                conn.logout()

    async def imap(self) -> list[MailCheck]:
        e = self.email
        where = f"{e.imap_host}:{e.imap_port_or_default}"
        try:
            count = await asyncio.to_thread(self._imap_blocking)
        except imap.ImapError as exc:
            stage = {"connect": "imap_unreachable", "login": "imap_login", "folder": "imap_folder"}
            key = stage.get(exc.stage, "imap_unreachable")
            return [
                self.bad(
                    key,
                    key,
                    where=where,
                    user=e.imap_username or "",
                    folder=e.imap_folder,
                    error=self._error(exc),
                )
            ]
        except Exception as exc:
            return [
                self.bad(
                    "imap_unreachable", "imap_unreachable", where=where, error=self._error(exc)
                )
            ]
        return [
            self.ok(
                "imap_ok", where=where, user=e.imap_username or "", folder=e.imap_folder, n=count
            )
        ]

    def lists(self) -> list[MailCheck]:
        checks = []
        for entry in self.config.mailing_lists:
            posts = ", ".join(entry.post) or "–"
            checks.append(
                self.ok("list_ok", address=entry.address, posts=posts, n=len(entry.forward_to))
            )
        return checks

    async def run(self) -> list[MailCheck]:
        checks: list[MailCheck] = []
        if self.email.smtp_host:
            checks += await self.smtp()
        if self.email.imap_host:
            checks += await self.imap()
        return checks + self.lists()
