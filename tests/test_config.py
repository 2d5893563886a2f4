from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.config import Config, load_config
from bot.durations import format_duration, parse_duration
from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "netzbot.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_need_no_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NETZBOT_CONFIG", raising=False)
    config = load_config(None)
    assert config.bot.language == "de"
    assert config.bot.timezone == "Europe/Berlin"
    assert config.storage.url == "sqlite:///netzbot.sqlite3"
    assert not config.telegram.active and not config.signal.active


def test_misspelt_key_names_file_key_and_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path, '[bot]\nlanguag = "en"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert str(path) in message
    assert "bot.languag" in message
    assert "did you mean 'language'" in message


def test_unknown_section_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="telegramm: unknown key — did you mean 'telegram'"):
        load_config(write(tmp_path, "[telegramm]\ntoken = 'x'\n"))


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[news]\npoll_interval = "soon"\n', "news.poll_interval: 'soon' is not a duration"),
        ('[news]\npoll_interval = "2s"\n', "at least '5s'"),
        ('[bot]\ntimezone = "Mars/Olympus"\n', "unknown time zone"),
        ('[bot]\nowners = ["4242"]\n', "bot.owners[1]: not a chat reference"),
        ('[[feeds]]\nname = "x"\n', "feeds[1].url: Field required"),
        ('[telegram]\nmax_messages_per_second = "fast"\n', "telegram.max_messages_per_second"),
        ("[bot\n", "not valid TOML"),
        ('[storage]\nurl = "mysql://x"\n', "storage.url: use 'sqlite:///"),
    ],
)
def test_bad_values_are_explained(tmp_path: Path, toml: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, toml))
    assert expected in str(err.value)


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETZBOT_TELEGRAM__TOKEN", "123:secret")
    monkeypatch.setenv("NETZBOT_BOT__LANGUAGE", "en")
    config = load_config(write(tmp_path, '[bot]\nlanguage = "de"\nname = "Rathausbot"\n'))
    assert config.telegram.token is not None
    assert config.telegram.token.get_secret_value() == "123:secret"
    assert "123:secret" not in repr(config.telegram) and "123:secret" not in str(
        config.model_dump()
    )
    assert config.telegram.active
    assert config.bot.language == "en"
    assert config.bot.name == "Rathausbot"


def test_config_from_environment_variable_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NETZBOT_CONFIG", str(write(tmp_path, '[bot]\nname = "Envbot"\n')))
    assert load_config(None).bot.name == "Envbot"


def _documented_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    return [f"{prefix}{name}" for name in model.model_fields]


def test_example_config_is_valid_and_documents_every_key() -> None:
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    load_config(ROOT / "config.example.toml")
    for section_name, field in Config.model_fields.items():
        annotation = field.annotation
        inner = getattr(annotation, "__args__", (annotation,))[0]
        header = (
            f"[[{section_name}]]"
            if section_name in ("feeds", "calendars", "networks", "mailing_lists")
            else f"[{section_name}]"
        )
        assert header in text, f"config.example.toml lacks {header}"
        for name, key_field in inner.model_fields.items():
            key = key_field.alias or name
            assert re.search(rf"^#? ?{key} =", text, re.M), (
                f"config.example.toml lacks {section_name}.{key}"
            )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("15m", 900),
        ("2h", 7200),
        ("1d", 86400),
        ("1w", 604800),
        ("1h30m", 5400),
        ("5 minutes", 300),
        (45, 45),
    ],
)
def test_durations(text: str | int, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("bad", ["", "soon", "5 minutes later", "-3m", "1x", True])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)  # type: ignore[arg-type]


def test_format_duration_round_trips() -> None:
    for text in ("90s", "15m", "2h", "1d", "1w", "1h30m"):
        assert parse_duration(format_duration(parse_duration(text))) == parse_duration(text)


@pytest.mark.parametrize(
    ("overrides", "secret"),
    [
        ({"telegram": {"token": 123456789012345}}, "123456789012345"),
        ({"signal": {"auth_password": ["Geheim42"]}}, "Geheim42"),
        ({"storage": {"url": "mysql://netz:Geheim42@db/netz"}}, "Geheim42"),
        ({"telegram": {"secret_token": 42424242}}, "42424242"),
    ],
)
def test_config_errors_never_print_a_secret_back(overrides: dict, secret: str) -> None:
    """Issue 13 item 18: a wrong token or database URL is named, its value is not shown."""
    with pytest.raises(ConfigError) as err:
        load_config(None, **overrides)
    assert secret not in str(err.value)
    assert "***" in str(err.value)
