"""``netzbot doctor`` logs into the real SMTP sink and Dovecot and names what is wrong."""

from __future__ import annotations

import contextlib

import pytest

from bot.cli import main
from tests.mailservers import SmtpSink

SMTP_PASSWORD = "smtp-geheim-123"


@pytest.fixture
def sink_with_login(tmp_path):
    server = SmtpSink(
        tmp_path / "smtp-auth", user="bot@netzwerk.example", password=SMTP_PASSWORD
    ).start()
    yield server
    server.stop()


def write_config(
    tmp_path,
    sink: SmtpSink,
    dovecot,
    *,
    smtp_password=SMTP_PASSWORD,
    imap_password=None,
    folder="INBOX",
    smtp_port=None,
):
    path = tmp_path / "netzbot.toml"
    imap_password = imap_password or dovecot.PASSWORD
    path.write_text(
        f"""
[storage]
url = "sqlite:///{tmp_path}/db.sqlite3"

[email]
from = "Netzwerk Bürgerräte <bot@netzwerk.example>"
smtp_host = "127.0.0.1"
smtp_port = {smtp_port or sink.port}
smtp_security = "none"
smtp_username = "bot@netzwerk.example"
smtp_password = "{smtp_password}"
imap_host = "127.0.0.1"
imap_port = {dovecot.port}
imap_security = "none"
imap_username = "{dovecot.USER}"
imap_password = "{imap_password}"
imap_folder = "{folder}"

[[mailing_lists]]
address = "netzwerk@lists.example.org"
forward_to = ["telegram:-1001234567890"]
""",
        encoding="utf-8",
    )
    return path


def run(capsys, path) -> list[str]:
    with contextlib.suppress(SystemExit):
        main(["--config", str(path), "doctor"])
    return capsys.readouterr().out.splitlines()


def mail_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if "SMTP" in line or "IMAP" in line or "Mailingliste" in line]


def test_everything_logs_in(tmp_path, capsys, sink_with_login, dovecot) -> None:
    lines = mail_lines(run(capsys, write_config(tmp_path, sink_with_login, dovecot)))
    assert (
        lines[0].startswith("✓ SMTP 127.0.0.1:")
        and "angemeldet (bot@netzwerk.example, none)" in lines[0]
    )
    assert lines[1].startswith("✓ IMAP 127.0.0.1:") and "Ordner INBOX mit 0 Mails" in lines[1]
    assert (
        lines[2]
        == "✓ Mailingliste netzwerk@lists.example.org: bekommt einladungen, aufzeichnungen, ankuendigungen, news; leitet an 1 Chats weiter"
    )


def test_wrong_passwords_and_folder_are_named_in_plain_words(
    tmp_path, capsys, sink_with_login, dovecot
) -> None:
    path = write_config(
        tmp_path,
        sink_with_login,
        dovecot,
        smtp_password="falsch-1",
        imap_password="falsch-2",
        folder="Listen",
    )
    output = run(capsys, path)
    lines = mail_lines(output)
    assert lines[0].startswith("✗ SMTP: Anmeldung als bot@netzwerk.example abgelehnt: 535")
    assert "NETZBOT_EMAIL__SMTP_PASSWORD" in lines[0]
    assert lines[1].startswith("✗ IMAP 127.0.0.1:") and "Anmeldung als bot abgelehnt" in lines[1]
    assert "imap_username" in lines[1]
    assert not any("falsch-1" in line or "falsch-2" in line for line in output)  # secrets redacted
    path = write_config(tmp_path, sink_with_login, dovecot, folder="Listen")
    lines = mail_lines(run(capsys, path))
    assert "den Ordner Listen gibt es nicht" in lines[1] and "imap_folder" in lines[1]


def test_servers_that_are_down(tmp_path, capsys, sink_with_login, dovecot) -> None:
    sink_with_login.stop()
    dovecot.stop()
    lines = mail_lines(run(capsys, write_config(tmp_path, sink_with_login, dovecot)))
    assert lines[0].startswith(f"✗ SMTP 127.0.0.1:{sink_with_login.port} ist nicht erreichbar")
    assert "smtp_host und smtp_port" in lines[0]
    assert lines[1].startswith(f"✗ IMAP 127.0.0.1:{dovecot.port} ist nicht erreichbar")
