"""Anchored batches: many records proven by one Merkle root on chain (back-file imports).

An anchor's manifest lists what it anchors, `{root, officeCode, count, items: [{rightId, version,
recordHash}]}`; its `manifestHash` is the SHA-256 of that object's RFC 8785 bytes and goes on chain with the
root (`Anchors.anchor(root, count, manifestHash)`). Anyone holding the manifest can rebuild the tree, check
the root and the hash, and prove any record with `Anchors.verifyRecord(root, recordHash, proof)`.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

from registry_node.node.outbox import encode_args
from registry_node.node.store import AnchorBatch, QueuedCall, StoredAnchor
from registry_node.protocol.merkle import MerkleTree
from registry_node.protocol.records import canonical_bytes

ANCHOR_KEY_PREFIX = "anchor:"  # an anchor's outbox entry is keyed (anchor:{root hex}, 1)


def anchor_batch(office_code: str, records: list[tuple[str, int, bytes]]) -> AnchorBatch:
    """The anchor of `records` (right id, version, record hash): its tree's root, its manifest and the
    contract call that anchors it."""
    tree = MerkleTree.from_record_hashes([record_hash for _, _, record_hash in records])
    manifest = {
        "root": "0x" + tree.root.hex(),
        "officeCode": office_code,
        "count": len(records),
        "items": [{"rightId": r, "version": v, "recordHash": h.hex()} for r, v, h in records],
    }
    manifest_bytes = canonical_bytes(manifest)
    manifest_hash = hashlib.sha256(manifest_bytes).digest()
    call = QueuedCall(
        right_id=ANCHOR_KEY_PREFIX + tree.root.hex(),
        version=1,
        action="anchor",
        payload={
            "args": encode_args([tree.root, len(records), manifest_hash]),
            "anchored": {"root": encode_args(tree.root)},
        },
    )
    return AnchorBatch(tree.root, manifest_bytes, manifest_hash, [(r, v) for r, v, _ in records], call)


def manifest_of(anchor: StoredAnchor) -> dict[str, Any]:
    """The manifest as served: the anchored object and its `manifestHash`."""
    manifest: dict[str, Any] = json.loads(anchor.manifest)
    return {**manifest, "manifestHash": "0x" + anchor.manifest_hash.hex()}


def inclusion_proof(anchor: StoredAnchor, record_hash: bytes) -> list[bytes]:
    """The proof that `record_hash` is in the anchor's tree (the tree is rebuilt from the manifest)."""
    return _tree(anchor.manifest).proof(record_hash)


@lru_cache(maxsize=8)
def _tree(manifest: bytes) -> MerkleTree:
    items = json.loads(manifest)["items"]
    return MerkleTree.from_record_hashes([bytes.fromhex(item["recordHash"]) for item in items])
