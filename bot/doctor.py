"""``netzbot doctor``: check everything a running bot needs, one line per check with ✓/✗.

Checks the configuration, the database (reachable, schema current), the Telegram Bot API
(``getMe`` against ``[telegram] base_url``), signal-cli-rest-api (``/v1/about`` in json-rpc mode,
``/v1/health`` 204, the number linked), every feed (``[[feeds]]`` and those added in chat),
every calendar URL, and the bot's mailbox (SMTP and IMAP login, ``bot.mail.doctor``). Exit 0 only if all pass. Secrets never appear in the output: every error
text is redacted.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

import aiohttp

from bot import i18n
from bot.cli_registry import CliVerb, register_verb
from bot.config import Config, load_config
from bot.errors import ConfigError
from bot.net.errors import FetchError
from bot.net.guard import AddressPolicy
from bot.net.http import guarded_session, open_guarded
from bot.opml import all_feeds
from bot.ops_common import add_config_option, redactor
from bot.redact import redact_url, storage_password
from storage import migrate
from storage.db import Store

MESSENGER_TIMEOUT = 10.0
MIN_SIGNAL_API = (0, 101)
USER_AGENT = "netzbot-doctor/0.1 (+https://github.com/netzbot)"


@dataclass(frozen=True)
class Check:
    ok: bool
    text: str
    hint: str = ""

    def line(self) -> str:
        mark = "✓" if self.ok else "✗"
        return f"{mark} {self.text}" + (f" → {self.hint}" if self.hint else "")


class Doctor:
    def __init__(self, config: Config, resolver_policy: AddressPolicy | None = None) -> None:
        self.config = config
        self.lang = config.bot.language
        secrets = [
            config.telegram.token,
            config.telegram.secret_token,
            config.signal.auth_password,
            config.email.smtp_password,
            config.email.imap_password,
        ]
        self.redact = redactor(
            [s.get_secret_value() for s in secrets if s is not None]
            + [storage_password(config.storage.url)]
        )
        self.policy = resolver_policy or AddressPolicy.from_config(config)

    def ok(self, key: str, **kw: object) -> Check:
        return Check(True, i18n.plain(self.lang, f"ops.doctor.{key}", **kw))

    def bad(self, key: str, hint: str, **kw: object) -> Check:
        kw = {k: self.redact(str(v)) for k, v in kw.items()}
        return Check(
            False,
            i18n.plain(self.lang, f"ops.doctor.{key}", **kw),
            i18n.plain(self.lang, f"ops.doctor.hint.{hint}", **kw),
        )

    def error_text(self, exc: BaseException) -> str:
        if isinstance(exc, TimeoutError | asyncio.TimeoutError):
            return i18n.plain(self.lang, "ops.doctor.timeout")
        if isinstance(exc, FetchError) and i18n.has(exc.message_key, self.lang):
            params: dict[str, object] = dict(exc.params)
            if "kind" in params:
                params["kind"] = i18n.plain(self.lang, f"news.address_kind.{params['kind']}")
            return self.redact(i18n.plain(self.lang, exc.message_key, **params).rstrip("."))
        text = str(exc) or type(exc).__name__
        return self.redact(text.splitlines()[0])

    # -- database ---------------------------------------------------------------------------
    def database(self) -> list[Check]:
        url = self.config.storage.url
        if url.startswith("sqlite:///") and ":memory:" not in url:
            path = Path(url.removeprefix("sqlite:///"))
            if not path.exists():
                folder = path.parent if str(path.parent) else Path(".")
                if folder.is_dir():
                    return [self.ok("db_sqlite_new", path=path)]
                return [self.bad("db_sqlite_dir_missing", "db_sqlite_dir", path=folder)]
        store = Store(url)
        backend = store.engine.dialect.name
        try:
            current = migrate.current_revision(store)
        except Exception as exc:
            return [self.bad("db_unreachable", "db_unreachable", error=self.error_text(exc))]
        finally:
            store.dispose()
        head = migrate.head_revision()
        if current is None:
            return [self.ok("db_empty", backend=backend)]
        if current == head:
            return [self.ok("db_ok", backend=backend, revision=current)]
        if current not in _known_revisions():
            return [self.bad("db_unknown_revision", "db_unknown_revision", revision=current)]
        return [self.bad("db_pending", "db_pending", current=current, head=head)]

    # -- messengers -------------------------------------------------------------------------
    async def telegram(self, http: aiohttp.ClientSession) -> list[Check]:
        tg = self.config.telegram
        if tg.token is None:
            return [self.bad("tg_no_token", "tg_token")]
        url = f"{tg.base_url}{tg.token.get_secret_value()}/getMe"
        checks: list[Check] = []
        try:
            async with http.post(url, timeout=aiohttp.ClientTimeout(MESSENGER_TIMEOUT)) as resp:
                status = resp.status
                data = await resp.json(content_type=None) if status < 500 else {}
        except Exception as exc:
            return [
                self.bad(
                    "tg_unreachable", "tg_unreachable", url=tg.base_url, error=self.error_text(exc)
                )
            ]
        if status in (401, 404):
            checks.append(self.bad("tg_token_rejected", "tg_token", status=status))
        elif status != 200 or not isinstance(data, dict) or not data.get("ok"):
            checks.append(self.bad("tg_bad_answer", "tg_base_url", status=status))
        else:
            me = data.get("result") or {}
            checks.append(
                self.ok("tg_ok", username=me.get("username", "?"), name=me.get("first_name", "?"))
            )
        if tg.mode == "webhook":
            from bot.webhook import telegram_webhook_url

            if telegram_webhook_url(self.config) is None:
                checks.append(self.bad("tg_webhook_no_url", "tg_webhook_url"))
            if not self.config.http.listen:
                checks.append(self.bad("tg_webhook_no_http", "tg_webhook_http"))
        return checks

    async def signal(self, http: aiohttp.ClientSession) -> list[Check]:
        sig = self.config.signal
        if not sig.service or not sig.phone_number:
            return [self.bad("sig_incomplete", "sig_incomplete")]
        base = sig.service if "://" in sig.service else f"http://{sig.service}"
        base = base.rstrip("/")
        auth = None
        if sig.auth_user and sig.auth_password:
            auth = aiohttp.BasicAuth(sig.auth_user, sig.auth_password.get_secret_value())
        timeout = aiohttp.ClientTimeout(MESSENGER_TIMEOUT)
        checks: list[Check] = []
        try:
            async with http.get(f"{base}/v1/about", timeout=timeout, auth=auth) as resp:
                about = await resp.json(content_type=None) if resp.status == 200 else None
                about_status = resp.status
            async with http.get(f"{base}/v1/health", timeout=timeout, auth=auth) as resp:
                health_status = resp.status
        except Exception as exc:
            return [
                self.bad("sig_unreachable", "sig_unreachable", url=base, error=self.error_text(exc))
            ]
        if not isinstance(about, dict):
            checks.append(
                self.bad("sig_bad_answer", "sig_unreachable", url=base, status=about_status)
            )
        else:
            mode = about.get("mode", "?")
            version = str(about.get("version", "?"))
            if mode != "json-rpc":
                checks.append(self.bad("sig_mode", "sig_mode", mode=mode))
            elif _version(version) < MIN_SIGNAL_API:
                checks.append(self.bad("sig_version", "sig_version", version=version))
            else:
                checks.append(self.ok("sig_ok", version=version))
        if health_status == 204:
            checks.append(self.ok("sig_health_ok"))
        else:
            checks.append(self.bad("sig_health_bad", "sig_health", status=health_status))
        checks.extend(await self._signal_account(http, base, auth, timeout))
        return checks

    async def _signal_account(
        self,
        http: aiohttp.ClientSession,
        base: str,
        auth: aiohttp.BasicAuth | None,
        limit: aiohttp.ClientTimeout,
    ) -> list[Check]:
        """``GET /v1/accounts`` lists the linked numbers (skipped if the server lacks it)."""
        number = self.config.signal.phone_number
        try:
            async with http.get(f"{base}/v1/accounts", timeout=limit, auth=auth) as resp:
                if resp.status != 200:
                    return []
                accounts = await resp.json(content_type=None)
        except Exception:
            return []
        if not isinstance(accounts, list):
            return []
        if number in accounts:
            return [self.ok("sig_account_ok", number=number)]
        return [self.bad("sig_account_missing", "sig_account", number=number)]

    # -- feeds and calendars ----------------------------------------------------------------
    async def source(self, http: aiohttp.ClientSession, kind: str, url: str, name: str) -> Check:
        label = i18n.plain(self.lang, f"ops.doctor.kind.{kind}")
        hint = f"{kind}_url"
        scheme = urlsplit(url).scheme.lower()
        if scheme in ("http", "https", "webcal"):
            if scheme == "webcal":
                url = "https" + url[len("webcal") :]
            try:  # the same guard as the bot's own fetches: every redirect hop is vetted
                async with open_guarded(http, url, self.policy) as resp:
                    status = resp.status
            except Exception as exc:
                return self.bad(
                    "source_unreachable", hint, kind=label, name=name, error=self.error_text(exc)
                )
            if status >= 400:
                return self.bad("source_http_error", hint, kind=label, name=name, status=status)
            return self.ok("source_ok", kind=label, name=name, status=status)
        path = Path(url.removeprefix("file://")) if scheme in ("", "file") else None
        if path is None:
            return self.bad("source_scheme", hint, kind=label, name=name, scheme=scheme)
        if path.is_file():
            return self.ok("source_file_ok", kind=label, name=name)
        return self.bad("source_file_missing", hint, kind=label, name=name, path=path)

    async def run(self) -> list[Check]:
        checks = self.database()
        headers = {"User-Agent": USER_AGENT}
        timeout = aiohttp.ClientTimeout(self.config.news.timeout.total_seconds())
        async with (
            aiohttp.ClientSession(headers=headers) as http,
            guarded_session(self.policy, timeout=timeout, headers=headers) as guarded,
        ):
            if not (self.config.telegram.active or self.config.signal.active):
                checks.append(self.bad("no_messenger", "no_messenger"))
            if self.config.telegram.active:
                checks.extend(await self.telegram(http))
            if self.config.signal.active:
                checks.extend(await self.signal(http))
            feeds = all_feeds(self.config) if all(c.ok for c in checks) else []
            feeds = feeds or [(f.url, f.name) for f in self.config.feeds]
            sources = [("feed", url, name or redact_url(url)) for url, name in feeds] + [
                ("calendar", c.url, c.name or redact_url(c.url)) for c in self.config.calendars
            ]
            limit = asyncio.Semaphore(8)

            async def one(kind: str, url: str, name: str) -> Check:
                async with limit:
                    return await self.source(guarded, kind, url, name)

            checks.extend(await asyncio.gather(*(one(*s) for s in sources)))
        if self.config.email.smtp_host or self.config.email.imap_host:
            from bot.mail.doctor import MailDoctor

            checks.extend(await MailDoctor(self.config, self.redact, self.lang).run())
        return checks


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate._alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def _version(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts) or (0,)


def run_doctor(config_path: str | None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        lang = i18n.DEFAULT_LANGUAGE
        text = i18n.plain(lang, "ops.doctor.config_bad")
        hint = i18n.plain(lang, "ops.doctor.hint.config")
        out.write(f"✗ {text} → {hint}\n{exc}\n")
        return 1
    source = config_path or "NETZBOT_CONFIG / ./netzbot.toml / defaults"
    doctor = Doctor(config)
    checks = [doctor.ok("config_ok", source=source), *asyncio.run(doctor.run())]
    for check in checks:
        out.write(check.line() + "\n")
    failed = sum(not c.ok for c in checks)
    if failed:
        out.write(i18n.plain(doctor.lang, "ops.doctor.summary_bad", failed) + "\n")
        return 1
    out.write(i18n.plain(doctor.lang, "ops.doctor.summary_ok") + "\n")
    return 0


def _configure(parser: argparse.ArgumentParser) -> None:
    add_config_option(parser)


register_verb(
    CliVerb(
        "doctor",
        "check config, database, messengers, feeds and calendars (✓/✗ per check)",
        _configure,
        lambda args: run_doctor(args.config),
    )
)
