"""Configuration: a TOML file (optional) plus environment overrides, loaded into typed models.

Search order: ``--config FILE``, ``$NETZBOT_CONFIG``, ``./netzbot.toml``, else embedded defaults.
Secrets may come from the environment in ``NETZBOT_<SECTION>__<KEY>`` form, e.g.
``NETZBOT_TELEGRAM__TOKEN``. Unknown keys, wrong types and bad values raise ``ConfigError``
with the file, the key and what is expected.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic import field_validator as validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.durations import parse_duration
from bot.errors import ConfigError
from bot.redact import MASK, is_secret_name, redact_text
from bot.types import ChatRef

Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
LANGUAGES = ("de", "de-sie", "en")
# The key of the one network a config without [[networks]] has (and of the network an upgraded
# database's data lands in). Stable: it appears in backups and in /netzwerk_freigeben.
DEFAULT_NETWORK_KEY = "netzwerk"
NETWORK_KEY = re.compile(r"^[a-z0-9_-]{1,40}$")


def _chat_ref(value: Any) -> str:
    return str(ChatRef.parse(value))


ChatRefStr = Annotated[str, BeforeValidator(_chat_ref)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class BotSection(Section):
    name: str = "netzbot"
    # The default language of chats that chose none; "de-sie" is German with "Sie".
    language: Literal["de", "de-sie", "en"] = "de"
    # How German addresses people by default: "du" or the formal "sie". With anrede = "sie",
    # language "de" becomes "de-sie", so every default-language use speaks formally.
    anrede: Literal["du", "sie"] = "du"
    timezone: str = "Europe/Berlin"
    owners: list[ChatRefStr] = Field(default_factory=list)
    # How long the same public command with the same answer in one group is answered once;
    # later askers get a pointer to it (or the answer privately). "0s" switches it off.
    group_answer_window: Duration = timedelta(seconds=60)

    @model_validator(mode="after")
    def _formal_german(self) -> BotSection:
        if self.anrede == "sie" and self.language == "de":
            self.language = "de-sie"
        elif self.language == "de-sie":
            self.anrede = "sie"
        return self

    @validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use e.g. 'Europe/Berlin'") from exc
        return value


class StorageSection(Section):
    url: str = "sqlite:///netzbot.sqlite3"

    @validator("url")
    @classmethod
    def _supported(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
            raise ValueError(
                "use 'sqlite:///path/to/file.sqlite3' or 'postgresql://user@host/dbname'"
            )
        return value


class TelegramSection(Section):
    enabled: bool | None = None  # None: on when a token is set
    token: SecretStr | None = None
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str | None = None
    username: str | None = None
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    secret_token: SecretStr | None = None
    max_messages_per_second: float = Field(30.0, gt=0)
    group_messages_per_minute: float = Field(20.0, gt=0)
    private_messages_per_second: float = Field(1.0, gt=0)
    http_client: Literal["aiohttp", "httpx"] = "aiohttp"

    @validator("base_url", "base_file_url", "webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value

    @property
    def active(self) -> bool:
        return self.enabled if self.enabled is not None else self.token is not None


class SignalSection(Section):
    enabled: bool | None = None  # None: on when service and phone_number are set
    service: str | None = None
    phone_number: str | None = None
    auth_user: str | None = None
    auth_password: SecretStr | None = None
    max_messages_per_second: float = Field(1.0, gt=0)
    # After a 429 ("rate limit") pause all Signal sending this long, then retry.
    rate_limit_pause: Duration = timedelta(minutes=5)

    @validator("service")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is not None and ("://" in value or ":" not in value):
            raise ValueError("write host:port without a scheme, e.g. '127.0.0.1:8080'")
        return value

    @validator("phone_number")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        if value is not None and not (value.startswith("+") and value[1:].isdigit()):
            raise ValueError("the bot's number in international form, e.g. '+4915123456789'")
        return value

    @property
    def active(self) -> bool:
        if self.enabled is not None:
            return self.enabled
        return bool(self.service and self.phone_number)


class NewsSection(Section):
    poll_interval: Duration = timedelta(minutes=15)
    backfill: int = Field(3, ge=0, le=50)
    max_bytes: int = Field(5_000_000, gt=0)
    digest_at: time = time(8, 0)
    digest_weekday: Literal["mo", "di", "mi", "do", "fr", "sa", "so"] | None = None
    timeout: Duration = timedelta(seconds=20)
    allow_private_addresses: bool = False
    # exceptions to the refusal of internal addresses, e.g. ["10.1.2.0/24"] for an intranet host
    allowed_networks: list[str] = Field(default_factory=list)

    @validator("allowed_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        for net in value:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError as exc:
                raise ValueError(f"{net!r} is not a network; write e.g. '10.1.2.0/24'") from exc
        return value

    @validator("poll_interval")
    @classmethod
    def _min_interval(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=5):
            raise ValueError("poll_interval must be at least '5s' (sensible: '15m')")
        return value


class RemindersSection(Section):
    lead_times: list[Duration] = Field(
        default_factory=lambda: [timedelta(days=1), timedelta(hours=1)]
    )


class QuestionsSection(Section):
    """Questions for the next meeting (``/frage``) and the agenda post before each meeting."""

    agenda_before: Duration = timedelta(days=1)  # post the top questions this long before
    agenda_top: int = Field(5, ge=1, le=20)  # how many questions the agenda post lists
    max_length: int = Field(500, ge=20, le=4000)  # longest question accepted
    agenda_chats: list[ChatRefStr] = Field(default_factory=list)  # empty: every active group

    @validator("agenda_before")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("agenda_before must be positive, e.g. '1d' or '3h'")
        return value


class HttpSection(Section):
    """``listen = "127.0.0.1:8080"`` starts /healthz, /metrics, /kalender.ics (and the Telegram
    webhook) in ``netzbot run``. ``public_url`` is how the world reaches it (behind a proxy)."""

    listen: str | None = None
    public_url: str | None = None

    @validator("listen")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is None:
            return None
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError(
                "use 'host:port', e.g. '127.0.0.1:8080' (in a container '0.0.0.0:8080')"
            )
        return value


def _network_key(value: str) -> str:
    if not isinstance(value, str) or not NETWORK_KEY.match(value):
        raise ValueError(
            f"{value!r} is not a network key: use 1-40 of a-z, 0-9, '_' and '-', "
            "e.g. 'buergerraete'"
        )
    return value


NetworkKey = Annotated[str, BeforeValidator(_network_key)]


class NetworkEntry(Section):
    """One network: the unit of data and of trust (see docs/networks.md)."""

    key: NetworkKey
    name: str = Field(min_length=1, max_length=200)
    chats: list[ChatRefStr] = Field(default_factory=list)  # groups enabled by the config
    admins: list[ChatRefStr] = Field(default_factory=list)  # person refs: network admins
    join_url: str | None = None  # shown to outsiders: how to join
    anrede: Literal["du", "sie"] | None = None  # None: the [bot] default
    group_admins_are_network_admins: bool = True

    @validator("join_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value


class FeedEntry(Section):
    url: str
    name: str | None = None
    network: NetworkKey | None = None  # required when there are several networks
    post_to: list[ChatRefStr] = Field(default_factory=list)
    mode: Literal["immediate", "digest"] = "immediate"
    keywords: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)

    @validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip()
        if not value.lower().startswith(("http://", "https://")) or len(value) < 11:
            raise ValueError("a feed URL starts with http:// or https://")
        return value


class CalendarEntry(Section):
    url: str
    name: str | None = None
    network: NetworkKey | None = None  # required when there are several networks
    sync_interval: Duration = timedelta(hours=1)
    timezone: str | None = None


class EmailSection(Section):
    """The bot's own mailbox: SMTP to send, IMAP to read the mailing list (docs/email.md)."""

    from_: str | None = Field(None, alias="from")
    smtp_host: str | None = None
    smtp_port: int | None = Field(None, ge=1, le=65535)  # None: 587 starttls, 465 tls, 25 none
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    imap_host: str | None = None
    imap_port: int | None = Field(None, ge=1, le=65535)  # None: 993 tls, 143 otherwise
    imap_security: Literal["starttls", "tls", "none"] = "tls"
    imap_username: str | None = None
    imap_password: SecretStr | None = None
    imap_folder: str = "INBOX"
    imap_poll_interval: Duration = timedelta(minutes=1)
    max_messages_per_minute: float = Field(30.0, gt=0)
    timeout: Duration = timedelta(seconds=30)

    model_config = ConfigDict(extra="forbid", validate_default=True, populate_by_name=True)

    @validator("from_")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        from email.utils import parseaddr

        if value is None:
            return None
        _name, address = parseaddr(value)
        if "@" not in address or " " in address:
            raise ValueError(
                "write the sender as 'Name <address@example.org>' or 'address@example.org'"
            )
        return value

    @property
    def sending(self) -> bool:
        return bool(self.smtp_host)

    @property
    def reading(self) -> bool:
        return bool(self.imap_host)

    @property
    def from_address(self) -> str:
        from email.utils import parseaddr

        return parseaddr(self.from_ or "")[1].lower()

    @property
    def smtp_port_or_default(self) -> int:
        if self.smtp_port:
            return self.smtp_port
        return {"starttls": 587, "tls": 465, "none": 25}[self.smtp_security]

    @property
    def imap_port_or_default(self) -> int:
        if self.imap_port:
            return self.imap_port
        return 993 if self.imap_security == "tls" else 143


MailingListPost = Literal["einladungen", "aufzeichnungen", "ankuendigungen", "news"]
MAILING_LIST_POSTS: tuple[MailingListPost, ...] = get_args(MailingListPost)


class MailingListEntry(Section):
    """A network's mailing list: what the bot posts to it, and where its mails are forwarded."""

    network: str | None = None  # the [[networks]] key; None: the only network
    address: str
    post: list[MailingListPost] = Field(default_factory=lambda: list(MAILING_LIST_POSTS))
    invite_days_before: int = Field(7, ge=0, le=60)
    forward_to: list[ChatRefStr] = Field(default_factory=list)

    @validator("forward_to")
    @classmethod
    def _messenger_chats(cls, value: list[str]) -> list[str]:
        for ref in value:
            if ref.startswith("email:"):
                raise ValueError(f"{ref}: forward_to takes messenger chats, not e-mail addresses")
        return value

    @validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        value = value.strip()
        local, at, domain = value.rpartition("@")
        if not at or not local or "." not in domain or " " in value or "<" in value:
            raise ValueError("the list's address alone, e.g. 'netzwerk@lists.example.org'")
        return value.lower()

    @property
    def chat(self) -> str:
        return f"email:{self.address}"


class LoggingSection(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


class Config(BaseSettings):
    """The whole configuration. Environment variables override the file."""

    model_config = SettingsConfigDict(
        env_prefix="NETZBOT_",
        env_nested_delimiter="__",
        env_ignore_empty=True,  # compose passes unset secrets as "": that means "not set"
        extra="forbid",
        validate_default=True,
    )

    bot: BotSection = Field(default_factory=BotSection)
    storage: StorageSection = Field(default_factory=StorageSection)
    telegram: TelegramSection = Field(default_factory=TelegramSection)
    signal: SignalSection = Field(default_factory=SignalSection)
    news: NewsSection = Field(default_factory=NewsSection)
    reminders: RemindersSection = Field(default_factory=RemindersSection)
    questions: QuestionsSection = Field(default_factory=QuestionsSection)
    http: HttpSection = Field(default_factory=HttpSection)
    logging: LoggingSection = Field(default_factory=LoggingSection)
    networks: list[NetworkEntry] = Field(default_factory=list)
    feeds: list[FeedEntry] = Field(default_factory=list)
    calendars: list[CalendarEntry] = Field(default_factory=list)
    email: EmailSection = Field(default_factory=EmailSection)
    mailing_lists: list[MailingListEntry] = Field(default_factory=list)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (env_settings, init_settings)

    @model_validator(mode="after")
    def _mailing_lists_need_a_mailbox(self) -> Config:
        seen: set[str] = set()
        for n, entry in enumerate(self.mailing_lists, 1):
            if entry.address in seen:
                raise ValueError(f"mailing_lists[{n}]: the address {entry.address} is listed twice")
            seen.add(entry.address)
            if entry.post and not (self.email.smtp_host and self.email.from_):
                raise ValueError(
                    f"mailing_lists[{n}] posts to {entry.address}: set [email] from and smtp_host"
                )
            if entry.forward_to and not self.email.imap_host:
                raise ValueError(
                    f"mailing_lists[{n}] forwards the list's mails: set [email] imap_host"
                )
        return self

    @model_validator(mode="after")
    def _networks_consistent(self) -> Config:
        problems = network_problems(self)
        if problems:
            raise ValueError("\n  ".join(problems))
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.bot.timezone)

    @property
    def network_entries(self) -> list[NetworkEntry]:
        """The configured networks, or the one implicit network named after ``[bot] name``."""
        if self.networks:
            return list(self.networks)
        return [NetworkEntry(key=DEFAULT_NETWORK_KEY, name=self.bot.name)]

    @property
    def default_network_key(self) -> str:
        """The network of the console chat, the demo data and of feeds/calendars without
        ``network =`` (allowed only when there is one network): the first one."""
        return self.network_entries[0].key

    def network_entry(self, key: str) -> NetworkEntry | None:
        return next((n for n in self.network_entries if n.key == key), None)

    def network_of_entry(self, entry: FeedEntry | CalendarEntry) -> str:
        return entry.network or self.default_network_key

    def is_owner(self, person: ChatRef | str) -> bool:
        return str(person) in self.bot.owners


def network_problems(config: Config) -> list[str]:
    """Duplicate keys, a chat in two networks, an unknown ``network =`` key (feeds, calendars,
    mailing lists), a missing one, a chat posted to that belongs to another network."""
    problems: list[str] = []
    keys = [n.key for n in config.networks]
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        problems.append(f"networks: the key {key!r} is used by more than one network")
    owner_of: dict[str, str] = {}
    for net in config.networks:
        for chat in net.chats:
            other = owner_of.setdefault(chat, net.key)
            if other != net.key:
                problems.append(
                    f"networks: the chat {chat!r} is listed in two networks ({other!r} and "
                    f"{net.key!r}); a chat belongs to one network"
                )
    known = set(keys) if config.networks else {DEFAULT_NETWORK_KEY}
    several = len(config.networks) > 1
    sections: tuple[tuple[str, list[Any]], ...] = (
        ("feeds", config.feeds),
        ("calendars", config.calendars),
        ("mailing_lists", config.mailing_lists),
    )
    for section, entries in sections:
        for index, entry in enumerate(entries, start=1):
            if entry.network is not None and entry.network not in known:
                problems.append(
                    f"{section}[{index}].network: unknown network {entry.network!r} "
                    f"(known: {', '.join(sorted(known))})"
                )
            elif entry.network is None and several:
                problems.append(
                    f"{section}[{index}].network: missing; with several networks say which one "
                    f"(one of: {', '.join(keys)})"
                )
    seen: dict[str, int] = {}
    for index, calendar in enumerate(config.calendars, start=1):
        name = calendar.name or f"calendar-{index}"  # its meetings are stored under this name
        if name in seen:
            problems.append(
                f"calendars[{index}].name: {name!r} is the name of calendars[{seen[name]}] too; "
                "each calendar needs its own name (its meetings are kept under it)"
            )
        seen.setdefault(name, index)
    for index, feed in enumerate(config.feeds, start=1):
        network = config.network_of_entry(feed)
        for chat in feed.post_to:
            if owner_of.get(chat, network) != network:
                problems.append(
                    f"feeds[{index}].post_to: the chat {chat!r} belongs to network "
                    f"{owner_of[chat]!r}, not to {network!r}"
                )
    for index, mailing_list in enumerate(config.mailing_lists, start=1):
        network = mailing_list.network or config.default_network_key
        for chat in mailing_list.forward_to:
            if owner_of.get(chat, network) != network:
                problems.append(
                    f"mailing_lists[{index}].forward_to: the chat {chat!r} belongs to network "
                    f"{owner_of[chat]!r}, not to {network!r}"
                )
    return problems


def find_config_file(explicit: str | os.PathLike[str] | None) -> Path | None:
    if explicit:
        return Path(explicit)
    env = os.environ.get("NETZBOT_CONFIG")
    if env:
        return Path(env)
    local = Path("netzbot.toml")
    return local if local.exists() else None


def load_config(path: str | os.PathLike[str] | None = None, **overrides: Any) -> Config:
    """Load and validate the configuration; raise ConfigError naming file, key and expectation."""
    file = find_config_file(path)
    data: dict[str, Any] = {}
    source = "defaults"
    if file is not None:
        source = str(file)
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"{source}: file not found") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{source}: cannot read: {exc}") from exc
    for section, values in overrides.items():
        if isinstance(values, dict):
            data.setdefault(section, {}).update(values)
        else:
            data[section] = values
    try:
        return Config(**data)
    except ValidationError as exc:
        raise ConfigError(describe_errors(source, exc)) from exc


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    model: Any = Config
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return []
        ann = field.annotation
        args = getattr(ann, "__args__", ())
        model = next(
            (a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)), None
        )
        if model is None:
            return []
    return list(model.model_fields)


def _key_path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts[-1] = f"{parts[-1]}[{part + 1}]" if parts else f"[{part + 1}]"
        else:
            parts.append(str(part))
    return ".".join(parts)


def describe_errors(source: str, exc: ValidationError) -> str:
    lines = [f"{source}: the configuration has {exc.error_count()} problem(s):"]
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = _key_path(loc)
        if not loc:  # a check across sections (networks): the message names the keys
            lines.append("  " + str(err["msg"]).removeprefix("Value error, "))
        elif err["type"] == "extra_forbidden":
            known = _known_keys(loc)
            guess = difflib.get_close_matches(str(loc[-1]), known, n=1)
            hint = f" — did you mean '{guess[0]}'?" if guess else ""
            lines.append(
                f"  {key}: unknown key{hint} (known keys here: {', '.join(known) or 'none'})"
            )
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
            if any(is_secret_name(str(part)) for part in loc if isinstance(part, str)):
                got = MASK  # a token or password is never printed back, not even a wrong one
                msg = msg.replace(str(err.get("input")), MASK)
            else:
                got = redact_text(repr(err.get("input")))
            lines.append(f"  {key}: {redact_text(msg)} (got {got})")
    return "\n".join(lines)
