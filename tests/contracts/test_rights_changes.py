"""Ownership changes and legal-status events: by the competent, active office, at the expected version."""

from __future__ import annotations

import brownie
import pytest
from conftest import CONVEYANCE, GRANTED, LAPSED, STATUS, code, digest, h, reverts_with

ASSIGNMENT = (CONVEYANCE["Assignment"], False, 20260315, h("deed of assignment"))
LAPSE = (LAPSED, 4, b"EPIDOSNLAPS".ljust(16, b"\0"), 20260401, 0)


def assign(
    registry, rid, version, current, sender, record="record v2", owner="new owner", conveyance=ASSIGNMENT
):
    return registry.recordOwnershipChange(
        rid, version, current, h(record), h(owner), conveyance, {"from": sender}
    )


def status_update(rid, version, current, record="status record", event=LAPSE):
    return (rid, version, current, h(record), event)


def test_competent_office_records_an_ownership_change(registry, registered, ep):
    rid, current = registered

    tx = assign(registry, rid, 1, current, ep)

    new_state = (h("record v2"), h("new owner"), current[2])  # the status carries over
    right = registry.rightOf(rid)
    assert right["version"] == 2
    assert bytes(right["stateDigest"]) == digest(new_state)
    event = tx.events["OwnershipChanged"]
    assert bytes(event["rightId"]) == rid
    assert event["office"] == code("EP")
    assert event["version"] == 2
    assert bytes(event["recordHash"]) == h("record v2")
    assert bytes(event["ownerCommitment"]) == h("new owner")
    assert tuple(event["conveyance"]) == (*ASSIGNMENT[:3], "0x" + ASSIGNMENT[3].hex())


@pytest.mark.parametrize("kind", list(CONVEYANCE))
def test_every_conveyance_type_is_recorded(registry, registered, ep, kind):
    rid, current = registered
    conveyance = (CONVEYANCE[kind], kind == "Licence", 20251231, h(kind))
    tx = assign(registry, rid, 1, current, ep, conveyance=conveyance)
    assert tx.events["OwnershipChanged"]["conveyance"]["kind"] == CONVEYANCE[kind]
    assert tx.events["OwnershipChanged"]["conveyance"]["partialTransfer"] is (kind == "Licence")


def test_other_office_cannot_transfer_right(registry, registered, gb):
    rid, current = registered
    with reverts_with("RightsRegistryNotCompetent", rid, code("EP"), code("GB")):
        assign(registry, rid, 1, current, gb)
    assert registry.rightOf(rid)["version"] == 1


def test_non_member_cannot_transfer_right(registry, registered, outsider):
    rid, current = registered
    with reverts_with("OfficeRegistryNotMember", outsider):
        assign(registry, rid, 1, current, outsider)


def test_suspended_office_cannot_change_its_rights_until_reinstated(
    registry, registered, offices, ep, suspend
):
    rid, current = registered
    suspend("EP")
    with reverts_with("OfficeRegistryOfficeNotActive", code("EP"), STATUS["Suspended"]):
        assign(registry, rid, 1, current, ep)
    with reverts_with("OfficeRegistryOfficeNotActive", code("EP"), STATUS["Suspended"]):
        registry.recordStatusEvent(status_update(rid, 1, current), {"from": ep})

    registry.proposeReinstatement(code("EP"), {"from": offices["GB"].account})
    registry.approve(registry.proposalCount(), {"from": offices["KR"].account})
    assign(registry, rid, 1, current, ep)
    assert registry.rightOf(rid)["version"] == 2


def test_stale_version_is_refused(registry, registered, ep):
    rid, current = registered
    assign(registry, rid, 1, current, ep)
    new_state = (h("record v2"), h("new owner"), current[2])
    with reverts_with("RightsRegistryVersionMismatch", rid, 1, 2):
        assign(registry, rid, 1, new_state, ep, record="record v3")
    with reverts_with("RightsRegistryVersionMismatch", rid, 3, 2):
        assign(registry, rid, 3, new_state, ep, record="record v3")


def test_replaying_a_change_does_not_apply_it_twice(registry, registered, ep):
    rid, current = registered
    assign(registry, rid, 1, current, ep)
    with reverts_with("RightsRegistryVersionMismatch", rid, 1, 2):
        assign(registry, rid, 1, current, ep)
    assert registry.rightOf(rid)["version"] == 2


def test_wrong_current_state_is_refused(registry, registered, ep):
    rid, (record, owner, status) = registered
    for wrong in [(h("forged"), owner, status), (record, h("forged"), status), (record, owner, LAPSED)]:
        with reverts_with("RightsRegistryStateMismatch", rid):
            assign(registry, rid, 1, wrong, ep)


def test_unknown_right_cannot_be_changed(registry, rights, ep):
    rid, _, _, state = rights.registration("EP")
    with reverts_with("RightsRegistryUnknownRight", rid):
        assign(registry, rid, 1, state, ep)
    with reverts_with("RightsRegistryUnknownRight", rid):
        registry.recordStatusEvent(status_update(rid, 1, state), {"from": ep})


def test_ownership_change_needs_a_record_hash(registry, registered, ep):
    rid, current = registered
    with reverts_with("RightsRegistryEmptyRecordHash", rid):
        registry.recordOwnershipChange(rid, 1, current, b"\0" * 32, h("o"), ASSIGNMENT, {"from": ep})


@pytest.mark.parametrize(
    "date", [0, 20261301, 20260132, 20260015, 9991231, 100000000, 20240230, 20230229, 19000229, 20260431]
)
def test_invalid_effective_date_is_refused(registry, registered, ep, date):
    rid, current = registered
    with reverts_with("RightsRegistryInvalidDate", rid, date):
        assign(registry, rid, 1, current, ep, conveyance=(0, False, date, h("deed")))


@pytest.mark.parametrize("date", [20260000, 19880500, 20240229, 20000229, 20260430, 20261231, 10000101])
def test_partial_dates_are_accepted(registry, registered, ep, date):
    rid, current = registered
    assign(registry, rid, 1, current, ep, conveyance=(0, False, date, h("deed")))
    assert registry.rightOf(rid)["version"] == 2


def test_status_event_changes_status_and_keeps_owner(registry, registered, ep):
    rid, current = registered

    tx = registry.recordStatusEvent(status_update(rid, 1, current), {"from": ep})

    right = registry.rightOf(rid)
    assert right["version"] == 2
    assert bytes(right["stateDigest"]) == digest((h("status record"), current[1], LAPSED))
    event = tx.events["LegalStatusChanged"]
    assert (bytes(event["rightId"]), event["office"], event["version"]) == (rid, code("EP"), 2)
    assert bytes(event["recordHash"]) == h("status record")
    status, previous_stage, detailed, effective, corrects = event["statusEvent"]
    assert (bytes(status), previous_stage, bytes(detailed), effective, corrects) == LAPSE


def test_other_office_cannot_record_status_event(registry, registered, kr):
    rid, current = registered
    with reverts_with("RightsRegistryNotCompetent", rid, code("EP"), code("KR")):
        registry.recordStatusEvent(status_update(rid, 1, current), {"from": kr})


def test_status_event_with_invalid_status_is_refused(registry, registered, ep):
    rid, current = registered
    event = (b"A9F10", 4, b"\0" * 16, 20260401, 0)
    with reverts_with("RightsRegistryInvalidStatus", rid, "0x" + b"A9F10".hex()):
        registry.recordStatusEvent(status_update(rid, 1, current, event=event), {"from": ep})


def test_status_event_with_invalid_date_is_refused(registry, registered, ep):
    rid, current = registered
    event = (LAPSED, 4, b"\0" * 16, 20261340, 0)
    with reverts_with("RightsRegistryInvalidDate", rid, 20261340):
        registry.recordStatusEvent(status_update(rid, 1, current, event=event), {"from": ep})


def test_correction_names_an_earlier_version(registry, registered, ep):
    rid, current = registered
    registry.recordStatusEvent(status_update(rid, 1, current), {"from": ep})
    lapsed = (h("status record"), current[1], LAPSED)

    correction = (b"A4Y01", 6, b"\0" * 16, 20260402, 2)
    registry.recordStatusEvent(status_update(rid, 2, lapsed, "corrected", correction), {"from": ep})

    assert registry.matchesState(rid, (h("corrected"), current[1], b"A4Y01"))
    assert registry.rightOf(rid)["version"] == 3


@pytest.mark.parametrize(
    "status, corrects, expected_version",
    [
        (b"A4Y01", 0, 1),  # a correction that names nothing
        (b"A4Y01", 2, 1),  # a correction of a version that does not exist yet
        (LAPSED, 1, 1),  # a normal event that claims to correct one
    ],
)
def test_invalid_correction_reference_is_refused(
    registry, registered, ep, status, corrects, expected_version
):
    rid, current = registered
    event = (status, 4, b"\0" * 16, 20260401, corrects)
    with reverts_with("RightsRegistryInvalidCorrection", rid, corrects, expected_version):
        registry.recordStatusEvent(status_update(rid, 1, current, event=event), {"from": ep})


def test_status_batch_applies_events_in_order(registry, rights, ep):
    first, second = rights.registration("EP"), rights.registration("EP")
    registry.registerBatch([first, second], {"from": ep})
    after_lapse = (h("lapse"), first[3][1], LAPSED)
    revival = (b"A4K10", 6, b"\0" * 16, 20260501, 0)
    updates = [
        status_update(first[0], 1, first[3], "lapse"),
        status_update(second[0], 1, second[3], "lapse 2"),
        status_update(first[0], 2, after_lapse, "revival", revival),
    ]

    tx = registry.recordStatusEvents(updates, {"from": ep})

    assert [e["version"] for e in tx.events["LegalStatusChanged"]] == [2, 2, 3]
    assert registry.matchesState(first[0], (h("revival"), first[3][1], b"A4K10"))
    assert registry.matchesState(second[0], (h("lapse 2"), second[3][1], LAPSED))


def test_status_batch_with_one_stale_entry_applies_nothing(registry, rights, ep):
    first, second = rights.registration("EP"), rights.registration("EP")
    registry.registerBatch([first, second], {"from": ep})
    updates = [status_update(first[0], 1, first[3]), status_update(second[0], 7, second[3])]
    with reverts_with("RightsRegistryVersionMismatch", second[0], 7, 1):
        registry.recordStatusEvents(updates, {"from": ep})
    assert registry.matchesState(first[0], first[3])
    assert registry.rightOf(first[0])["version"] == 1


def test_status_batch_cannot_touch_another_offices_right(registry, rights, ep, gb):
    mine, theirs = rights.registration("EP"), rights.registration("GB")
    registry.register(mine, {"from": ep})
    registry.register(theirs, {"from": gb})
    with reverts_with("RightsRegistryNotCompetent", theirs[0], code("GB"), code("EP")):
        registry.recordStatusEvents(
            [status_update(mine[0], 1, mine[3]), status_update(theirs[0], 1, theirs[3])], {"from": ep}
        )
    assert registry.rightOf(mine[0])["version"] == 1


def test_empty_status_batch_is_refused(registry, ep):
    with reverts_with("RightsRegistryEmptyBatch"):
        registry.recordStatusEvents([], {"from": ep})


def test_granted_status_survives_many_ownership_changes(registry, registered, ep):
    rid, current = registered
    state = current
    for version in range(1, 6):
        assign(registry, rid, version, state, ep, record=f"r{version}", owner=f"o{version}")
        state = (h(f"r{version}"), h(f"o{version}"), GRANTED)
    assert registry.rightOf(rid)["version"] == 6
    assert registry.matchesState(rid, state)


def test_refused_change_costs_no_state(registry, registered, gb):
    rid, current = registered
    before = registry.rightOf(rid)
    with brownie.reverts():
        assign(registry, rid, 1, current, gb)
    assert registry.rightOf(rid) == before
