"""A loopback signal-cli-rest-api (json-rpc mode) for end-to-end tests.

It speaks the wire protocol signalbot 2.x uses (see ``../shared/PROTOCOLS.md``): ``/v1/health``
answers 204, ``/v1/about`` reports json-rpc mode, ``/v1/groups/{number}`` lists groups with
``internal_id`` (base64 of 32 bytes) and ``id`` ("group." + base64 of the internal id),
``POST /v2/send`` takes JSON bodies whatever the content type and answers 201 with a list,
``/v1/receive/{number}`` is a websocket that pushes envelopes. Like the real service it drops
messages that arrive while no client is connected.

Tests drive it in-process (``async with FakeSignalServer() as server``) through the control
methods below; a standalone server (``python -m tests.fakes.signal --port P``) exposes the same
controls as JSON endpoints under ``/fake/`` (see ``_control_routes``).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, web

log = logging.getLogger("tests.fakes.signal")

BOT_NUMBER = "+4915100000001"
ABOUT = {
    "versions": ["v1", "v2"],
    "build": 2,
    "mode": "json-rpc",
    "version": "0.101",
    "capabilities": {"v2/send": ["quotes", "mentions"]},
}
RATE_LIMIT_ERROR = (
    "Failed to send message due to rate limiting: "
    "StatusCode: 429 (RateLimitException) Rate limit exceeded"
)


def parse_styled(text: str) -> tuple[str, list[str]]:
    """What signal-cli-rest-api makes of a ``text_mode: "styled"`` message: the visible text and
    its styles as ``"start:length:STYLE"`` (UTF-16 offsets). Markers pair up on a stack (so they
    nest; only the innermost open marker can close), ``***`` (bold italic, since the version
    after 0.100) is read greedily before ``**`` before ``*``, a backslash before a marker makes it
    literal, and an unclosed marker simply disappears — so ``**a***b*`` loses all its styles."""
    styles = {
        "***": "BOLD+ITALIC",
        "**": "BOLD",
        "*": "ITALIC",
        "~": "STRIKETHROUGH",
        "`": "MONOSPACE",
        "||": "SPOILER",
    }
    out: list[str] = []
    found: list[str] = []
    stack: list[tuple[str, int]] = []
    escaped = False
    i = 0

    def utf16_len() -> int:
        return len("".join(out).encode("utf-16-le")) // 2

    while i < len(text):
        c = text[i]
        token = next((t for t in ("***", "**", "||") if text.startswith(t, i)), c)
        if token in styles and (token != "|"):
            i += len(token)
            if escaped:
                out.append(token)
                escaped = False
                continue
            if stack and stack[-1][0] == token:
                _, begin = stack.pop()
                for style in styles[token].split("+"):
                    found.append(f"{begin}:{utf16_len() - begin}:{style}")
            else:
                stack.append((token, utf16_len()))
            continue
        if c == "\\" and text[i + 1 : i + 2] in ("*", "`", "|", "~"):
            escaped = True
            i += 1
            continue
        escaped = False
        out.append(c)
        i += 1
    return "".join(out), found


# json-rpc mode, read from the servers' sources: signal-cli's ``SendMessageResultUtils`` throws
# these for a send that reached nobody; 0.100 passes its message on, later versions map the
# untrusted case (json-rpc code -4) to their own words (``jsonrpc2.go``). Every such failure is a
# 400 ``{"error": …}``; only rate limits get a 429.
UNTRUSTED_0_100 = "Failed to send message due to untrusted identities"
UNTRUSTED_NEWER = "Unable to complete request due to untrusted recipient keys"
SEND_FAILED = "Failed to send message"
OLD_VERSION = "0.100"  # below signalbot 2.2's minimum; its /v1/groups has no ``member`` field


def untrusted_identity_error(version: str = "0.101") -> str:
    """What json-rpc mode answers when a recipient's safety number changed."""
    return UNTRUSTED_0_100 if version == OLD_VERSION else UNTRUSTED_NEWER


def unregistered_error(recipient: str) -> str:
    """signal-cli's words for a recipient who is not (or no longer) on Signal."""
    return f"The user {recipient} is not registered."


def internal_id_for(name: str) -> str:
    """A stable internal group id (base64 of 32 bytes) derived from the group name."""
    return base64.b64encode(hashlib.sha256(f"netzbot-fake:{name}".encode()).digest()).decode()


def uuid_for(number: str) -> str:
    """The (stable) account uuid the fake reports for a phone number."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"signal:{number}"))


def group_id_for(internal_id: str) -> str:
    return "group." + base64.b64encode(internal_id.encode()).decode()


@dataclass
class FakeGroup:
    name: str
    members: list[str]
    admins: list[str]
    internal_id: str
    description: str = ""
    revision: int = 1
    blocked: bool = False

    @property
    def id(self) -> str:
        return group_id_for(self.internal_id)

    def entry(self, version: str = "0.101") -> dict[str, Any]:
        entry = {
            "name": self.name,
            "description": self.description,
            "id": self.id,
            "internal_id": self.internal_id,
            "members": list(self.members),
            "blocked": self.blocked,
            "pending_invites": [],
            "pending_requests": [],
            "invite_link": "",
            "admins": list(self.admins),
            "member": True,
            "permissions": {
                "add_members": "only-admins",
                "edit_group": "only-admins",
                "send_messages": "every-member",
            },
        }
        if version == OLD_VERSION:
            del entry["member"]  # added after 0.100 ("expose group membership isMember")
        return entry


@dataclass
class SentMessage:
    """One accepted ``POST /v2/send``, as the fake recorded it."""

    recipients: list[str]
    message: str
    text_mode: str | None
    timestamp: int
    body: dict[str, Any] = field(repr=False)
    content_type: str = ""

    @property
    def visible(self) -> str:
        """The text a Signal user sees (styled markers parsed away)."""
        return parse_styled(self.message)[0] if self.text_mode == "styled" else self.message

    @property
    def styles(self) -> list[str]:
        return parse_styled(self.message)[1] if self.text_mode == "styled" else []


@dataclass
class _Failure:
    kind: str  # rate_limit | untrusted | partial | server_error
    reason: str = ""
    failed: tuple[str, ...] = ()


class FakeSignalServer:
    """signal-cli-rest-api for one registered account, on 127.0.0.1 and an ephemeral port."""

    def __init__(
        self,
        number: str = BOT_NUMBER,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        version: str = "0.101",
        mode: str = "json-rpc",
        auth_header: str | None = None,
    ) -> None:
        self.number = number
        self.host = host
        self.port = port
        self.about = {**ABOUT, "version": version, "mode": mode}
        self.auth_header = auth_header
        self.groups: dict[str, FakeGroup] = {}
        self.sent: list[SentMessage] = []
        self.requests: list[tuple[str, str]] = []
        self.rejected: list[tuple[int, dict[str, Any]]] = []
        self.dropped: list[dict[str, Any]] = []
        self.connections_total = 0
        self._clients: set[web.WebSocketResponse] = set()
        self._failures: list[_Failure] = []
        self._group_failures = 0
        # signalbot 2.x expects a list from /v2/send; the service's OpenAPI schema documents a
        # single object. True answers single-recipient sends with the object.
        self.single_send_response = False
        self.polls: list[dict[str, Any]] = []  # accepted POST /v1/polls bodies + "timestamp"
        self.polls_supported = True  # False: answer 404 like services older than polls
        # False: the number is not linked (registered) yet: /v1/accounts is empty and every
        # call for the number answers 400 "User … is not registered.", as before linking.
        self.linked = True
        self.groups_have_member = True  # False: a build between 0.100 and the ``member`` field
        # Numbers signal-cli has not learnt yet (or that their owners hide): envelopes from
        # them carry ``sourceNumber: null`` and only the uuid, as the real service sends them.
        self.unknown_numbers: set[str] = set()
        self.quit_groups: list[FakeGroup] = []  # groups the bot left (POST …/quit)
        self._changed = asyncio.Condition()
        self._clock = itertools.count(int(time.time() * 1000))
        self._runner: web.AppRunner | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> FakeSignalServer:
        app = web.Application(middlewares=[self._middleware])
        app.add_routes(self._api_routes() + self._control_routes())
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        for ws in list(self._clients):
            await ws.close(code=WSCloseCode.GOING_AWAY)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSignalServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def service(self) -> str:
        """``host:port`` as signalbot's ``signal_service`` wants it (no scheme)."""
        return f"{self.host}:{self.port}"

    @property
    def client_count(self) -> int:
        return len(self._clients)

    # ---- test controls: groups -------------------------------------------------------------

    def add_group(self, name: str, members: Iterable[str], admins: Iterable[str] = ()) -> FakeGroup:
        members = list(members)
        if self.number not in members:
            members.append(self.number)
        group = FakeGroup(name, members, list(admins), internal_id_for(name))
        self.groups[group.internal_id] = group
        return group

    def group(self, name_or_id: str) -> FakeGroup:
        for group in self.groups.values():
            if name_or_id in (group.name, group.id, group.internal_id):
                return group
        raise KeyError(name_or_id)

    async def set_group_admins(
        self, group: FakeGroup | str, admins: Iterable[str], *, notify: bool = True
    ) -> int:
        """Change the admin list; like Signal, members learn it from a group-update envelope."""
        group = group if isinstance(group, FakeGroup) else self.group(group)
        group.admins = list(admins)
        group.revision += 1
        if not notify:
            return 0
        admin = group.admins[0] if group.admins else self.number
        data = {
            "timestamp": next(self._clock),
            "groupInfo": {
                "groupId": group.internal_id,
                "groupName": group.name,
                "revision": group.revision,
                "type": "UPDATE",
            },
        }
        return await self.push_envelope(self._envelope(admin, None, "", dataMessage=data))

    # ---- test controls: incoming traffic ---------------------------------------------------

    async def push_group_update(
        self,
        group: FakeGroup | str,
        *,
        named: bool = True,
        by: str | None = None,
        name: str = "",
    ) -> int:
        """A group-update envelope; signal-cli leaves ``groupName`` out when it does not know
        the name (yet), e.g. for an invitation or right after joining. ``by``: the number of
        whoever made the change (default: the first admin; a joiner by link is the sender)."""
        group = group if isinstance(group, FakeGroup) else self.group(group)
        group.revision += 1
        info: dict[str, Any] = {
            "groupId": group.internal_id,
            "revision": group.revision,
            "type": "UPDATE",
        }
        if named:
            info["groupName"] = group.name
        data = {"timestamp": next(self._clock), "groupInfo": info}
        sender = by or (group.admins[0] if group.admins else self.number)
        return await self.push_envelope(self._envelope(sender, None, name, dataMessage=data))

    async def join_group(
        self,
        group: FakeGroup | str,
        numbers: Iterable[str],
        *,
        by: str | None = None,
        name: str = "",
    ) -> int:
        """People join: added to ``members`` (what ``/v1/groups`` lists), then the update
        envelope Signal sends to every member."""
        group = group if isinstance(group, FakeGroup) else self.group(group)
        group.members.extend(n for n in numbers if n not in group.members)
        return await self.push_group_update(group, by=by, name=name)

    async def push_group_message(
        self,
        group: FakeGroup | str,
        text: str,
        *,
        number: str | None = None,
        uuid_: str | None = None,
        name: str = "",
    ) -> int:
        """Deliver a group text to every connected client; returns how many got it (0: dropped)."""
        group = group if isinstance(group, FakeGroup) else self.group(group)
        ts = next(self._clock)
        data = {
            "timestamp": ts,
            "message": text,
            "expiresInSeconds": 0,
            "viewOnce": False,
            "groupInfo": {
                "groupId": group.internal_id,
                "groupName": group.name,
                "revision": group.revision,
                "type": "DELIVER",
            },
        }
        return await self.push_envelope(
            self._envelope(number, uuid_, name, ts=ts, dataMessage=data)
        )

    async def push_direct_message(
        self, text: str, *, number: str | None = None, uuid_: str | None = None, name: str = ""
    ) -> int:
        ts = next(self._clock)
        data = {"timestamp": ts, "message": text, "expiresInSeconds": 0, "viewOnce": False}
        return await self.push_envelope(
            self._envelope(number, uuid_, name, ts=ts, dataMessage=data)
        )

    async def push_receipt(self, *, number: str, timestamps: list[int] | None = None) -> int:
        ts = next(self._clock)
        receipt = {
            "when": ts,
            "isDelivery": True,
            "isRead": False,
            "isViewed": False,
            "timestamps": timestamps or [ts - 1],
        }
        return await self.push_envelope(self._envelope(number, None, "", receiptMessage=receipt))

    async def push_typing(self, *, number: str, group: FakeGroup | None = None) -> int:
        typing: dict[str, Any] = {"action": "STARTED", "timestamp": next(self._clock)}
        if group is not None:
            typing["groupId"] = group.internal_id
        return await self.push_envelope(self._envelope(number, None, "", typingMessage=typing))

    async def push_envelope(self, envelope: dict[str, Any]) -> int:
        return await self.push_frame(json.dumps({"account": self.number, "envelope": envelope}))

    async def push_error_frame(self, message: str = "signal-cli: receive failed") -> int:
        """What the service sends when signal-cli reports an error on the receive channel."""
        return await self.push_frame(json.dumps({"error": message}))

    async def push_invalid_frame(self, *, json_ok: bool = True) -> int:
        """A frame signalbot cannot use: valid JSON that fails its envelope validation (the
        default, fatal for signalbot's receive loop) or not JSON at all (skipped by signalbot)."""
        if json_ok:
            frame = json.dumps({"account": self.number, "envelope": {"source": "+49"}})
        else:
            frame = "this is not json {"
        return await self.push_frame(frame)

    async def push_frame(self, frame: str) -> int:
        delivered = 0
        for ws in list(self._clients):
            try:
                await ws.send_str(frame)
                delivered += 1
            except (ConnectionError, RuntimeError):
                self._clients.discard(ws)
        if not delivered:
            self.dropped.append(json.loads(frame) if frame.startswith("{") else {"raw": frame})
        return delivered

    async def close_clients(self, code: int = WSCloseCode.OK) -> int:
        """Close every receive websocket (1000 = a clean close, as on a service restart)."""
        clients = list(self._clients)
        for ws in clients:
            await ws.close(code=code, message=b"closed by fake")
        return len(clients)

    # ---- test controls: outgoing traffic ---------------------------------------------------

    def fail_next_sends(
        self, count: int, kind: str, *, reason: str = "", failed: Iterable[str] = ()
    ) -> None:
        """Make the next ``count`` sends fail: ``rate_limit`` (429), ``untrusted`` (400, worded
        by version), ``send_failed`` (400 "Failed to send message": any other send that reached
        nobody, a passing network failure too), ``unregistered`` (400 "The user … is not
        registered."), ``server_error`` (500, e.g. from a proxy in front) or ``partial`` (201 with
        ``errors.recipients`` for ``failed``, every recipient if empty; ``reason`` defaults to
        ``NETWORK_FAILURE``; dropped by 0.100)."""
        kinds = ("rate_limit", "untrusted", "send_failed", "unregistered", "partial")
        if kind not in (*kinds, "server_error"):
            raise ValueError(f"unknown failure kind {kind!r}")
        self._failures.extend(_Failure(kind, reason, tuple(failed)) for _ in range(count))

    def sent_to(self, recipient: str) -> list[str]:
        """Texts sent to one recipient (number, uuid or ``group.…`` id), in order."""
        return [m.message for m in self.sent if recipient in m.recipients]

    async def wait_for(self, predicate: Callable[[], bool], within: float = 10.0) -> None:
        """Wait until ``predicate()`` holds; it is re-checked on every request and connection."""
        try:
            async with asyncio.timeout(within), self._changed:
                await self._changed.wait_for(predicate)
        except TimeoutError:
            raise AssertionError(
                f"the Signal fake did not reach the state the test waits for within {within} s"
                f" ({len(self.sent)} messages sent, {len(self._clients)} clients)"
            ) from None

    async def wait_for_sent(self, count: int, within: float = 10.0) -> list[SentMessage]:
        await self.wait_for(lambda: len(self.sent) >= count, within)
        return self.sent

    async def wait_for_clients(self, count: int = 1, within: float = 10.0) -> None:
        await self.wait_for(lambda: len(self._clients) >= count, within)

    async def wait_for_connections(self, total: int, within: float = 10.0) -> None:
        """Wait until ``total`` websocket connections were ever opened (and one is open)."""
        await self.wait_for(
            lambda: self.connections_total >= total and len(self._clients) > 0, within
        )

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ---- the signal-cli-rest-api surface ---------------------------------------------------

    def _api_routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v1/health", self._health),
            web.get("/v1/about", self._about),
            web.get("/v1/accounts", self._accounts),
            web.get("/v1/groups/{number}", self._list_groups),
            web.get("/v1/groups/{number}/{group_id}", self._get_group),
            web.post("/v1/groups/{number}/{group_id}/quit", self._quit_group),
            web.post("/v2/send", self._send),
            web.post("/v1/polls/{number}", self._create_poll),
            web.get("/v1/receive/{number}", self._receive),
            web.put("/v1/typing-indicator/{number}", self._no_content),
            web.delete("/v1/typing-indicator/{number}", self._no_content),
            web.post("/v1/receipts/{number}", self._no_content),
            web.post("/v1/reactions/{number}", self._no_content),
        ]

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.startswith("/fake/"):
            self.requests.append((request.method, request.path))
            await self._notify()
            if self.auth_header and request.headers.get("Authorization") != self.auth_header:
                return web.json_response({"error": "unauthorized"}, status=401)
        return await handler(request)

    async def _health(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def _about(self, request: web.Request) -> web.Response:
        return web.json_response(self.about)

    async def _accounts(self, request: web.Request) -> web.Response:
        return web.json_response([self.number] if self.linked else [])

    async def _no_content(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    def _check_account(self, number: str) -> web.Response | None:
        if number != self.number or not self.linked:
            return _error(400, f"User {number} is not registered.")
        return None

    def fail_group_requests(self, count: int) -> None:
        """Answer the next ``count`` group listings with 500 (signal-cli busy or restarting)."""
        self._group_failures += count

    async def _list_groups(self, request: web.Request) -> web.Response:
        if (bad := self._check_account(request.match_info["number"])) is not None:
            return bad
        if self._group_failures > 0:
            self._group_failures -= 1
            return _error(500, "signal-cli: listGroups timed out")
        entries = [self._entry(g) for g in self.groups.values()]
        if not self.groups_have_member:
            for entry in entries:
                entry.pop("member", None)
        return web.json_response(entries)

    async def _get_group(self, request: web.Request) -> web.Response:
        if (bad := self._check_account(request.match_info["number"])) is not None:
            return bad
        wanted = request.match_info["group_id"]
        for group in self.groups.values():
            if group.id == wanted:
                return web.json_response(self._entry(group))
        return _error(400, f"No group with id {wanted} found")

    def _entry(self, group: FakeGroup) -> dict[str, Any]:
        """A group as listed: members whose number signal-cli does not know appear by uuid;
        0.100 has no ``member`` field."""
        entry = group.entry(self.about.get("version", ""))
        for field_name in ("members", "admins"):
            entry[field_name] = [
                uuid_for(m) if m in self.unknown_numbers else m for m in entry[field_name]
            ]
        return entry

    async def _quit_group(self, request: web.Request) -> web.Response:
        """``POST /v1/groups/{number}/{group id}/quit``: 204; the group leaves our list (the
        real service keeps it with ``member: false`` until signal-cli forgets it; the bot
        reads both as "not in it")."""
        if (bad := self._check_account(request.match_info["number"])) is not None:
            return bad
        wanted = request.match_info["group_id"]
        for internal_id, group in list(self.groups.items()):
            if group.id == wanted:
                group.members = [m for m in group.members if m != self.number]
                group.admins = [a for a in group.admins if a != self.number]
                self.quit_groups.append(group)
                del self.groups[internal_id]
                await self._notify()
                return web.Response(status=204)
        return self._reject(400, {"error": f"Failed to quit group: Group not found: {wanted}"})

    async def _send(self, request: web.Request) -> web.Response:
        # signalbot posts JSON as text/plain (aiohttp ``data=str``): parse whatever the type.
        try:
            body = json.loads(await request.text())
            number, recipients = body["number"], body["recipients"]
            message = body.get("message", "")
            if not isinstance(recipients, list) or not recipients:
                raise ValueError("recipients")
        except (ValueError, KeyError, TypeError):
            return self._reject(400, {"error": "Couldn't process request - invalid request"})
        if number != self.number:
            return self._reject(400, {"error": f"User {number} is not registered."})
        known_groups = {g.id for g in self.groups.values()}
        for recipient in recipients:
            if recipient.startswith("group.") and recipient not in known_groups:
                return self._reject(
                    400, {"error": f"Failed to send message: Group not found: {recipient}"}
                )
        failure = self._failures.pop(0) if self._failures else None
        if failure is not None and failure.kind == "rate_limit":
            token = str(uuid.uuid4())
            body_429 = {"error": RATE_LIMIT_ERROR, "challenge_tokens": [token], "account": number}
            return self._reject(429, body_429)
        if failure is not None and failure.kind == "untrusted":
            version = self.about.get("version", "")
            return self._reject(400, {"error": untrusted_identity_error(version)})
        if failure is not None and failure.kind == "send_failed":
            return self._reject(400, {"error": SEND_FAILED})
        if failure is not None and failure.kind == "unregistered":
            return self._reject(400, {"error": unregistered_error(recipients[0])})
        if failure is not None and failure.kind == "server_error":
            return self._reject(500, {"error": "Failed to send message: signal-cli timed out"})
        responses = []
        for recipient in recipients:
            ts = next(self._clock)
            entry: dict[str, Any] = {"timestamp": str(ts)}
            if failure is not None and failure.kind == "partial":
                failed = failure.failed or tuple(self._members_of(recipient))
                if failed:
                    reason = failure.reason or "NETWORK_FAILURE"
                    entry["errors"] = {
                        "recipients": [{"number": r, "reason": reason} for r in failed]
                    }
            responses.append(entry)
            self.sent.append(
                SentMessage(
                    [recipient], message, body.get("text_mode"), ts, body, request.content_type
                )
            )
        await self._notify()
        if self.about.get("version") == OLD_VERSION:  # one object, partial failures dropped
            responses = [{"timestamp": r["timestamp"]} for r in responses]
        if (self.single_send_response or self.about.get("version") == OLD_VERSION) and len(
            responses
        ) == 1:
            return web.json_response(responses[0], status=201)  # the OpenAPI schema's shape
        return web.json_response(responses, status=201)

    async def _create_poll(self, request: web.Request) -> web.Response:
        if not self.polls_supported:
            return web.Response(status=404, text="404 page not found")
        if (bad := self._check_account(request.match_info["number"])) is not None:
            return bad
        try:
            body = json.loads(await request.text())
            recipient, question, answers = body["recipient"], body["question"], body["answers"]
            if not question or not isinstance(answers, list) or len(answers) < 2:
                raise ValueError("poll")
        except (ValueError, KeyError, TypeError):
            return self._reject(400, {"error": "Couldn't process request - invalid request"})
        if recipient.startswith("group.") and recipient not in {g.id for g in self.groups.values()}:
            return self._reject(
                400, {"error": f"Failed to create poll: Group not found: {recipient}"}
            )
        ts = next(self._clock)
        self.polls.append({**body, "timestamp": ts})
        await self._notify()
        return web.json_response({"timestamp": str(ts)}, status=201)

    async def push_poll_vote(
        self,
        poll_timestamp: int,
        options: list[int],
        *,
        number: str,
        group: FakeGroup | None = None,
        vote_count: int = 1,
    ) -> int:
        """Someone votes (``options`` are 0-based; empty retracts) in a poll the bot created."""
        data: dict[str, Any] = {
            "timestamp": next(self._clock),
            "pollVote": {
                "authorNumber": self.number,
                "authorUuid": uuid_for(self.number),
                "targetSentTimestamp": poll_timestamp,
                "optionIndexes": options,
                "voteCount": vote_count,
            },
        }
        if group is not None:
            data["groupInfo"] = {
                "groupId": group.internal_id,
                "groupName": group.name,
                "revision": group.revision,
                "type": "DELIVER",
            }
        return await self.push_envelope(self._envelope(number, None, "", dataMessage=data))

    async def push_reaction(
        self,
        target_timestamp: int,
        emoji: str,
        *,
        number: str,
        group: FakeGroup | None = None,
        target_author: str | None = None,
        remove: bool = False,
    ) -> int:
        """Someone reacts with ``emoji`` (or takes it back) to a message sent at
        ``target_timestamp`` by ``target_author`` (default: the bot), as signal-cli reports it."""
        author = target_author or self.number
        data: dict[str, Any] = {
            "timestamp": next(self._clock),
            "message": None,
            "expiresInSeconds": 0,
            "viewOnce": False,
            "reaction": {
                "emoji": emoji,
                "targetAuthor": author,
                "targetAuthorNumber": author,
                "targetAuthorUuid": uuid_for(author),
                "targetSentTimestamp": target_timestamp,
                "isRemove": remove,
            },
        }
        if group is not None:
            data["groupInfo"] = {
                "groupId": group.internal_id,
                "groupName": group.name,
                "revision": group.revision,
                "type": "DELIVER",
            }
        return await self.push_envelope(self._envelope(number, None, "", dataMessage=data))

    def _members_of(self, recipient: str) -> list[str]:
        for group in self.groups.values():
            if group.id == recipient:
                return [m for m in group.members if m != self.number]
        return [recipient]

    def _reject(self, status: int, body: dict[str, Any]) -> web.Response:
        self.rejected.append((status, body))
        return web.json_response(body, status=status)

    async def _receive(self, request: web.Request) -> web.StreamResponse:
        if (bad := self._check_account(request.match_info["number"])) is not None:
            return bad
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._clients.add(ws)
        self.connections_total += 1
        await self._notify()
        try:
            async for _ in ws:  # clients never send anything meaningful; just wait for close
                pass
        finally:
            self._clients.discard(ws)
            await self._notify()
        return ws

    def _envelope(
        self, number: str | None, uuid_: str | None, name: str, ts: int | None = None, **body: Any
    ) -> dict[str, Any]:
        ts = ts if ts is not None else next(self._clock)
        if number is None and uuid_ is None:
            raise ValueError("an envelope needs a source number or uuid")
        sender_uuid = uuid_ or uuid_for(str(number))
        if number in self.unknown_numbers:
            number = None
        return {
            "source": number or sender_uuid,
            "sourceNumber": number,
            "sourceUuid": sender_uuid,
            "sourceName": name,
            "sourceDevice": 1,
            "timestamp": ts,
            "serverReceivedTimestamp": ts + 5,
            "serverDeliveredTimestamp": ts + 9,
            **body,
        }

    # ---- control endpoints for the standalone server ---------------------------------------

    def _control_routes(self) -> list[web.RouteDef]:
        return [
            web.post("/fake/groups", self._c_add_group),
            web.post("/fake/group-admins", self._c_admins),
            web.post("/fake/push", self._c_push),
            web.post("/fake/close", self._c_close),
            web.post("/fake/fail", self._c_fail),
            web.get("/fake/sent", self._c_sent),
            web.get("/fake/state", self._c_state),
        ]

    async def _c_add_group(self, request: web.Request) -> web.Response:
        b = await request.json()
        group = self.add_group(b["name"], b.get("members", []), b.get("admins", []))
        return web.json_response(group.entry())

    async def _c_admins(self, request: web.Request) -> web.Response:
        b = await request.json()
        n = await self.set_group_admins(b["group"], b["admins"], notify=b.get("notify", True))
        return web.json_response({"delivered": n})

    async def _c_push(self, request: web.Request) -> web.Response:
        """``{"kind": "group"|"direct"|"receipt"|"typing"|"invalid"|"error"|"raw", …}``."""
        b = await request.json()
        kind = b.get("kind", "direct")
        who = {"number": b.get("number"), "uuid_": b.get("uuid"), "name": b.get("name", "")}
        if kind == "group":
            n = await self.push_group_message(b["group"], b["text"], **who)
        elif kind == "direct":
            n = await self.push_direct_message(b["text"], **who)
        elif kind == "receipt":
            n = await self.push_receipt(number=b["number"])
        elif kind == "typing":
            n = await self.push_typing(number=b["number"])
        elif kind == "invalid":
            n = await self.push_invalid_frame(json_ok=b.get("json", True))
        elif kind == "error":
            n = await self.push_error_frame(b.get("error", "signal-cli error"))
        else:
            n = await self.push_frame(b["frame"])
        return web.json_response({"delivered": n})

    async def _c_close(self, request: web.Request) -> web.Response:
        b = await request.json() if request.can_read_body else {}
        return web.json_response({"closed": await self.close_clients(b.get("code", 1000))})

    async def _c_fail(self, request: web.Request) -> web.Response:
        b = await request.json()
        self.fail_next_sends(
            b.get("count", 1), b["kind"], reason=b.get("reason", ""), failed=b.get("failed", ())
        )
        return web.json_response({"queued": len(self._failures)})

    async def _c_sent(self, request: web.Request) -> web.Response:
        return web.json_response(
            [
                {"recipients": m.recipients, "message": m.message, "text_mode": m.text_mode}
                for m in self.sent
            ]
        )

    async def _c_state(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "clients": self.client_count,
                "connections_total": self.connections_total,
                "dropped": len(self.dropped),
                "groups": [g.entry() for g in self.groups.values()],
            }
        )


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Loopback signal-cli-rest-api fake")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--number", default=BOT_NUMBER)
    parser.add_argument(
        "--group",
        action="append",
        default=[],
        metavar="NAME:MEMBERS:ADMINS",
        help="e.g. 'Plenum:+4915112345678,+4915112345679:+4915112345678' (repeatable)",
    )
    args = parser.parse_args(argv)

    async def run() -> None:
        server = FakeSignalServer(args.number, host=args.host, port=args.port)
        for spec in args.group:
            name, _, rest = spec.partition(":")
            members, _, admins = rest.partition(":")
            server.add_group(
                name, filter(None, members.split(",")), filter(None, admins.split(","))
            )
        await server.start()
        print(f"fake signal-cli-rest-api on {server.service} for {server.number}", flush=True)
        for group in server.groups.values():
            print(f"group {group.name!r}: {group.id}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    logging.basicConfig(level=logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


if __name__ == "__main__":
    main()
