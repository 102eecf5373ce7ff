"""Confidential registrations carry only a salted seal until publication opens it."""

from __future__ import annotations

import pytest
from conftest import GRANTED, LAPSED, code, digest, h, reverts_with, seal

SALT = h("a secret salt")


@pytest.fixture
def sealed(registry, rights, ep):
    """A confidential application registered by EP, its record hidden behind a seal."""
    rid, kind, _, (record, owner, status) = rights.registration("EP", confidential=True)
    state = (seal(record, SALT), owner, status)
    registry.register((rid, kind, True, state), {"from": ep})
    return rid, record, state


def test_confidential_right_stores_only_the_seal(registry, sealed):
    rid, record, state = sealed
    right = registry.rightOf(rid)
    assert right["confidential"] is True
    assert bytes(right["stateDigest"]) == digest(state)
    assert not registry.matchesState(rid, (record, state[1], state[2]))


def test_seal_view_matches_off_chain_seal(registry):
    assert bytes(registry.sealOf(h("record"), SALT)) == seal(h("record"), SALT)


def test_publication_opens_the_seal(registry, sealed, ep):
    rid, record, state = sealed

    tx = registry.publish(rid, 1, state, record, SALT, {"from": ep})

    right = registry.rightOf(rid)
    assert right["version"] == 2
    assert right["confidential"] is False
    assert registry.matchesState(rid, (record, state[1], state[2]))
    event = tx.events["RightPublished"]
    assert (bytes(event["rightId"]), event["office"], event["version"]) == (rid, code("EP"), 2)
    assert (bytes(event["recordHash"]), bytes(event["salt"])) == (record, SALT)


def test_wrong_salt_does_not_open_the_seal(registry, sealed, ep):
    rid, record, state = sealed
    with reverts_with("RightsRegistrySealMismatch", rid):
        registry.publish(rid, 1, state, record, h("guessed salt"), {"from": ep})
    assert registry.rightOf(rid)["confidential"] is True


def test_other_record_does_not_open_the_seal(registry, sealed, ep):
    rid, _, state = sealed
    with reverts_with("RightsRegistrySealMismatch", rid):
        registry.publish(rid, 1, state, h("another record"), SALT, {"from": ep})


def test_public_right_cannot_be_published(registry, registered, ep):
    rid, state = registered
    with reverts_with("RightsRegistryNotConfidential", rid):
        registry.publish(rid, 1, state, state[0], SALT, {"from": ep})


def test_publication_happens_once(registry, sealed, ep):
    rid, record, state = sealed
    registry.publish(rid, 1, state, record, SALT, {"from": ep})
    published = (record, state[1], state[2])
    with reverts_with("RightsRegistryNotConfidential", rid):
        registry.publish(rid, 2, published, record, SALT, {"from": ep})


def test_other_office_cannot_publish(registry, sealed, gb):
    rid, record, state = sealed
    with reverts_with("RightsRegistryNotCompetent", rid, code("EP"), code("GB")):
        registry.publish(rid, 1, state, record, SALT, {"from": gb})


def test_publication_needs_the_expected_version_and_state(registry, sealed, ep):
    rid, record, state = sealed
    with reverts_with("RightsRegistryVersionMismatch", rid, 2, 1):
        registry.publish(rid, 2, state, record, SALT, {"from": ep})
    with reverts_with("RightsRegistryStateMismatch", rid):
        registry.publish(rid, 1, (state[0], h("forged owner"), state[2]), record, SALT, {"from": ep})


def test_confidential_right_stays_sealed_through_status_events(registry, sealed, ep):
    rid, _, state = sealed
    withdrawn_record = h("withdrawn record")
    new_seal = seal(withdrawn_record, h("second salt"))
    event = (LAPSED, 2, b"\0" * 16, 20260101, 0)
    registry.recordStatusEvent((rid, 1, state, new_seal, event), {"from": ep})
    assert registry.rightOf(rid)["confidential"] is True

    current = (new_seal, state[1], LAPSED)
    with reverts_with("RightsRegistrySealMismatch", rid):
        registry.publish(rid, 2, current, withdrawn_record, SALT, {"from": ep})  # the first seal's salt
    registry.publish(rid, 2, current, withdrawn_record, h("second salt"), {"from": ep})
    assert registry.matchesState(rid, (withdrawn_record, state[1], LAPSED))


def test_published_status_is_the_sealed_one(registry, sealed, ep):
    rid, record, state = sealed
    assert state[2] == GRANTED
    registry.publish(rid, 1, state, record, SALT, {"from": ep})
    assert registry.matchesState(rid, (record, state[1], GRANTED))
