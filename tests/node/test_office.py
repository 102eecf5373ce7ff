"""An office's write path against a real chain: checks first, then signed records that the chain proves."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest
from web3.contract import Contract

from registry_node.node.office import (
    NotCompetent,
    Office,
    OfficeError,
    UnknownRight,
    VersionConflict,
)
from registry_node.node.outbox import OutboxWorker
from registry_node.node.store import OutboxState, Store
from registry_node.protocol.keys import OfficeSigningKey
from registry_node.protocol.records import (
    LegalStatus,
    OwnershipChange,
    Right,
    RightRecord,
    chain_right_id,
    owner_commitment,
    record_hash,
)
from registry_node.protocol.signing import DetachedSignature, verify_signature
from registry_node.protocol.st96 import parse_st96
from tests.support.records import LAPSE, assignment, granted_patent

if TYPE_CHECKING:
    from conftest import FreshChain


class Node(NamedTuple):
    office: Office
    worker: OutboxWorker
    contract: Contract
    store: Store


@pytest.fixture
def ep(fresh_chain: FreshChain, tmp_path: Path) -> Node:
    store = Store(tmp_path / "ep.sqlite")
    office = Office("EP", store, OfficeSigningKey.generate())
    worker = OutboxWorker(store, fresh_chain.w3, fresh_chain.contract, fresh_chain.offices["EP"])
    return Node(office, worker, fresh_chain.contract, store)


def right(number: str = "EP20190012345", **changes: Any) -> Right:
    return granted_patent(f"EP:PAT:{number}", **changes)


def chain_version(node: Node, right_id: str) -> int:
    return int(node.contract.functions.rightOf(chain_right_id(right_id)).call()[0])


def proven_on_chain(node: Node, right_id: str) -> bool:
    """The store's latest chain state for the right is the contract's current state."""
    latest = node.store.latest(right_id)
    assert latest is not None
    state = tuple(bytes.fromhex(v) for v in latest.state["chainState"])
    return bool(node.contract.functions.matchesState(chain_right_id(right_id), state).call())


def test_a_right_lives_through_registration_transfer_and_a_status_event(ep: Node) -> None:
    rid = "EP:PAT:EP20190012345"
    ep.office.register(right())
    ep.office.record_ownership_change(rid, 1, assignment(rid))
    ep.office.record_status(rid, 2, LAPSE)
    ep.worker.drain()

    assert chain_version(ep, rid) == 3
    assert proven_on_chain(ep, rid)
    assert {e.state for e in ep.store.outbox()} == {OutboxState.CONFIRMED}
    latest = ep.store.latest(rid)
    assert latest is not None
    record = RightRecord.model_validate_json(latest.canonical)
    assert [p.name for p in record.right.ownerBag] == ["Nordic Heat AB"]
    assert record.right.legalStatus.keyEventCode == "H13"
    assert record.previousRecordHash == ep.store.version(rid, 2).record_hash.hex()  # type: ignore[union-attr]


def test_every_version_is_signed_by_the_office_key(ep: Node) -> None:
    rid = "EP:PAT:EP20190012345"
    ep.office.register(right())
    ep.office.record_ownership_change(rid, 1, assignment(rid))
    key = ep.office.signing_key
    for version in (1, 2):
        stored = ep.store.version(rid, version)
        assert stored is not None
        signature = DetachedSignature.from_json(stored.signature)
        assert signature.office == "EP" and signature.key_id == key.key_id
        assert verify_signature(stored.canonical, signature, key.public_key_bytes, key.algorithm)
        assert stored.record_hash == hashlib.sha256(stored.canonical).digest()


def test_a_licence_keeps_the_owners(ep: Node) -> None:
    rid = "EP:PAT:EP20190012345"
    ep.office.register(right())
    licence = OwnershipChange.model_validate(assignment(rid).to_json() | {"conveyanceCategory": "licence"})
    ep.office.record_ownership_change(rid, 1, licence)
    latest = ep.store.latest(rid)
    assert latest is not None
    assert [p.name for p in RightRecord.model_validate_json(latest.canonical).right.ownerBag] == [
        "Acme Thermal GmbH"
    ]


def test_a_confidential_right_is_sealed_until_published(ep: Node) -> None:
    rid = "EP:PAT:EP20230000001"
    ep.office.register(right("EP20230000001"), confidential=True)
    ep.office.record_status(
        rid, 1, LAPSE.model_copy(update={"status": LegalStatus(stateCode="A", stageCode=2)})
    )
    ep.worker.drain()
    sealed = ep.store.latest(rid)
    assert sealed is not None and not sealed.published
    assert bytes.fromhex(sealed.state["chainState"][0]) != sealed.record_hash  # only the seal is on chain
    assert ep.contract.functions.rightOf(chain_right_id(rid)).call()[3] is True

    ep.office.publish(rid, 2)
    ep.worker.drain()

    assert chain_version(ep, rid) == 3
    assert ep.contract.functions.rightOf(chain_right_id(rid)).call()[3] is False
    assert proven_on_chain(ep, rid)
    assert all(ep.store.version(rid, v).published for v in (1, 2, 3))  # type: ignore[union-attr]
    published = ep.store.version(rid, 3)
    assert published is not None and published.record_hash == sealed.record_hash


def test_a_change_after_a_publication_names_the_publications_version_and_lands(ep: Node) -> None:
    rid = "EP:PAT:EP20230000002"
    ep.office.register(right("EP20230000002"), confidential=True)
    ep.office.publish(rid, 1)
    accepted = ep.office.record_ownership_change(rid, 2, assignment(rid))
    ep.worker.drain()
    assert accepted.version == 3 and chain_version(ep, rid) == 3
    latest = ep.store.latest(rid)
    assert latest is not None and RightRecord.model_validate_json(latest.canonical).version == 3
    assert proven_on_chain(ep, rid)


def test_the_owner_commitment_opens_with_the_stored_salt(ep: Node) -> None:
    rid = "EP:PAT:EP20190012345"
    ep.office.register(right())
    stored = ep.store.latest(rid)
    assert stored is not None
    owners = list(RightRecord.model_validate_json(stored.canonical).right.ownerBag)
    commitment = owner_commitment(owners, bytes.fromhex(stored.state["ownerSalt"]))
    assert commitment.hex() == stored.state["chainState"][1]


def test_another_offices_right_is_refused_and_nothing_is_stored(ep: Node) -> None:
    gb_right = right("GB2019001", rightId="GB:PAT:GB2019001")
    with pytest.raises(NotCompetent) as caught:
        ep.office.register(gb_right)
    assert caught.value.status == 403 and caught.value.field == "rightId"
    with pytest.raises(NotCompetent):
        ep.office.record_ownership_change("GB:PAT:GB2019001", 1, assignment("GB:PAT:GB2019001"))
    assert ep.store.outbox() == [] and ep.store.right_ids() == []


def test_unknown_right_stale_version_and_uncovered_rights_are_refused(ep: Node) -> None:
    rid = "EP:PAT:EP20190012345"
    with pytest.raises(UnknownRight):
        ep.office.record_ownership_change(rid, 1, assignment(rid))
    ep.office.register(right())
    with pytest.raises(VersionConflict) as conflict:
        ep.office.record_ownership_change(rid, 2, assignment(rid))
    assert (conflict.value.expected, conflict.value.actual, conflict.value.status) == (2, 1, 409)
    with pytest.raises(VersionConflict):
        ep.office.register(right())
    with pytest.raises(OfficeError, match="does not cover"):
        ep.office.record_ownership_change(rid, 1, assignment("EP:PAT:EP1"))
    with pytest.raises(OfficeError, match="not confidential"):
        ep.office.publish(rid, 1)
    assert len(ep.store.outbox()) == 1


def test_record_hashes_on_chain_are_the_signed_records(ep: Node) -> None:
    rid = "EP:PAT:EP20190012345"
    ep.office.register(right())
    ep.worker.drain()
    stored = ep.store.latest(rid)
    assert stored is not None
    assert record_hash(RightRecord.model_validate_json(stored.canonical)) == stored.record_hash
    assert stored.state["chainState"][0] == stored.record_hash.hex()


def test_a_bulk_import_accepts_each_right_whole_and_refuses_the_others_alone(ep: Node) -> None:
    source = (
        Path(__file__).parent.parent / "assets" / "st96" / "patent_application_publication.xml"
    ).read_bytes()
    document = parse_st96(source)
    assert document.right.ipOfficeCode == "EP"
    rights = [(right(f"EP2020{n:07d}"), None) for n in range(40)]
    items = [(document.right, source), *rights, rights[3], (right("GB1", rightId="GB:PAT:GB1"), None)]

    outcomes = ep.office.register_many(items)

    assert [type(o).__name__ for o in outcomes] == ["Accepted"] * 41 + ["VersionConflict", "NotCompetent"]
    stored = ep.store.latest(document.right.rightId)
    assert stored is not None and stored.source_xml == source
    ep.worker.drain()
    assert chain_version(ep, document.right.rightId) == 1
    assert all(chain_version(ep, r.rightId) == 1 for r, _ in rights)
    assert all(proven_on_chain(ep, r.rightId) for r, _ in rights[:5])
    assert len(ep.store.outbox()) == 41
