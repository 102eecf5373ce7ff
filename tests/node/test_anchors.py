"""Anchored imports against a real ganache: one anchor per batch, every record proven on chain, rights
given their own state when first changed, and each anchor and registration written exactly once."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest
from web3.contract import Contract

from registry_node.node.anchors import inclusion_proof, manifest_of
from registry_node.node.office import Accepted, NotCompetent, Office, OfficeError, VersionConflict
from registry_node.node.outbox import OutboxWorker, decode_args
from registry_node.node.store import OutboxState, Store
from registry_node.node.transactor import Transactor
from registry_node.protocol.contract import load_artifact
from registry_node.protocol.keys import OfficeSigningKey
from registry_node.protocol.merkle import MerkleTree
from registry_node.protocol.records import (
    LegalStatus,
    LegalStatusEvent,
    Right,
    canonical_bytes,
    chain_right_id,
)
from tests.support.records import assignment, granted_patent

if TYPE_CHECKING:
    from conftest import FreshChain


class Node(NamedTuple):
    office: Office
    store: Store
    contract: Contract
    fresh: FreshChain

    def worker(self, **kwargs: Any) -> OutboxWorker:
        return OutboxWorker(self.store, self.fresh.w3, self.contract, self.fresh.offices["EP"], **kwargs)


@pytest.fixture
def ep(fresh_chain: FreshChain, tmp_path: Path) -> Node:
    store = Store(tmp_path / "ep.sqlite")
    return Node(Office("EP", store, OfficeSigningKey.generate()), store, fresh_chain.contract, fresh_chain)


def right(number: str, **changes: Any) -> Right:
    return granted_patent(f"EP:PAT:{number}", **({"filingDate": "2009-03-01"} | changes))


def back_file(count: int, prefix: str = "EP2009") -> list[tuple[Right, bytes | None]]:
    return [(right(f"{prefix}{n:06d}"), None) for n in range(count)]


def events(node: Node, right_id: str) -> list[tuple[str, int]]:
    rid = chain_right_id(right_id)
    found = []
    for name in ("RightRegistered", "OwnershipChanged", "LegalStatusChanged"):
        for log in getattr(node.contract.events, name).get_logs(
            from_block=0, argument_filters={"rightId": rid}
        ):
            found.append((log["blockNumber"], log["logIndex"], name, log["args"].get("version", 1)))
    return [(name, version) for _, _, name, version in sorted(found)]


def anchored_roots(node: Node) -> list[bytes]:
    return [bytes(log["args"]["root"]) for log in node.contract.events.RootAnchored.get_logs(from_block=0)]


def test_an_anchored_import_is_one_anchor_per_batch_and_each_record_proves_on_chain(ep: Node) -> None:
    rights = back_file(25)

    imported = ep.office.anchor_many(rights, batch_size=10)
    ep.worker().drain()

    assert all(isinstance(r, Accepted) for r in imported.results)
    assert [a.count for a in imported.anchors] == [10, 10, 5]
    assert sorted(anchored_roots(ep)) == sorted(a.root for a in imported.anchors)
    assert {e.state for e in ep.store.outbox()} == {OutboxState.CONFIRMED}
    assert len(ep.store.outbox()) == 3  # one entry per anchor, none per right
    for queued in imported.anchors:
        office, count, block, _ = ep.contract.functions.anchorOf(queued.root).call()
        assert (bytes(office), count) == (b"EP", queued.count) and block > 0
        stored = ep.store.anchor(queued.root)
        assert stored is not None and stored.outbox_id == queued.outbox_id
        manifest = manifest_of(stored)
        body = {k: v for k, v in manifest.items() if k != "manifestHash"}
        assert hashlib.sha256(canonical_bytes(body)).hexdigest() == manifest["manifestHash"][2:]
        (event,) = [
            log
            for log in ep.contract.events.RootAnchored.get_logs(from_block=0)
            if bytes(log["args"]["root"]) == queued.root
        ]
        assert bytes(event["args"]["manifestHash"]) == queued.manifest_hash == stored.manifest_hash
        hashes = [bytes.fromhex(item["recordHash"]) for item in manifest["items"]]
        assert MerkleTree.from_record_hashes(hashes).root == queued.root
    for accepted in imported.results:
        assert isinstance(accepted, Accepted)
        anchor = ep.store.anchor_of(accepted.right_id, 1)
        assert anchor is not None and anchor.outbox_id == accepted.outbox_id
        proof = inclusion_proof(anchor, accepted.record_hash)
        assert ep.contract.functions.verifyRecord(anchor.root, accepted.record_hash, proof).call()
        assert not ep.contract.functions.verifyRecord(
            anchor.root, hashlib.sha256(b"x").digest(), proof
        ).call()
        assert ep.contract.functions.rightOf(chain_right_id(accepted.right_id)).call()[0] == 0


def test_an_anchored_import_refuses_bad_rights_alone(ep: Node) -> None:
    rights = back_file(4)
    ep.office.register(right("EP2009999999"))  # registered per right before the import
    items = [*rights, rights[1], (right("GB1", rightId="GB:PAT:GB1"), None), (right("EP2009999999"), None)]

    imported = ep.office.anchor_many(items, batch_size=1000)

    assert [type(r).__name__ for r in imported.results] == ["Accepted"] * 4 + [
        "VersionConflict",
        "NotCompetent",
        "VersionConflict",
    ]
    assert isinstance(imported.results[5], NotCompetent) and imported.results[5].field == "rightId"
    assert isinstance(imported.results[4], VersionConflict)
    assert [a.count for a in imported.anchors] == [4]


def test_confidential_rights_are_never_anchored(ep: Node) -> None:
    with pytest.raises(OfficeError) as refused:
        ep.office.anchor_many(back_file(2), batch_size=10, confidential=True)
    assert refused.value.field == "confidential"
    assert ep.store.outbox() == [] and ep.store.right_ids() == []


def test_an_anchored_right_is_registered_ahead_of_its_first_change_and_each_lands_once(ep: Node) -> None:
    rights = back_file(3)
    ep.office.anchor_many(rights, batch_size=10)
    ep.worker().drain()
    transferred, lapsed = rights[0][0].rightId, rights[1][0].rightId

    ep.office.record_ownership_change(transferred, 1, assignment(transferred))
    lapse = LegalStatusEvent(
        status=LegalStatus(stateCode="N", stageCode=6, keyEventCode="H13"),
        previousStageCode=4,
        eventDate="2026-04-01",
        effectiveDate="2026-04-01",
    )
    ep.office.record_status(lapsed, 1, lapse)
    queued = [(e.right_id, e.version, e.action) for e in ep.store.outbox((OutboxState.PENDING,))]
    assert queued == [
        (transferred, 1, "register"),
        (transferred, 2, "recordOwnershipChange"),
        (lapsed, 1, "register"),
        (lapsed, 2, "recordStatusEvent"),
    ]
    ep.worker().drain()
    ep.office.record_ownership_change(
        transferred, 2, assignment(transferred)
    )  # registered now: no second registration
    ep.worker().drain()

    assert events(ep, transferred) == [
        ("RightRegistered", 1),
        ("OwnershipChanged", 2),
        ("OwnershipChanged", 3),
    ]
    assert events(ep, lapsed) == [("RightRegistered", 1), ("LegalStatusChanged", 2)]
    assert events(ep, rights[2][0].rightId) == []  # never changed: proven by its anchor only
    first = ep.store.version(transferred, 1)
    assert first is not None
    registered = [
        log
        for log in ep.contract.events.RightRegistered.get_logs(from_block=0)
        if bytes(log["args"]["rightId"]) == chain_right_id(transferred)
    ]
    assert (
        bytes(registered[0]["args"]["state"]["recordHash"]) == first.record_hash
    )  # the anchored record, as it was
    assert {e.state for e in ep.store.outbox()} == {OutboxState.CONFIRMED}
    latest = ep.store.latest(transferred)
    assert latest is not None
    state = tuple(bytes.fromhex(v) for v in latest.state["chainState"])
    assert ep.contract.functions.matchesState(chain_right_id(transferred), state).call()


def crash_before_broadcast(raw: bytes) -> None:
    raise KeyboardInterrupt("the node dies after recording the anchor transaction, before sending it")


def test_an_anchor_recorded_before_a_crash_is_sent_once_after_restart(ep: Node) -> None:
    imported = ep.office.anchor_many(back_file(5), batch_size=10)
    with pytest.raises(KeyboardInterrupt):
        ep.worker(broadcast=crash_before_broadcast).run_once()
    assert ep.store.outbox()[0].state == OutboxState.SENT

    ep.worker().drain()  # the restarted node

    assert anchored_roots(ep) == [imported.anchors[0].root]
    assert ep.store.outbox()[0].state == OutboxState.CONFIRMED


def test_an_anchor_already_on_chain_is_confirmed_without_anchoring_twice(ep: Node) -> None:
    imported = ep.office.anchor_many(back_file(5), batch_size=10)
    entry = ep.store.outbox()[0]
    # another process of the office sent the same anchor call (e.g. a node restored from a backup)
    Transactor(ep.fresh.w3, ep.fresh.offices["EP"], load_artifact().abi).send(
        ep.contract.functions.anchor(*decode_args(entry.payload["args"]))
    )

    ep.worker().drain()

    assert anchored_roots(ep) == [imported.anchors[0].root]
    confirmed = ep.store.outbox()[0]
    assert confirmed.state == OutboxState.CONFIRMED and confirmed.error is None
