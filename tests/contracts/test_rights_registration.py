"""Registering rights, one at a time and in bulk: who may, what is stored, what is refused."""

from __future__ import annotations

import brownie
import pytest
from conftest import GRANTED, KIND, NO_STATUS, STATUS, code, digest, h, reverts_with


def test_office_registers_right_at_version_one(registry, rights, ep):
    registration = rights.registration("EP", kind="Trademark")
    rid, _, _, state = registration

    tx = registry.register(registration, {"from": ep})

    right = registry.rightOf(rid)
    assert right["version"] == 1
    assert right["office"] == code("EP")
    assert right["kind"] == KIND["Trademark"]
    assert right["confidential"] is False
    assert bytes(right["stateDigest"]) == digest(state)
    assert registry.matchesState(rid, state)
    event = tx.events["RightRegistered"]
    assert bytes(event["rightId"]) == rid
    assert event["office"] == code("EP")
    assert event["kind"] == KIND["Trademark"]
    assert event["confidential"] is False
    assert tuple(bytes(v) for v in event["state"]) == state


@pytest.mark.parametrize("kind", list(KIND))
def test_every_kind_of_right_can_be_registered(registry, rights, ep, kind):
    registration = rights.registration("EP", kind=kind)
    registry.register(registration, {"from": ep})
    assert registry.rightOf(registration[0])["kind"] == KIND[kind]


def test_unknown_kind_is_refused(registry, rights, ep):
    rid, _, confidential, state = rights.registration("EP")
    with brownie.reverts():
        registry.register((rid, len(KIND), confidential, state), {"from": ep})
    assert registry.rightOf(rid)["version"] == 0


def test_stored_digest_matches_the_contracts_own_digest_view(registry, rights, ep):
    registration = rights.registration("EP")
    registry.register(registration, {"from": ep})
    assert registry.stateDigest(registration[3]) == registry.rightOf(registration[0])["stateDigest"]


def test_unregistered_right_reads_as_version_zero_and_matches_no_state(registry, rights):
    rid, _, _, state = rights.registration("EP")
    assert registry.rightOf(rid)["version"] == 0
    assert not registry.matchesState(rid, state)


def test_other_state_does_not_match(registry, registered):
    rid, (record, owner, status) = registered
    assert not registry.matchesState(rid, (record, h("someone else"), status))
    assert not registry.matchesState(rid, (record, owner, NO_STATUS))


def test_right_cannot_be_registered_twice(registry, registered, ep, gb):
    rid, state = registered
    with reverts_with("RightsRegistryAlreadyRegistered", rid):
        registry.register((rid, 0, False, state), {"from": ep})
    with reverts_with("RightsRegistryAlreadyRegistered", rid):
        registry.register((rid, 0, False, state), {"from": gb})
    assert registry.rightOf(rid)["office"] == code("EP")


def test_zero_right_id_is_refused(registry, ep):
    with reverts_with("RightsRegistryInvalidRightId"):
        registry.register((b"\0" * 32, 0, False, (h("r"), h("o"), GRANTED)), {"from": ep})


def test_empty_record_hash_is_refused(registry, rights, ep):
    rid, kind, confidential, (_, owner, status) = rights.registration("EP")
    with reverts_with("RightsRegistryEmptyRecordHash", rid):
        registry.register((rid, kind, confidential, (b"\0" * 32, owner, status)), {"from": ep})


@pytest.mark.parametrize(
    "status",
    [
        b"X4F10",  # no such state
        b"a4F10",  # states are capitals
        b"A7F10",  # stages run 0 to 6
        b"A\x04F10",  # the stage is an ASCII digit
        b"A4I10",  # I is not an ST.27 category
        b"A4Z10",  # nor is Z
        b"A4FA0",  # two digits after the category
        b"A4F1\0",  # a partial key event
        b"\0\0\0\0\0",
    ],
)
def test_invalid_status_code_is_refused(registry, rights, ep, status):
    rid, kind, confidential, (record, owner, _) = rights.registration("EP")
    with reverts_with("RightsRegistryInvalidStatus", rid, "0x" + status.hex()):
        registry.register((rid, kind, confidential, (record, owner, status)), {"from": ep})


@pytest.mark.parametrize("status", [b"A4F10", b"N6H13", b"T6H14", b"U0\0\0\0", b"A1A10", b"A2Y01", b"N5W99"])
def test_valid_status_codes_are_accepted(registry, rights, ep, status):
    registration = rights.registration("EP", status=status)
    registry.register(registration, {"from": ep})
    assert registry.matchesState(registration[0], registration[3])


def test_non_member_cannot_register(registry, rights, outsider):
    registration = rights.registration("EP")
    with reverts_with("OfficeRegistryNotMember", outsider):
        registry.register(registration, {"from": outsider})
    with reverts_with("OfficeRegistryNotMember", outsider):
        registry.registerBatch([registration], {"from": outsider})


def test_suspended_office_cannot_register(registry, rights, gb, suspend):
    suspend("GB")
    with reverts_with("OfficeRegistryOfficeNotActive", code("GB"), STATUS["Suspended"]):
        registry.register(rights.registration("GB"), {"from": gb})


def test_batch_registers_every_right_with_one_event_each(registry, rights, kr):
    batch = [
        rights.registration("KR", kind=kind) for kind in ("Patent", "Design", "Trademark", "UtilityModel")
    ]

    tx = registry.registerBatch(batch, {"from": kr})

    assert len(tx.events["RightRegistered"]) == len(batch)
    for registration, event in zip(batch, tx.events["RightRegistered"], strict=True):
        rid, kind, _, state = registration
        assert bytes(event["rightId"]) == rid
        assert event["kind"] == kind
        assert tuple(bytes(v) for v in event["state"]) == state
        right = registry.rightOf(rid)
        assert (right["version"], right["office"], right["kind"]) == (1, code("KR"), kind)
        assert bytes(right["stateDigest"]) == digest(state)


def test_batch_with_a_duplicate_registers_nothing(registry, rights, ep):
    first, second = rights.registration("EP"), rights.registration("EP")
    with reverts_with("RightsRegistryAlreadyRegistered", first[0]):
        registry.registerBatch([first, second, first], {"from": ep})
    assert registry.rightOf(first[0])["version"] == 0
    assert registry.rightOf(second[0])["version"] == 0


def test_batch_with_one_bad_status_registers_nothing(registry, rights, ep):
    good = rights.registration("EP")
    rid, kind, confidential, (record, owner, _) = rights.registration("EP")
    with reverts_with("RightsRegistryInvalidStatus", rid, "0x" + b"Q9Q99".hex()):
        registry.registerBatch([good, (rid, kind, confidential, (record, owner, b"Q9Q99"))], {"from": ep})
    assert registry.rightOf(good[0])["version"] == 0


def test_empty_batch_is_refused(registry, ep):
    with reverts_with("RightsRegistryEmptyBatch"):
        registry.registerBatch([], {"from": ep})
