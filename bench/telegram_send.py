"""Sending cost of the Telegram connector: messages per second and client CPU per message.

Runs the Bot API fake as a separate process (so its CPU is not counted) without flood limits
and sends N messages to distinct private chats through ``TelegramConnector.send`` at several
concurrencies, once per HTTP client (``[telegram] http_client``). Prints figures, asserts nothing.

    cd <repo> && /work/venv/bin/python -m bench.telegram_send [N]
"""

from __future__ import annotations

import asyncio
import sys
import time

from bot.config import TelegramSection
from bot.connectors.telegram import TelegramConnector
from bot.types import ChatRef, Reply
from tests.fakes.telegram import DEFAULT_TOKEN

TEXT = "<b>Erinnerung</b>: Treffen des Netzwerks morgen, 18:00 Uhr &amp; danach Stammtisch"


class MenuOnly:
    def command_menu(self, lang: str) -> list[tuple[str, str, bool]]:
        return [("hilfe", "Hilfe", False)]


async def measure(
    conn: TelegramConnector, n: int, concurrency: int, first_chat: int
) -> tuple[float, float]:
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            await conn.send(ChatRef("telegram", str(first_chat + i)), Reply(TEXT))

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(i) for i in range(n)))
    return n / (time.perf_counter() - wall), (time.process_time() - cpu) / n * 1000


async def main(n: int) -> None:
    fake = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.telegram",
        "--no-rate-limits",
        stdout=asyncio.subprocess.PIPE,
    )
    assert fake.stdout is not None
    url = (await fake.stdout.readline()).decode().split("listening on ")[1].split()[0]
    try:
        chat = 1_000_000
        for client in ("aiohttp", "httpx"):
            settings = TelegramSection(
                token=DEFAULT_TOKEN, base_url=f"{url}/bot", http_client=client
            )
            conn = TelegramConnector(settings, MenuOnly())  # type: ignore[arg-type]
            await conn.start(lambda _m: asyncio.sleep(0))
            await measure(conn, 200, 4, chat)  # warm-up
            for concurrency in (1, 4, 16):
                chat += n
                rate, cpu_ms = await measure(conn, n, concurrency, chat)
                print(
                    f"http_client={client:7} concurrency={concurrency:2}: "
                    f"{rate:6.0f} msg/s, {cpu_ms:.2f} ms client CPU per message"
                )
            await conn.stop()
    finally:
        fake.terminate()
        await fake.wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
