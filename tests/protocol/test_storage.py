"""The storage layout shipped with the contract says where a real chain keeps rights and anchors: each
mapped slot, read with eth_getStorageAt and unpacked by the layout, holds what the contract's getters
return; a layout asked for what it does not describe refuses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from registry_node.protocol.contract import (
    RightState,
    StorageLayoutError,
    load_artifact,
    office_code,
    registry_storage,
)
from tests.support.chain import FreshChain, GanacheFactory, anchor_root, deploy_fresh, register_right


class Written(NamedTuple):
    fresh: FreshChain
    right_id: bytes
    root: bytes


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Written]:
    factory = GanacheFactory(Path(tmp_path_factory.mktemp("layout")))
    try:
        fresh = deploy_fresh(factory)
        yield Written(fresh, register_right(fresh, "EP", "layout"), anchor_root(fresh, "GB", "layout"))
    finally:
        factory.stop_all()


def stored_word(fresh: FreshChain, slot: bytes) -> bytes:
    return bytes(fresh.w3.eth.get_storage_at(fresh.contract.address, int.from_bytes(slot, "big"))).rjust(
        32, b"\0"
    )


def test_a_rights_slot_holds_the_right_as_right_of_reads_it(written: Written) -> None:
    layout = registry_storage()
    fields = layout.mapped_struct("_rights").unpack(
        stored_word(written.fresh, layout.mapping_slot("_rights", written.right_id))
    )
    version, office, kind, confidential, digest = written.fresh.contract.functions.rightOf(
        written.right_id
    ).call()
    assert version == 1 and office == b"EP"
    assert int.from_bytes(fields["version"], "big") == version
    assert office_code(fields["office"]) == "EP"
    assert int.from_bytes(fields["kind"], "big") == kind
    assert bool(int.from_bytes(fields["confidential"], "big")) is confidential is False
    assert fields["stateDigest"] == bytes(digest)


def test_the_right_state_digest_is_the_one_the_contract_keeps(written: Written) -> None:
    events = written.fresh.contract.events.RightRegistered().get_logs(from_block=0)
    (registered,) = [e for e in events if bytes(e["args"]["rightId"]) == written.right_id]
    record, owners, status = registered["args"]["state"].values()
    state = RightState(bytes(record), bytes(owners), bytes(status))
    assert state.digest() == bytes(written.fresh.contract.functions.rightOf(written.right_id).call()[4])
    assert written.fresh.contract.functions.matchesState(written.right_id, state.as_tuple()).call()


def test_an_anchors_slot_holds_the_anchor_as_anchor_of_reads_it(written: Written) -> None:
    layout = registry_storage()
    fields = layout.mapped_struct("_anchors").unpack(
        stored_word(written.fresh, layout.mapping_slot("_anchors", written.root))
    )
    office, count, block_number, timestamp = written.fresh.contract.functions.anchorOf(written.root).call()
    assert office == b"GB" and count == 3 and block_number > 0
    assert office_code(fields["office"]) == "GB"
    assert int.from_bytes(fields["count"], "big") == count
    assert int.from_bytes(fields["blockNumber"], "big") == block_number
    assert int.from_bytes(fields["timestamp"], "big") == timestamp


def test_an_unwritten_key_has_an_empty_slot(written: Written) -> None:
    slot = registry_storage().mapping_slot("_rights", b"\x42" * 32)
    assert stored_word(written.fresh, slot) == b"\0" * 32


def test_a_layout_refuses_what_it_does_not_describe() -> None:
    layout = load_artifact().storage
    with pytest.raises(StorageLayoutError, match="no state variable _missing"):
        layout.slot("_missing")
    with pytest.raises(StorageLayoutError, match="_proposalCount is not a mapping"):
        layout.mapping_slot("_proposalCount", b"\0" * 32)
    with pytest.raises(StorageLayoutError, match="_membership is not a mapping keyed by bytes"):
        layout.mapping_slot("_membership", b"\0" * 20)
    with pytest.raises(ValueError, match="a key of _rights is 32 bytes"):
        layout.mapping_slot("_rights", b"\0" * 31)
    with pytest.raises(StorageLayoutError, match="_approved does not map to a struct"):
        layout.mapped_struct("_approved")
    with pytest.raises(ValueError, match="a storage word is 32 bytes"):
        layout.mapped_struct("_rights").unpack(b"\0" * 31)
