"""Deep-link fetches go only where the endpoint policy lets them, to the very address it checked: a real
HTTP server on loopback sees what arrives (or that nothing does), a rebinding resolver cannot move the
connection, and an auditor reads the refusal in the gateway's verdict."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from gateway.app_factory import build
from gateway.deep_links import OfficeDocuments, OfficeUnreachable
from gateway.endpoint_policy import EndpointPolicy, IPAddress
from gateway.settings import GatewaySettings
from gateway.verify.signer import GatewaySigner
from tests.gateway.conftest import Registry
from tests.gateway.test_indexer import life


@dataclasses.dataclass(frozen=True)
class Seen:
    path: str
    host: str
    client_port: int


class OfficeServer:
    """A deep-link server on 127.0.0.1 that remembers what it was sent; it knows an empty anchor manifest
    for every root, and no document (404)."""

    def __init__(self) -> None:
        seen: list[Seen] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keeps connections alive, as a real office's server does

            def do_GET(self) -> None:
                seen.append(Seen(self.path, self.headers["Host"], self.client_address[1]))
                found = self.path.startswith("/v1/anchors/")
                body = json.dumps({"items": []} if found else {"title": "Not Found"}).encode()
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.seen = seen
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)


@pytest.fixture
def office() -> Iterator[OfficeServer]:
    server = OfficeServer()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


class Rebinding:
    """A resolver whose answer for a host changes on every question: what DNS rebinding looks like."""

    def __init__(self, host: str, *answers: str) -> None:
        self.host = host
        self.answers = [ip_address(a) for a in answers]
        self.asked: list[str] = []

    def __call__(self, host: str) -> list[IPAddress]:
        assert host == self.host
        self.asked.append(host)
        return [self.answers[min(len(self.asked), len(self.answers)) - 1]]


def test_a_fetch_connects_to_the_address_it_checked_whatever_the_name_resolves_to_next(
    office: OfficeServer,
) -> None:
    resolver = Rebinding("office.example", "127.0.0.1", "127.0.0.2")
    documents = OfficeDocuments(timeout_s=2, policy=EndpointPolicy(allow_private=True, resolver=resolver))
    endpoint = f"http://office.example:{office.port}"
    try:
        assert documents.by_version(endpoint, "EP:PAT:EP1", 1) is None  # the office's 404
        assert [(s.path, s.host) for s in office.seen] == [
            ("/v1/documents/EP:PAT:EP1/1", f"office.example:{office.port}")
        ]
        assert resolver.asked == ["office.example"]  # once for the fetch: the check and the connection

        # the next fetch asks again and goes where that answer says (127.0.0.2, where nothing listens),
        # not to the kept-alive connection to the address the first answer gave
        with pytest.raises(OfficeUnreachable, match="could not connect"):
            documents.by_version(endpoint, "EP:PAT:EP1", 1)
        assert resolver.asked == ["office.example", "office.example"]
        assert len(office.seen) == 1
    finally:
        documents.close()


def test_a_name_resolving_to_loopback_is_refused_before_any_connection(office: OfficeServer) -> None:
    resolver = Rebinding("office.example", "127.0.0.1")
    documents = OfficeDocuments(timeout_s=2, policy=EndpointPolicy(resolver=resolver))
    try:
        with pytest.raises(OfficeUnreachable) as refused:
            documents.by_version(f"http://office.example:{office.port}", "EP:PAT:EP1", 1)
    finally:
        documents.close()
    assert refused.value.reason == (
        "the endpoint's host office.example resolves to 127.0.0.1, a loopback address; "
        "deep links may only reach public addresses (deep_links_allow_private is off)"
    )
    assert office.seen == []


def test_the_default_policy_refuses_a_loopback_endpoint(office: OfficeServer) -> None:
    documents = OfficeDocuments(timeout_s=2)
    try:
        with pytest.raises(OfficeUnreachable) as refused:
            documents.by_hash(f"http://127.0.0.1:{office.port}", b"\x01" * 32)
    finally:
        documents.close()
    assert refused.value.reason.startswith("the endpoint's host is 127.0.0.1, a loopback address;")
    assert office.seen == []


def test_a_name_checked_public_is_fetched_from_that_address_under_its_own_name() -> None:
    """Over https the registered name is the TLS server name, so the certificate is checked against it."""
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(404)

    resolver = Rebinding("office.example", "93.184.215.14", "127.0.0.1")
    policy = EndpointPolicy(resolver=resolver)
    documents = OfficeDocuments(timeout_s=2, transport=httpx.MockTransport(answer), policy=policy)
    try:
        assert documents.anchor_manifest("https://office.example/deep", b"\x02" * 32) is None
    finally:
        documents.close()
    (request,) = sent
    assert str(request.url) == f"https://93.184.215.14/deep/v1/anchors/{'02' * 32}"
    assert request.headers["host"] == "office.example"
    assert request.extensions["sni_hostname"] == "office.example"
    assert resolver.asked == ["office.example"]


def test_a_kept_alive_connection_never_carries_another_host_s_request(office: OfficeServer) -> None:
    """Two names for the same address get a connection each (a TLS session is verified for one name)."""

    def loopback(host: str) -> list[IPAddress]:
        return [ip_address("127.0.0.1")]

    documents = OfficeDocuments(timeout_s=2, policy=EndpointPolicy(allow_private=True, resolver=loopback))
    try:
        for host in ("a.example", "a.example", "b.example"):
            assert documents.anchor_manifest(f"http://{host}:{office.port}", b"\x03" * 32) == {"items": []}
    finally:
        documents.close()
    first, again, other = office.seen
    assert first.client_port == again.client_port  # kept alive for its own host
    assert other.client_port != first.client_port
    assert other.host == f"b.example:{office.port}"


# ------------------------------------------------------------ what an auditor sees


def gateway_client(registry: Registry, folder: Path, allow_private: bool) -> TestClient:
    settings = GatewaySettings(
        data_dir=folder,
        rpc_url=registry.rpc_url,
        contract_address=registry.contract.address,
        confirmations=0,
        deep_links_allow_private=allow_private,
    )
    folder.mkdir()
    app, _indexer = build(settings, GatewaySigner.ephemeral())
    return TestClient(app)


def test_an_auditor_sees_office_unreachable_with_the_reason_when_an_office_endpoint_is_loopback(
    registry: Registry, tmp_path: Path
) -> None:
    right_id = life(registry)  # EP's endpoint on chain is http://127.0.0.1:<port>
    client = gateway_client(registry, tmp_path / "public-only", allow_private=False)
    verdict = client.get(f"/v1/rights/{right_id}/verification").json()
    assert verdict["verdict"] == "office-unreachable"
    checks = {check["name"]: check for check in verdict["checks"]}
    assert checks["chain-state"]["result"] == "pass"
    assert checks["document-fetch"]["result"] == "fail"
    assert checks["document-fetch"]["detail"].endswith(
        "could not be asked: the endpoint's host is 127.0.0.1, a loopback address; "
        "deep links may only reach public addresses (deep_links_allow_private is off)"
    )

    allowed = gateway_client(registry, tmp_path / "private-allowed", allow_private=True)
    assert allowed.get(f"/v1/rights/{right_id}/verification").json()["verdict"] == "authentic-current"
