"""The console connector: talk to netzbot in a terminal, or drive it through a pipe.

Piped mode treats each line of stdin as a message from the local operator (chat
``console:local``, an owner) and prints every reply and every scheduled message for console
chats to stdout. With ``--als mitglied`` (``--as member``) the lines come from
``console:mitglied``, a plain member, to see what members see.

With a terminal, lines are read with ``input()`` and readline: a prompt, line editing and a
history kept in ``~/.local/state/netzbot/console_history`` (``$XDG_STATE_HOME``). The next
prompt waits until the answer to the last line is printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import io
import os
import sys
import threading
from pathlib import Path
from typing import TextIO

from bot.capabilities import of_platform
from bot.connectors.base import MessageCallback
from bot.markup import to_plain
from bot.types import CONSOLE_CHAT, CONSOLE_MEMBER_CHAT, ChatRef, Incoming, Reply, Sender

PROMPT = "> "
EXIT_WORDS = {"exit", "quit", "ende", "beenden", "/exit", "/quit", "/ende", "/beenden"}


class ConsoleConnector:
    platform = "console"
    capabilities = of_platform("console")  # bot.capabilities: a terminal does little

    def __init__(
        self, out: TextIO | None = None, interactive: bool = False, as_member: bool = False
    ) -> None:
        self.out = out or sys.stdout
        self.interactive = interactive
        try:
            user = getpass.getuser()
        except Exception:  # no user database in some containers
            user = "operator"
        self.chat = CONSOLE_MEMBER_CHAT if as_member else CONSOLE_CHAT
        self.sender = Sender(self.chat, user, is_admin=not as_member)
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
            self.chat, self.sender, text, is_group=False, language=None, platform="console"
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
            text += f"\n📎 {att.filename} ({len(att.content):,} B)".replace(",", ".")
        if chat != self.chat:
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


def history_file() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(Path.home(), ".local", "state")
    return Path(state) / "netzbot" / "console_history"


def load_history() -> Path | None:
    """Turn on readline's line editing for input() and load the history; None without it."""
    try:
        import readline
    except ImportError:  # e.g. Windows without pyreadline
        return None
    path = history_file()
    readline.set_history_length(1000)
    with contextlib.suppress(OSError):
        readline.read_history_file(path)
    return path


def _forget_last_line() -> None:
    with contextlib.suppress(ImportError, ValueError):
        import readline

        readline.remove_history_item(readline.get_current_history_length() - 1)


def save_history(path: Path | None) -> None:
    if path is None:
        return
    import readline

    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        readline.write_history_file(path)


async def read_lines(
    stream: TextIO = sys.stdin, answered: threading.Event | None = None
) -> asyncio.Queue[str | None]:
    """Read stdin in a thread so the event loop (scheduler, delivery) keeps running.

    With ``answered`` (a terminal), lines are read with a prompt and readline, and the next
    prompt waits until the caller sets ``answered`` after printing the reply."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def pump() -> None:
        for line in stream:
            loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\r\n"))
        loop.call_soon_threadsafe(queue.put_nowait, None)

    def prompt() -> None:
        while True:
            try:
                line = input(PROMPT)
            except (EOFError, KeyboardInterrupt):
                print()
                break
            if line.strip().lower() in EXIT_WORDS:
                _forget_last_line()  # arrow-up should bring back a command, not "exit"
            if answered is not None:
                answered.clear()
            loop.call_soon_threadsafe(queue.put_nowait, line)
            if answered is not None:
                answered.wait()
        loop.call_soon_threadsafe(queue.put_nowait, None)

    # A daemon thread, so a blocked read never keeps the process alive after Ctrl-C.
    target = prompt if answered is not None else pump
    threading.Thread(target=target, name="console-stdin", daemon=True).start()
    return queue
