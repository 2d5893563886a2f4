"""The aiohttp transport for python-telegram-bot, against the Telegram fake."""

from __future__ import annotations

import pytest
from telegram import Bot, InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.connectors.telegram_aiohttp import AiohttpRequest
from tests.fakes.telegram import FakeTelegram


async def test_messages_documents_and_errors_through_aiohttp() -> None:
    async with FakeTelegram() as fake:
        bot = Bot(fake.token, base_url=fake.base_url, request=AiohttpRequest(4))
        await bot.initialize()
        try:
            await bot.send_message(42, "Grüße &amp; <i>mehr</i>", parse_mode="HTML")
            pdf = InputFile(b"%PDF-1.4 hallo", filename="Protokoll ä.pdf")
            await bot.send_document(42, pdf, caption="<b>Protokoll</b>", parse_mode="HTML")
            text, document = fake.sent_to(42)
            assert text.text == "Grüße & mehr" and text.parse_mode == "HTML"
            assert document.document == ("Protokoll ä.pdf", b"%PDF-1.4 hallo", "application/pdf")
            assert document.text == "Protokoll"

            fake.fail_next(1, "429", retry_after=3)
            with pytest.raises(RetryAfter):
                await bot.send_message(42, "x")
            fake.fail_next(1, "502")
            with pytest.raises(NetworkError):
                await bot.send_message(42, "x")
            fake.fail_next(1, "blocked")
            with pytest.raises(Forbidden):
                await bot.send_message(42, "x")
            with pytest.raises(BadRequest, match="parse entities"):
                await bot.send_message(42, "<b>kaputt", parse_mode="HTML")
        finally:
            await bot.shutdown()


async def test_unreachable_server_is_a_network_error() -> None:
    async with FakeTelegram() as fake:
        base_url = fake.base_url
    bot = Bot(fake.token, base_url=base_url, request=AiohttpRequest(1, connect_timeout=2))
    with pytest.raises(NetworkError):
        await bot.initialize()
    await bot.shutdown()
