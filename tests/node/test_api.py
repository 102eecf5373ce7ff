"""The node's API against a real store, a real office and the deployed contract on a real ganache.

The outbox worker runs in-process (`drain`), so a test sees each change reach the chain; every refusal is
checked as a user sees it: the status, problem+json naming the field, and nothing stored.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import itertools
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest

from registry_node.node.api import create_app
from registry_node.node.api.routes import imports
from registry_node.node.office import Office
from registry_node.node.onchain import ContractChainView, OnChainRight
from registry_node.node.outbox import OutboxWorker
from registry_node.node.settings import NodeSettings, token_digest
from registry_node.node.store import OutboxState, Store
from registry_node.protocol.chain import ChainError
from registry_node.protocol.contract import RightState
from registry_node.protocol.keys import OfficeSigningKey, SigningAlgorithm
from registry_node.protocol.records import Right, canonical_bytes
from registry_node.protocol.signing import DetachedSignature, verify_signature
from registry_node.protocol.st96 import POOL_MIN_DOCUMENTS

with warnings.catch_warnings():  # starlette's TestClient announces a future move to httpx2
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

if TYPE_CHECKING:
    from conftest import Consortium

TOKEN = "operator-token-for-tests"
MAX_BODY = 16 * 1024
PROBLEM_JSON = "application/problem+json"
EVIDENCE = hashlib.sha256(b"deed of assignment").hexdigest()
_numbers = itertools.count(1)


def new_right_id(office: str = "EP") -> str:
    """A right id no other test of the module used (they share one chain)."""
    return f"{office}:PAT:{office}2024{next(_numbers):06d}"


def right_json(right_id: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "rightId": right_id,
        "rightKindCategory": "patent",
        "applicationNumberText": right_id.split(":")[2],
        "filingDate": "2024-03-01",
        "inventionTitle": "Verfahren zur Herstellung von Käse",
        "ownerBag": [{"name": "Société Générale de Fromage", "countryCode": "FR"}],
        "legalStatus": {"stateCode": "A", "stageCode": 2, "keyEventCode": "D10"},
    }
    return data | changes


def change_json(right_id: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "conveyanceCategory": "assignment",
        "assignorBag": [{"name": "Société Générale de Fromage", "executionDate": "2026-02-01"}],
        "assigneeBag": [{"name": "Fromagerie Nouvelle SA", "countryCode": "CH"}],
        "effectiveDate": "2026-02-01",
        "recordalDate": "2026-03-15",
        "rightIdBag": [right_id],
        "evidenceDocumentHash": EVIDENCE,
    }
    return data | changes


def grant_event_json() -> dict[str, Any]:
    return {
        "status": {"stateCode": "A", "stageCode": 4, "keyEventCode": "F10"},
        "previousStageCode": 2,
        "eventDate": "2026-04-01",
        "effectiveDate": "2026-04-01",
    }


class Node(NamedTuple):
    client: TestClient
    store: Store
    office: Office
    worker: OutboxWorker
    signing_key: OfficeSigningKey
    consortium: Consortium

    def post(self, path: str, body: Any, token: str | None = TOKEN, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.post(path, json=body, headers=headers, **kwargs)

    def get(self, path: str, token: str | None = TOKEN) -> Any:
        return self.client.get(path, headers={"Authorization": f"Bearer {token}"} if token else {})

    def register(self, right_id: str, confidential: bool = False) -> dict[str, Any]:
        answer = self.post("/v1/rights", {"right": right_json(right_id), "confidential": confidential})
        assert answer.status_code == 202, answer.text
        return dict(answer.json())

    def nothing_stored(self) -> bool:
        return self.store.outbox() == [] and self.store.right_ids() == []


def settings_for(tmp_path: Path, consortium: Consortium) -> NodeSettings:
    return NodeSettings(
        office_code="EP",
        office_name="European Patent Office",
        data_dir=tmp_path,
        operator_token_sha256=token_digest(TOKEN),
        contract_address=consortium.deployment.address,
        chain_id=consortium.deployment.chain_id,
        public_url="https://registry.ep.example",
        max_body_bytes=MAX_BODY,
    )


@contextlib.contextmanager
def serving(settings: NodeSettings, consortium: Consortium) -> Iterator[Node]:
    """EP's node app over a fresh store and key, with its outbox worker (drained by the test)."""
    store = Store(settings.store_path)
    key = OfficeSigningKey.generate(SigningAlgorithm.ED25519)
    office = Office("EP", store, key)
    app = create_app(settings, office, store, ContractChainView(consortium.contract))
    worker = OutboxWorker(store, consortium.w3, consortium.contract, consortium.offices["EP"])
    with TestClient(app) as client:
        yield Node(client, store, office, worker, key, consortium)


@pytest.fixture
def node(tmp_path: Path, consortium: Consortium) -> Iterator[Node]:
    with serving(settings_for(tmp_path, consortium), consortium) as node:
        yield node


def assert_problem(answer: Any, status: int, field: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM_JSON
    problem = dict(answer.json())
    assert set(problem) == {"type", "title", "status", "detail", "errors"}
    assert problem["status"] == status
    assert problem["type"].startswith("urn:ipreg:problem:")
    assert field in [e["field"] for e in problem["errors"]], problem
    return problem


# ---------------------------------------------------------------- the life of a right


def test_a_right_is_registered_changed_and_each_version_reaches_the_chain(node: Node) -> None:
    right_id = new_right_id()
    answer = node.post("/v1/rights", {"right": right_json(right_id)})
    assert answer.status_code == 202
    accepted = answer.json()
    assert accepted["rightId"] == right_id and accepted["version"] == 1
    assert accepted["status"] == "pending"
    assert answer.headers["location"] == f"/v1/outbox/{accepted['outboxId']}"
    assert node.get(answer.headers["location"]).json()["state"] == "pending"

    node.worker.drain()
    shown = node.get(f"/v1/rights/{right_id}").json()
    assert shown["version"] == 1
    assert shown["onChain"] == {"version": 1, "matchesLocal": True}
    assert shown["record"]["right"]["rightId"] == right_id
    assert hashlib.sha256(canonical_bytes(shown["record"])).hexdigest() == accepted["recordHash"]
    assert node.get(answer.headers["location"]).json()["state"] == "confirmed"

    answer = node.post(
        f"/v1/rights/{right_id}/ownership-changes", {"expectedVersion": 1, "change": change_json(right_id)}
    )
    assert answer.status_code == 202 and answer.json()["version"] == 2
    behind = node.get(f"/v1/rights/{right_id}").json()
    assert behind["version"] == 2 and behind["onChain"] == {"version": 1, "matchesLocal": False}
    node.worker.drain()
    shown = node.get(f"/v1/rights/{right_id}").json()
    assert shown["onChain"] == {"version": 2, "matchesLocal": True}
    assert shown["record"]["right"]["ownerBag"] == [{"name": "Fromagerie Nouvelle SA", "countryCode": "CH"}]

    answer = node.post(
        f"/v1/rights/{right_id}/status-events", {"expectedVersion": 2, "event": grant_event_json()}
    )
    assert answer.status_code == 202 and answer.json()["version"] == 3
    node.worker.drain()
    shown = node.get(f"/v1/rights/{right_id}").json()
    assert shown["onChain"] == {"version": 3, "matchesLocal": True}
    assert shown["record"]["right"]["legalStatus"]["keyEventCode"] == "F10"
    assert shown["documentUrl"] == f"https://registry.ep.example/v1/documents/{right_id}/3"
    assert node.client.get(f"/v1/documents/{right_id}/3").json()["record"] == shown["record"]


def test_a_confidential_right_is_served_only_once_published_and_its_signature_verifies(node: Node) -> None:
    key = node.signing_key
    node.consortium.transactors["EP"].send(
        node.consortium.contract.functions.addSigningKey(
            key.key_id, key.algorithm.chain_value, key.public_key_bytes
        )
    )
    right_id = new_right_id()
    node.register(right_id, confidential=True)
    node.worker.drain()
    shown = node.get(f"/v1/rights/{right_id}").json()
    assert shown["confidential"] is True and shown["documentUrl"] is None
    assert shown["onChain"] == {"version": 1, "matchesLocal": True}

    hidden = node.client.get(f"/v1/documents/{right_id}/1")
    missing = node.client.get(f"/v1/documents/{new_right_id()}/1")
    problem = assert_problem(hidden, 404, "version")
    assert_problem(missing, 404, "version")
    assert hidden.content == missing.content
    assert right_id not in json.dumps(problem)
    sealed_hash = node.get(f"/v1/rights/{right_id}").json()["recordHash"]
    hidden_by_hash = node.client.get("/v1/documents", params={"recordHash": sealed_hash})
    assert hidden_by_hash.status_code == 404 and hidden_by_hash.content == missing.content

    answer = node.post(f"/v1/rights/{right_id}/publication", {"expectedVersion": 1})
    assert answer.status_code == 202 and answer.json()["version"] == 2
    node.worker.drain()
    assert node.get(f"/v1/rights/{right_id}").json()["onChain"] == {"version": 2, "matchesLocal": True}

    for version in (1, 2):
        answer = node.client.get(f"/v1/documents/{right_id}/{version}")
        assert answer.status_code == 200, answer.text
        document = answer.json()
        canonical = base64.b64decode(document["canonical"])
        assert json.loads(canonical) == document["record"]
        assert hashlib.sha256(canonical).hexdigest() == document["recordHash"]
        assert document["sourceXml"] is None
        signature = DetachedSignature.from_json(document["signature"])
        registered = node.consortium.contract.functions.signingKey(b"EP", signature.key_id).call()
        algorithm = SigningAlgorithm.from_chain_value(registered[1])
        assert verify_signature(canonical, signature, bytes(registered[4]), algorithm)
        assert not verify_signature(canonical + b" ", signature, bytes(registered[4]), algorithm)
        # publication reveals version 1's record: both versions carry its hash; the link names the latest
        by_hash = node.client.get("/v1/documents", params={"recordHash": document["recordHash"]})
        assert by_hash.status_code == 200 and by_hash.json() == {**document, "version": 2}


def test_a_document_imported_from_st96_carries_its_source_xml(node: Node) -> None:
    right_id = new_right_id()
    source = "<pat:PatentPublication>Käse</pat:PatentPublication>".encode()
    node.office.register(Right.model_validate(right_json(right_id)), source_xml=source)
    document = node.client.get(f"/v1/documents/{right_id}/1").json()
    assert base64.b64decode(document["sourceXml"]) == source


def test_the_outbox_lists_entries_by_state_in_pages(node: Node) -> None:
    ids = [node.register(new_right_id())["outboxId"] for _ in range(3)]
    first = node.get("/v1/outbox?limit=2").json()
    assert [e["id"] for e in first["items"]] == ids[:2] and first["nextOffset"] == 2
    rest = node.get("/v1/outbox?limit=2&offset=2").json()
    assert [e["id"] for e in rest["items"]] == ids[2:] and rest["nextOffset"] is None
    assert len(node.get("/v1/outbox?state=pending").json()["items"]) == 3

    node.worker.drain()
    assert node.get("/v1/outbox?state=pending").json()["items"] == []
    confirmed = node.get("/v1/outbox?state=confirmed").json()["items"]
    assert [e["id"] for e in confirmed] == ids
    assert all(e["txHash"] and e["blockNumber"] for e in confirmed)
    assert_problem(node.get("/v1/outbox/999999"), 404, "request")
    assert_problem(node.get("/v1/outbox?limit=501"), 400, "limit")
    assert_problem(node.get("/v1/outbox?state=lost"), 400, "state")


class DownChain:
    def right(self, right_id: str, state: RightState) -> OnChainRight:
        raise ChainError("the chain did not answer: ConnectionError")


def test_a_right_is_shown_from_the_store_while_the_chain_is_down(
    tmp_path: Path, consortium: Consortium
) -> None:
    settings = settings_for(tmp_path, consortium)
    store = Store(settings.store_path)
    app = create_app(settings, Office("EP", store, OfficeSigningKey.generate()), store, DownChain())
    client = TestClient(app)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    right_id = new_right_id()
    assert client.post("/v1/rights", json={"right": right_json(right_id)}, headers=auth).status_code == 202
    shown = client.get(f"/v1/rights/{right_id}", headers=auth).json()
    assert shown["version"] == 1 and shown["onChain"] is None
    assert "did not answer" in shown["onChainError"]


class BrokenChain:
    def right(self, right_id: str, state: RightState) -> OnChainRight:
        raise RuntimeError("a bug")


def test_an_unexpected_error_is_a_500_problem_without_details(tmp_path: Path, consortium: Consortium) -> None:
    settings = settings_for(tmp_path, consortium)
    store = Store(settings.store_path)
    app = create_app(settings, Office("EP", store, OfficeSigningKey.generate()), store, BrokenChain())
    client = TestClient(app, raise_server_exceptions=False)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    right_id = new_right_id()
    assert client.post("/v1/rights", json={"right": right_json(right_id)}, headers=auth).status_code == 202
    answer = client.get(f"/v1/rights/{right_id}", headers=auth)
    assert answer.status_code == 500 and answer.headers["content-type"] == PROBLEM_JSON
    assert "a bug" not in answer.text


# ---------------------------------------------------------------- refusals: a clear 4xx, nothing stored


def test_a_change_to_an_unknown_right_is_404(node: Node) -> None:
    right_id = new_right_id()
    answer = node.post(
        f"/v1/rights/{right_id}/ownership-changes", {"expectedVersion": 1, "change": change_json(right_id)}
    )
    assert_problem(answer, 404, "rightId")
    assert_problem(node.get(f"/v1/rights/{right_id}"), 404, "rightId")
    assert node.nothing_stored()


def test_a_change_that_expects_another_version_is_409_and_not_stored(node: Node) -> None:
    right_id = new_right_id()
    node.register(right_id)
    answer = node.post(
        f"/v1/rights/{right_id}/ownership-changes", {"expectedVersion": 2, "change": change_json(right_id)}
    )
    problem = assert_problem(answer, 409, "expectedVersion")
    assert "is at version 1, not 2" in problem["detail"]
    assert_problem(node.post("/v1/rights", {"right": right_json(right_id)}), 409, "expectedVersion")
    assert len(node.store.outbox()) == 1 and node.store.right_version(right_id) == 1


def test_the_ep_node_refuses_a_gb_right_with_403_and_stores_nothing(node: Node) -> None:
    gb_right = new_right_id("GB")
    problem = assert_problem(node.post("/v1/rights", {"right": right_json(gb_right)}), 403, "rightId")
    assert "belongs to office GB" in problem["detail"]
    answer = node.post(
        f"/v1/rights/{gb_right}/ownership-changes", {"expectedVersion": 1, "change": change_json(gb_right)}
    )
    assert_problem(answer, 403, "rightId")
    assert node.nothing_stored()


def test_a_body_over_the_limit_is_413_whether_declared_or_streamed(node: Node) -> None:
    right = right_json(new_right_id(), inventionTitle="x" * 1000)
    body = json.dumps({"right": right, "confidential": False, "padding": " " * MAX_BODY}).encode()
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}

    declared = node.client.post("/v1/rights", content=body, headers=headers)
    assert_problem(declared, 413, "body")

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    streamed = node.client.post("/v1/rights", content=chunks(), headers=headers)
    assert_problem(streamed, 413, "body")
    assert node.nothing_stored()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"right": right_json("EP:PAT:EP1", filingDate="2024-13-01")}, "right.filingDate"),
        ({"right": right_json("EP:PAT:EP1", filingDate="1.3.2024")}, "right.filingDate"),
        ({"right": right_json("EP:PAT:EP1", colour="red")}, "right.colour"),
        ({"right": right_json("EP:PAT:EP1"), "confidentail": True}, "confidentail"),
        ({"right": right_json("EP:PAT:EP1"), "confidential": "yes"}, "confidential"),
        ({"right": right_json("EP:PAT:EP1", ownerBag=[])}, "right.ownerBag"),
        ({"right": right_json("EP:PAT:EP1", ownerBag=[{"nom": "x"}])}, "right.ownerBag[0].nom"),
        ({"right": right_json("ep:pat:1")}, "right.rightId"),
        ({}, "right"),
    ],
)
def test_an_invalid_right_is_422_naming_the_field(node: Node, body: dict[str, Any], field: str) -> None:
    assert_problem(node.post("/v1/rights", body), 422, field)
    assert node.nothing_stored()


def transfer_body(expected: Any = 1, **changes: Any) -> dict[str, Any]:
    return {"expectedVersion": expected, "change": change_json("EP:PAT:EP1", **changes)}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (transfer_body(effectiveDate="2026-02-30x"), "change.effectiveDate"),
        (transfer_body(conveyanceCategory="gift"), "change.conveyanceCategory"),
        (transfer_body(evidenceDocumentHash="ABC"), "change.evidenceDocumentHash"),
        (transfer_body(expected="1"), "expectedVersion"),
        (transfer_body(expected=0), "expectedVersion"),
        (transfer_body() | {"note": "x"}, "note"),
    ],
)
def test_an_invalid_ownership_change_is_422_naming_the_field(
    node: Node, body: dict[str, Any], field: str
) -> None:
    assert_problem(node.post("/v1/rights/EP:PAT:EP1/ownership-changes", body), 422, field)
    assert node.nothing_stored()


def test_a_change_that_does_not_cover_the_right_is_refused_naming_the_field(node: Node) -> None:
    right_id = new_right_id()
    node.register(right_id)
    change = change_json(right_id, rightIdBag=["EP:PAT:EP999"])
    answer = node.post(f"/v1/rights/{right_id}/ownership-changes", {"expectedVersion": 1, "change": change})
    assert_problem(answer, 400, "rightIdBag")
    assert node.store.right_version(right_id) == 1


def test_an_invalid_status_event_is_422_naming_the_field(node: Node) -> None:
    event = grant_event_json() | {"eventDate": "2026-04-31", "effectiveDate": "26-04-01"}
    answer = node.post("/v1/rights/EP:PAT:EP1/status-events", {"expectedVersion": 1, "event": event})
    problem = assert_problem(answer, 422, "event.effectiveDate")
    assert "ISO 8601" in problem["detail"]
    assert node.nothing_stored()


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/rights/ep:pat:1", "rightId"),
        ("/v1/rights/EP:PAT:", "rightId"),
        ("/v1/rights/EP:XYZ:123/publication", "rightId"),
        ("/v1/rights/EP:PAT:1%20", "rightId"),
        ("/v1/rights/EP:PAT:1%0A2", "rightId"),  # a newline: Starlette's `path` convertor matched no route
        ("/v1/rights/EP:PAT:1%0A/publication", "rightId"),
        ("/v1/rights/EP:PAT:" + "1" * 41, "rightId"),
        ("/v1/outbox/abc", "entryId"),
        ("/v1/outbox/0", "entryId"),
    ],
)
def test_a_malformed_path_is_400_naming_the_parameter(node: Node, path: str, field: str) -> None:
    answer = node.get(path) if "publication" not in path else node.post(path, {"expectedVersion": 1})
    assert_problem(answer, 400, field)


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/documents/EP:PAT:1/0", "version"),
        ("/v1/documents/EP:PAT:1/abc", "version"),
        ("/v1/documents/EP:PAT:1/99999999999999999999999", "version"),
        ("/v1/documents/not-a-right/1", "rightId"),
        ("/v1/documents/EP:PAT:1%0A2/1", "rightId"),
        ("/v1/documents?recordHash=ABC", "recordHash"),
        ("/v1/documents", "recordHash"),
    ],
)
def test_a_malformed_deep_link_is_400_never_500(node: Node, path: str, field: str) -> None:
    assert_problem(node.client.get(path), 400, field)


def test_malformed_json_is_400(node: Node) -> None:
    answer = node.client.post(
        "/v1/rights",
        content=b'{"right": ',
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    assert_problem(answer, 400, "body")
    assert node.nothing_stored()


@pytest.mark.parametrize("token", [None, "not-the-token", TOKEN + "x"])
def test_writes_and_operator_reads_need_the_operator_token(node: Node, token: str | None) -> None:
    right_id = new_right_id()
    problem = assert_problem(
        node.post("/v1/rights", {"right": right_json(right_id)}, token=token), 401, "Authorization"
    )
    assert TOKEN not in json.dumps(problem)
    answer = node.post(f"/v1/rights/{right_id}/publication", {"expectedVersion": 1}, token=token)
    assert_problem(answer, 401, "Authorization")
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert_problem(node.get("/v1/outbox", token=token), 401, "Authorization")
    assert_problem(node.get(f"/v1/rights/{right_id}", token=token), 401, "Authorization")
    assert node.nothing_stored()


def test_an_unknown_route_or_method_is_a_problem_too(node: Node) -> None:
    assert_problem(node.get("/v1/nothing-here"), 404, "request")
    assert_problem(node.client.delete("/v1/outbox"), 405, "request")


# ---------------------------------------------------------------- the contract: OpenAPI


def test_openapi_names_every_operation_and_documents_problems(node: Node) -> None:
    spec = node.client.get("/openapi.json").json()
    operations = {(method, path): op for path, item in spec["paths"].items() for method, op in item.items()}
    assert {op["operationId"] for op in operations.values()} == {
        "createRight", "recordOwnershipChange", "recordStatusEvent", "publishRight", "readRight",
        "listOutbox", "readOutboxEntry", "readDocument", "findDocument", "importSt96", "readAnchor",
        "designateOffice", "recordDecision", "importSt96Transaction",
    }  # fmt: skip
    for (method, path), op in operations.items():
        success = "202" if method == "post" else "200"
        assert "$ref" in op["responses"][success]["content"]["application/json"]["schema"], path
        for status, response in op["responses"].items():
            if status[0] in "45":
                assert list(response["content"]) == [PROBLEM_JSON], (path, status)
        secured = not path.startswith(("/v1/documents", "/v1/anchors"))  # the public deep links
        assert bool(op.get("security")) == secured, path


# ---------------------------------------------------------------- ST.96 imports

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "st96"


def import_file(name: str, data: bytes) -> dict[str, str]:
    return {"name": name, "content": base64.b64encode(data).decode()}


@pytest.fixture
def import_node(tmp_path: Path, consortium: Consortium) -> Iterator[Node]:
    """The node of `node`, with a body limit room for a few ST.96 files."""
    settings = dataclasses.replace(settings_for(tmp_path, consortium), max_body_bytes=1024 * 1024)
    with serving(settings, consortium) as node:
        yield node


def test_an_import_registers_each_good_file_and_refuses_each_bad_one_alone(import_node: Node) -> None:
    node = import_node
    patent = (ASSETS / "patent_application_publication.xml").read_bytes()
    files = [
        import_file("ep.xml", patent),
        import_file("xxe.xml", (ASSETS / "hostile" / "xxe_external_entity.xml").read_bytes()),
        import_file("missing.xml", (ASSETS / "hostile" / "missing_application_number.xml").read_bytes()),
        import_file("em-trademark.xml", (ASSETS / "trademark_application.xml").read_bytes()),
        import_file("again.xml", patent),
        {"name": "garbled.b64", "content": "not base64!"},
    ]

    answer = node.post("/v1/imports", {"files": files})

    assert answer.status_code == 202, answer.text
    result = answer.json()
    assert (result["accepted"], result["refused"]) == (1, 5)
    by_name = {item["name"]: item for item in result["items"]}
    assert [item["name"] for item in result["items"]] == [f["name"] for f in files]
    accepted = by_name["ep.xml"]
    assert accepted["accepted"] and accepted["rightId"].startswith("EP:PAT:") and accepted["version"] == 1
    assert accepted["validated"] is False and "not validated" in accepted["validationNote"]
    assert by_name["em-trademark.xml"]["error"]["field"] == "rightId"  # an EM right, not this EP office's
    assert by_name["again.xml"]["error"]["field"] == "expectedVersion"  # the same right twice
    assert by_name["garbled.b64"]["error"]["field"] == "files[5].content"
    assert "ApplicationNumberText" in by_name["missing.xml"]["error"]["field"]
    assert "root:" not in answer.text
    stored = node.store.latest(accepted["rightId"])
    assert stored is not None and stored.source_xml == patent
    assert len(node.store.outbox()) == 1
    node.worker.drain()
    assert node.store.outbox()[0].state == OutboxState.CONFIRMED


def test_a_big_import_is_parsed_by_the_nodes_workers_and_answers_file_by_file_in_order(
    import_node: Node,
) -> None:
    node = import_node
    patent = (ASSETS / "patent_application_publication.xml").read_text("utf-8")
    files = [
        import_file(f"ep{n}.xml", patent.replace("19175123.4", f"2388800{n:02d}.4").encode())
        for n in range(POOL_MIN_DOCUMENTS + 4)
    ]
    files.insert(3, import_file("xxe.xml", (ASSETS / "hostile" / "xxe_external_entity.xml").read_bytes()))
    files.insert(7, {"name": "garbled.b64", "content": "not base64!"})
    files.append(files[0] | {"name": "again.xml"})

    answer = node.post("/v1/imports", {"files": files, "mode": "anchor"})

    assert answer.status_code == 202, answer.text
    result = answer.json()
    assert imports.parse_pool(None).started  # parsed in the worker processes, not in the request's thread
    assert [item["name"] for item in result["items"]] == [f["name"] for f in files]
    refusals = {item["name"]: item["error"]["field"] for item in result["items"] if not item["accepted"]}
    assert refusals.keys() == {"xxe.xml", "garbled.b64", "again.xml"}
    assert refusals["garbled.b64"] == "files[7].content" and refusals["again.xml"] == "expectedVersion"
    accepted = [item for item in result["items"] if item["accepted"]]
    assert [item["rightId"] for item in accepted] == [
        f"EP:PAT:2388800{n:02d}4" for n in range(POOL_MIN_DOCUMENTS + 4)
    ]
    assert "root:" not in answer.text
    (anchor,) = result["anchors"]
    assert anchor["count"] == len(accepted)


def test_an_import_needs_the_operator_token_and_at_least_one_file(node: Node) -> None:
    body = {"files": [import_file("ep.xml", (ASSETS / "patent_application_publication.xml").read_bytes())]}
    assert_problem(node.post("/v1/imports", body, token=None), 401, "Authorization")
    assert_problem(node.post("/v1/imports", {"files": []}), 422, "files")
    assert node.nothing_stored()


def test_an_anchored_import_serves_its_manifest_and_proofs_the_contract_accepts(import_node: Node) -> None:
    node = import_node
    patent = (ASSETS / "patent_application_publication.xml").read_text("utf-8")
    files = [
        import_file(f"ep{n}.xml", patent.replace("19175123.4", f"2377700{n}.4").encode()) for n in range(3)
    ]
    files.append(import_file("xxe.xml", (ASSETS / "hostile" / "xxe_external_entity.xml").read_bytes()))
    files.append(files[0] | {"name": "again.xml"})

    answer = node.post("/v1/imports", {"files": files, "mode": "anchor"})

    assert answer.status_code == 202, answer.text
    result = answer.json()
    assert (result["accepted"], result["refused"]) == (3, 2)
    by_name = {item["name"]: item for item in result["items"]}
    assert not by_name["xxe.xml"]["accepted"] and by_name["xxe.xml"]["error"]["field"]
    assert by_name["again.xml"]["error"]["field"] == "expectedVersion"
    (anchor,) = result["anchors"]
    assert anchor["count"] == 3 and {by_name[f"ep{n}.xml"]["outboxId"] for n in range(3)} == {
        anchor["outboxId"]
    }
    node.worker.drain()
    assert node.get(f"/v1/outbox/{anchor['outboxId']}").json()["state"] == "confirmed"

    manifest = node.client.get(f"/v1/anchors/{anchor['root']}")  # public: no token
    assert manifest.status_code == 200, manifest.text
    assert manifest.json() == node.client.get(f"/v1/anchors/{anchor['root'][2:]}").json()
    body = manifest.json()
    assert (body["root"], body["officeCode"], body["count"]) == (anchor["root"], "EP", 3)
    unhashed = {k: v for k, v in body.items() if k != "manifestHash"}
    assert "0x" + hashlib.sha256(canonical_bytes(unhashed)).hexdigest() == body["manifestHash"]
    contract = node.consortium.contract
    root = bytes.fromhex(anchor["root"][2:])
    for item in body["items"]:
        document = node.client.get(f"/v1/documents/{item['rightId']}/1").json()
        by_hash = node.client.get(f"/v1/documents?recordHash={item['recordHash']}").json()
        assert document["anchor"] == by_hash["anchor"]
        assert document["anchor"]["root"] == anchor["root"]
        proof = [bytes.fromhex(p[2:]) for p in document["anchor"]["proof"]]
        record = bytes.fromhex(document["recordHash"])
        assert contract.functions.verifyRecord(root, record, proof).call()

    registered = node.register(new_right_id())  # a right registered per right carries no anchor
    assert node.client.get(f"/v1/documents/{registered['rightId']}/1").json()["anchor"] is None


def test_an_unknown_or_malformed_anchor_root_is_a_problem(node: Node) -> None:
    assert_problem(node.client.get("/v1/anchors/" + "ab" * 32), 404, "root")
    assert_problem(node.client.get("/v1/anchors/0xABCD"), 400, "root")


def test_a_confidential_import_is_never_anchored(import_node: Node) -> None:
    body = {
        "files": [import_file("ep.xml", (ASSETS / "patent_application_publication.xml").read_bytes())],
        "mode": "anchor",
        "confidential": True,
    }
    problem = assert_problem(import_node.post("/v1/imports", body), 422, "confidential")
    assert "cannot be anchored" in json.dumps(problem)
    assert import_node.nothing_stored()
