"""The query API over a real index of a real chain: filters, pagination, problems, limits, headers."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from web3 import Web3

from gateway.api.app import create_app
from gateway.deep_links import OfficeDocuments
from gateway.endpoint_policy import EndpointPolicy
from gateway.read_model.db import open_database
from gateway.read_model.indexer import Indexer
from gateway.read_model.queries import Index
from gateway.services import Services
from gateway.settings import GatewaySettings
from gateway.validators import ValidatorsView
from gateway.verify.chain_reads import ChainReader
from gateway.verify.verifier import Verifier
from registry_node.protocol.contract import load_artifact
from registry_node.protocol.records import chain_right_id
from tests.gateway.conftest import Registry
from tests.gateway.test_indexer import EVIDENCE, life, patent
from tests.support.records import assignment


class World:
    def __init__(self, registry: Registry, tmp: Path) -> None:
        self.registry = registry
        self.rights = [life(registry), life(registry), life(registry, "GB")]
        slash = patent()
        self.slashed = slash.rightId.replace(slash.applicationNumberText, "PCT/EP2020/1")
        right = slash.model_copy(update={"rightId": self.slashed, "applicationNumberText": "PCT/EP2020/1"})
        registry.nodes["EP"].office.register(right)
        registry.drain()
        self.settings = GatewaySettings(
            data_dir=tmp,
            rpc_url=registry.rpc_url,
            contract_address=registry.contract.address,
            confirmations=0,
            max_page_size=2,
            cors_origins=("https://auditor.example",),
        )
        engine = open_database(self.settings.database_url)
        w3 = Web3(Web3.HTTPProvider(registry.rpc_url))
        contract = w3.eth.contract(address=registry.contract.address, abi=load_artifact().abi)
        # the offices serve their deep links on loopback
        self.documents = OfficeDocuments(timeout_s=2, policy=EndpointPolicy(allow_private=True))
        self.indexer = Indexer(engine, w3, contract, self.documents, confirmations=0)
        self.catch_up()
        verifier = Verifier(ChainReader(w3, contract), self.documents, confirmations=0)
        validators = ValidatorsView(contract, w3, [registry.rpc_url])
        self.services = Services(self.settings, engine, w3, contract, Index(engine), verifier, validators)
        self.client = TestClient(create_app(self.services))

    def catch_up(self) -> None:
        self.indexer.run_once()
        self.indexer.enrich_once()


@pytest.fixture(scope="module")
def world(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    made = World(registry, tmp_path_factory.mktemp("api"))
    yield made
    made.documents.close()


def problem(answer: Any, status: int, field: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert field in [e["field"] for e in body["errors"]], body
    return body


def test_status_reports_head_indexed_block_and_lag(world: World) -> None:
    body = world.client.get("/v1/status").json()
    assert body["indexedBlock"] == body["headBlock"] and body["lag"] == 0
    assert body["contractAddress"] == world.registry.contract.address
    assert body["chainId"] == 1337 and body["confirmations"] == 0


def test_the_consortium_anchor_of_a_development_chain_names_no_validators(world: World) -> None:
    body = world.client.get("/v1/consortium/anchor").json()
    assert body["schema"] == "ipreg/consortium-anchor/1" and body["engine"] == "none"
    assert body["chainId"] == 1337 and body["contractAddress"] == world.registry.contract.address
    assert body["genesisHash"] == world.registry.w3.eth.get_block(0)["hash"].to_0x_hex()
    assert body["validators"] == [] and body["asOfBlock"] >= 1


def test_offices_list_their_keys_and_validity(world: World) -> None:
    body = world.client.get("/v1/offices").json()
    assert [o["officeCode"] for o in body["items"]] == ["EP", "GB", "KR"]
    ep = world.client.get("/v1/offices/EP").json()
    assert ep["keys"][0]["valid"] is True and ep["keys"][0]["revokedAtBlock"] is None
    assert ep["keys"][0]["addedAt"].endswith("Z") and ep["keys"][0]["revokedAt"] is None
    problem(world.client.get("/v1/offices/XX"), 404, "officeCode")
    problem(world.client.get("/v1/offices/ep"), 400, "officeCode")


def test_rights_pages_carry_the_total_and_a_cursor(world: World) -> None:
    seen: list[str] = []
    url = "/v1/rights?office=EP&limit=2"
    first = world.client.get(url).json()
    total = first["count"]
    assert total >= 3 and len(first["items"]) == 2 and first["next"]
    page = first
    while True:
        seen += [item["chainRightId"] for item in page["items"]]
        assert page["count"] == total
        if page["next"] is None:
            break
        page = world.client.get(f"{url}&cursor={page['next']}").json()
    assert len(seen) == len(set(seen)) == total
    assert all(i["officeCode"] == "GB" for i in world.client.get("/v1/rights?office=GB").json()["items"])


def test_rights_filter_by_kind_status_and_owner_commitment(world: World) -> None:
    right = world.client.get(f"/v1/rights/{world.rights[0]}").json()
    by_owner = world.client.get(f"/v1/rights?ownerCommitment={right['ownerCommitment']}").json()
    assert [i["chainRightId"] for i in by_owner["items"]] == [right["chainRightId"]]
    assert world.client.get("/v1/rights?status=N6&kind=trademark").json()["count"] == 0
    lapsed = world.client.get("/v1/rights?status=N6H13&limit=2").json()
    assert lapsed["count"] >= 3 and all(i["statusCode"] == "N6H13" for i in lapsed["items"])
    problem(world.client.get("/v1/rights?kind=car"), 400, "kind")
    problem(world.client.get("/v1/rights?status=active"), 400, "status")


def test_rights_are_found_by_their_numbers_however_spaced(world: World) -> None:
    rid = world.rights[0]
    number = rid.split(":", 2)[2]
    spaced = " ".join(number[i : i + 3] for i in range(0, len(number), 3))
    for query in (number, spaced, number.lower()):
        found = world.client.get("/v1/rights", params={"number": query}).json()
        assert [i["rightId"] for i in found["items"]] == [rid], query
    slashed = world.client.get("/v1/rights", params={"number": "PCT/EP2020/1"}).json()
    assert [i["rightId"] for i in slashed["items"]] == [world.slashed]
    assert world.client.get("/v1/rights", params={"number": "999999999"}).json()["count"] == 0
    problem(world.client.get("/v1/rights", params={"number": "<script>"}), 400, "number")


def test_page_size_over_the_limit_is_refused_naming_limit(world: World) -> None:
    body = problem(world.client.get("/v1/rights?limit=3"), 400, "limit")
    assert "1 to 2" in body["detail"]
    problem(world.client.get("/v1/rights?limit=0"), 400, "limit")
    problem(world.client.get("/v1/rights?cursor=bm90LWEtY3Vyc29y"), 400, "cursor")


def test_one_right_by_string_id_or_chain_id(world: World) -> None:
    rid = world.rights[0]
    by_string = world.client.get(f"/v1/rights/{rid}").json()
    chain_id = "0x" + chain_right_id(rid).hex()
    assert world.client.get(f"/v1/rights/{chain_id}").json() == by_string
    assert by_string["rightId"] == rid and by_string["owners"][0]["name"] == "Nordic Heat AB"
    assert by_string["updatedAt"].endswith("Z")
    slashed = world.client.get(f"/v1/rights/{world.slashed.replace('/', '%2F')}")
    assert slashed.status_code == 200 and slashed.json()["rightId"] == world.slashed


def test_history_lists_every_change(world: World) -> None:
    body = world.client.get(f"/v1/rights/{world.rights[2]}/history").json()
    assert [i["action"] for i in body["items"]] == ["registration", "ownershipChange", "legalStatusEvent"]
    assert body["items"][1]["conveyance"]["evidenceHash"] == EVIDENCE


def test_history_tells_each_change_in_words_with_the_owners_after_it(world: World) -> None:
    items = world.client.get(f"/v1/rights/{world.rights[2]}/history").json()["items"]
    assert [i["summary"] for i in items] == [
        "Registered by GB",
        "Assignment from Acme Thermal GmbH to Nordic Heat AB, effective 2026-02-01, "
        "recorded 2026-03-15 by GB",
        "Lapsed (H13, cessation of the right): not active, stage terminated, effective 2026-04-01, "
        "recorded by GB",
    ]
    assert [[o["name"] for o in i["owners"]] for i in items] == [
        ["Acme Thermal GmbH"],
        ["Nordic Heat AB"],
        ["Nordic Heat AB"],
    ]
    assert all(i["ownersChecked"] for i in items)
    conveyance = items[1]["conveyance"]
    assert conveyance["assignorBag"] == [{"name": "Acme Thermal GmbH", "executionDate": "2026-02-01"}]
    assert conveyance["recordalDate"] == "2026-03-15" and conveyance["conveyanceCategory"] == "assignment"
    assert items[2]["statusEvent"]["eventDate"] == "2026-04-01"
    assert items[0]["status"]["text"] == "Active (stage: grant), key event F10: grant, right granted"


def test_a_right_s_status_reads_in_words(world: World) -> None:
    status = world.client.get(f"/v1/rights/{world.rights[0]}").json()["status"]
    assert status == {
        "code": "N6H13",
        "standard": "ST.27",
        "state": {"code": "N", "name": "not active"},
        "stage": {"code": 6, "name": "terminated"},
        "keyEvent": {
            "code": "H13",
            "category": "H",
            "categoryName": "cessation of the right",
            "name": "lapsed",
        },
        "text": "Not active (stage: terminated), key event H13: cessation of the right, lapsed",
    }


def test_the_state_at_an_instant_shows_the_owner_of_that_moment(world: World) -> None:
    node = world.registry.nodes["EP"]
    right = patent()
    node.office.register(right)
    node.worker.drain()
    world.registry.rpc("evm_increaseTime", 3600)
    node.office.record_ownership_change(right.rightId, 1, assignment(right.rightId, "Thames Optics Ltd"))
    node.worker.drain()
    world.catch_up()
    history = world.client.get(f"/v1/rights/{right.rightId}/history").json()["items"]
    registered, transferred = history[0]["timestamp"], history[1]["timestamp"]
    assert registered < transferred

    before = world.client.get(f"/v1/rights/{right.rightId}/state", params={"at": registered}).json()
    assert before["version"] == 1 and before["owners"][0]["name"] == "Acme Thermal GmbH"
    assert before["updatedBlock"] == history[0]["blockNumber"] and before["status"]["code"] == "A4F10"
    after = world.client.get(f"/v1/rights/{right.rightId}/state", params={"at": transferred}).json()
    assert after["version"] == 2 and after["owners"][0]["name"] == "Thames Optics Ltd"
    path = f"/v1/rights/{right.rightId}/state"
    problem(world.client.get(path, params={"at": "2000-01-01T00:00:00Z"}), 404, "at")
    problem(world.client.get(path, params={"at": "2026-12-04T10:00:00"}), 400, "at")  # no offset
    problem(world.client.get(path, params={"at": registered, "date": "2026-01-01"}), 400, "date")
    problem(world.client.get(path), 400, "date")


def test_the_summary_counts_rights_by_office_and_kind(world: World) -> None:
    summary = world.client.get("/v1/summary").json()
    total = world.client.get("/v1/rights", params={"limit": 1}).json()["count"]
    assert summary["total"] == total == sum(o["total"] for o in summary["offices"])
    gb = next(o for o in summary["offices"] if o["officeCode"] == "GB")
    assert gb["kinds"]["patent"] == world.client.get("/v1/rights?office=GB&kind=patent").json()["count"]
    assert summary["kinds"]["patent"] >= 4


def test_the_latest_changes_across_offices_come_newest_first_in_words(world: World) -> None:
    changes = world.client.get("/v1/changes", params={"limit": 2}).json()["items"]
    assert len(changes) == 2
    order = [(c["blockNumber"], c["logIndex"]) for c in changes]
    assert order == sorted(order, reverse=True)
    newest = changes[0]
    history = world.client.get(f"/v1/rights/{newest['chainRightId']}/history").json()["items"]
    told = next(i for i in history if (i["blockNumber"], i["logIndex"]) == order[0])
    assert newest["summary"] == told["summary"] and newest["rightId"] is not None
    problem(world.client.get("/v1/changes", params={"limit": 3}), 400, "limit")


def test_the_gateway_says_whether_each_office_s_deep_links_answer(world: World) -> None:
    health = world.client.get("/v1/offices/EP/health").json()
    assert health["reachable"] is True and health["latencyMs"] >= 0
    assert health["endpoint"] == world.client.get("/v1/offices/EP").json()["endpoint"]
    problem(world.client.get("/v1/offices/XX/health"), 404, "officeCode")
    # a gateway that may not fetch from private addresses says why it cannot reach a loopback office
    public_only = OfficeDocuments(timeout_s=2)
    try:
        reader = ChainReader(world.services.w3, world.services.contract)
        verifier = Verifier(reader, public_only, confirmations=0)
        strict = TestClient(create_app(dataclasses.replace(world.services, verifier=verifier)))
        refused = strict.get("/v1/offices/EP/health").json()
    finally:
        public_only.close()
    assert refused["reachable"] is False and refused["latencyMs"] is None
    assert "private" in refused["detail"] or "loopback" in refused["detail"], refused["detail"]


def test_metrics_count_requests_and_verdicts_and_tell_the_indexer_s_lag(world: World) -> None:
    world.client.get("/v1/offices")
    assert world.client.get(f"/v1/rights/{world.rights[0]}/verification").status_code == 200
    answer = world.client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(answer.text)}
    requests = families["ipreg_gateway_requests"].samples
    assert any(s.labels["route"] == "/v1/offices" and s.value >= 1 for s in requests)
    routes = {s.labels["route"] for s in requests}
    assert "/v1/rights/{rightId:right_id}/verification" in routes, routes  # templates, not raw paths
    verdicts = families["ipreg_gateway_verdicts"].samples
    assert any(s.labels == {"subject": "right", "verdict": "authentic-current"} for s in verdicts)
    (lag,) = families["ipreg_gateway_indexer_lag_blocks"].samples
    assert lag.value == 0


def test_state_at_a_date_before_the_right_existed_is_not_found(world: World) -> None:
    problem(world.client.get(f"/v1/rights/{world.rights[0]}/state?date=1999-01-01"), 404, "date")
    problem(world.client.get(f"/v1/rights/{world.rights[0]}/state?date=yesterday"), 400, "date")
    today = world.client.get(f"/v1/rights/{world.rights[0]}/state?date=2100-01-01").json()
    assert today["version"] == 3


def test_unknown_rights_are_404_problems(world: World) -> None:
    problem(world.client.get("/v1/rights/EP:PAT:EP99999999999"), 404, "rightId")
    problem(world.client.get("/v1/rights/0x" + "ab" * 32 + "/history"), 404, "rightId")


@pytest.mark.parametrize(
    "path",
    [
        "/v1/rights/EP:PAT:..%2F..%2Fetc%2Fpasswd",
        "/v1/rights/EP:PAT:1%2F..%2F..%2Fx",
        "/v1/rights/EP:PAT:1%2F.%2Fx/history",
        "/v1/rights/EP:PAT:A%2F%2FB",
        "/v1/rights/ep:pat:1",
        "/v1/rights/0x1234",
        "/v1/rights/%00",
    ],
)
def test_malformed_and_walking_ids_are_refused_naming_right_id(world: World, path: str) -> None:
    problem(world.client.get(path), 400, "rightId")


def test_documents_are_looked_up_by_hash(world: World) -> None:
    evidence = world.client.get(f"/v1/documents/{EVIDENCE}").json()
    assert {k["role"] for k in evidence["knownAs"]} == {"evidence"}
    right = world.client.get(f"/v1/rights/{world.rights[0]}").json()
    record = world.client.get(f"/v1/documents/{right['recordHash']}").json()
    assert record["knownAs"][0]["rightId"] == world.rights[0]
    problem(world.client.get(f"/v1/documents/{hashlib.sha256(b'x').hexdigest()}"), 404, "sha256")
    problem(world.client.get("/v1/documents/..%2F..%2Fetc"), 404, "request")  # no route walks


def test_answers_carry_security_headers_and_cors_for_configured_origins(world: World) -> None:
    answer = world.client.get("/v1/status", headers={"Origin": "https://auditor.example"})
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["access-control-allow-origin"] == "https://auditor.example"
    other = world.client.get("/v1/status", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_openapi_is_served_and_slash_is_left_free(world: World) -> None:
    schema = world.client.get("/openapi.json").json()
    assert {"/v1/rights", "/v1/rights/{rightId}", "/v1/anchors/{root}", "/v1/documents/{sha256}"} <= set(
        schema["paths"]
    )
    assert "/" not in schema["paths"]


def test_openapi_describes_the_gateways_own_answers_not_the_nodes(world: World) -> None:
    schema = world.client.get("/openapi.json").json()
    receipt = schema["paths"]["/v1/rights/{rightId}/receipt"]["get"]["responses"]
    assert "confidential" in receipt["409"]["description"]
    assert "expected version" not in receipt["409"]["description"]
    assert "Verdict" in schema["components"]["schemas"] and "Receipt" in schema["components"]["schemas"]
    every = [r.get("description", "") for path in schema["paths"].values() for op in path.values()
             for r in op.get("responses", {}).values()]  # fmt: skip
    assert not [d for d in every if "store" in d or "operator token" in d]  # the node's texts stay the node's


def test_a_client_over_its_rate_gets_429_with_retry_after(world: World) -> None:
    settings = GatewaySettings(
        data_dir=world.settings.data_dir, contract_address=world.registry.contract.address, rate_limit_per_s=1
    )
    client = TestClient(create_app(Services(settings, *_rest(world))))
    answers = [client.get("/v1/status") for _ in range(4)]
    assert [a.status_code for a in answers[:2]] == [200, 200]  # a burst of twice the rate
    limited = answers[-1]
    problem(limited, 429, "request")
    assert int(limited.headers["retry-after"]) >= 1


def _rest(world: World) -> tuple[Any, ...]:
    s = world.services
    return (s.engine, s.w3, s.contract, s.index, s.verifier, s.validators)
