"""Where a deep-link fetch may go: the address policy, and the one resolution a fetch is pinned to.

An office registers its deep-link endpoint on chain, so a compromised member account can point it anywhere:
at the gateway machine's own services (`http://127.0.0.1:…`), a cloud metadata service
(`http://169.254.169.254/…`) or any host of the gateway's private network, which the gateway would then
probe for whoever asks for a verdict. Before every fetch the endpoint's host is therefore resolved once,
each address it resolves to is judged by `check_address`, and the connection goes to the address that was
checked (`PinnedTarget.address`; `deep_links` sends the request there), so a DNS answer that changes between
the check and the connection (rebinding) cannot reach anything the check refused.

A host that resolves to several addresses is refused if any of them is forbidden: which one a connection
takes is the resolver's and the network's choice, and a later fetch may take another, so a mixed answer is
treated as what it most likely is, a way to slip a forbidden address past the check.

The system resolver reads IPv4 addresses in every notation `inet_aton` accepts (`2130706433`, `0x7f000001`,
`0177.0.0.1`, `127.1` are all 127.0.0.1), so the checked address is the real guard; those notations are also
parsed here (`ip_literal`), so that a refusal names the notation an endpoint hid its address in. IPv6
addresses that carry an IPv4 address (IPv4-mapped, IPv4-compatible, IPv4-translated, NAT64, 6to4) are judged
by the IPv4 address they carry. The ranges are listed one by one rather than left to
`ipaddress.is_global`, which in Python 3.11 calls multicast, `::ffff:0:7f00:1` and `64:ff9b::7f00:1` global;
`is_global` only catches what the list leaves out.

`EndpointPolicy(allow_private=True)` (the gateway's `deep_links_allow_private`) is for a consortium on one
machine or one private network: the demo, the experiments and the tests, whose offices serve on loopback.
It lets the private-use ranges through (loopback, RFC 1918, shared CGNAT, link-local, unique-local), never
the unspecified, multicast, broadcast, documentation or otherwise reserved addresses, from which no office
serves.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from urllib.parse import urlsplit

import httpx

IPAddress = IPv4Address | IPv6Address
Resolver = Callable[[str], Sequence[IPAddress]]  # a host name -> the addresses it resolves to, in order

PUBLIC_ONLY = "deep links may only reach public addresses (deep_links_allow_private is off)"
NEVER_SERVED = "no office serves from such an address (not even with deep_links_allow_private on)"
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class AddressRange:
    """A special-purpose range, what to call an address in it, and whether a private network may use it."""

    network: IPv4Network | IPv6Network
    what: str
    private_use: bool  # True: allowed with allow_private; False: never a deep link's address


def _ranges(*rows: tuple[str, str, bool]) -> tuple[AddressRange, ...]:
    return tuple(AddressRange(ip_network(cidr), what, private) for cidr, what, private in rows)


# First match wins (the broadcast address lies inside 240.0.0.0/4).
IPV4_RANGES = _ranges(
    ("0.0.0.0/8", "an unspecified ('this network') address", False),
    ("10.0.0.0/8", "a private (RFC 1918) address", True),
    ("100.64.0.0/10", "a shared carrier-grade NAT (RFC 6598) address", True),
    ("127.0.0.0/8", "a loopback address", True),
    ("169.254.0.0/16", "a link-local address", True),
    ("172.16.0.0/12", "a private (RFC 1918) address", True),
    ("192.0.0.0/24", "an IETF protocol assignment (reserved) address", False),
    ("192.0.2.0/24", "a documentation (TEST-NET-1) address", False),
    ("192.88.99.0/24", "a 6to4 relay anycast (reserved) address", False),
    ("192.168.0.0/16", "a private (RFC 1918) address", True),
    ("198.18.0.0/15", "a benchmarking address", False),
    ("198.51.100.0/24", "a documentation (TEST-NET-2) address", False),
    ("203.0.113.0/24", "a documentation (TEST-NET-3) address", False),
    ("224.0.0.0/4", "a multicast address", False),
    ("255.255.255.255/32", "the broadcast address", False),
    ("240.0.0.0/4", "a reserved (future use) address", False),
)
IPV6_RANGES = _ranges(
    ("::/128", "the unspecified address", False),
    ("::1/128", "a loopback address", True),
    ("64:ff9b:1::/48", "a local-use NAT64 address", True),
    ("100::/64", "a discard-only address", False),
    ("2001::/32", "a Teredo tunnel address", False),
    ("2001:db8::/32", "a documentation address", False),
    ("fc00::/7", "a unique-local address", True),
    ("fe80::/10", "a link-local address", True),
    ("fec0::/10", "a site-local (deprecated) address", True),
    ("ff00::/8", "a multicast address", False),
)
# IPv6 forms that carry an IPv4 address in their low 32 bits; 6to4 (2002::/16) carries it in bits 16 to 48.
IPV4_IN_LOW_BITS = (
    (ip_network("::ffff:0:0/96"), "an IPv4-mapped IPv6 address"),
    (ip_network("::ffff:0:0:0/96"), "an IPv4-translated IPv6 address"),
    (ip_network("64:ff9b::/96"), "a NAT64 address"),
    (ip_network("::/96"), "an IPv4-compatible IPv6 address"),  # after ::/128 and ::1/128 above
)
SIX_TO_FOUR = ip_network("2002::/16")


def check_address(address: IPAddress, allow_private: bool = False) -> str | None:
    """Why a deep link may not reach `address` ("a loopback address", …), or None when it may."""
    if isinstance(address, IPv6Address):
        address = IPv6Address(int(address))  # the same address without its scope (fe80::1%eth0)
        for special in IPV6_RANGES:
            if address in special.network:
                return _refused(special, allow_private)
        for network, what in IPV4_IN_LOW_BITS:
            if address in network:
                return _embedding(what, IPv4Address(int(address) & 0xFFFFFFFF), allow_private)
        if address in SIX_TO_FOUR:
            return _embedding("a 6to4 address", IPv4Address((int(address) >> 80) & 0xFFFFFFFF), allow_private)
    else:
        for special in IPV4_RANGES:
            if address in special.network:
                return _refused(special, allow_private)
    if not address.is_global:
        return "not a globally reachable address"
    return None


def _refused(special: AddressRange, allow_private: bool) -> str | None:
    return None if special.private_use and allow_private else special.what


def _embedding(what: str, carried: IPv4Address, allow_private: bool) -> str | None:
    reason = check_address(carried, allow_private)
    return None if reason is None else f"{what} of {carried}, {reason}"


# ------------------------------------------------------------ address literals in a URL's host

_IPV4_PART = re.compile(r"0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*")


def ip_literal(host: str) -> tuple[IPAddress, str] | None:
    """The address `host` writes literally, with the notation it is written in ("" for the usual dotted
    quad or IPv6 form; else e.g. "hex", "octal and short"), or None when `host` is a name to resolve."""
    if ":" in host:
        try:
            return IPv6Address(host), ""
        except ValueError:
            return None
    return _ipv4_literal(host)


def _ipv4_literal(host: str) -> tuple[IPAddress, str] | None:
    """`host` as inet_aton reads it: one to four parts, each decimal, octal (leading 0) or hex (0x), the
    last part filling the bytes the others leave."""
    parts = host.split(".")
    if len(parts) > 4 or not all(_IPV4_PART.fullmatch(part) for part in parts):
        return None
    notations: set[str] = set()
    values: list[int] = []
    for part in parts:
        if part[:2].lower() == "0x":
            notations.add("hex")
            values.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part.startswith("0"):
            notations.add("octal")
            values.append(int(part, 8))
        else:
            values.append(int(part))
    *leading, last = values
    if any(value > 255 for value in leading) or last >= 256 ** (5 - len(values)):
        return None
    number = last
    for index, value in enumerate(leading):
        number |= value << (8 * (3 - index))
    if len(parts) == 1 and not notations:
        notations.add("decimal")
    elif 1 < len(parts) < 4:
        notations.add("short")
    return IPv4Address(number), " and ".join(sorted(notations))


# ------------------------------------------------------------ resolution and the pinned target


def resolve_host(host: str) -> list[IPAddress]:
    """The addresses the system resolver (getaddrinfo) gives for `host`, in its order, without repeats."""
    found: list[IPAddress] = []
    for family, _type, _proto, _name, sockaddr in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM):
        if family in (socket.AF_INET, socket.AF_INET6):
            address = ip_address(sockaddr[0])
            if address not in found:
                found.append(address)
    return found


class EndpointRefused(Exception):
    """A deep-link URL the gateway will not fetch; `reason` says why, for the verdict."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PinnedTarget:
    """One fetch's destination: the registered host (for the Host header and TLS) and the one address that
    was checked, which the connection goes to."""

    scheme: str
    host: str  # as the URL names it: an ASCII host name, or an address literal
    port: int
    path: str  # path and query
    address: IPAddress

    @property
    def address_url(self) -> str:
        """The URL with the checked address in place of the host: what the connection is made to."""
        shown = f"[{self.address}]" if isinstance(self.address, IPv6Address) else str(self.address)
        return f"{self.scheme}://{shown}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return shown if self.port == DEFAULT_PORTS[self.scheme] else f"{shown}:{self.port}"

    @property
    def sni_hostname(self) -> str | None:
        """The name TLS sends and verifies the certificate against: the registered host name (none for
        an address literal, whose certificate is checked against the address itself)."""
        if self.scheme != "https" or ip_literal(self.host) is not None:
            return None
        return self.host


@dataclass(frozen=True)
class EndpointPolicy:
    """Which deep-link URLs the gateway fetches: http(s), no user info, a host whose every address passes
    `check_address`. `resolver` is asked once per fetch (tests give one that answers what they need)."""

    allow_private: bool = False
    resolver: Resolver = resolve_host

    def target(self, url: str) -> PinnedTarget:
        """Where a fetch of `url` connects; EndpointRefused when it may not be fetched. Asks the resolver
        once (never for an address literal)."""
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise EndpointRefused("the registered endpoint is not an http(s) URL")
        if "@" in parts.netloc:
            raise EndpointRefused("the registered endpoint names a user (user@host); deep links take none")
        try:
            port = DEFAULT_PORTS[parts.scheme] if parts.port is None else parts.port
        except ValueError:
            port = 0
        if not 1 <= port <= 65535:
            raise EndpointRefused("the registered endpoint's port is not a number from 1 to 65535")
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        literal = ip_literal(parts.hostname)
        if literal is not None:
            address, notation = literal
            named = f" {parts.hostname} ({notation} notation)" if notation else ""
            self._check(f"the endpoint's host{named} is", [address])
            return PinnedTarget(parts.scheme, parts.hostname, port, path, address)
        host = _ascii_host(parts.hostname)
        try:
            addresses = list(self.resolver(host))
        except (OSError, UnicodeError) as err:
            reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
            raise EndpointRefused(f"the endpoint's host {host} does not resolve: {reason}") from None
        if not addresses:
            raise EndpointRefused(f"the endpoint's host {host} resolves to no address")
        self._check(f"the endpoint's host {host} resolves to", addresses)
        return PinnedTarget(parts.scheme, host, port, path, addresses[0])

    def _check(self, subject: str, addresses: Sequence[IPAddress]) -> None:
        """EndpointRefused naming the first forbidden address among `addresses`, if any is."""
        for address in addresses:
            what = check_address(address, self.allow_private)
            if what is None:
                continue
            rule = NEVER_SERVED if self.allow_private else PUBLIC_ONLY
            if len(addresses) == 1:
                raise EndpointRefused(f"{subject} {address}, {what}; {rule}")
            listed = ", ".join(str(a) for a in addresses)
            raise EndpointRefused(f"{subject} {listed}; {address} is {what}; {rule}")


def _ascii_host(host: str) -> str:
    """The host name as DNS and the Host header carry it (IDNA for an international name)."""
    if host.isascii():
        return host
    try:
        return httpx.URL(scheme="http", host=host).raw_host.decode("ascii")
    except (httpx.InvalidURL, UnicodeError):
        raise EndpointRefused(f"the endpoint's host {host!r} is not a valid host name") from None
