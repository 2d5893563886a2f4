"""Which addresses an outgoing fetch may reach, and a resolver that enforces it.

One guard for every fetch the bot makes on behalf of a URL it was given (feeds added in chat
or config, ``[[calendars]]``, ``netzbot import-ics URL``, ``netzbot doctor``; later mail and
others): such a URL must not become a way to probe the bot's own machine or network (SSRF): ``http://127.0.0.1:5432``, ``http://169.254.169.254/`` (cloud metadata),
``http://router.fritz.box/``. Checking the URL's host once is not enough:

- redirects can point anywhere, so every hop is checked (``bot.net.http.open_guarded``,
  ``bot.feeds.fetch``);
- a host name can resolve to a public address when checked and to an internal one when
  connected (DNS rebinding). ``GuardedResolver`` is the resolver of the aiohttp connector, so
  the addresses it checked are exactly the addresses aiohttp connects to; there is no second
  lookup. IP literals never reach a resolver, so ``check_host`` refuses them before a request.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from bot.net.errors import AddressRefused, DNSFailure

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ADDRESS_KINDS = (
    "unspecified",
    "loopback",
    "link_local",
    "multicast",
    "cgnat",
    "private",
    "site_local",
    "reserved",
    "not_global",
)

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, if it is one of the v4-in-v6 forms."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client; the server half is public by construction
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if int(ip) >> 32 == 0 and int(ip) > 1:  # deprecated IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_kind(ip: IPAddress) -> str | None:
    """``None`` for a public unicast address, else why it is internal (one of ADDRESS_KINDS)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return "link_local"
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return address_kind(inner)
        if ip in _NAT64_LOCAL:
            return "private"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link_local"
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "cgnat"
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return "site_local"
    if ip.is_private:
        return "private"
    if ip.is_reserved:
        return "reserved"
    if not ip.is_global:
        return "not_global"
    return None


def parse_ip(host: str) -> IPAddress | None:
    """The address if ``host`` is an IP literal (``[::1]`` brackets allowed), else ``None``."""
    text = host.strip("[]")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


class AddressPolicy:
    """Decides whether an address may be connected to.

    ``allow_private``: everything goes (tests, benches, a bot inside a trusted network).
    ``allowed_networks``: exceptions to the refusal, e.g. ``["10.1.2.0/24"]`` for one intranet
    feed server.
    """

    def __init__(
        self, *, allow_private: bool = False, allowed_networks: Iterable[str | IPNetwork] = ()
    ) -> None:
        self.allow_private = allow_private
        self.allowed_networks: tuple[IPNetwork, ...] = tuple(
            ipaddress.ip_network(n, strict=False) if isinstance(n, str) else n
            for n in allowed_networks
        )

    @classmethod
    def from_config(cls, config: Any) -> AddressPolicy:
        """The policy of ``[news] allow_private_addresses`` / ``allowed_networks``, which
        applies to every outgoing fetch (feeds, calendars, import-ics, doctor)."""
        news = config.news
        return cls(
            allow_private=news.allow_private_addresses, allowed_networks=news.allowed_networks
        )

    def refusal(self, ip: IPAddress) -> str | None:
        """``None`` if ``ip`` may be reached, else the kind of internal address it is."""
        if self.allow_private:
            return None
        kind = address_kind(ip)
        if kind is None:
            return None
        plain = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else ip
        for net in self.allowed_networks:
            if plain.version == net.version and plain in net:
                return None
        return kind

    def check_ip(self, host: str, ip: IPAddress) -> None:
        """Refuse ``ip`` (the literal ``host`` or what the name ``host`` resolved to).

        What a *name* resolves to is never put in the error: the refusal is shown in chat,
        and telling a stranger the internal address of ``intranet.example`` is itself a leak.
        """
        kind = self.refusal(ip)
        if kind is not None:
            literal = parse_ip(host) is not None
            raise AddressRefused(
                f"{host} is an internal address ({ip if literal else 'resolved'}, {kind}); refused",
                host=host,
                kind=kind,
            )

    def check_host(self, host: str) -> None:
        """Refuse an IP-literal host now; names are checked when resolved."""
        ip = parse_ip(host)
        if ip is not None:
            self.check_ip(host, ip)


class GuardedResolver(AbstractResolver):
    """Resolves with ``base`` and refuses the whole answer if any address is internal.

    Refusing on *any* internal address (not just dropping it) keeps the behaviour predictable:
    a name that also points inward is treated as hostile rather than half-used.
    """

    def __init__(self, policy: AddressPolicy, base: AbstractResolver | None = None) -> None:
        self.policy = policy
        self._base = base
        self.lookups = 0  # for tests: proves one lookup per connection, no re-resolution

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if self._base is None:
            self._base = ThreadedResolver()
        self.lookups += 1
        try:
            results = await self._base.resolve(host, port, family)
        except OSError as exc:
            raise DNSFailure(f"{host} does not resolve: {exc}", host=host) from exc
        if not results:
            raise DNSFailure(f"{host} does not resolve", host=host)
        for result in results:
            ip = parse_ip(result["host"].split("%", 1)[0])
            if ip is None:
                raise DNSFailure(f"{host} resolved to a non-address {result['host']!r}", host=host)
            self.policy.check_ip(host, ip)
        return results

    async def close(self) -> None:
        if self._base is not None:
            await self._base.close()


class StaticResolver(AbstractResolver):
    """A fixed name → addresses table (tests and benches; never the production default)."""

    def __init__(self, table: dict[str, Sequence[str]]) -> None:
        self.table = {name.lower(): list(addrs) for name, addrs in table.items()}

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addrs = self.table.get(host.lower().rstrip("."))
        if not addrs:
            raise OSError(f"unknown host {host}")
        out: list[ResolveResult] = []
        for addr in addrs:
            ip = ipaddress.ip_address(addr)
            fam = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
            out.append(
                ResolveResult(
                    hostname=host,
                    host=addr,
                    port=port,
                    family=fam,
                    proto=0,
                    flags=socket.AI_NUMERICHOST,
                )
            )
        return out

    async def close(self) -> None:
        return None
