"""Real mail servers for tests: the aiosmtpd sink (``tests/smtpsink.py``) and Dovecot.

Both run as their own processes on loopback ports with throwaway folders. Dovecot comes from
Debian's ``dovecot-imapd`` (``.ci/run`` installs it); where it is missing and cannot be
installed, the tests that need it fail rather than skip, unless ``NETZBOT_TEST_DOVECOT=none``.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import imaplib
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from email.message import EmailMessage, Message
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEADLINE = 15.0  # seconds a server may take to come up


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            extra = log.read_text() if log and log.exists() else ""
            raise RuntimeError(f"{what} exited with {proc.returncode}: {extra[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on port {port} within {DEADLINE}s")


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


class SmtpSink:
    """``start()``/``stop()`` (stopped: connection refused), ``mode(...)`` (ok/tempfail/reject),
    ``messages()`` (everything accepted, parsed)."""

    def __init__(self, folder: Path, user: str | None = None, password: str | None = None):
        self.folder = folder
        self.maildir = folder / "maildir"
        self.control = folder / "control.json"
        self.port = free_port()
        self.user, self.password = user, password
        self.proc: subprocess.Popen | None = None
        folder.mkdir(parents=True, exist_ok=True)
        self.mode("ok")

    def start(self) -> SmtpSink:
        cmd = [sys.executable, "-m", "tests.smtpsink", "--port", str(self.port)]
        cmd += ["--maildir", str(self.maildir), "--control", str(self.control)]
        if self.user:
            cmd += ["--user", self.user, "--password", self.password or ""]
        log = self.folder / "smtpsink.log"
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log.open("ab")
        )
        _wait_port(self.port, self.proc, "SMTP sink", log)
        return self

    def stop(self) -> None:
        _stop(self.proc)
        self.proc = None

    def mode(self, mode: str, rcpt: dict[str, str] | None = None) -> None:
        self.control.write_text(json.dumps({"mode": mode, "rcpt": rcpt or {}}))

    def messages(self) -> list[Message]:
        """Every accepted mail, oldest first (Maildir names start with the arrival time)."""
        files = sorted(
            (p for sub in ("new", "cur") for p in (self.maildir / sub).glob("*")),
            key=lambda p: (p.stat().st_mtime_ns, p.name),
        )
        return [
            email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in files
        ]

    def count(self) -> int:
        """How many mails were accepted (cheap: counts files, parses nothing)."""
        return sum(
            1
            for sub in ("new", "cur")
            if (self.maildir / sub).exists()
            for _ in (self.maildir / sub).iterdir()
        )

    async def wait_for_messages(self, count: int, within: float = 10.0) -> list[Message]:
        """Wait (with a deadline) until ``count`` mails were accepted."""
        deadline = time.monotonic() + within
        while len(found := self.messages()) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(found)} of {count} mails arrived within {within}s")
            await asyncio.sleep(0.05)
        return found

    def config(self) -> dict[str, object]:
        cfg: dict[str, object] = {
            "from": "Netzwerk Bürgerräte <bot@netzwerk.example>",
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "smtp_security": "none",
        }
        if self.user:
            cfg["smtp_username"] = self.user
            cfg["smtp_password"] = self.password
        return cfg


class Dovecot:
    """A Dovecot IMAP server with one user, plain-text login, Maildir storage, no TLS."""

    USER = "bot"
    PASSWORD = "imap-secret"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        folder.mkdir(parents=True, exist_ok=True)
        self.conf = folder / "dovecot.conf"
        self.log = folder / "dovecot.log"
        self._write_config()

    @staticmethod
    def available() -> bool:
        return Path(shutil.which("dovecot") or "/usr/sbin/dovecot").exists()

    def _write_config(self) -> None:
        root = os.geteuid() == 0
        if root:
            mail_user = pwd.getpwnam("nobody")
            login_user, internal_user = "dovenull", "dovecot"
        else:
            mail_user = pwd.getpwuid(os.geteuid())
            login_user = internal_user = mail_user.pw_name
        for sub in ("run", "state", "mail", "home"):
            (self.folder / sub).mkdir(exist_ok=True)
        if root:
            for sub in ("mail", "home"):
                # the mail processes run as nobody and must reach their folders
                os.chown(self.folder / sub, mail_user.pw_uid, mail_user.pw_gid)
            os.chmod(self.folder, 0o755)
        (self.folder / "passwd").write_text(f"{self.USER}:{{PLAIN}}{self.PASSWORD}::::::\n")
        f = self.folder
        self.conf.write_text(
            f"""
base_dir = {f}/run
state_dir = {f}/state
log_path = {self.log}
info_log_path = {self.log}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{f}/mail/%u
first_valid_uid = 1
default_login_user = {login_user}
default_internal_user = {internal_user}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {f}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={f}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Archiv {{
    auto = create
  }}
}}
"""
        )

    def start(self) -> Dovecot:
        self.proc = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("ab"),
        )
        _wait_port(self.port, self.proc, "dovecot", self.log)
        return self

    def stop(self) -> None:
        _stop(self.proc)
        self.proc = None

    def client(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.login(self.USER, self.PASSWORD)
        return imap

    def deliver(self, message: EmailMessage | bytes, folder: str = "INBOX") -> None:
        """Put a mail into ``folder`` the way a mail server would (IMAP APPEND)."""
        raw = message if isinstance(message, bytes) else message.as_bytes()
        imap = self.client()
        try:
            typ, data = imap.append(folder, None, None, raw)
            if typ != "OK":
                raise RuntimeError(f"APPEND failed: {data!r}")
        finally:
            imap.logout()

    def config(self, folder: str = "INBOX") -> dict[str, object]:
        return {
            "imap_host": "127.0.0.1",
            "imap_port": self.port,
            "imap_username": self.USER,
            "imap_password": self.PASSWORD,
            "imap_folder": folder,
            "imap_security": "none",
        }
