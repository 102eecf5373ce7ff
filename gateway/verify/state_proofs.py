"""Proving a right's on-chain entry from a block header alone: the storage slot, EIP-1186 proofs, headers.

A right lives in one storage slot of the registry contract, `_rights[rightId]`, and an anchor in
`_anchors[root]`; where those mappings are, and how their structs are packed, comes from the compiler's
storage layout shipped with the contract (`registry_node.protocol.contract.storage`; tests/protocol checks
it against eth_getStorageAt). An EIP-1186 account proof ties the contract's storage root to the block's
state root, a storage proof ties the slot's value to the storage root (both walked by py-trie's
`HexaryTrie.get_from_proof`), and keccak256(rlp(header)) (`registry_node.protocol.consensus.headers`) ties
the state root to the block hash. Every function here is pure: plain data in, an answer out; a bad proof is
`ProofError`, never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import rlp  # type: ignore[import-untyped]
from eth_utils.crypto import keccak
from trie import HexaryTrie  # type: ignore[import-untyped]
from trie.exceptions import (  # type: ignore[import-untyped]
    BadTrieProof,
    InvalidNibbles,
    InvalidNode,
    MissingTrieNode,
    ValidationError,
)

from registry_node.protocol.consensus import headers
from registry_node.protocol.consensus.headers import HeaderError
from registry_node.protocol.contract import office_code, registry_storage

RIGHTS = "_rights"  # RightsRegistry's mapping(bytes32 rightId => Right)
KEYS = "_keys"  # OfficeRegistry's mapping(bytes2 code => mapping(bytes32 keyId => KeyRecord))
ANCHORS = "_anchors"  # Anchors' mapping(bytes32 root => Anchor)


class ProofError(ValueError):
    """A proof that does not prove what it claims; the message says where it broke."""


def right_slot(chain_right_id: bytes) -> bytes:
    """The storage slot of `_rights[rightId]`."""
    if len(chain_right_id) != 32:
        raise ValueError("a chain right id is 32 bytes")
    return registry_storage().mapping_slot(RIGHTS, chain_right_id)


def anchor_slot(root: bytes) -> bytes:
    """The storage slot of `_anchors[root]`."""
    if len(root) != 32:
        raise ValueError("a Merkle root is 32 bytes")
    return registry_storage().mapping_slot(ANCHORS, root)


@dataclass(frozen=True)
class ProvenKey:
    """An office's `KeyRecord` as its storage words prove it: algorithm (the contract's enum value), the
    block it was added at (0: no such key), the block it was revoked at (0: never), the public key."""

    algorithm: int
    valid_from_block: int
    revoked_at_block: int
    public_key: bytes


def key_slots(office: bytes, key_id: bytes, public_key_length: int) -> list[bytes]:
    """The storage slots of `_keys[office][keyId]`: the packed word, the public key's length word, and the
    words of a public key of `public_key_length` bytes (none when it fits in the length word)."""
    layout = registry_storage()
    base = int.from_bytes(layout.nested_mapping_slot(KEYS, [office, key_id]), "big")
    members = layout.struct_members(KEYS, 2)
    record, bytes_word = members["validFromBlock"][0], members["publicKey"][0]
    slots = [(base + record).to_bytes(32, "big"), (base + bytes_word).to_bytes(32, "big")]
    if public_key_length >= 32:
        first = int.from_bytes(keccak(slots[1]), "big")
        slots += [(first + i).to_bytes(32, "big") for i in range(-(-public_key_length // 32))]
    return slots


def prove_key(
    storage_root: bytes, office: bytes, key_id: bytes, proofs: dict[bytes, tuple[bytes, list[bytes]]]
) -> ProvenKey:
    """The key entry of `office` and `key_id` proven under `storage_root` from (stated value, storage proof)
    by slot; every slot it needs must be there. ProofError says which is missing or does not hold."""
    layout = registry_storage()
    members = layout.struct_members(KEYS, 2)

    def word(slot: bytes) -> bytes:
        if slot not in proofs:
            raise ProofError(f"no proof of the key entry's slot 0x{slot.hex()}")
        stated, nodes = proofs[slot]
        proven = _storage_word(storage_root, slot, nodes)
        if proven != stated.rjust(32, b"\0"):
            raise ProofError(f"the value stated for slot 0x{slot.hex()} is not the proven one")
        return proven

    head, length_slot = key_slots(office, key_id, 0)
    packed = word(head)
    fields = {
        name: int.from_bytes(packed[32 - m.offset - m.size : 32 - m.offset], "big")
        for name, (_, m) in members.items()
        if name != "publicKey"
    }
    length_word = word(length_slot)
    encoded = int.from_bytes(length_word, "big")
    if encoded & 1:  # a long byte array: 2·length + 1 here, the bytes from keccak256(slot) on
        length = (encoded - 1) // 2
        data = b"".join(word(slot) for slot in key_slots(office, key_id, length)[2:])[:length]
    else:  # a short one: the bytes in the high-order end, 2·length in the lowest byte
        length = (encoded & 0xFF) // 2
        data = length_word[:length]
    return ProvenKey(fields["algorithm"], fields["validFromBlock"], fields["revokedAtBlock"], data)


def _storage_word(storage_root: bytes, slot: bytes, proof: list[bytes]) -> bytes:
    value_rlp = verify_mpt_proof(storage_root, slot, proof)
    if not value_rlp:
        return b"\0" * 32
    try:
        value = _bytes(rlp.decode(value_rlp))
    except rlp.exceptions.DecodingError as err:
        raise ProofError(f"the storage value is not RLP: {err}") from None
    if len(value) > 32:
        raise ProofError("a storage value is longer than 32 bytes")
    return value.rjust(32, b"\0")


@dataclass(frozen=True)
class PackedAnchor:
    """The `Anchor` struct as packed in its slot: office, count, block number, timestamp."""

    office: str
    count: int
    block_number: int
    timestamp: int


def unpack_anchor(word: bytes) -> PackedAnchor:
    fields = _unpack(ANCHORS, word)
    return PackedAnchor(
        office=office_code(fields["office"]),
        count=int.from_bytes(fields["count"], "big"),
        block_number=int.from_bytes(fields["blockNumber"], "big"),
        timestamp=int.from_bytes(fields["timestamp"], "big"),
    )


@dataclass(frozen=True)
class PackedRight:
    """The `Right` struct as packed in its slot."""

    version: int
    office: str
    kind: int
    confidential: bool
    state_digest: bytes


def unpack_right(word: bytes) -> PackedRight:
    fields = _unpack(RIGHTS, word)
    return PackedRight(
        version=int.from_bytes(fields["version"], "big"),
        office=office_code(fields["office"]),
        kind=int.from_bytes(fields["kind"], "big"),
        confidential=bool(int.from_bytes(fields["confidential"], "big")),
        state_digest=fields["stateDigest"],
    )


def _unpack(mapping: str, word: bytes) -> dict[str, bytes]:
    word = word.rjust(32, b"\0")
    if len(word) != 32:
        raise ProofError("a storage word is 32 bytes")
    return registry_storage().mapped_struct(mapping).unpack(word)


def header_hash(fields: dict[str, Any]) -> bytes:
    """keccak256 of the RLP of the header; ProofError for a field that is not hex or out of order."""
    try:
        return headers.header_hash(fields)
    except HeaderError as err:
        raise ProofError(str(err)) from None


def verify_mpt_proof(root: bytes, key: bytes, proof: list[bytes]) -> bytes:
    """The value stored under keccak256(`key`) in the trie with `root`, proven by `proof` (RLP-encoded nodes,
    as eth_getProof gives them); b"" for a proven absence. Every node on the key's path must be in the proof
    and hash to the reference its parent holds; a well-formed node off the path proves nothing, and is
    ignored."""
    try:
        nodes = [rlp.decode(node) for node in proof]
    except rlp.exceptions.DecodingError as err:
        raise ProofError(f"a proof node is not RLP: {err}") from None
    try:
        return bytes(HexaryTrie.get_from_proof(root, bytes(keccak(key)), nodes))
    except (BadTrieProof, MissingTrieNode) as err:
        raise ProofError(f"the proof does not lead from the root to the key: {_missing(err)}") from None
    # py-trie checks a node's shape as it stores it, with exceptions of its own or Python's
    except (ValidationError, InvalidNode, InvalidNibbles, ValueError, TypeError, IndexError, KeyError) as err:
        raise ProofError(f"a proof node is not a trie node ({type(err).__name__})") from None


def _missing(err: Exception) -> str:
    """Which node py-trie did not find: get_from_proof raises BadTrieProof from a MissingTrieNode."""
    missing = err if isinstance(err, MissingTrieNode) else err.__context__
    wanted = getattr(missing, "missing_node_hash", None)
    if isinstance(wanted, bytes):
        return f"no node in it hashes to 0x{wanted.hex()}"
    return str(err)


def verify_storage(
    state_root: bytes, address: bytes, slot: bytes, account_proof: list[bytes], storage_proof: list[bytes]
) -> tuple[bytes, bytes, list[bytes]]:
    """(storage word, the account's storage root, the account [nonce, balance, storageRoot, codeHash]) of
    `slot` of `address`, proven from `state_root`."""
    try:
        account_rlp = verify_mpt_proof(state_root, address, account_proof)
    except ProofError as err:
        raise ProofError(f"account proof: {err}") from None
    if not account_rlp:
        raise ProofError("the account does not exist under this state root")
    try:
        account = rlp.decode(account_rlp)
    except rlp.exceptions.DecodingError as err:
        raise ProofError(f"the account is not RLP: {err}") from None
    if not isinstance(account, list) or len(account) != 4:
        raise ProofError("the account is not [nonce, balance, storageRoot, codeHash]")
    storage_root = _bytes(account[2])
    try:
        return _storage_word(storage_root, slot, storage_proof), storage_root, [_bytes(f) for f in account]
    except ProofError as err:
        raise ProofError(f"storage proof: {err}") from None


def _bytes(value: Any) -> bytes:
    if not isinstance(value, bytes):
        raise ProofError("a trie value is not a byte string")
    return value


def _hex(value: Any, name: str) -> bytes:
    try:
        return headers.hex_field(value, name)
    except HeaderError as err:
        raise ProofError(str(err)) from None


def hex_bytes(value: Any, name: str) -> bytes:
    """A 0x-hex string as bytes; ProofError naming `name` otherwise."""
    return _hex(value, name)
