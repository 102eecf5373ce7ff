"""The verification, receipt and key routes, mounted on an app of their own over the same world."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import World  # type: ignore[import-not-found]  # this folder's conftest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.api.errors import install_gateway_error_handlers
from gateway.api.routes import keys, receipts, verification
from gateway.verify.receipt_evidence import check_receipt
from gateway.verify.signer import check_gateway_signature
from registry_node.protocol.http.problems import install_problem_openapi

UPLOAD_LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def client(world: World) -> TestClient:
    app = FastAPI()
    app.state.services = SimpleNamespace(
        settings=SimpleNamespace(max_upload_bytes=UPLOAD_LIMIT),
        verifier=world.verifier,
        signer=world.signer,
    )
    for module in (verification, receipts, keys):
        app.include_router(module.router)
    install_gateway_error_handlers(app)
    install_problem_openapi(app)
    return TestClient(app)


def test_a_verdict_is_signed_by_the_key_published_at_v1_keys(client: TestClient, world: World) -> None:
    rid = world.facts["three_versions"].replace(":", "%3A")
    answer = client.get(f"/v1/rights/{rid}/verification")
    assert answer.status_code == 200
    body = answer.json()
    assert body["verdict"] == "authentic-current"
    published = client.get("/v1/keys").json()["items"]
    assert check_gateway_signature(body, bytes.fromhex(published[0]["publicKey"]))[0]


def test_a_verdict_with_fields_left_unknown_is_signed_as_it_is_served(client: TestClient) -> None:
    answer = client.post("/v1/verifications", content=b"a file the registry never heard of")
    body = answer.json()
    assert body["verdict"] == "unknown" and "rightId" not in body and "version" not in body
    published = client.get("/v1/keys").json()["items"]
    assert check_gateway_signature(body, bytes.fromhex(published[0]["publicKey"])) == (
        True,
        f"signed by gateway key {published[0]['keyId']}",
    )


def test_a_stated_block_is_honoured(client: TestClient, world: World) -> None:
    answer = client.get(f"/v1/rights/{world.facts['three_versions']}/verification", params={"block": 1})
    assert answer.json()["verdict"] == "unknown"
    assert answer.json()["block"]["number"] == 1


def test_a_bad_right_id_is_a_problem(client: TestClient) -> None:
    answer = client.get("/v1/rights/not-a-right/verification")
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["errors"][0]["field"] == "rightId"


def test_an_upload_as_raw_body_and_as_multipart(client: TestClient, world: World) -> None:
    document = json.dumps(world.document("EP", world.facts["three_versions"], 1)).encode()
    raw = client.post("/v1/verifications", content=document, headers={"content-type": "application/json"})
    assert raw.json()["verdict"] == "authentic-superseded"
    form = client.post("/v1/verifications", files={"file": ("record.json", document, "application/json")})
    assert form.status_code == 200, form.text
    assert form.json()["verdict"] == "authentic-superseded"
    assert form.json()["subject"]["filename"] == "record.json"


def test_an_upload_over_the_limit_is_413_before_it_is_read_whole(client: TestClient) -> None:
    answer = client.post("/v1/verifications", content=b"x" * (UPLOAD_LIMIT + 1))
    assert answer.status_code == 413
    assert answer.json()["type"].endswith("payload-too-large")

    def chunks() -> Any:
        for _ in range(100):
            yield b"y" * 4096

    streamed = client.post("/v1/verifications", content=chunks())
    assert streamed.status_code == 413


def test_a_receipt_from_the_api_checks_out(client: TestClient, world: World) -> None:
    answer = client.get(f"/v1/rights/{world.facts['three_versions']}/receipt")
    assert answer.status_code == 200
    result = check_receipt(answer.json(), world.rpc_url, world.signer.key.public_key)
    assert result.ok, result.report()


def test_no_receipt_for_a_confidential_or_unknown_right(client: TestClient, world: World) -> None:
    assert client.get(f"/v1/rights/{world.facts['confidential']}/receipt").status_code == 409
    assert client.get("/v1/rights/EP:PAT:EP9999999/receipt").status_code == 404
