"""Fetching signed documents from an office's public deep links, with limits a hostile office cannot beat.

The gateway follows the endpoint an office registered on chain (federation: no office list of its own).
An office endpoint may be slow, down, huge or hostile, so every fetch is bounded: a connect and a read
timeout, a total deadline, a byte limit enforced while streaming (the body is never read whole first), and
no redirects (a deep link answers itself or not at all). Every failure is an `OfficeUnreachable` naming
what went wrong; a well-formed "not found" is `None`, so a verdict can tell "the office says it has no such
published document" from "the office could not be asked".

An endpoint may also point where no office lives: the gateway's own loopback, a metadata service, its
private network. Each fetch first asks `endpoint_policy` where it may go: the host is resolved once, every
address checked, and the request is sent to that checked address (`PinnedTarget.address_url`) with the
registered host in its Host header and, over https, as the TLS server name the certificate is verified
against. A refused endpoint is `OfficeUnreachable` with the policy's reason, and nothing is connected to.

What comes back is checked only for shape here; whether it is authentic (hash, signature, chain state) is
the verifier's job.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from gateway.endpoint_policy import EndpointPolicy, EndpointRefused
from registry_node.protocol.errors import RegistryError
from registry_node.protocol.signing import DetachedSignature, SignatureFormatError

DEFAULT_TIMEOUT_S = 5.0
DEFAULT_MAX_BYTES = 4 * 1024 * 1024


class OfficeUnreachable(RegistryError):
    """The office's deep link could not give an answer; `reason` says why (timeout, refused, too big…)."""

    def __init__(self, endpoint: str, reason: str) -> None:
        super().__init__(f"{endpoint}: {reason}")
        self.endpoint = endpoint
        self.reason = reason


@dataclass(frozen=True)
class FetchedDocument:
    """A published version as an office serves it: the exact canonical bytes it signed, and the rest."""

    right_id: str
    version: int
    canonical: bytes
    signature: DetachedSignature
    source_xml: bytes | None
    anchor: dict[str, Any] | None
    url: str

    @property
    def record_hash(self) -> bytes:
        """SHA-256 of the canonical bytes, recomputed here: the office's own `recordHash` is not trusted."""
        return hashlib.sha256(self.canonical).digest()

    def record(self) -> dict[str, Any]:
        parsed = json.loads(self.canonical)
        if not isinstance(parsed, dict):
            raise ValueError("the canonical record is not a JSON object")
        return parsed


class PoolPerHost(httpx.BaseTransport):
    """One connection pool per registered host, for requests sent to a pinned address.

    A pool keys its connections by the address in the URL, so a single pool would hand a kept-alive
    connection (and its TLS session, verified for one host name) to a request for another host that
    resolved to the same address. One pool per Host header keeps each connection to the host it was made
    for. There are as many pools as endpoint hosts the gateway has fetched from; an idle pool holds no
    connection after `keepalive_expiry`.
    """

    def __init__(self, limits: httpx.Limits) -> None:
        self._limits = limits
        self._tls = httpx.create_ssl_context()  # loaded once, shared by every pool
        self._pools: dict[tuple[str, str], httpx.HTTPTransport] = {}
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        key = (request.url.scheme, request.headers["host"])
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                pool = self._pools[key] = httpx.HTTPTransport(verify=self._tls, limits=self._limits)
        return pool.handle_request(request)

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()


class OfficeDocuments:
    """A bounded HTTP client for offices' deep links; one per gateway, shared by threads. `policy`: where
    deep links may go (by default, public addresses only). `transport` replaces the network (tests)."""

    def __init__(
        self,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_bytes: int = DEFAULT_MAX_BYTES,
        transport: httpx.BaseTransport | None = None,
        policy: EndpointPolicy | None = None,
    ) -> None:
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self.policy = policy or EndpointPolicy()
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=16)
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 3.0)),
            follow_redirects=False,
            transport=transport or PoolPerHost(limits),
            headers={"Accept": "application/json", "User-Agent": "ipreg-gateway"},
        )

    def close(self) -> None:
        self._client.close()

    def by_version(self, endpoint: str, right_id: str, version: int) -> FetchedDocument | None:
        """The published version `version` of `right_id`, or None when the office says it has none."""
        return self._document(endpoint, f"/v1/documents/{quote(right_id, safe=':')}/{int(version)}")

    def by_hash(self, endpoint: str, record_hash: bytes) -> FetchedDocument | None:
        """The published version whose record hashes to `record_hash`, or None."""
        return self._document(endpoint, f"/v1/documents?recordHash={record_hash.hex()}")

    def anchor_manifest(self, endpoint: str, root: bytes) -> dict[str, Any] | None:
        """The office's manifest of an anchored batch (its items' record hashes), or None."""
        _url, body = self._get(endpoint, f"/v1/anchors/{root.hex()}")
        if body is None:
            return None
        data = _json_object(endpoint, body)
        items = data.get("items")
        if not isinstance(items, list):
            raise OfficeUnreachable(endpoint, "the anchor manifest has no list of items")
        return data

    def probe(self, endpoint: str) -> str:
        """Asks the office's deep links for a record hash no record has: an office that answers (HTTP 404, as
        it should) is reachable, and the answer says so; OfficeUnreachable says why not."""
        _url, body = self._get(endpoint, f"/v1/documents?recordHash={'0' * 64}")
        if body is not None:
            return "answered, but served a document for the all-zero record hash"
        return "answered (no document for the all-zero record hash, as expected)"

    def _document(self, endpoint: str, path: str) -> FetchedDocument | None:
        url, body = self._get(endpoint, path)
        if body is None:
            return None
        data = _json_object(endpoint, body)
        try:
            canonical = base64.b64decode(str(data["canonical"]), validate=True)
            source = data.get("sourceXml")
            return FetchedDocument(
                right_id=str(data["rightId"]),
                version=int(data["version"]),
                canonical=canonical,
                signature=DetachedSignature.from_json(data["signature"]),
                source_xml=base64.b64decode(str(source), validate=True) if source else None,
                anchor=data["anchor"] if isinstance(data.get("anchor"), dict) else None,
                url=url,
            )
        except (KeyError, TypeError, ValueError, binascii.Error, SignatureFormatError) as err:
            raise OfficeUnreachable(endpoint, f"the document is malformed: {err}") from None

    def _get(self, endpoint: str, path: str) -> tuple[str, bytes | None]:
        """(url, body) of a 200; (url, None) of a 404; OfficeUnreachable for anything else."""
        url = endpoint.rstrip("/") + path
        try:
            target = self.policy.target(url)
        except EndpointRefused as refused:
            raise OfficeUnreachable(endpoint, refused.reason) from None
        extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else None
        request = self._client.build_request(
            "GET", target.address_url, headers={"Host": target.host_header}, extensions=extensions
        )
        deadline = time.monotonic() + 2 * self.timeout_s
        try:
            with contextlib.closing(self._client.send(request, stream=True)) as answer:
                if answer.status_code == 404:
                    return url, None
                if answer.is_redirect:
                    raise OfficeUnreachable(
                        endpoint, f"redirected ({answer.status_code}); deep links never redirect"
                    )
                if answer.status_code != 200:
                    raise OfficeUnreachable(endpoint, f"answered HTTP {answer.status_code}")
                declared = answer.headers.get("content-length")
                if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
                    raise OfficeUnreachable(endpoint, f"the answer is over {self.max_bytes} bytes")
                chunks: list[bytes] = []
                size = 0
                for chunk in answer.iter_raw():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise OfficeUnreachable(endpoint, f"the answer is over {self.max_bytes} bytes")
                    if time.monotonic() > deadline:
                        raise OfficeUnreachable(endpoint, f"the answer took over {2 * self.timeout_s:g} s")
                    chunks.append(chunk)
                return url, b"".join(chunks)
        except httpx.TimeoutException:
            raise OfficeUnreachable(endpoint, f"no answer within {self.timeout_s:g} s") from None
        except httpx.HTTPError as err:
            raise OfficeUnreachable(endpoint, f"could not connect: {type(err).__name__}") from None


def _json_object(endpoint: str, body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        raise OfficeUnreachable(endpoint, "the answer is not JSON") from None
    if not isinstance(data, dict):
        raise OfficeUnreachable(endpoint, "the answer is not a JSON object")
    return data
