"""Anchoring Merkle roots of record batches, and proving records against them."""

from __future__ import annotations

import pytest
from brownie import chain
from conftest import STATUS, code, h, reverts_with

from registry_node.protocol.merkle import MerkleTree, leaf_of


def batch(size: int, label: str = "record") -> list[bytes]:
    return [h(f"{label}-{i}") for i in range(size)]


@pytest.fixture
def anchored(registry, ep):
    records = batch(37)
    tree = MerkleTree.from_record_hashes(records)
    tx = registry.anchor(tree.root, len(records), h("manifest"), {"from": ep})
    return tree, records, tx


def test_office_anchors_a_root_with_count_and_manifest(registry, anchored):
    tree, records, tx = anchored
    stored = registry.anchorOf(tree.root)
    assert stored["office"] == code("EP")
    assert stored["count"] == len(records)
    assert stored["blockNumber"] == tx.block_number
    assert stored["timestamp"] == chain[tx.block_number].timestamp
    event = tx.events["RootAnchored"]
    assert bytes(event["root"]) == tree.root
    assert event["office"] == code("EP")
    assert event["count"] == len(records)
    assert bytes(event["manifestHash"]) == h("manifest")


def test_every_record_of_the_batch_is_proven(registry, anchored):
    tree, records, _ = anchored
    for record in records:
        assert registry.verifyRecord(tree.root, record, tree.proof(record))
        assert registry.verifyLeaf(tree.root, leaf_of(record), tree.proof(record))


@pytest.mark.parametrize("size", [1, 2, 3, 16, 255, 4096])
def test_trees_of_any_size_verify_on_chain(registry, ep, size):
    records = batch(size, f"size{size}")
    tree = MerkleTree.from_record_hashes(records)
    registry.anchor(tree.root, size, h(f"manifest {size}"), {"from": ep})
    for record in {records[0], records[size // 2], records[-1]}:
        assert registry.verifyRecord(tree.root, record, tree.proof(record))


def test_record_outside_the_batch_is_not_proven(registry, anchored):
    tree, records, _ = anchored
    assert not registry.verifyRecord(tree.root, h("not in the batch"), tree.proof(records[0]))


def test_proof_of_another_record_does_not_prove_this_one(registry, anchored):
    tree, records, _ = anchored
    assert not registry.verifyRecord(tree.root, records[1], tree.proof(records[2]))


def test_tampered_proof_fails(registry, anchored):
    tree, records, _ = anchored
    proof = tree.proof(records[5])
    proof[0] = bytes([proof[0][0] ^ 1]) + proof[0][1:]
    assert not registry.verifyRecord(tree.root, records[5], proof)


def test_inner_node_cannot_pass_for_a_leaf(registry, anchored):
    tree, records, _ = anchored
    inner = tree.levels[1][0]
    assert not registry.verifyLeaf(tree.root, inner, tree.proof(records[0])[1:])


def test_valid_proof_against_an_unanchored_root_fails(registry, ep):
    records = batch(8, "never anchored")
    tree = MerkleTree.from_record_hashes(records)
    assert not registry.verifyRecord(tree.root, records[0], tree.proof(records[0]))
    assert registry.anchorOf(tree.root)["blockNumber"] == 0


def test_leaf_view_matches_off_chain_leaf(registry):
    assert bytes(registry.leafOf(h("record"))) == leaf_of(h("record"))


def test_root_cannot_be_anchored_twice(registry, anchored, gb):
    tree, _, tx = anchored
    with reverts_with("AnchorsAlreadyAnchored", tree.root, code("EP"), tx.block_number):
        registry.anchor(tree.root, 1, h("other manifest"), {"from": gb})


def test_zero_root_is_refused(registry, ep):
    with reverts_with("AnchorsEmptyRoot"):
        registry.anchor(b"\0" * 32, 4, h("manifest"), {"from": ep})


def test_empty_batch_is_refused(registry, ep):
    with reverts_with("AnchorsEmptyBatch", h("root")):
        registry.anchor(h("root"), 0, h("manifest"), {"from": ep})


def test_non_member_cannot_anchor(registry, outsider):
    with reverts_with("OfficeRegistryNotMember", outsider):
        registry.anchor(h("root"), 1, h("manifest"), {"from": outsider})


def test_suspended_office_cannot_anchor_but_its_anchors_stay_provable(registry, anchored, kr, suspend):
    tree, records, _ = anchored
    suspend("EP")
    with reverts_with("OfficeRegistryOfficeNotActive", code("EP"), STATUS["Suspended"]):
        registry.anchor(h("root"), 1, h("manifest"), {"from": anchored[2].sender})
    assert registry.verifyRecord(tree.root, records[0], tree.proof(records[0]))
    registry.anchor(h("root"), 1, h("manifest"), {"from": kr})
