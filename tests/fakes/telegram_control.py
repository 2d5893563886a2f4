"""HTTP test API of the Telegram fake (``/_fake/…``) and its standalone entry point.

When the fake runs in another process (``python -m tests.fakes.telegram --port P``), benchmarks and
tests drive it over HTTP:

- ``POST /_fake/push`` ``{"kind": "message"|"command"|"my_chat_member"|"new_chat_members"|
  "chat_member"|"migration"|"update", …}`` (``new_chat_members``: ``"members": [[id, name], …]``)
  (the other keys are the keyword arguments of ``FakeTelegram.push_<kind>``)
- ``GET /_fake/sent[?chat_id=N&since=I]`` → list of sent messages (``since`` = index into the log)
- ``POST /_fake/fail`` ``{"count", "kind", "chat_id"?, "retry_after"?, "method"?}``
- ``POST /_fake/admins`` ``{"chat_id", "admin_ids", "creator"?}``; ``POST /_fake/block`` ``{"chat_id"}``
- ``POST /_fake/configure`` ``{"max_messages_per_second": 300, "fail_ratio": 0.1, …}``
- ``GET /_fake/stats``; ``GET /_fake/commands``; ``POST /_fake/reset``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from tests.fakes.telegram import FakeTelegram


def add_control_routes(app: web.Application, fake: FakeTelegram) -> None:
    async def body(request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        return json.loads(raw) if raw.strip() else {}

    async def push(request: web.Request) -> web.Response:
        data = await body(request)
        kind = data.pop("kind", "message")
        if kind == "update":
            result: Any = fake.push_update(data["update"])
        elif kind == "message":
            result = fake.push_message(data.pop("chat_id"), data.pop("text"), **data)
        elif kind == "command":
            result = fake.push_command(data.pop("chat_id"), data.pop("command"), **data)
        elif kind == "my_chat_member":
            result = fake.push_my_chat_member(data.pop("chat_id"), data.pop("new_status"), **data)
        elif kind == "new_chat_members":
            members = [(int(m[0]), str(m[1])) for m in data.pop("members")]
            result = fake.push_new_chat_members(data.pop("chat_id"), members, **data)
        elif kind == "chat_member":
            result = fake.push_chat_member(data.pop("chat_id"), data.pop("user_id"), **data)
        elif kind == "migration":
            fake.push_migration(data["old_id"], data["new_id"])
            result = True
        else:
            return web.json_response({"error": f"unknown kind {kind!r}"}, status=400)
        return web.json_response(result)

    async def sent(request: web.Request) -> web.Response:
        since = int(request.query.get("since", 0))
        chat = request.query.get("chat_id")
        rows = fake.sent[since:]
        if chat is not None:
            rows = [s for s in rows if s.chat_id == int(chat)]
        return web.json_response([s.as_dict() for s in rows])

    async def fail(request: web.Request) -> web.Response:
        data = await body(request)
        fake.fail_next(
            int(data.get("count", 1)),
            str(data.get("kind", "502")),
            chat_id=data.get("chat_id"),
            retry_after=int(data.get("retry_after", 1)),
            method=data.get("method"),
        )
        return web.json_response(True)

    async def admins(request: web.Request) -> web.Response:
        data = await body(request)
        fake.set_admins(data["chat_id"], data.get("admin_ids", []), data.get("creator"))
        return web.json_response(True)

    async def block(request: web.Request) -> web.Response:
        fake.block((await body(request))["chat_id"])
        return web.json_response(True)

    async def configure(request: web.Request) -> web.Response:
        try:
            fake.configure(**await body(request))
        except KeyError as exc:
            return web.json_response({"error": f"unknown setting {exc}"}, status=400)
        return web.json_response(True)

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(
            {**fake.stats, "pending_updates": len(fake.updates), "chats": len(fake.chats)}
        )

    async def commands(request: web.Request) -> web.Response:
        rows = [
            {"scope": s, "chat_id": c, "user_id": u, "language_code": lang, "commands": cmds}
            for (s, c, u, lang), cmds in fake.commands.items()
        ]
        return web.json_response(rows)

    async def reset(request: web.Request) -> web.Response:
        fake.reset()
        return web.json_response(True)

    app.router.add_post("/_fake/push", push)
    app.router.add_get("/_fake/sent", sent)
    app.router.add_post("/_fake/fail", fail)
    app.router.add_post("/_fake/admins", admins)
    app.router.add_post("/_fake/block", block)
    app.router.add_post("/_fake/configure", configure)
    app.router.add_get("/_fake/stats", stats)
    app.router.add_get("/_fake/commands", commands)
    app.router.add_post("/_fake/reset", reset)


def _parser() -> argparse.ArgumentParser:
    from tests.fakes.telegram import DEFAULT_TOKEN

    p = argparse.ArgumentParser(prog="python -m tests.fakes.telegram", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = pick a free port (printed)")
    p.add_argument("--token", default=DEFAULT_TOKEN)
    p.add_argument("--username", default="netzbot_test_bot")
    p.add_argument("--max-messages-per-second", type=float, default=30.0)
    p.add_argument("--group-messages-per-minute", type=float, default=20.0)
    p.add_argument("--private-messages-per-second", type=float, default=1.0)
    p.add_argument("--private-burst", type=int, default=3)
    p.add_argument("--no-rate-limits", action="store_true")
    p.add_argument("--fail-ratio", type=float, default=0.0, help="fraction of sends answered 502")
    p.add_argument("--seed", type=int, default=0)
    return p


async def _serve(args: argparse.Namespace) -> None:
    from tests.fakes.telegram import FakeTelegram

    fake = FakeTelegram(
        args.token,
        username=args.username,
        max_messages_per_second=args.max_messages_per_second,
        group_messages_per_minute=args.group_messages_per_minute,
        private_messages_per_second=args.private_messages_per_second,
        private_burst=args.private_burst,
        rate_limits=not args.no_rate_limits,
        fail_ratio=args.fail_ratio,
        seed=args.seed,
    )
    await fake.start(args.host, args.port)
    print(f"fake Telegram Bot API listening on {fake.url} (base_url {fake.base_url})", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await fake.stop()


def main(argv: list[str] | None = None) -> None:
    asyncio.run(_serve(_parser().parse_args(argv)))
