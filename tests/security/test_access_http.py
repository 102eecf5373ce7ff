"""Who may do what over HTTP: every cell of README's access table (HTTP layer), against a real EP node app
and a real gateway app over one real chain.

Actors: EP's operator (the bearer token), a caller with a wrong token, a caller without one (anyone, an
auditor), and EP's operator asking about another office's right.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.app_factory import build
from gateway.deep_links import OfficeDocuments
from gateway.endpoint_policy import EndpointPolicy
from gateway.settings import GatewaySettings
from gateway.verify.signer import GatewaySigner
from registry_node.node.api import create_app as create_node_app
from registry_node.node.office import Office
from registry_node.node.onchain import ContractChainView
from registry_node.node.outbox import OutboxWorker
from registry_node.node.settings import NodeSettings, token_digest
from registry_node.node.store import Store
from registry_node.protocol.keys import OfficeSigningKey, SigningAlgorithm
from tests.support.chain import FreshChain, GanacheFactory, deploy_fresh

TOKEN = "ep-operator-token"
OTHER_TOKEN = "someone-elses-token"
EVIDENCE = hashlib.sha256(b"deed").hexdigest()


def right_json(right_id: str) -> dict[str, Any]:
    return {
        "rightId": right_id,
        "rightKindCategory": "patent",
        "applicationNumberText": right_id.split(":")[2],
        "ownerBag": [{"name": "Acme SA", "countryCode": "FR"}],
        "legalStatus": {"stateCode": "A", "stageCode": 2, "keyEventCode": "D10"},
    }


def change_json(right_id: str) -> dict[str, Any]:
    return {
        "conveyanceCategory": "assignment",
        "assignorBag": [{"name": "Acme SA"}],
        "assigneeBag": [{"name": "Beta AG", "countryCode": "CH"}],
        "effectiveDate": "2026-02-01",
        "recordalDate": "2026-03-15",
        "rightIdBag": [right_id],
        "evidenceDocumentHash": EVIDENCE,
    }


@dataclass
class World:
    chain: FreshChain
    node: TestClient
    store: Store
    worker: OutboxWorker
    gateway: TestClient
    published: str
    confidential: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("access-http")
    factory = GanacheFactory(base)
    documents = OfficeDocuments(timeout_s=2, policy=EndpointPolicy(allow_private=True))
    try:
        fresh = deploy_fresh(factory)
        settings = NodeSettings(
            office_code="EP",
            office_name="European Patent Office",
            data_dir=base / "ep",
            operator_token_sha256=token_digest(TOKEN),
            contract_address=fresh.contract.address,
        )
        settings.data_dir.mkdir()
        store = Store(settings.store_path)
        office = Office("EP", store, OfficeSigningKey.generate(SigningAlgorithm.ED25519))
        node = TestClient(create_node_app(settings, office, store, ContractChainView(fresh.contract)))
        worker = OutboxWorker(store, fresh.w3, fresh.contract, fresh.offices["EP"])
        auth = {"Authorization": f"Bearer {TOKEN}"}
        published, confidential = "EP:PAT:ACCESS1", "EP:PAT:ACCESS2"
        assert node.post("/v1/rights", json={"right": right_json(published)}, headers=auth).status_code == 202
        body = {"right": right_json(confidential), "confidential": True}
        assert node.post("/v1/rights", json=body, headers=auth).status_code == 202
        worker.drain()
        gateway_settings = GatewaySettings(
            data_dir=base / "gateway", rpc_url=fresh.chain.rpc_url, contract_address=fresh.contract.address,
            confirmations=0, deep_links_allow_private=True,  # offices of the test chain are on loopback
        )  # fmt: skip
        gateway_settings.data_dir.mkdir()
        app, indexer = build(gateway_settings, GatewaySigner.ephemeral())
        indexer.run_once()
        indexer.enrich_once()
        yield World(fresh, node, store, worker, TestClient(app), published, confidential)
    finally:
        documents.close()
        factory.stop_all()


def headers(who: str) -> dict[str, str]:
    return {
        "operator": {"Authorization": f"Bearer {TOKEN}"},
        "wrong token": {"Authorization": f"Bearer {OTHER_TOKEN}"},
        "anyone": {},
    }[who]


def node_call(world: World, action: str, who: str) -> Any:
    h = headers(who)
    if action == "create a right":
        return world.node.post("/v1/rights", json={"right": right_json("EP:PAT:ACCESS9")}, headers=h)
    if action == "record an ownership change":
        body = {"expectedVersion": 1, "change": change_json(world.published)}
        return world.node.post(f"/v1/rights/{world.published}/ownership-changes", json=body, headers=h)
    if action == "import ST.96 files":
        body = {"files": [{"name": "a.xml", "content": base64.b64encode(b"<x/>").decode()}]}
        return world.node.post("/v1/imports", json=body, headers=h)
    if action == "read a right with its local state":
        return world.node.get(f"/v1/rights/{world.published}", headers=h)
    if action == "list the outbox":
        return world.node.get("/v1/outbox", headers=h)
    if action == "read a published document":
        return world.node.get(f"/v1/documents/{world.published}/1", headers=h)
    if action == "read a confidential document":
        return world.node.get(f"/v1/documents/{world.confidential}/1", headers=h)
    raise AssertionError(action)


# (action, who, status): the node rows of README's access table
NODE_CELLS = [
    ("create a right", "wrong token", 401),
    ("create a right", "anyone", 401),
    ("record an ownership change", "wrong token", 401),
    ("record an ownership change", "anyone", 401),
    ("import ST.96 files", "wrong token", 401),
    ("import ST.96 files", "anyone", 401),
    ("read a right with its local state", "operator", 200),
    ("read a right with its local state", "wrong token", 401),
    ("read a right with its local state", "anyone", 401),
    ("list the outbox", "operator", 200),
    ("list the outbox", "anyone", 401),
    ("read a published document", "operator", 200),
    ("read a published document", "anyone", 200),
    ("read a confidential document", "operator", 404),
    ("read a confidential document", "anyone", 404),
]


@pytest.mark.parametrize(("action", "who", "status"), NODE_CELLS)
def test_node_access_cell(world: World, action: str, who: str, status: int) -> None:
    before = (len(world.store.outbox()), len(world.store.right_ids()))
    answer = node_call(world, action, who)
    assert answer.status_code == status, answer.text
    if status >= 400:
        assert answer.headers["content-type"] == "application/problem+json"
    assert (len(world.store.outbox()), len(world.store.right_ids())) == before  # nothing stored


def test_the_operator_writes_and_the_change_is_accepted(world: World) -> None:
    answer = node_call(world, "record an ownership change", "operator")
    assert answer.status_code == 202, answer.text
    world.worker.drain()


def test_the_operator_cannot_change_another_offices_right_through_its_node(world: World) -> None:
    before = len(world.store.outbox())
    body = {"right": right_json("GB:PAT:ACCESS3")}
    answer = world.node.post("/v1/rights", json=body, headers=headers("operator"))
    assert answer.status_code == 403 and answer.headers["content-type"] == "application/problem+json"
    assert len(world.store.outbox()) == before


@pytest.mark.parametrize(
    "path",
    ["/v1/rights", "/v1/status", "/v1/offices", "/v1/keys", "/v1/rights/EP:PAT:ACCESS1/history"],
)
def test_anyone_reads_the_gateway(world: World, path: str) -> None:
    assert world.gateway.get(path).status_code == 200


def test_the_gateway_has_no_write_route_and_sets_security_headers(world: World) -> None:
    answer = world.gateway.post("/v1/rights", json={"right": right_json("EP:PAT:ACCESS8")})
    assert answer.status_code == 405 and answer.headers["content-type"] == "application/problem+json"
    page = world.gateway.get("/v1/rights")
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "access-control-allow-origin" not in page.headers  # no CORS unless configured


def test_both_servers_listen_on_localhost_unless_configured(tmp_path: Path) -> None:
    node = NodeSettings(
        office_code="EP", office_name="EPO", data_dir=tmp_path, operator_token_sha256=token_digest("t")
    )
    assert node.listen_host == "127.0.0.1"
    assert GatewaySettings(data_dir=tmp_path).listen_host == "127.0.0.1"
