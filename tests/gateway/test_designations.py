"""An international registration's designations through the gateway, on a real chain: WIPO's International
Bureau (WO) registers a Madrid mark and designates GB, KR and EM; GB grants protection, KR refuses it in part
for class 09 and then decides finally, EM decides nothing. What an auditor asks and sees: the designations
with their latest decisions, each verified; a designation's own verdict, history and receipt."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from gateway.read_model import db
from gateway.read_model.indexer import Indexer
from gateway.read_model.queries import Index
from gateway.verify.receipt_evidence import check_receipt
from registry_node.cli.main import app as ipreg
from registry_node.protocol.records import Designation, Right, RightKind, chain_right_id
from tests.gateway.conftest import (
    DATABASES,
    INTERNATIONAL_OFFICES,
    IR,
    InternationalWorld,
    decision,
    index_to_the_head,
    running_registry,
    table_contents,
)

MakeIndexer = Callable[..., Indexer]


def granted_mark(right_id: str) -> Right:
    """A Madrid registration of the International Bureau, with no designation yet."""
    number = right_id.rsplit(":", 1)[1]
    return Right.model_validate(
        {
            "rightId": right_id,
            "rightKindCategory": "trademark",
            "applicationNumberText": number,
            "markVerbalElementText": "NORDLYS",
            "ownerBag": [{"name": "Nordlys AS", "countryCode": "NO"}],
            "legalStatus": {"stateCode": "A", "stageCode": 4, "keyEventCode": "F10"},
        }
    )


def by_office(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["designatedOfficeCode"]: item for item in body["items"]}


def checks(verdict: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["result"] for c in verdict["checks"]}


def test_a_registration_lists_each_designated_office_with_its_latest_decision_verified(
    international: InternationalWorld,
) -> None:
    answer = international.client.get(f"/v1/rights/{IR}/designations")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["rightId"] == IR and body["chainRightId"] == "0x" + chain_right_id(IR).hex()
    rows = by_office(body)
    assert list(rows) == ["EM", "GB", "KR"]

    gb = rows["GB"]
    assert gb["designationId"] == f"{IR}@GB"
    assert (gb["designationCategory"], gb["designationDate"], gb["designatedInVersion"]) == (
        "original",
        "2024-01-15",
        2,
    )
    assert gb["latestDecision"]["decisionCategory"] == "grantOfProtection"
    assert gb["latestDecision"]["statusCode"] == "A4F10" and gb["latestDecision"]["recordChecked"] is True
    assert gb["summary"] == "Protected in GB since 2024-05-02"
    assert gb["verification"]["verdict"] == "authentic-current"
    assert gb["verification"]["rightId"] == f"{IR}@GB" and gb["verification"]["version"] == 1
    assert checks(gb["verification"])["designated-office"] == "pass"
    assert gb["receipt"] == f"/v1/rights/{IR}@GB/receipt"

    kr = rows["KR"]
    decided = kr["latestDecision"]
    assert (decided["version"], decided["decisionCategory"], decided["scopeCategory"]) == (
        2,
        "finalDecision",
        "partial",
    )
    assert decided["classificationBag"] == ["09"] and decided["decisionDate"] == "2024-09-02"
    assert kr["summary"] == "Final decision in KR of 2024-09-02: protected except Nice class 09"
    assert kr["verification"]["verdict"] == "authentic-current" and kr["verification"]["version"] == 2


def test_an_undecided_designation_is_listed_with_the_designation_itself_verified(
    international: InternationalWorld,
) -> None:
    em = by_office(international.client.get(f"/v1/rights/{IR}/designations").json())["EM"]
    assert em["latestDecision"] is None
    assert (em["designationCategory"], em["designationDate"]) == ("subsequent", "2024-03-01")
    assert em["summary"] == "Designated to EM on 2024-03-01; no decision recorded yet"
    verdict = em["verification"]
    assert verdict["verdict"] == "authentic-current" and verdict["currentVersion"] == 0
    assert verdict["subject"]["designation"] == {
        "designatedOfficeCode": "EM",
        "decided": False,
        "internationalRegistrationId": IR,
        "designationVersion": 4,
    }
    detail = next(c["detail"] for c in verdict["checks"] if c["name"] == "designation")
    assert detail.startswith(f"WO designated EM on {IR} in its version 4")
    assert detail.endswith("EM has recorded no decision on it yet")
    assert {"record-hash", "right-id", "designation-record", "signature"} <= {
        name for name, result in checks(verdict).items() if result == "pass"
    }
    # its receipt is the registration's at the block that designated EM, and it lists the designation
    assert em["receipt"] == f"/v1/rights/{IR}/receipt?block={em['blockNumber']}"
    receipt = international.client.get(em["receipt"]).json()
    assert receipt["rightId"] == IR and receipt["version"] == 4 and receipt["event"]["name"] == "Designated"
    assert receipt["event"]["fields"]["designatedOffice"] == "EM"
    record = json.loads(base64.b64decode(receipt["record"]["canonical"]))
    assert record["designation"]["designatedOfficeCode"] == "EM"
    assert check_receipt(receipt).consistent


def test_an_undecided_designation_asked_by_its_id_says_no_decision_is_recorded_yet(
    international: InternationalWorld,
) -> None:
    client, entry = international.client, f"{IR}@EM"
    verdict = client.get(f"/v1/rights/{entry}/verification").json()
    assert verdict["verdict"] == "authentic-current" and verdict["rightId"] == entry
    assert checks(verdict)["designation"] == "pass"
    for path in (f"/v1/rights/{entry}", f"/v1/rights/{entry}/history"):
        answer = client.get(path)
        assert answer.status_code == 404 and answer.headers["content-type"] == "application/problem+json"
        assert "designated to EM by WO" in answer.json()["detail"]
        assert "no decision on it yet" in answer.json()["detail"]
    receipt = client.get(f"/v1/rights/{entry}/receipt")
    assert receipt.status_code == 409, receipt.text
    assert receipt.json()["errors"][0]["field"] == "rightId"
    assert f"the receipt of {IR} at block" in receipt.json()["detail"]


def test_a_designation_named_by_its_chain_id_alone_is_said_to_be_reserved(
    international: InternationalWorld,
) -> None:
    chain_id = "0x" + chain_right_id(f"{IR}@EM").hex()
    verdict = international.client.get(f"/v1/rights/{chain_id}/verification").json()
    assert verdict["verdict"] == "unknown"
    detail = next(c["detail"] for c in verdict["checks"] if c["name"] == "designation")
    assert "reserved for EM's decision" in detail and "WO:TM:NUMBER@OFFICE" in detail


def test_the_registration_s_history_tells_each_designation(international: InternationalWorld) -> None:
    items = international.client.get(f"/v1/rights/{IR}/history").json()["items"]
    assert [i["action"] for i in items] == ["registration", "designation", "designation", "designation"]
    assert [i["summary"] for i in items[1:]] == [
        "Designated GB (original designation of 2024-01-15), recorded by WO",
        "Designated KR (original designation of 2024-01-15), recorded by WO",
        "Designated EM (subsequent designation of 2024-03-01), recorded by WO",
    ]
    assert items[3]["designation"]["designationChainId"] == "0x" + chain_right_id(f"{IR}@EM").hex()
    assert all(i["owners"] == [{"name": "Aurora Brands SA", "countryCode": "CH"}] for i in items)
    assert {i["statusCode"] for i in items} == {"A4F10"}  # a designation keeps the registration's status


def test_a_designation_shows_its_office_s_decisions_with_the_registration_s_owner(
    international: InternationalWorld,
) -> None:
    entry = f"{IR}@KR"
    right = international.client.get(f"/v1/rights/{entry}").json()
    assert (right["officeCode"], right["kind"], right["version"], right["statusCode"]) == (
        "KR", "trademark", 2, "A4F10",
    )  # fmt: skip
    assert (
        right["owners"] == [{"name": "Aurora Brands SA", "countryCode": "CH"}] and right["title"] == "AURORA"
    )
    assert right["internationalRegistration"] == {
        "rightId": IR,
        "chainRightId": "0x" + chain_right_id(IR).hex(),
    }
    history = international.client.get(f"/v1/rights/{entry}/history").json()["items"]
    assert [h["summary"] for h in history] == [
        "Provisionally refused in KR for Nice class 09, on 2024-06-10",
        "Final decision in KR of 2024-09-02: protected except Nice class 09",
    ]
    assert history[0]["decision"]["classificationBag"] == ["09"]
    assert all(h["owners"] == right["owners"] and h["ownersChecked"] for h in history)


def test_a_tampered_decision_document_is_judged_tampered(international: InternationalWorld) -> None:
    international.altered["KR"].active = True
    try:
        rows = by_office(international.client.get(f"/v1/rights/{IR}/designations").json())
        own = international.client.get(f"/v1/rights/{IR}@KR/verification").json()
    finally:
        international.altered["KR"].active = False
    verdict = rows["KR"]["verification"]
    assert verdict["verdict"] == own["verdict"] == "tampered"
    assert checks(verdict)["record-hash"] == "fail"
    assert rows["GB"]["verification"]["verdict"] == "authentic-current"  # GB serves its own, untouched


def test_an_uploaded_decision_is_verified_and_one_altered_is_tampered(
    international: InternationalWorld,
) -> None:
    node = international.registry.nodes["GB"]
    served = node.store.version(f"{IR}@GB", 1)
    assert served is not None
    signed = {"canonical": base64.b64encode(served.canonical).decode(), "signature": served.signature}
    answer = international.client.post("/v1/verifications", content=json.dumps(signed).encode())
    verdict = answer.json()
    assert verdict["verdict"] == "authentic-current" and verdict["rightId"] == f"{IR}@GB", verdict
    assert checks(verdict)["designated-office"] == "pass"

    bare = international.client.post("/v1/verifications", content=served.canonical).json()
    assert bare["verdict"] == "authentic-current"  # its signature fetched from GB's deep link
    assert bare["subject"]["form"] == "record"

    altered = served.canonical.replace(b"grantOfProtection", b"provisionalRefusal")
    tampered = {"canonical": base64.b64encode(altered).decode(), "signature": served.signature}
    verdict = international.client.post("/v1/verifications", content=json.dumps(tampered).encode()).json()
    assert verdict["verdict"] == "tampered" and checks(verdict)["record-hash"] == "fail"


def test_a_decision_s_receipt_passes_ipreg_verify_offline_and_against_the_node(
    international: InternationalWorld, tmp_path: Path
) -> None:
    answer = international.client.get(f"/v1/rights/{IR}@KR/receipt")
    assert answer.status_code == 200, answer.text
    receipt = answer.json()
    assert receipt["rightId"] == f"{IR}@KR" and receipt["version"] == 2
    assert receipt["event"]["name"] == "LegalStatusChanged" and receipt["event"]["fields"]["office"] == "KR"
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt), "utf-8")

    offline = CliRunner().invoke(ipreg, ["verify", str(path)])
    assert offline.exit_code == 3, offline.output  # consistent, bound to no consortium: a development chain
    for name in ("chain-state", "record-hash", "right-id", "designated-office", "signature", "key-validity"):
        assert f"PASS    {name}" in offline.output
    assert "receipt consistent (authentic-current)" in offline.output

    online = CliRunner().invoke(ipreg, ["verify", str(path), "--rpc", international.registry.rpc_url])
    assert online.exit_code == 0, online.output
    assert online.output.rstrip().endswith(
        "receipt verified: authentic-current, bound to the consortium by the node"
    )


def test_a_registration_published_in_a_gazette_is_found_by_its_number(
    international: InternationalWorld,
) -> None:
    """Its publication has a gazette's identifier and no number: enrichment keeps the rest."""
    page = international.client.get("/v1/rights?number=1234567").json()
    assert [item["rightId"] for item in page["items"]] == [IR]
    assert page["items"][0]["owners"] == [{"name": "Aurora Brands SA", "countryCode": "CH"}]


def test_a_right_with_no_designations_lists_none(international: InternationalWorld) -> None:
    body = international.client.get("/v1/rights/GB:PAT:GB2000001/designations").json()
    assert body["items"] == [] and body["rightId"] == "GB:PAT:GB2000001"


def test_an_unknown_right_is_not_found_and_a_bad_id_names_the_right_id(
    international: InternationalWorld,
) -> None:
    for path, status in (
        ("/v1/rights/WO:TM:7654321/designations", 404),
        ("/v1/rights/WO-TM-1/designations", 400),
    ):
        answer = international.client.get(path)
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["errors"][0]["field"] == "rightId"


@pytest.mark.parametrize("database_url", DATABASES, indirect=True)
def test_the_read_model_indexes_designations_and_their_decisions(
    international: InternationalWorld, database_url: str, make_indexer: MakeIndexer
) -> None:
    indexer = make_indexer(international.registry, database_url)
    index_to_the_head(indexer)
    index = Index(indexer.engine)
    rows = {d["designatedOfficeCode"]: d for d in index.designations("0x" + chain_right_id(IR).hex())}
    assert {office: d["designationId"] for office, d in rows.items()} == {
        office: f"{IR}@{office}" for office in ("EM", "GB", "KR")
    }
    assert rows["KR"]["latestDecision"]["decisionCategory"] == "finalDecision"
    assert rows["GB"]["latestDecision"]["summary"] == "Protected in GB since 2024-05-02"
    assert rows["EM"]["latestDecision"] is None and rows["EM"]["designationCategory"] == "subsequent"
    registration = index.right("0x" + chain_right_id(IR).hex())
    assert registration is not None and registration["version"] == 4  # each designation is a version of it
    assert index.undecided("0x" + chain_right_id(f"{IR}@EM").hex()) is not None
    assert index.undecided("0x" + chain_right_id(f"{IR}@GB").hex()) is None


def test_a_designation_on_a_reorganised_branch_is_rolled_back_and_the_index_equals_a_rebuild(
    tmp_path: Path, make_indexer: MakeIndexer
) -> None:
    with running_registry(tmp_path, ("WO", "GB"), INTERNATIONAL_OFFICES) as registry:
        wo = registry.nodes["WO"]
        mark = granted_mark("WO:TM:7000001")
        wo.office.register(mark)
        wo.worker.drain()
        snapshot = registry.rpc("evm_snapshot")
        wo.office.designate(
            mark.rightId, 1, Designation(designatedOfficeCode="GB", designationDate="2024-01-15")
        )
        wo.worker.drain()
        indexer = make_indexer(registry, f"sqlite:///{tmp_path / 'gateway.sqlite'}")
        indexer.run_once()
        index = Index(indexer.engine)
        registration = "0x" + chain_right_id(mark.rightId).hex()
        assert [d["designatedOfficeCode"] for d in index.designations(registration)] == ["GB"]
        orphan_block = indexer.status().indexed_block

        registry.rpc("evm_revert", snapshot)
        wo.worker._next_nonce = None  # the outbox saw blocks that are gone
        for _ in range(orphan_block - registry.w3.eth.block_number + 2):
            registry.rpc("evm_mine")
        indexer.run_once()
        assert index.designations(registration) == []
        right = index.right(registration)
        assert right is not None and right["version"] == 1

        rebuilt = make_indexer(registry, f"sqlite:///{tmp_path / 'rebuilt.sqlite'}")
        rebuilt.run_once()
        assert table_contents(rebuilt.engine, "designations") == table_contents(
            indexer.engine, "designations"
        )
        assert table_contents(rebuilt.engine, "events") == table_contents(indexer.engine, "events")


def test_a_decision_recorded_by_another_office_than_the_designated_one_is_tampered_and_not_indexed(
    international: InternationalWorld,
) -> None:
    """A hostile GB node registers an entry no designation reserved (the chain lets any office take a free
    slot) with a decision record naming a designation of KR."""
    entry = "WO:TM:9999999@KR"
    gb = international.registry.nodes["GB"]
    gb.office.code = "KR"  # its checks now let it record KR's decision; GB's account sends it
    try:
        gb.office.record_decision(entry, 0, decision("grantOfProtection", "2024-05-02", ("A", 4, "F10")),
                                  RightKind.TRADEMARK)  # fmt: skip
    finally:
        gb.office.code = "GB"
    international.catch_up()

    verdict = international.client.get(f"/v1/rights/{entry}/verification").json()
    assert verdict["verdict"] == "tampered"
    detail = next(c["detail"] for c in verdict["checks"] if c["name"] == "designated-office")
    assert checks(verdict)["designated-office"] == "fail" and detail.endswith("was recorded by GB")
    with international.indexer.engine.connect() as conn:
        refused = conn.execute(
            select(db.fetch_queue.c.state, db.fetch_queue.c.last_error).where(
                db.fetch_queue.c.chain_right_id == "0x" + chain_right_id(entry).hex()
            )
        ).one()
    assert refused.state == "rejected" and "designates KR, but GB recorded it" in refused.last_error
    right = international.client.get(f"/v1/rights/{entry}").json()
    assert right["officeCode"] == "GB" and right["internationalRegistration"] is None
    assert right["owners"] is None and right["title"] is None  # its record taught the index nothing
