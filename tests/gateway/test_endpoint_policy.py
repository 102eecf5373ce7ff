"""Where deep links may go: every forbidden range named, every notation an address can hide in, the
public addresses that stay reachable, and what `deep_links_allow_private` lets through."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from ipaddress import ip_address

import pytest

from gateway.endpoint_policy import (
    EndpointPolicy,
    EndpointRefused,
    IPAddress,
    check_address,
    resolve_host,
)

PUBLIC_ONLY = "deep links may only reach public addresses (deep_links_allow_private is off)"

PRIVATE_USE = [
    pytest.param("127.0.0.1", "a loopback address", id="ipv4-loopback"),
    pytest.param("127.255.3.4", "a loopback address", id="ipv4-loopback-anywhere-in-127/8"),
    pytest.param("10.20.30.40", "a private (RFC 1918) address", id="ipv4-private-10/8"),
    pytest.param("172.31.255.254", "a private (RFC 1918) address", id="ipv4-private-172.16/12"),
    pytest.param("192.168.1.1", "a private (RFC 1918) address", id="ipv4-private-192.168/16"),
    pytest.param("100.64.0.1", "a shared carrier-grade NAT (RFC 6598) address", id="ipv4-cgnat-100.64/10"),
    pytest.param("169.254.169.254", "a link-local address", id="ipv4-link-local-cloud-metadata"),
    pytest.param("::1", "a loopback address", id="ipv6-loopback"),
    pytest.param("fc00::1", "a unique-local address", id="ipv6-unique-local-fc00"),
    pytest.param("fd12:3456:789a::1", "a unique-local address", id="ipv6-unique-local-fd00"),
    pytest.param("fe80::1", "a link-local address", id="ipv6-link-local"),
    pytest.param("fe80::1%eth0", "a link-local address", id="ipv6-link-local-with-scope"),
    pytest.param("fec0::1", "a site-local (deprecated) address", id="ipv6-site-local"),
    pytest.param("64:ff9b:1::1", "a local-use NAT64 address", id="ipv6-local-use-nat64"),
    pytest.param(
        "::ffff:127.0.0.1",
        "an IPv4-mapped IPv6 address of 127.0.0.1, a loopback address",
        id="ipv4-mapped-loopback",
    ),
    pytest.param(
        "::ffff:169.254.169.254",
        "an IPv4-mapped IPv6 address of 169.254.169.254, a link-local address",
        id="ipv4-mapped-cloud-metadata",
    ),
    pytest.param(
        "::ffff:0:7f00:1",
        "an IPv4-translated IPv6 address of 127.0.0.1, a loopback address",
        id="ipv4-translated-loopback",
    ),
    pytest.param(
        "::7f00:1", "an IPv4-compatible IPv6 address of 127.0.0.1, a loopback address", id="ipv4-compatible"
    ),
    pytest.param(
        "64:ff9b::a9fe:a9fe",
        "a NAT64 address of 169.254.169.254, a link-local address",
        id="nat64-cloud-metadata",
    ),
    pytest.param("2002:7f00:1::", "a 6to4 address of 127.0.0.1, a loopback address", id="6to4-loopback"),
    pytest.param(
        "2002:c0a8:101::1", "a 6to4 address of 192.168.1.1, a private (RFC 1918) address", id="6to4-private"
    ),
]

NEVER = [
    pytest.param("0.0.0.0", "an unspecified ('this network') address", id="ipv4-unspecified"),
    pytest.param("0.1.2.3", "an unspecified ('this network') address", id="ipv4-this-network-0/8"),
    pytest.param("224.0.0.1", "a multicast address", id="ipv4-multicast"),
    pytest.param("239.255.255.250", "a multicast address", id="ipv4-multicast-ssdp"),
    pytest.param("255.255.255.255", "the broadcast address", id="ipv4-broadcast"),
    pytest.param("240.0.0.1", "a reserved (future use) address", id="ipv4-reserved-240/4"),
    pytest.param("192.0.0.8", "an IETF protocol assignment (reserved) address", id="ipv4-ietf-192.0.0/24"),
    pytest.param("192.0.2.1", "a documentation (TEST-NET-1) address", id="ipv4-documentation"),
    pytest.param("198.18.0.1", "a benchmarking address", id="ipv4-benchmarking"),
    pytest.param("192.88.99.1", "a 6to4 relay anycast (reserved) address", id="ipv4-6to4-relay"),
    pytest.param("::", "the unspecified address", id="ipv6-unspecified"),
    pytest.param("ff02::1", "a multicast address", id="ipv6-multicast"),
    pytest.param("2001:db8::1", "a documentation address", id="ipv6-documentation"),
    pytest.param("2001::1", "a Teredo tunnel address", id="ipv6-teredo"),
    pytest.param("100::1", "a discard-only address", id="ipv6-discard-only"),
    pytest.param(
        "::ffff:224.0.0.1",
        "an IPv4-mapped IPv6 address of 224.0.0.1, a multicast address",
        id="mapped-multicast",
    ),
]

PUBLIC = [
    pytest.param("93.184.215.14", id="ipv4"),
    pytest.param("8.8.8.8", id="ipv4-resolver"),
    pytest.param("2606:2800::1", id="ipv6"),
    pytest.param("::ffff:93.184.215.14", id="ipv4-mapped-public"),
    pytest.param("64:ff9b::5db8:d70e", id="nat64-public"),
    pytest.param("2002:5db8:d70e::1", id="6to4-public"),
]


@pytest.mark.parametrize(("address", "what"), PRIVATE_USE + NEVER)
def test_a_forbidden_address_is_refused_naming_its_range(address: str, what: str) -> None:
    assert check_address(ip_address(address)) == what


@pytest.mark.parametrize("address", PUBLIC)
def test_a_public_address_is_allowed(address: str) -> None:
    assert check_address(ip_address(address)) is None


@pytest.mark.parametrize(("address", "what"), PRIVATE_USE)
def test_private_use_ranges_are_allowed_when_the_setting_allows_them(address: str, what: str) -> None:
    assert check_address(ip_address(address), allow_private=True) is None


@pytest.mark.parametrize(("address", "what"), NEVER)
def test_unspecified_multicast_broadcast_and_reserved_addresses_stay_refused_with_private_allowed(
    address: str, what: str
) -> None:
    assert check_address(ip_address(address), allow_private=True) == what


# ------------------------------------------------------------ the URL's host


class Answers:
    """A resolver that answers from a table and remembers what it was asked."""

    def __init__(self, answers: dict[str, Sequence[str]] | None = None) -> None:
        self.answers = answers or {}
        self.asked: list[str] = []

    def __call__(self, host: str) -> list[IPAddress]:
        self.asked.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [ip_address(a) for a in self.answers[host]]


def refusal(url: str, resolver: Answers | None = None) -> str:
    with pytest.raises(EndpointRefused) as refused:
        EndpointPolicy(resolver=resolver or Answers()).target(url)
    return refused.value.reason


LOOPBACK_IS = "is 127.0.0.1, a loopback address"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        pytest.param("http://127.0.0.1:8000/", f"the endpoint's host {LOOPBACK_IS}", id="dotted-quad"),
        pytest.param("http://2130706433/", f"host 2130706433 (decimal notation) {LOOPBACK_IS}", id="decimal"),
        pytest.param("http://0x7f000001/", f"host 0x7f000001 (hex notation) {LOOPBACK_IS}", id="hex"),
        pytest.param("http://0177.0.0.1/", f"host 0177.0.0.1 (octal notation) {LOOPBACK_IS}", id="octal"),
        pytest.param("http://127.1/", f"host 127.1 (short notation) {LOOPBACK_IS}", id="short"),
        pytest.param("http://0x7f.1/", f"host 0x7f.1 (hex and short notation) {LOOPBACK_IS}", id="hex-short"),
        pytest.param(
            "http://0251.0376.0251.0376/latest/meta-data/",
            "host 0251.0376.0251.0376 (octal notation) is 169.254.169.254, a link-local address",
            id="octal-cloud-metadata",
        ),
        pytest.param("http://0/", "host 0 (decimal notation) is 0.0.0.0, an unspecified", id="zero"),
        pytest.param(
            "http://[::1]:8000/", "the endpoint's host is ::1, a loopback address", id="bracketed-ipv6"
        ),
        pytest.param(
            "http://[::ffff:127.0.0.1]/",
            "is ::ffff:7f00:1, an IPv4-mapped IPv6 address of 127.0.0.1, a loopback address",
            id="bracketed-ipv4-mapped-dotted",
        ),
        pytest.param(
            "https://[::ffff:7f00:1]:8443/",
            "is ::ffff:7f00:1, an IPv4-mapped IPv6 address of 127.0.0.1, a loopback address",
            id="bracketed-ipv4-mapped-hex",
        ),
        pytest.param("http://[fd00::1]/", "is fd00::1, a unique-local address", id="bracketed-unique-local"),
    ],
)
def test_an_address_literal_in_any_notation_is_refused_naming_the_notation_without_resolving(
    url: str, says: str
) -> None:
    resolver = Answers()
    reason = refusal(url, resolver)
    assert says in reason and reason.endswith(PUBLIC_ONLY)
    assert resolver.asked == []


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "0177.0.0.1", "127.1"])
def test_the_system_resolver_reads_those_notations_as_loopback_too(host: str) -> None:
    """Why the resolved address is the real guard: a host that looks like a name may be an address."""
    assert resolve_host(host) == [ip_address("127.0.0.1")]


def test_a_name_that_resolves_to_a_forbidden_address_is_refused_naming_the_address() -> None:
    assert refusal("http://office.example/v1", Answers({"office.example": ["127.0.0.1"]})) == (
        f"the endpoint's host office.example resolves to 127.0.0.1, a loopback address; {PUBLIC_ONLY}"
    )


def test_a_name_with_one_forbidden_address_among_public_ones_is_refused() -> None:
    answers = Answers({"office.example": ["93.184.215.14", "2606:2800::1", "10.0.0.7"]})
    assert refusal("https://office.example/", answers) == (
        "the endpoint's host office.example resolves to 93.184.215.14, 2606:2800::1, 10.0.0.7; "
        f"10.0.0.7 is a private (RFC 1918) address; {PUBLIC_ONLY}"
    )


def test_with_private_allowed_a_multicast_answer_is_still_refused() -> None:
    policy = EndpointPolicy(allow_private=True, resolver=Answers({"office.example": ["224.0.0.1"]}))
    with pytest.raises(EndpointRefused, match="a multicast address; no office serves from such an address"):
        policy.target("http://office.example/")


def test_a_public_name_is_pinned_to_the_first_address_it_resolved_to() -> None:
    answers = Answers({"office.example": ["2606:2800::1", "93.184.215.14"]})
    target = EndpointPolicy(resolver=answers).target("https://Office.Example:8443/deep/v1/documents?x=1")
    assert target.address_url == "https://[2606:2800::1]:8443/deep/v1/documents?x=1"
    assert (target.host_header, target.sni_hostname) == ("office.example:8443", "office.example")
    assert answers.asked == ["office.example"]


def test_an_international_name_is_resolved_and_sent_in_its_ascii_form() -> None:
    answers = Answers({"xn--bcher-kva.example": ["93.184.215.14"]})
    target = EndpointPolicy(resolver=answers).target("http://bücher.example/")
    assert target.host_header == "xn--bcher-kva.example" and answers.asked == ["xn--bcher-kva.example"]


@pytest.mark.parametrize(
    ("url", "says"),
    [
        pytest.param("http://user@office.example/", "names a user (user@host)", id="user"),
        pytest.param("http://user:secret@office.example/", "names a user (user@host)", id="user-password"),
        pytest.param("http://@office.example/", "names a user (user@host)", id="empty-user"),
        pytest.param(
            "http://office.example@127.0.0.1/", "names a user (user@host)", id="user-that-looks-a-host"
        ),
        pytest.param("ftp://office.example/", "not an http(s) URL", id="ftp"),
        pytest.param("file:///etc/passwd", "not an http(s) URL", id="file"),
        pytest.param("gopher://office.example:70/", "not an http(s) URL", id="gopher"),
        pytest.param("office.example/v1", "not an http(s) URL", id="no-scheme"),
        pytest.param("http://office.example:0/", "port is not a number from 1 to 65535", id="port-0"),
        pytest.param(
            "http://office.example:99999/", "port is not a number from 1 to 65535", id="port-too-big"
        ),
    ],
)
def test_other_schemes_user_info_and_bad_ports_are_refused_without_resolving(url: str, says: str) -> None:
    resolver = Answers({"office.example": ["93.184.215.14"]})
    assert says in refusal(url, resolver)
    assert resolver.asked == []


def test_a_name_that_does_not_resolve_is_refused_with_the_resolver_s_reason() -> None:
    assert refusal("http://nowhere.example/") == (
        "the endpoint's host nowhere.example does not resolve: Name or service not known"
    )
