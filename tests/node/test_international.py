"""International registrations at the offices' nodes, on a real chain: the International Bureau (WO) registers
and designates, each designated office decides on its own designation, and the contract agrees with the
nodes about who may record what."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import pytest
from web3.contract import Contract

from registry_node.node.international import designate, record_decision
from registry_node.node.office import NotCompetent, Office, OfficeError, UnknownRight, VersionConflict
from registry_node.node.onchain import ContractChainView
from registry_node.node.outbox import OutboxWorker
from registry_node.node.store import OutboxState, Store
from registry_node.protocol.keys import OfficeSigningKey
from registry_node.protocol.records import (
    Designation,
    DesignationDecision,
    DesignationRecord,
    Right,
    RightKind,
    RightRecord,
    chain_right_id,
    owner_commitment,
)
from tests.support.chain import GanacheFactory, deploy_fresh
from tests.support.records import assignment

CODES = ("EP", "GB", "KR", "WO")
IR = "WO:TM:1234567"


class International(NamedTuple):
    contract: Contract
    offices: dict[str, Office]
    workers: dict[str, OutboxWorker]
    view: ContractChainView

    def drain(self, *codes: str) -> None:
        for code in codes or CODES:
            self.workers[code].drain()

    def chain_entry(self, entry_id: str) -> tuple[Any, ...]:
        return tuple(self.contract.functions.rightOf(chain_right_id(entry_id)).call())


@pytest.fixture
def international(start_ganache: GanacheFactory, tmp_path: Path) -> International:
    fresh = deploy_fresh(start_ganache, CODES)
    offices, workers = {}, {}
    for code, account in fresh.offices.items():
        store = Store(tmp_path / f"{code}.sqlite")
        offices[code] = Office(code, store, OfficeSigningKey.generate())
        workers[code] = OutboxWorker(store, fresh.w3, fresh.contract, account)
    return International(fresh.contract, offices, workers, ContractChainView(fresh.contract))


def madrid_registration(right_id: str = IR) -> Right:
    return Right.model_validate(
        {
            "rightId": right_id,
            "rightKindCategory": "trademark",
            "applicationNumberText": right_id.split(":")[2],
            "registrationDate": "2025-03-01",
            "markVerbalElementText": "NORDLICHT",
            "classificationBag": ["Nice 09", "Nice 30"],
            "ownerBag": [{"name": "Nordlicht Rösterei GmbH", "countryCode": "DE"}],
            "legalStatus": {"stateCode": "A", "stageCode": 4, "keyEventCode": "F10"},
        }
    )


def designating(office: str, category: str = "original") -> Designation:
    return Designation(
        designatedOfficeCode=office, designationCategory=category, designationDate="2025-03-01"
    )


def decision(category: str = "grantOfProtection", **fields: Any) -> DesignationDecision:
    status = {"stateCode": "A", "stageCode": 4, "keyEventCode": "F10"}
    return DesignationDecision.model_validate(
        {"decisionCategory": category, "decisionDate": "2025-09-01", "standard": "ST.61", "status": status}
        | fields
    )


PARTIAL_REFUSAL = {
    "scopeCategory": "partial",
    "classificationBag": ["Nice 09"],
    "status": {"stateCode": "A", "stageCode": 2, "keyEventCode": "D10"},
}


def designated(net: International, *offices: str) -> None:
    """WO registers the IR and designates `offices`, all on chain."""
    wo = net.offices["WO"]
    version = wo.register(madrid_registration()).version
    for office in offices:
        version = wo.designate(IR, version, designating(office)).version
    net.drain("WO")


def test_the_bureau_designates_offices_and_the_chain_reserves_each_designation(
    international: International,
) -> None:
    designated(international, "GB", "KR")

    wo = international.offices["WO"].store.latest(IR)
    assert wo is not None and wo.version == 3
    record = RightRecord.model_validate_json(wo.canonical)
    assert record.changeKind == "designation" and record.designation == designating("KR")
    assert [d.designatedOfficeCode for d in record.right.designationBag or []] == ["GB", "KR"]
    version, office, kind, *_ = international.chain_entry(IR)
    assert (version, office, kind) == (3, b"WO", RightKind.TRADEMARK.chain_value)
    for code in ("GB", "KR"):  # reserved: version 0, the designated office, the IR's kind
        assert international.chain_entry(f"{IR}@{code}")[:4] == (0, code.encode(), 2, False)
    # the owners are the IR's, unchanged by designations
    first = international.offices["WO"].store.version(IR, 1)
    assert first is not None
    salt = bytes.fromhex(first.state["ownerSalt"])
    assert wo.state["chainState"][1] == owner_commitment(record.right.ownerBag, salt).hex()


def test_the_designated_office_records_its_decisions_and_the_chain_proves_them(
    international: International,
) -> None:
    designated(international, "KR")
    kr = international.offices["KR"]
    entry = f"{IR}@KR"

    first = record_decision(
        kr, international.view, entry, 0, decision("provisionalRefusal", **PARTIAL_REFUSAL)
    )
    second = record_decision(
        kr, international.view, entry, 1, decision("finalDecision", protectionCategory="protected")
    )
    international.drain("KR")

    assert (first.version, second.version) == (1, 2)
    version, office, *_ = international.chain_entry(entry)
    assert (version, office) == (2, b"KR")
    latest = kr.store.latest(entry)
    assert latest is not None
    record = DesignationRecord.model_validate_json(latest.canonical)
    assert record.decision.decisionCategory == "finalDecision"
    assert record.previousRecordHash == first.record_hash.hex()
    assert kr.store.outbox()[0].action == "register"
    assert {e.state for e in kr.store.outbox()} == {OutboxState.CONFIRMED}
    matches = international.contract.functions.matchesState(
        chain_right_id(entry), tuple(bytes.fromhex(v) for v in latest.state["chainState"])
    ).call()
    assert matches


def test_a_decision_waits_for_the_designation_on_chain(international: International) -> None:
    international.offices["WO"].register(madrid_registration())
    international.offices["WO"].designate(IR, 1, designating("GB"))  # accepted, not yet sent

    with pytest.raises(UnknownRight) as refused:
        record_decision(international.offices["GB"], international.view, f"{IR}@GB", 0, decision())
    assert refused.value.field == "designationId"
    assert "International Bureau records it first" in refused.value.reason
    assert international.offices["GB"].store.right_version(f"{IR}@GB") == 0


def test_only_the_designated_office_decides_on_its_designation(international: International) -> None:
    designated(international, "GB")
    for code in ("KR", "WO", "EP"):
        with pytest.raises(NotCompetent) as refused:
            record_decision(international.offices[code], international.view, f"{IR}@GB", 0, decision())
        assert refused.value.field == "designationId"
        assert f"this node acts for {code}" in refused.value.reason


def test_only_the_bureau_designates_and_only_on_its_madrid_and_hague_registrations(
    international: International,
) -> None:
    gb = international.offices["GB"]
    gb.register(madrid_registration("GB:TM:UK0001"))
    with pytest.raises(NotCompetent, match="only the International Bureau"):
        gb.designate("GB:TM:UK0001", 1, designating("KR"))

    wo = international.offices["WO"]
    pct = madrid_registration().model_dump(exclude_none=True) | {
        "rightId": "WO:PAT:PCTEP2025000001",
        "applicationNumberText": "PCTEP2025000001",
        "rightKindCategory": "patent",
        "markVerbalElementText": None,
        "inventionTitle": "Valve",
    }
    wo.register(Right.model_validate(pct))
    with pytest.raises(OfficeError, match="only Madrid trademarks and Hague designs") as refused:
        wo.designate("WO:PAT:PCTEP2025000001", 1, designating("KR"))
    assert refused.value.field == "rightId"


def test_an_office_is_designated_once_and_at_the_registrations_current_version(
    international: International,
) -> None:
    wo = international.offices["WO"]
    wo.register(madrid_registration())
    wo.designate(IR, 1, designating("GB"))
    with pytest.raises(OfficeError) as twice:
        wo.designate(IR, 2, designating("GB", "subsequent"))
    assert twice.value.field == "designatedOfficeCode"
    with pytest.raises(VersionConflict):
        wo.designate(IR, 1, designating("KR"))


def test_a_designation_takes_decisions_only(international: International) -> None:
    designated(international, "GB")
    record_decision(international.offices["GB"], international.view, f"{IR}@GB", 0, decision())
    with pytest.raises(OfficeError, match="records decisions on it, nothing else"):
        international.offices["GB"].publish(f"{IR}@GB", 1)


def test_a_holder_change_at_the_bureau_changes_the_owner_every_designation_shows(
    international: International,
) -> None:
    designated(international, "GB")
    wo = international.offices["WO"]
    wo.record_ownership_change(IR, 2, assignment(IR))
    international.drain("WO")

    latest = wo.store.latest(IR)
    assert latest is not None
    record = RightRecord.model_validate_json(latest.canonical)
    assert [p.name for p in record.right.ownerBag] == ["Nordic Heat AB"]
    assert international.chain_entry(IR)[0] == 3


def test_only_member_offices_are_designated_on_the_shared_registry(international: International) -> None:
    wo = international.offices["WO"]
    wo.register(madrid_registration())
    with pytest.raises(OfficeError) as refused:
        designate(wo, international.view, IR, 1, designating("CH"))
    assert refused.value.field == "designatedOfficeCode"
    assert "CH is not a member office" in refused.value.reason
    assert wo.store.right_version(IR) == 1  # nothing stored
    assert designate(wo, international.view, IR, 1, designating("KR")).version == 2
