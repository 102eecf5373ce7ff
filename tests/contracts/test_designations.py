"""Designations of international registrations (Madrid, Hague) and geographical indications.

WIPO's International Bureau (WO) alone changes its international registrations (IRs) and designates offices
on them; each designated office alone records its decisions on its designation, an entry of its own.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import brownie
import pytest
from brownie import web3
from conftest import (
    CONVEYANCE,
    GRANTED,
    KIND,
    LAPSED,
    OFFICES,
    STATUS,
    code,
    digest,
    h,
    reverts_with,
    right_id,
)

WIPO = "WIPO International Bureau"
DESIGNATION_DATE = 20260510
TYPE = {
    "Patent": "PAT",
    "UtilityModel": "UM",
    "Trademark": "TM",
    "Design": "DES",
    "GeographicalIndication": "GI",
}
REFUSAL = (b"N2D11", 2, b"PROVREFUSAL".ljust(16, b"\0"), 20260901, 0)  # a provisional refusal
ZERO_DIGEST = b"\0" * 24


@pytest.fixture(scope="module")
def founding_offices():
    return {**OFFICES, "WO": WIPO}


@pytest.fixture
def wo(offices):
    return offices["WO"].account


@dataclass(frozen=True)
class IR:
    """An international registration as the test knows it: its id text, id, kind, version and state."""

    text: str
    rid: bytes
    kind: str
    version: int
    state: tuple[bytes, bytes, bytes]

    def designation_id(self, office: str) -> bytes:
        return right_id(f"{self.text}@{office}")

    def designation(self, office: str, record: str | None = None, date: int = DESIGNATION_DATE) -> tuple:
        """The Designation of `office`, at the IR's version and state."""
        record_hash = h(record or f"{self.text} v{self.version + 1}")
        designation_id = self.designation_id(office)
        return (self.rid, self.version, self.state, record_hash, designation_id, code(office), date)

    def after(self, designation: tuple) -> IR:
        """The IR once `designation` is recorded: next version, new record, owner and status unchanged."""
        return replace(self, version=self.version + 1, state=(designation[3], *self.state[1:]))


@pytest.fixture
def register_ir(registry, wo):
    """Registers an international registration of WO (or `office`) at version 1."""
    numbers = itertools.count(1234567)

    def _register(kind: str = "Trademark", office: str = "WO", sender=None) -> IR:
        text = f"{office}:{TYPE[kind]}:{next(numbers)}"
        state = (h(f"{text} v1"), h(f"{text} holder"), GRANTED)
        registry.register((right_id(text), KIND[kind], False, state), {"from": sender or wo})
        return IR(text, right_id(text), kind, 1, state)

    return _register


@pytest.fixture
def ir(register_ir):
    """A Madrid trademark registration of WO, at version 1."""
    return register_ir("Trademark")


def decision(ir: IR, office: str, kind: str | None = None, confidential: bool = False) -> tuple:
    """The designated office's first decision, as the Registration of its designation."""
    state = (h(f"{ir.text}@{office} decision"), ir.state[1], b"A2D10")
    return (ir.designation_id(office), KIND[kind or ir.kind], confidential, state)


def reinstate(registry, offices, target: str) -> None:
    voters = [o.account for c, o in offices.items() if c != target]
    registry.proposeReinstatement(code(target), {"from": voters[0]})
    proposal_id = registry.proposalCount()
    for voter in voters[1:]:
        if not registry.proposal(proposal_id)["executed"]:
            registry.approve(proposal_id, {"from": voter})
    assert registry.officeOf(offices[target].account)[1] == STATUS["Active"]


# ---------------------------------------------------------------- the International Bureau designates


@pytest.mark.parametrize("kind", ["Trademark", "Design"])
def test_international_bureau_designates_an_office_on_its_registration(registry, register_ir, wo, kind):
    ir = register_ir(kind)
    designation = ir.designation("GB")

    tx = registry.designate(designation, {"from": wo})

    right = registry.rightOf(ir.rid)
    assert right["version"] == 2
    assert right["office"] == code("WO")
    assert bytes(right["stateDigest"]) == digest((h(f"{ir.text} v2"), ir.state[1], ir.state[2]))
    assert registry.matchesState(ir.rid, ir.after(designation).state)
    event = tx.events["Designated"]
    assert bytes(event["rightId"]) == ir.rid
    assert event["office"] == code("WO")
    assert event["designatedOffice"] == code("GB")
    assert bytes(event["designationId"]) == right_id(f"{ir.text}@GB")
    assert event["version"] == 2
    assert bytes(event["recordHash"]) == h(f"{ir.text} v2")
    assert event["designationDate"] == DESIGNATION_DATE
    assert len(tx.events) == 1


def test_designation_is_reserved_for_the_designated_office_until_it_decides(registry, ir, wo):
    registry.designate(ir.designation("GB"), {"from": wo})

    reserved = registry.rightOf(ir.designation_id("GB"))
    assert reserved["version"] == 0
    assert reserved["office"] == code("GB")
    assert reserved["kind"] == KIND["Trademark"]
    assert reserved["confidential"] is False
    assert bytes(reserved["stateDigest"]) == ZERO_DIGEST
    assert not registry.matchesState(ir.designation_id("GB"), (b"\0" * 32, b"\0" * 32, b"\0" * 5))


def test_designation_is_a_version_of_the_registration_in_its_per_right_log(registry, ir, wo):
    registered_at = web3.eth.block_number  # the block of the ir fixture's registration
    registry.designate(ir.designation("GB"), {"from": wo})

    logs = web3.eth.get_logs(
        {"address": registry.address, "fromBlock": registered_at, "topics": [None, "0x" + ir.rid.hex()]}
    )

    events = web3.eth.contract(address=registry.address, abi=registry.abi).events
    registered, designated = (
        events.RightRegistered().process_log(logs[0]),
        events.Designated().process_log(logs[1]),
    )
    assert len(logs) == 2
    assert (registered["args"]["rightId"], registered["args"]["office"]) == (ir.rid, b"WO")
    assert (designated["args"]["rightId"], designated["args"]["version"]) == (ir.rid, 2)
    assert bytes(logs[1]["topics"][2])[:2] == b"WO"
    assert bytes(logs[1]["topics"][3])[:2] == b"GB"


def test_designation_batch_designates_several_offices_in_one_transaction(registry, ir, wo):
    to_gb = ir.designation("GB")
    to_kr = ir.after(to_gb).designation("KR")

    tx = registry.designateBatch([to_gb, to_kr], {"from": wo})

    events = tx.events["Designated"]
    assert [(e["designatedOffice"], e["version"]) for e in events] == [(code("GB"), 2), (code("KR"), 3)]
    assert registry.matchesState(ir.rid, ir.after(to_gb).after(to_kr).state)
    assert registry.rightOf(ir.designation_id("GB"))["office"] == code("GB")
    assert registry.rightOf(ir.designation_id("KR"))["office"] == code("KR")


def test_designation_batch_with_one_bad_entry_designates_nothing(registry, ir, wo):
    to_gb = ir.designation("GB")
    to_jp = ir.after(to_gb).designation("JP")  # JP is no member

    with reverts_with("RightsRegistryInvalidDesignatedOffice", ir.rid, code("JP")):
        registry.designateBatch([to_gb, to_jp], {"from": wo})

    assert registry.rightOf(ir.rid)["version"] == 1
    assert registry.matchesState(ir.rid, ir.state)
    assert registry.rightOf(ir.designation_id("GB"))["office"] == "0x0000"


def test_empty_designation_batch_is_refused(registry, wo):
    with reverts_with("RightsRegistryEmptyBatch"):
        registry.designateBatch([], {"from": wo})


def test_international_bureau_constant_is_wo(registry):
    assert registry.INTERNATIONAL_BUREAU() == code("WO")


# ---------------------------------------------------------------- who may designate what


def test_office_other_than_the_international_bureau_cannot_designate_even_on_its_own_right(
    registry, register_ir, gb
):
    own = register_ir("Trademark", office="GB", sender=gb)
    with reverts_with("RightsRegistryNotInternationalBureau", code("GB")):
        registry.designate(own.designation("KR"), {"from": gb})
    with reverts_with("RightsRegistryNotInternationalBureau", code("GB")):
        registry.designateBatch([own.designation("KR")], {"from": gb})
    assert registry.rightOf(own.rid)["version"] == 1


def test_non_member_cannot_designate(registry, ir, outsider):
    with reverts_with("OfficeRegistryNotMember", outsider):
        registry.designate(ir.designation("GB"), {"from": outsider})


def test_suspended_international_bureau_cannot_designate(registry, ir, wo, suspend):
    suspend("WO")
    with reverts_with("OfficeRegistryOfficeNotActive", code("WO"), STATUS["Suspended"]):
        registry.designate(ir.designation("GB"), {"from": wo})


def test_international_bureau_cannot_designate_on_another_offices_right(registry, register_ir, wo, gb):
    national = register_ir("Trademark", office="GB", sender=gb)
    with reverts_with("RightsRegistryNotCompetent", national.rid, code("GB"), code("WO")):
        registry.designate(national.designation("KR"), {"from": wo})


def test_international_bureau_cannot_designate_on_an_unknown_registration(registry, ir, wo):
    unknown = replace(ir, text="WO:TM:9999999", rid=right_id("WO:TM:9999999"))
    with reverts_with("RightsRegistryUnknownRight", unknown.rid):
        registry.designate(unknown.designation("GB"), {"from": wo})


def test_designation_at_a_stale_version_is_refused(registry, ir, wo):
    registry.designate(ir.designation("GB"), {"from": wo})
    with reverts_with("RightsRegistryVersionMismatch", ir.rid, 1, 2):
        registry.designate(ir.designation("KR"), {"from": wo})
    assert registry.rightOf(ir.designation_id("KR"))["office"] == "0x0000"


def test_designation_with_a_wrong_current_state_is_refused(registry, ir, wo):
    forged = replace(ir, state=(ir.state[0], h("someone else"), ir.state[2]))
    with reverts_with("RightsRegistryStateMismatch", ir.rid):
        registry.designate(forged.designation("GB"), {"from": wo})


def test_designation_needs_a_record_hash(registry, ir, wo):
    rid, version, current, _, designation_id, office, date = ir.designation("GB")
    with reverts_with("RightsRegistryEmptyRecordHash", ir.rid):
        registry.designate((rid, version, current, b"\0" * 32, designation_id, office, date), {"from": wo})


@pytest.mark.parametrize("kind", ["Patent", "UtilityModel", "GeographicalIndication"])
def test_registration_other_than_a_trademark_or_design_is_not_designatable(registry, register_ir, wo, kind):
    ir = register_ir(kind)
    with reverts_with("RightsRegistryNotDesignatable", ir.rid, KIND[kind]):
        registry.designate(ir.designation("GB"), {"from": wo})


@pytest.mark.parametrize("office", ["WO", "JP", "\0\0"])
def test_designating_the_international_bureau_itself_or_a_non_member_is_refused(registry, ir, wo, office):
    with reverts_with("RightsRegistryInvalidDesignatedOffice", ir.rid, code(office)):
        registry.designate(ir.designation(office), {"from": wo})
    assert registry.rightOf(ir.rid)["version"] == 1


def test_suspended_office_can_be_designated(registry, ir, wo, suspend):
    suspend("GB")
    registry.designate(ir.designation("GB"), {"from": wo})
    assert registry.rightOf(ir.designation_id("GB"))["office"] == code("GB")


def test_the_same_designation_twice_is_refused(registry, ir, wo):
    first = ir.designation("GB")
    registry.designate(first, {"from": wo})
    again = ir.after(first).designation("GB")
    with reverts_with("RightsRegistryAlreadyDesignated", ir.designation_id("GB")):
        registry.designate(again, {"from": wo})
    assert registry.rightOf(ir.rid)["version"] == 2


def test_designation_id_already_registered_as_a_right_is_refused(registry, ir, wo, kr):
    squatted = decision(ir, "GB")
    registry.register(squatted, {"from": kr})
    with reverts_with("RightsRegistryAlreadyDesignated", ir.designation_id("GB")):
        registry.designate(ir.designation("GB"), {"from": wo})
    assert registry.rightOf(ir.designation_id("GB"))["office"] == code("KR")


def test_designation_id_of_the_registration_itself_is_refused(registry, ir, wo):
    rid, version, current, record, _, office, date = ir.designation("GB")
    with reverts_with("RightsRegistryAlreadyDesignated", ir.rid):
        registry.designate((rid, version, current, record, ir.rid, office, date), {"from": wo})


def test_zero_designation_id_is_refused(registry, ir, wo):
    rid, version, current, record, _, office, date = ir.designation("GB")
    with reverts_with("RightsRegistryInvalidRightId"):
        registry.designate((rid, version, current, record, b"\0" * 32, office, date), {"from": wo})


@pytest.mark.parametrize("date", [20240230, 20230229, 20260431, 20261301, 20260015, 0])
def test_invalid_designation_date_is_refused(registry, ir, wo, date):
    with reverts_with("RightsRegistryInvalidDate", ir.rid, date):
        registry.designate(ir.designation("GB", date=date), {"from": wo})


# ---------------------------------------------------------------- the designated office decides


def test_designated_office_registers_its_first_decision(registry, ir, wo, gb):
    registry.designate(ir.designation("GB"), {"from": wo})
    first = decision(ir, "GB")

    tx = registry.register(first, {"from": gb})

    event = tx.events["RightRegistered"]
    assert bytes(event["rightId"]) == ir.designation_id("GB")
    assert event["office"] == code("GB")
    assert event["kind"] == KIND["Trademark"]
    assert tuple(bytes(v) for v in event["state"]) == first[3]
    right = registry.rightOf(ir.designation_id("GB"))
    assert (right["version"], right["office"], right["kind"]) == (1, code("GB"), KIND["Trademark"])
    assert right["confidential"] is False
    assert registry.matchesState(ir.designation_id("GB"), first[3])


def test_designated_office_registers_decisions_in_bulk_beside_its_own_rights(
    registry, register_ir, wo, gb, rights
):
    marks = [register_ir("Trademark"), register_ir("Design")]
    registry.designateBatch([mark.designation("GB") for mark in marks], {"from": wo})
    own = rights.registration("GB", kind="Trademark")

    tx = registry.registerBatch([decision(marks[0], "GB"), own, decision(marks[1], "GB")], {"from": gb})

    assert len(tx.events["RightRegistered"]) == 3
    for mark in marks:
        right = registry.rightOf(mark.designation_id("GB"))
        assert (right["version"], right["office"], right["kind"]) == (1, code("GB"), KIND[mark.kind])
    assert registry.rightOf(own[0])["version"] == 1


@pytest.mark.parametrize("intruder", ["KR", "WO"])
def test_only_the_designated_office_registers_the_designation(registry, ir, offices, wo, intruder):
    registry.designate(ir.designation("GB"), {"from": wo})
    with reverts_with(
        "RightsRegistryNotDesignatedOffice", ir.designation_id("GB"), code("GB"), code(intruder)
    ):
        registry.register(decision(ir, "GB"), {"from": offices[intruder].account})
    with reverts_with(
        "RightsRegistryNotDesignatedOffice", ir.designation_id("GB"), code("GB"), code(intruder)
    ):
        registry.registerBatch([decision(ir, "GB")], {"from": offices[intruder].account})
    assert registry.rightOf(ir.designation_id("GB"))["version"] == 0


@pytest.mark.parametrize(
    "kind, confidential",
    [("Design", False), ("Patent", False), ("GeographicalIndication", False), (None, True)],
)
def test_decision_of_another_kind_or_confidential_is_invalid(registry, ir, wo, gb, kind, confidential):
    registry.designate(ir.designation("GB"), {"from": wo})
    with reverts_with("RightsRegistryInvalidDecision", ir.designation_id("GB")):
        registry.register(decision(ir, "GB", kind, confidential), {"from": gb})
    assert registry.rightOf(ir.designation_id("GB"))["version"] == 0


def test_first_decision_is_registered_once(registry, ir, wo, gb):
    registry.designate(ir.designation("GB"), {"from": wo})
    registry.register(decision(ir, "GB"), {"from": gb})
    with reverts_with("RightsRegistryAlreadyRegistered", ir.designation_id("GB")):
        registry.register(decision(ir, "GB"), {"from": gb})


def test_designated_office_records_later_decisions_as_status_events(registry, ir, wo, gb):
    registry.designate(ir.designation("GB"), {"from": wo})
    first = decision(ir, "GB")
    registry.register(first, {"from": gb})
    designation_id = ir.designation_id("GB")

    tx = registry.recordStatusEvent(
        (designation_id, 1, first[3], h("provisional refusal"), REFUSAL), {"from": gb}
    )

    event = tx.events["LegalStatusChanged"]
    assert (bytes(event["rightId"]), event["office"], event["version"]) == (designation_id, code("GB"), 2)
    assert registry.matchesState(designation_id, (h("provisional refusal"), first[3][1], REFUSAL[0]))


def test_international_bureau_cannot_record_a_decision_on_a_designation(registry, ir, wo, gb):
    registry.designate(ir.designation("GB"), {"from": wo})
    designation_id = ir.designation_id("GB")
    first = decision(ir, "GB")
    with reverts_with("RightsRegistryUnknownRight", designation_id):  # no decision yet
        registry.recordStatusEvent((designation_id, 0, first[3], h("x"), REFUSAL), {"from": wo})
    registry.register(first, {"from": gb})

    with reverts_with("RightsRegistryNotCompetent", designation_id, code("GB"), code("WO")):
        registry.recordStatusEvent((designation_id, 1, first[3], h("x"), REFUSAL), {"from": wo})
    with reverts_with("RightsRegistryNotCompetent", designation_id, code("GB"), code("WO")):
        registry.recordOwnershipChange(
            designation_id, 1, first[3], h("x"), h("y"), (CONVEYANCE["Assignment"], False, 20260601, h("d")),
            {"from": wo},
        )  # fmt: skip


def test_designated_office_cannot_change_the_international_registration(registry, ir, wo, gb):
    designation = ir.designation("GB")
    registry.designate(designation, {"from": wo})
    ir = ir.after(designation)
    assignment = (CONVEYANCE["Assignment"], False, 20260601, h("deed"))

    with reverts_with("RightsRegistryNotCompetent", ir.rid, code("WO"), code("GB")):
        registry.recordOwnershipChange(ir.rid, 2, ir.state, h("x"), h("y"), assignment, {"from": gb})
    with reverts_with("RightsRegistryNotCompetent", ir.rid, code("WO"), code("GB")):
        registry.recordStatusEvent((ir.rid, 2, ir.state, h("x"), REFUSAL), {"from": gb})
    with reverts_with("RightsRegistryNotInternationalBureau", code("GB")):
        registry.designate(ir.designation("KR"), {"from": gb})
    assert registry.rightOf(ir.rid)["version"] == 2


def test_international_bureau_records_an_ownership_change_of_its_registration(registry, ir, wo, gb):
    designation = ir.designation("GB")
    registry.designate(designation, {"from": wo})
    registry.register(decision(ir, "GB"), {"from": gb})
    ir = ir.after(designation)
    assignment = (CONVEYANCE["Assignment"], False, 20260601, h("deed"))

    tx = registry.recordOwnershipChange(ir.rid, 2, ir.state, h("v3"), h("holder"), assignment, {"from": wo})

    assert tx.events["OwnershipChanged"]["version"] == 3
    assert registry.matchesState(ir.rid, (h("v3"), h("holder"), ir.state[2]))
    assert registry.rightOf(ir.rid)["office"] == code("WO")
    assert registry.rightOf(ir.designation_id("GB"))["version"] == 1  # the designation is GB's own entry


def test_suspended_designated_office_cannot_record_its_decision_until_reinstated(
    registry, ir, offices, wo, gb, suspend
):
    registry.designate(ir.designation("GB"), {"from": wo})
    suspend("GB")
    with reverts_with("OfficeRegistryOfficeNotActive", code("GB"), STATUS["Suspended"]):
        registry.register(decision(ir, "GB"), {"from": gb})

    reinstate(registry, offices, "GB")
    registry.register(decision(ir, "GB"), {"from": gb})
    assert registry.rightOf(ir.designation_id("GB"))["version"] == 1


# ---------------------------------------------------------------- geographical indications


def test_geographical_indication_registers_and_reads_back_its_kind(registry, rights, kr):
    registration = rights.registration("KR", kind="GeographicalIndication")

    tx = registry.register(registration, {"from": kr})

    assert tx.events["RightRegistered"]["kind"] == KIND["GeographicalIndication"] == 4
    right = registry.rightOf(registration[0])
    assert (right["version"], right["kind"]) == (1, 4)
    assert registry.matchesState(registration[0], registration[3])


def test_geographical_indication_lapses_like_any_right(registry, rights, kr):
    rid, _, _, state = registration = rights.registration("KR", kind="GeographicalIndication")
    registry.register(registration, {"from": kr})
    lapse = (LAPSED, 4, b"\0" * 16, 20260401, 0)
    registry.recordStatusEvent((rid, 1, state, h("lapsed"), lapse), {"from": kr})
    assert registry.matchesState(rid, (h("lapsed"), state[1], LAPSED))


def test_kind_beyond_geographical_indication_is_refused(registry, rights, kr):
    rid, _, _, state = rights.registration("KR")
    with brownie.reverts():
        registry.register((rid, 5, False, state), {"from": kr})
    assert registry.rightOf(rid)["version"] == 0
