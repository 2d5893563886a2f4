"""A pytest plugin (``-p tests.leakcheck``): after each test, collect garbage and print every
"Unclosed client session" / "Unclosed connector" that aiohttp reports for what the test left
open, as ``UNCLOSED after <test>: <message>``. tests/test_unclosed_sessions.py runs it."""

from __future__ import annotations

import gc
import logging
import warnings
from collections.abc import Iterator

import pytest


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    yield
    records = _Records()
    asyncio_log = logging.getLogger("asyncio")  # aiohttp reports through the loop's handler
    asyncio_log.addHandler(records)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            gc.collect()
    finally:
        asyncio_log.removeHandler(records)
    found = records.messages + [str(w.message) for w in caught]
    for message in found:
        if "Unclosed" in message:
            print(f"\nUNCLOSED after {item.nodeid}: {message.splitlines()[0]}")
