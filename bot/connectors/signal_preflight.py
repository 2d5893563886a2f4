"""Before signalbot starts: can netzbot use this signal-cli-rest-api, and if not, why.

signalbot 2.2 retries its start-up forever without a word when the service is too old (it needs
0.101 or newer and the ``member`` field of ``/v1/groups``, which arrived after 0.100), runs in
the wrong mode, or has no account for our number yet (a first start before linking). This probe
asks the service itself (``/v1/about``, ``/v1/accounts``, ``/v1/groups/{number}``) and names the
problem once, in words an operator can act on; the connector keeps probing and connects as soon
as the problem is gone. A service that does not answer at all is not a problem for this probe:
signalbot's own start-up waits for it.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from packaging.version import InvalidVersion, Version

log = logging.getLogger("bot.connectors.signal")

MIN_VERSION = Version("0.101")
PINNED_IMAGE = "bbernhard/signal-cli-rest-api:0.101"  # compose.yaml; tested against its wire
PROBE_TIMEOUT = aiohttp.ClientTimeout(total=5)
LINK_STEP = (
    "link it: open /v1/qrcodelink?device_name=netzbot on signal-cli-rest-api (with compose: "
    "http://127.0.0.1:8081/v1/qrcodelink?device_name=netzbot on the server, e.g. through "
    "ssh -L 8081:127.0.0.1:8081) and scan the code in Signal under Settings → Linked devices, "
    "then restart the signal container; netzbot connects by itself once the number is listed "
    "in /v1/accounts (docs/deployment.md, “Link a Signal number”)"
)


@dataclass(frozen=True)
class Problem:
    kind: str  # unreachable | mode | version | unlinked | accounts | member
    text: str

    @property
    def blocking(self) -> bool:
        """Whether signalbot must not start yet (it would retry silently forever)."""
        return self.kind != "unreachable"


@dataclass(frozen=True)
class Verdict:
    problem: Problem | None
    number: str | None  # the account to use (the configured one, or the only linked one)


class ServiceProbe:
    """Plain GETs against the service, HTTPS first and then HTTP, as signalbot connects."""

    def __init__(self, service: str, auth: dict[str, str] | None = None) -> None:
        self.service = service
        self.headers: dict[str, str] = {}
        if auth:
            token = f"{auth['username']}:{auth['password']}".encode()
            self.headers["Authorization"] = "Basic " + base64.b64encode(token).decode()
        self._scheme: str | None = None

    async def get(self, session: aiohttp.ClientSession, path: str) -> tuple[int, Any]:
        """(status, parsed JSON or None); raises ``aiohttp.ClientError``/``TimeoutError``."""
        schemes = [self._scheme] if self._scheme else ["https", "http"]
        last: Exception | None = None
        for scheme in schemes:
            try:
                url = f"{scheme}://{self.service}{path}"
                async with session.get(url, headers=self.headers, timeout=PROBE_TIMEOUT) as resp:
                    self._scheme = scheme
                    try:
                        body = await resp.json(content_type=None)
                    except ValueError:
                        body = None
                    return resp.status, body
            except (aiohttp.ClientError, TimeoutError) as exc:
                last = exc
        assert last is not None
        raise last

    async def check(self, number: str | None) -> Verdict:
        try:
            async with aiohttp.ClientSession() as session:
                return await self._check(session, number)
        except (aiohttp.ClientError, TimeoutError) as exc:
            text = f"signal-cli-rest-api at {self.service} is not reachable ({exc!r})"
            return Verdict(Problem("unreachable", text), number)

    async def _check(self, session: aiohttp.ClientSession, number: str | None) -> Verdict:
        status, about = await self.get(session, "/v1/about")
        if status != 200 or not isinstance(about, dict):
            text = f"signal-cli-rest-api at {self.service} answers /v1/about with {status}"
            return Verdict(Problem("unreachable", text), number)
        mode = about.get("mode")
        if mode != "json-rpc":
            text = f"it runs in {mode!r} mode; start it with MODE=json-rpc"
            return Verdict(Problem("mode", text), number)
        version = str(about.get("version") or "unset")
        if too_old(version):
            return Verdict(Problem("version", old_version_text(version)), number)
        status, accounts = await self.get(session, "/v1/accounts")
        if status == 200 and isinstance(accounts, list):
            linked = [a for a in accounts if isinstance(a, str)]
            if number is None and len(linked) == 1:
                number = linked[0]
                log.info("signal: using the only linked number %s…%s", number[:4], number[-2:])
            elif number is None and linked:
                text = (
                    f"several numbers are linked in signal-cli-rest-api ({', '.join(linked)}); "
                    "set [signal] phone_number (NETZBOT_SIGNAL__PHONE_NUMBER) to the bot's one"
                )
                return Verdict(Problem("accounts", text), None)
            if number is None or number not in linked:
                which = f" ({number})" if number else ""
                return Verdict(
                    Problem("unlinked", f"Signal number not linked yet{which}: {LINK_STEP}"), number
                )
        if number is None:
            return Verdict(Problem("unlinked", f"Signal number not linked yet: {LINK_STEP}"), None)
        status, groups = await self.get(session, f"/v1/groups/{number}")
        without_member = isinstance(groups, list) and any(
            isinstance(g, dict) and "member" not in g for g in groups
        )
        if status == 200 and without_member:
            text = (
                f"signal-cli-rest-api {version} lists groups without the “member” field that "
                f"signalbot 2.2 needs (added after 0.100): run {PINNED_IMAGE} or newer"
            )
            return Verdict(Problem("member", text), number)
        return Verdict(None, number)


def too_old(version: str) -> bool:
    """Below signalbot 2.2's minimum; ``unset`` (a preview build) passes, as in signalbot."""
    if version == "unset":
        return False
    try:
        return Version(version) < MIN_VERSION
    except InvalidVersion:
        return False


def old_version_text(version: str) -> str:
    return (
        f"signal-cli-rest-api {version} is too old: netzbot needs {MIN_VERSION} or newer "
        f"(compose.yaml pins {PINNED_IMAGE}). Update the signal container; netzbot connects by "
        "itself once it runs a newer version"
    )
