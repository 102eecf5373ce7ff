"""Merkle trees for batched anchors: every record proves, nothing else does, OpenZeppelin agrees on chain."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pytest
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_node.protocol import merkle
from registry_node.protocol.merkle import MerkleTree

if TYPE_CHECKING:
    from conftest import Consortium


def record_hashes(count: int, label: str = "record") -> list[bytes]:
    return [keccak(text=f"{label}-{count}-{i}") for i in range(count)]


def flip_byte(value: bytes, index: int = 0) -> bytes:
    return value[:index] + bytes([value[index] ^ 0x01]) + value[index + 1 :]


def assert_every_record_proves(records: list[bytes]) -> MerkleTree:
    tree = MerkleTree.from_record_hashes(records)
    assert len(tree) == len(records)
    depth = math.ceil(math.log2(len(records))) if len(records) > 1 else 0
    for record in records:
        proof = tree.proof(record)
        assert len(proof) <= depth
        assert merkle.verify(tree.root, record, proof), (
            f"record {record.hex()} of {len(records)} does not prove"
        )
    return tree


@pytest.mark.parametrize("size", range(1, 41))
def test_every_record_of_a_small_tree_verifies_and_nothing_else_does(size: int) -> None:
    records = record_hashes(size)
    tree = assert_every_record_proves(records)
    outsider = keccak(text=f"not in the tree of {size}")
    for i, record in enumerate(records):
        proof = tree.proof(record)
        assert not merkle.verify(tree.root, outsider, proof)
        assert not merkle.verify(tree.root, flip_byte(record, i % 32), proof)
        assert not merkle.verify(flip_byte(tree.root, 31), record, proof)
        if size > 1:
            other = records[(i + 1) % size]
            assert not merkle.verify(tree.root, other, proof), "a proof must not serve another record"
            for j in range(len(proof)):
                tampered = [*proof[:j], flip_byte(proof[j], j % 32), *proof[j + 1 :]]
                assert not merkle.verify(tree.root, record, tampered)
            assert not merkle.verify(tree.root, record, proof[:-1])


@pytest.mark.parametrize("size", [1000, 1023, 1024, 1025])
def test_every_record_of_a_large_tree_verifies(size: int) -> None:
    records = record_hashes(size, "large")
    tree = assert_every_record_proves(records)
    assert len(tree.levels) == math.ceil(math.log2(size)) + 1
    assert not merkle.verify(tree.root, keccak(text="outsider"), tree.proof(records[0]))


def test_a_single_record_tree_has_the_leaf_as_root_and_an_empty_proof() -> None:
    (record,) = record_hashes(1)
    tree = MerkleTree.from_record_hashes([record])
    assert tree.root == merkle.leaf_of(record)
    assert tree.proof(record) == []


def test_the_root_does_not_depend_on_the_order_of_the_records() -> None:
    records = record_hashes(37)
    assert MerkleTree.from_record_hashes(records).root == MerkleTree.from_record_hashes(records[::-1]).root


def test_a_leaf_is_the_record_hash_hashed_twice() -> None:
    record = keccak(text="record")
    assert merkle.leaf_of(record) == keccak(keccak(record))  # abi.encode of a bytes32 is the bytes32 itself
    assert merkle.leaf_of(record) != record


def test_a_leaf_needs_a_32_byte_record_hash() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        merkle.leaf_of(b"\x01" * 31)


def test_pairs_hash_in_sorted_order() -> None:
    a, b = sorted(record_hashes(2))
    assert merkle.hash_pair(a, b) == merkle.hash_pair(b, a) == keccak(a + b)


def test_an_inner_node_cannot_pass_for_a_record() -> None:
    records = record_hashes(4)
    tree = MerkleTree.from_record_hashes(records)
    inner = tree.levels[1][0]
    assert not merkle.verify(tree.root, inner, [tree.levels[1][1]])


def test_duplicate_record_hashes_are_refused() -> None:
    records = record_hashes(5)
    with pytest.raises(ValueError, match="distinct"):
        MerkleTree.from_record_hashes([*records, records[2]])


def test_an_empty_tree_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        MerkleTree.from_record_hashes([])


def test_a_proof_for_a_record_not_in_the_tree_is_refused() -> None:
    tree = MerkleTree.from_record_hashes(record_hashes(8))
    with pytest.raises(KeyError):
        tree.proof(keccak(text="absent"))


@settings(max_examples=50, deadline=None)
@given(
    records=st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=80, unique=True),
    outsider=st.binary(min_size=32, max_size=32),
    data=st.data(),
)
def test_any_set_of_records_proves_exactly_its_members(
    records: list[bytes], outsider: bytes, data: st.DataObject
) -> None:
    tree = assert_every_record_proves(records)
    shuffled = data.draw(st.permutations(records))
    assert MerkleTree.from_record_hashes(shuffled).root == tree.root
    if outsider not in records:
        for record in records:
            assert not merkle.verify(tree.root, outsider, tree.proof(record))


# --- against OpenZeppelin's MerkleProof on chain -----------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 5, 37])
def test_openzeppelin_verifies_every_anchored_record_and_refuses_others(
    consortium: Consortium, size: int
) -> None:
    contract = consortium.contract.functions
    records = record_hashes(size, "anchored")
    tree = MerkleTree.from_record_hashes(records)
    manifest = keccak(text=f"manifest {size}")
    receipt = consortium.transactors["EP"].send(contract.anchor(tree.root, size, manifest))
    assert receipt["status"] == 1

    (event,) = consortium.contract.events.RootAnchored().process_receipt(receipt)
    assert event["args"]["root"] == tree.root
    assert event["args"]["office"] == b"EP"
    assert event["args"]["count"] == size
    assert event["args"]["manifestHash"] == manifest
    office, count, block_number, _ = contract.anchorOf(tree.root).call()
    assert (office, count, block_number) == (b"EP", size, receipt["blockNumber"])

    for record in records:
        assert contract.verifyRecord(tree.root, record, tree.proof(record)).call() is True
        assert contract.leafOf(record).call() == merkle.leaf_of(record)
    outsider = keccak(text=f"not anchored {size}")
    assert contract.verifyRecord(tree.root, outsider, tree.proof(records[0])).call() is False
    if size > 1:
        assert contract.verifyRecord(tree.root, records[1], tree.proof(records[0])).call() is False


def test_openzeppelin_refuses_a_valid_proof_against_a_root_never_anchored(consortium: Consortium) -> None:
    records = record_hashes(6, "never anchored")
    tree = MerkleTree.from_record_hashes(records)
    assert merkle.verify(tree.root, records[0], tree.proof(records[0]))
    assert (
        consortium.contract.functions.verifyRecord(tree.root, records[0], tree.proof(records[0])).call()
        is False
    )
