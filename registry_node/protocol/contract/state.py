"""A right's on-chain state, in the one shape every party uses: the node that sends it, the outbox that
checks it landed, the gateway that proves it.

The contract keeps only `bytes24(keccak256(abi.encode(state)))` per right (`Right.stateDigest`); the state
itself travels in calls and events, so whoever holds a state can prove it against the slot or with
`matchesState`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak

from registry_node.protocol.contract.codecs import status_code

STATE_TYPES = ("bytes32", "bytes32", "bytes5")  # the contract's RightState struct, in member order


@dataclass(frozen=True)
class RightState:
    """The changing fields of a right: the record hash (its seal while the right is confidential), the
    salted owner commitment, and the five-byte status code."""

    record_hash: bytes
    owner_commitment: bytes
    status: bytes

    def as_tuple(self) -> tuple[bytes, bytes, bytes]:
        """The contract's `RightState` tuple, as calls take it."""
        return (self.record_hash, self.owner_commitment, self.status)

    def digest(self) -> bytes:
        """bytes24(keccak256(abi.encode(state))), as the contract keeps it."""
        return bytes(keccak(abi_encode(list(STATE_TYPES), list(self.as_tuple()))))[:24]

    def to_json(self) -> dict[str, str]:
        return {
            "recordHash": self.record_hash.hex(),
            "ownerCommitment": self.owner_commitment.hex(),
            "status": self.status.hex(),
            "statusCode": status_code(self.status),
        }

    def hex_fields(self) -> list[str]:
        """The three fields as hex without 0x: the form the node's store keeps (`chainState`)."""
        return [value.hex() for value in self.as_tuple()]

    @classmethod
    def from_hex_fields(cls, values: Sequence[str]) -> RightState:
        """The inverse of `hex_fields`."""
        record_hash, owner_commitment, status = (bytes.fromhex(v) for v in values)
        return cls(record_hash, owner_commitment, status)
