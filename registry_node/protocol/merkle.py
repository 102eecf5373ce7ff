"""Merkle trees for batched anchors, checkable on chain by OpenZeppelin's MerkleProof.

Pairs are hashed in sorted order (OpenZeppelin's commutative keccak256), leaves are hashed twice from the
record hash (`Anchors.leafOf`), so no inner node can pass for a leaf. A lone node at the end of a level
moves up unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from registry_node.protocol.records import keccak256


def leaf_of(record_hash: bytes) -> bytes:
    """The leaf of a 32-byte record hash: keccak256(keccak256(abi.encode(recordHash))); abi.encode of a
    bytes32 is those 32 bytes themselves."""
    if len(record_hash) != 32:
        raise ValueError(f"record hash must be 32 bytes, got {len(record_hash)}")
    return keccak256(keccak256(bytes(record_hash)))


def hash_pair(a: bytes, b: bytes) -> bytes:
    return keccak256(a + b) if a < b else keccak256(b + a)


@dataclass(frozen=True)
class MerkleTree:
    """A tree over record hashes; `levels[0]` holds the sorted leaves, `levels[-1]` the root."""

    levels: tuple[tuple[bytes, ...], ...]

    @classmethod
    def from_record_hashes(cls, record_hashes: list[bytes]) -> MerkleTree:
        if not record_hashes:
            raise ValueError("a Merkle tree needs at least one record hash")
        level = tuple(sorted({leaf_of(h) for h in record_hashes}))
        if len(level) != len(record_hashes):
            raise ValueError("record hashes must be distinct")
        levels = [level]
        while len(level) > 1:
            level = tuple(
                hash_pair(level[i], level[i + 1]) if i + 1 < len(level) else level[i]
                for i in range(0, len(level), 2)
            )
            levels.append(level)
        return cls(tuple(levels))

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    def __len__(self) -> int:
        return len(self.levels[0])

    def proof(self, record_hash: bytes) -> list[bytes]:
        """Sibling hashes from the record's leaf up to the root."""
        leaf = leaf_of(record_hash)
        try:
            index = self.levels[0].index(leaf)
        except ValueError:
            raise KeyError("record hash is not in this tree") from None
        siblings = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                siblings.append(level[sibling])
            index //= 2
        return siblings


def verify(root: bytes, record_hash: bytes, proof: list[bytes]) -> bool:
    node = leaf_of(record_hash)
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node == root
