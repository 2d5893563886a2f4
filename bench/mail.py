"""E-mail figures against real servers: SMTP sending through the delivery worker (aiosmtpd sink
in its own process) and forwarding list mails read from Dovecot.

    python bench/mail.py [--mails 200] [--list-mails 200]

Prints: mails delivered per second through the outbox at an unlimited pace (one SMTP
conversation per mail), the pace held at ``max_messages_per_minute = 600``, and list mails
read + forwarded per second from IMAP (batches of 50 per check).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.clock import SystemClock  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.connectors.email import EmailConnector  # noqa: E402
from bot.delivery import DeliveryWorker  # noqa: E402
from bot.mail import status  # noqa: E402
from bot.types import ChatRef, Outgoing  # noqa: E402
from jobs import mail_inbox  # noqa: E402
from jobs.schedule import JobContext  # noqa: E402
from storage import migrate, outbox  # noqa: E402
from storage.db import Store  # noqa: E402
from tests.mailservers import Dovecot, SmtpSink  # noqa: E402


async def send_mails(store: Store, sink: SmtpSink, count: int, per_minute: float) -> float:
    config = Config(email={**sink.config(), "max_messages_per_minute": per_minute})
    now = datetime.now(UTC)
    with store.session() as session:
        for i in range(count):
            chat = ChatRef("email", f"list{i % 5}@lists.example.org")
            out = Outgoing(
                chat, f"Ankündigung {i}\nText", f"bench:{per_minute}:{i}", subject=f"A{i}"
            )
            outbox.enqueue(session, out, now)
    worker = DeliveryWorker(store, {"email": EmailConnector(config)}, SystemClock(), config)
    before = sink.count()
    start = time.perf_counter()
    task = asyncio.create_task(worker.run(poll_every=0.05))
    while sink.count() - before < count:
        if time.perf_counter() - start > 600:
            raise TimeoutError("mails did not arrive within 10 minutes")
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - start
    worker.stop()
    await task
    return elapsed


async def forward_list_mails(store: Store, dovecot: Dovecot, count: int) -> tuple[float, int]:
    config = Config(
        email={
            "from": "Bot <bot@example.org>",
            "smtp_host": "127.0.0.1",
            **dovecot.config(),
            "imap_security": "none",
        },
        mailing_lists=[{"address": "l@lists.example.org", "forward_to": ["telegram:-1001"]}],
    )
    status.reset()
    try:
        from bot.access import sync_networks
    except ImportError:  # a build without networks
        pass
    else:
        with store.session() as session:
            sync_networks(session, config, datetime.now(UTC))
    jc = JobContext(store, config, SystemClock())
    await mail_inbox.check(jc, datetime.now(UTC))  # first look: empty folder
    for i in range(count):
        msg = EmailMessage()
        msg["From"] = f"Person {i} <p{i}@example.org>"
        msg["To"] = "l@lists.example.org"
        msg["Subject"] = f"Rundbrief {i}"
        msg["Message-ID"] = f"<bench-{i}@lists.example.org>"
        msg.set_content("Liebe Leute,\n\n" + "Text " * 200)
        dovecot.deliver(msg)
    start = time.perf_counter()
    forwarded = 0
    while forwarded < count:
        forwarded += await mail_inbox.check(jc, datetime.now(UTC))
    return time.perf_counter() - start, forwarded


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mails", type=int, default=200)
    parser.add_argument("--list-mails", type=int, default=200)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="netzbot-bench-mail-"))
    os.chmod(folder, 0o755)
    store = Store(f"sqlite:///{folder}/bench.sqlite3")
    migrate.upgrade(store)
    sink = SmtpSink(folder / "smtp").start()
    dovecot = Dovecot(folder / "dovecot").start()
    try:
        elapsed = await send_mails(store, sink, args.mails, 100_000)
        print(
            f"SMTP via outbox, unlimited pace: {args.mails} mails in {elapsed:.2f} s "
            f"({args.mails / elapsed:.1f} mails/s, {1000 * elapsed / args.mails:.1f} ms each)"
        )
        paced = 60
        elapsed = await send_mails(store, sink, paced, 600)
        print(
            f"SMTP at max_messages_per_minute = 600: {paced} mails in {elapsed:.2f} s "
            f"(ideal {paced / 10:.2f} s)"
        )
        elapsed, forwarded = await forward_list_mails(store, dovecot, args.list_mails)
        print(
            f"IMAP → groups: {forwarded} list mails read and queued in {elapsed:.2f} s "
            f"({forwarded / elapsed:.1f} mails/s)"
        )
    finally:
        sink.stop()
        dovecot.stop()
        store.dispose()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
