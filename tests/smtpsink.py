"""A real SMTP server for the e-mail tests, run as its own process (aiosmtpd).

    python -m tests.smtpsink --port 2525 --maildir DIR [--control FILE] [--user U --password P]

Every accepted message is stored in the Maildir ``DIR`` (one file per message, exactly as
received). ``--control FILE`` is read for every transaction, so a test can change the answer
while the server runs: a JSON object ``{"mode": "ok" | "tempfail" | "reject"}``, optionally
``"rcpt": {"address": "reject" | "tempfail"}`` for single recipients. "tempfail" answers 451,
"reject" answers 550. A refused connection is the test stopping the process.
Prints ``READY <port>`` once it listens.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import mailbox
import signal
import sys
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

ANSWERS = {
    "tempfail": "451 4.3.0 Temporary failure, try again later",
    "reject": "550 5.7.1 Message rejected: sender not allowed to post",
}


class Sink:
    def __init__(self, maildir: Path, control: Path | None) -> None:
        self.box = mailbox.Maildir(maildir, create=True)
        self.control = control

    def _mode(self, address: str | None = None) -> str:
        if self.control is None or not self.control.exists():
            return "ok"
        try:
            data = json.loads(self.control.read_text() or "{}")
        except ValueError:
            return "ok"
        if address is not None:
            per = data.get("rcpt", {}).get(address.lower())
            if per:
                return per
        return data.get("mode", "ok")

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        mode = self._mode(address)
        if mode in ANSWERS:
            return ANSWERS[mode]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        mode = self._mode()
        if mode in ANSWERS:
            return ANSWERS[mode]
        self.box.add(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--control")
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args(argv)

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == args.user
            and auth_data.password.decode() == args.password
        )
        return AuthResult(success=ok, handled=False)

    options = {}
    if args.user:
        options = {
            "authenticator": authenticate,
            "auth_require_tls": False,
            "auth_required": True,
        }
    handler = Sink(Path(args.maildir), Path(args.control) if args.control else None)
    controller = Controller(handler, hostname="127.0.0.1", port=args.port, **options)
    controller.start()
    print(f"READY {args.port}", flush=True)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        loop.run_until_complete(stop.wait())
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
