"""SSRF protection: internal addresses are refused before any request, on every redirect hop,
and the address that was checked is the address connected to."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.feeds.errors import AddressRefused, BadURL, DNSFailure, FeedError
from bot.feeds.fetch import FeedFetcher
from bot.net.guard import AddressPolicy, GuardedResolver, StaticResolver, address_kind
from tests.feedserver import FeedServer, rss

FEED = rss([("Meldung", "https://verein.example/1", "Text")])


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.178.1", "private"),
        ("169.254.169.254", "link_local"),
        ("100.64.0.1", "cgnat"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.251", "multicast"),
        ("192.0.2.7", "private"),  # documentation
        ("198.18.0.1", "private"),  # benchmarking
        ("240.0.0.1", "private"),
        ("255.255.255.255", "private"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link_local"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("fec0::1", "site_local"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:10.0.0.1", "private"),
        ("::127.0.0.1", "loopback"),  # IPv4-compatible
        ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
        ("64:ff9b:1::1", "private"),
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("2002:a9fe:a9fe::", "link_local"),  # 6to4 of 169.254.169.254
        ("2001:db8::1", "private"),
        ("8.8.8.8", None),
        ("93.184.216.34", None),
        ("2606:4700:4700::1111", None),
        ("::ffff:8.8.8.8", None),
        ("64:ff9b::808:808", None),  # NAT64 of 8.8.8.8
    ],
)
def test_address_kinds(address: str, kind: str | None) -> None:
    assert address_kind(ipaddress.ip_address(address)) == kind


def test_policy_exceptions() -> None:
    strict = AddressPolicy()
    assert strict.refusal(ipaddress.ip_address("10.1.2.3")) == "private"
    intranet = AddressPolicy(allowed_networks=["10.1.2.0/24"])
    assert intranet.refusal(ipaddress.ip_address("10.1.2.3")) is None
    assert intranet.refusal(ipaddress.ip_address("::ffff:10.1.2.3")) is None
    assert intranet.refusal(ipaddress.ip_address("10.1.3.1")) == "private"
    assert AddressPolicy(allow_private=True).refusal(ipaddress.ip_address("127.0.0.1")) is None


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as srv:
        yield srv


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "127.1", "2130706433", "0x7f.0.0.1"]
)
async def test_internal_hosts_are_refused_without_a_request(server: FeedServer, host: str) -> None:
    server.route("/f.xml", FEED)
    async with FeedFetcher(allow_private_addresses=False) as fetcher:
        with pytest.raises((AddressRefused, BadURL)) as info:
            await fetcher.fetch(f"http://{host}:{server.port}/f.xml")
    assert server.requests == []
    if isinstance(info.value, AddressRefused):
        assert info.value.params["kind"] == "loopback"
        assert info.value.code == "refused_address"


@pytest.mark.parametrize(
    ("target", "kind"),
    [
        ("http://169.254.169.254/latest/meta-data/", "link_local"),
        ("http://10.0.0.1/admin", "private"),
        ("http://127.0.0.2:{port}/f.xml", "loopback"),
        ("http://[::1]:{port}/f.xml", "loopback"),
        ("http://intern.test:{port}/f.xml", "private"),  # a name that resolves inward
        ("http://lo.test:{port}/f.xml", "loopback"),
    ],
)
async def test_redirect_to_internal_address_is_refused(
    server: FeedServer, target: str, kind: str
) -> None:
    """The first hop is allowed (the test server is an explicit exception); the redirect is not."""
    server.route("/f.xml", FEED)
    server.redirect("/start.xml", target.format(port=server.port))
    dns = StaticResolver({"intern.test": ["192.168.1.10"], "lo.test": ["127.0.0.2"]})
    async with FeedFetcher(allowed_networks=["127.0.0.1/32"], resolver=dns) as fetcher:
        assert (await fetcher.fetch(server.url("/f.xml"))).body == FEED  # the exception works
        server.requests.clear()
        with pytest.raises(AddressRefused) as info:
            await fetcher.fetch(server.url("/start.xml"))
    assert info.value.params["kind"] == kind
    assert [seen.path for seen in server.requests] == ["/start.xml"]


class FlippingResolver(AbstractResolver):
    """Answers with a harmless address first and an internal one afterwards (DNS rebinding)."""

    def __init__(self, answers: list[list[str]]) -> None:
        self.answers = answers
        self.calls = 0

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addrs = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return await StaticResolver({host: addrs}).resolve(host, port, family)

    async def close(self) -> None:
        return None


async def test_dns_rebinding_cannot_slip_through(server: FeedServer) -> None:
    server.route("/f.xml", FEED)
    flipping = FlippingResolver([["127.0.0.1"], ["10.0.0.5"]])
    url = f"http://feeds.test:{server.port}/f.xml"
    async with FeedFetcher(allowed_networks=["127.0.0.1/32"], resolver=flipping) as fetcher:
        first = await fetcher.fetch(url)
        assert first.body == FEED
        # one lookup served both the check and the connection: nothing to rebind in between
        assert flipping.calls == 1 and fetcher.resolver.lookups == 1
        assert fetcher._session is not None
        fetcher._session.connector.clear_dns_cache()  # type: ignore[union-attr]
        await fetcher._session.connector.close()  # type: ignore[union-attr]
        fetcher._session = None  # a fresh connection must look the name up again
        with pytest.raises(AddressRefused) as info:
            await fetcher.fetch(url)
    assert info.value.params == {"host": "feeds.test", "kind": "private"}  # no address: item 20
    assert len(server.requests) == 1


async def test_a_name_with_any_internal_address_is_refused() -> None:
    resolver = GuardedResolver(
        AddressPolicy(), base=StaticResolver({"mixed.test": ["93.184.216.34", "10.0.0.7"]})
    )
    with pytest.raises(AddressRefused):
        await resolver.resolve("mixed.test", 80)
    with pytest.raises(DNSFailure):
        await resolver.resolve("unknown.test", 80)
    public = GuardedResolver(AddressPolicy(), base=StaticResolver({"pub.test": ["93.184.216.34"]}))
    assert [r["host"] for r in await public.resolve("pub.test", 80)] == ["93.184.216.34"]


async def test_unresolvable_name_is_a_dns_error(server: FeedServer) -> None:
    async with FeedFetcher(resolver=StaticResolver({})) as fetcher:
        with pytest.raises(FeedError) as info:
            await fetcher.fetch("http://gibt-es-nicht.test/feed.xml")
    assert info.value.code == "dns"
