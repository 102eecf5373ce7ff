"""Back files anchored by Merkle roots, end to end: an office node imports rights in anchor mode (one
`Anchors.anchor` transaction for the batch), the gateway indexes the root, fetches and checks the office's
manifest, verifies an anchored record by its inclusion proof at a stated block, issues a receipt carrying
the proof that `ipreg verify`'s checker accepts, and follows the right once the office changes it (it then
gets per-right state)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.app_factory import build
from gateway.read_model.indexer import Indexer
from gateway.settings import GatewaySettings
from gateway.verify.receipt_evidence import check_receipt
from gateway.verify.signer import GatewaySigner
from registry_node.protocol.records import OwnershipChange, Right
from tests.gateway.conftest import Registry, running_registry


def patent(number: str) -> Right:
    return Right.model_validate(
        {
            "rightId": f"EP:PAT:{number}",
            "rightKindCategory": "patent",
            "applicationNumberText": number,
            "inventionTitle": f"Back-file invention {number}",
            "ownerBag": [{"name": "Vintage Patents Ltd", "countryCode": "GB"}],
            "legalStatus": {"stateCode": "A", "stageCode": 4, "keyEventCode": "F10"},
        }
    )


@pytest.fixture(scope="module")
def anchored(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Registry, TestClient, Indexer, list[str]]]:
    base = tmp_path_factory.mktemp("anchored")
    with running_registry(base, serving=("EP",)) as registry:
        rights = [patent(f"EP19{n:06d}") for n in range(1, 8)]
        node = registry.nodes["EP"]
        result = node.office.anchor_many([(r, None) for r in rights], batch_size=4)
        assert len(result.anchors) == 2  # 7 records in batches of 4: two roots
        node.worker.drain()
        settings = GatewaySettings(
            data_dir=base / "gateway", rpc_url=registry.rpc_url, contract_address=registry.contract.address,
            confirmations=0, deep_links_allow_private=True,  # the office serves on loopback
        )  # fmt: skip
        settings.data_dir.mkdir()
        app, indexer = build(settings, GatewaySigner.ephemeral())
        indexer.run_once()
        indexer.enrich_once()
        yield registry, TestClient(app), indexer, [r.rightId for r in rights]


def test_the_gateway_indexes_each_root_and_checks_the_offices_manifest(anchored: Any) -> None:
    client = anchored[1]
    page = client.get("/v1/anchors").json()
    assert page["count"] == 2
    for item in page["items"]:
        anchor = client.get(f"/v1/anchors/{item['root']}").json()
        assert anchor["officeCode"] == "EP" and anchor["count"] in (3, 4)
        assert anchor.get("status", "verified") == "verified", anchor


def test_an_anchored_record_is_authentic_by_its_inclusion_proof(anchored: Any) -> None:
    _, client, _, rights = anchored
    verdict = client.get(f"/v1/rights/{rights[0]}/verification").json()
    assert verdict["verdict"] == "authentic-current", verdict
    checks = {c["name"]: c["result"] for c in verdict["checks"]}
    assert any("merkle" in name or "anchor" in name for name in checks), checks
    assert all(result != "fail" for result in checks.values()), checks


def test_an_anchored_record_gets_a_receipt_with_its_proof_that_verifies_offline(anchored: Any) -> None:
    registry, client, _, rights = anchored
    answer = client.get(f"/v1/rights/{rights[1]}/receipt")
    assert answer.status_code == 200, answer.text
    receipt = answer.json()
    assert receipt["anchor"] is not None and receipt["anchor"]["proof"]
    offline, on_node = check_receipt(receipt), check_receipt(receipt, registry.rpc_url)
    assert offline.consistent and offline.outcome == "unbound", offline.report()  # ganache: no validators
    assert on_node.ok, on_node.report()
    online = client.get(
        f"/v1/rights/{rights[1]}/verification", params={"block": receipt["chain"]["blockNumber"]}
    )
    assert offline.verdict is not None and on_node.verdict is not None
    names = [c["name"] for c in online.json()["checks"]]
    assert "merkle-proof" in names
    assert names == [c.name for c in offline.checks] == [c.name for c in on_node.verdict.checks]
    assert (
        online.json()["verdict"] == offline.verdict.verdict == on_node.verdict.verdict == "authentic-current"
    )
    receipt["anchor"]["proof"][0] = "0x" + "00" * 32
    assert not check_receipt(receipt).consistent


def test_a_changed_anchored_right_is_followed_with_per_right_state(anchored: Any, tmp_path: Path) -> None:
    registry, client, indexer, rights = anchored
    node = registry.nodes["EP"]
    change = OwnershipChange.model_validate(
        {
            "conveyanceCategory": "assignment",
            "assignorBag": [{"name": "Vintage Patents Ltd"}],
            "assigneeBag": [{"name": "Modern Holdings plc", "countryCode": "GB"}],
            "effectiveDate": "2025-01-01",
            "recordalDate": "2025-02-01",
            "rightIdBag": [rights[2]],
            "evidenceDocumentHash": hashlib.sha256(b"deed").hexdigest(),
        }
    )
    node.office.record_ownership_change(rights[2], 1, change)
    node.worker.drain()
    indexer.run_once()
    indexer.enrich_once()
    right = client.get(f"/v1/rights/{rights[2]}").json()
    assert right["version"] == 2
    assert [e["action"] for e in client.get(f"/v1/rights/{rights[2]}/history").json()["items"]] == [
        "registration",
        "ownershipChange",
    ]
    assert client.get(f"/v1/rights/{rights[2]}/verification").json()["verdict"] == "authentic-current"
