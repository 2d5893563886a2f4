"""The console connector: talk to netzbot in a terminal, or drive it through a pipe.

Piped mode treats each line of stdin as a message from the local operator (chat
``console:local``, an owner) and prints every reply and every scheduled message for console
chats to stdout.
"""

from __future__ import annotations

import asyncio
import getpass
import io
import os
import sys
import threading
from typing import TextIO

from bot.connectors.base import MessageCallback
from bot.markup import to_plain
from bot.types import CONSOLE_CHAT, ChatRef, Incoming, Reply, Sender

SEPARATOR = ""


class ConsoleConnector:
    platform = "console"

    def __init__(self, out: TextIO | None = None, interactive: bool = False) -> None:
        self.out = out or sys.stdout
        self.interactive = interactive
        try:
            user = getpass.getuser()
        except Exception:  # no user database in some containers
            user = "operator"
        self.sender = Sender(CONSOLE_CHAT, user, is_admin=True)
        self._on_message: MessageCallback | None = None
        self.printed = 0
        self.closed = False  # the reader of stdout went away

    async def start(self, on_message: MessageCallback) -> None:
        self._on_message = on_message

    async def stop(self) -> None:
        if not self.closed:
            try:
                self.out.flush()
            except BrokenPipeError:
                self._reader_gone()

    def _reader_gone(self) -> None:
        """stdout's reader went away (``netzbot console | head``): stop writing, quietly.

        stdout is pointed at /dev/null so the interpreter's final flush stays silent too."""
        self.closed = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.out.fileno())
        except (OSError, ValueError, io.UnsupportedOperation):
            pass

    def incoming(self, text: str) -> Incoming:
        return Incoming(
            CONSOLE_CHAT, self.sender, text, is_group=False, language=None, platform="console"
        )

    async def feed(self, text: str) -> None:
        """One line typed by the operator."""
        if self._on_message is None:
            raise RuntimeError("console connector not started")
        await self._on_message(self.incoming(text))

    async def send(self, chat: ChatRef, reply: Reply) -> None:
        text = to_plain(reply.text).rstrip()
        if reply.poll:
            text += "\n" + "\n".join(f"  {i}. {o}" for i, o in enumerate(reply.poll.options, 1))
        for att in reply.attachments:
            text += f"\n[Anhang/attachment: {att.filename}, {len(att.content)} bytes]"
        if chat != CONSOLE_CHAT:
            text = f"[→ {chat}]\n{text}"
        if self.closed:
            return
        try:
            self.out.write(text + "\n\n")
            self.out.flush()
        except BrokenPipeError:
            self._reader_gone()
            return
        self.printed += 1

    async def is_chat_admin(self, chat: ChatRef, person: ChatRef) -> bool:
        return person == CONSOLE_CHAT


async def read_lines(stream: TextIO = sys.stdin) -> asyncio.Queue[str | None]:
    """Read stdin in a thread so the event loop (scheduler, delivery) keeps running."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def pump() -> None:
        for line in stream:
            loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\r\n"))
        loop.call_soon_threadsafe(queue.put_nowait, None)

    # A daemon thread, so a blocked read never keeps the process alive after Ctrl-C.
    threading.Thread(target=pump, name="console-stdin", daemon=True).start()
    return queue
