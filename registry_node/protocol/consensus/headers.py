"""A block header as JSON-RPC gives it (0x-hex fields) and as the chain hashes it: keccak256 of the RLP of
its fields in the order below. Clique and QBFT sign a header hashed the same way, with extraData cut; so
every hash of a header in the project is made here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import rlp  # type: ignore[import-untyped]
from eth_utils.crypto import keccak

# Header fields in RLP order, up to London (EIP-1559's baseFeePerGas); later forks append more.
HEADER_FIELDS = (
    "parentHash",
    "sha3Uncles",
    "miner",
    "stateRoot",
    "transactionsRoot",
    "receiptsRoot",
    "logsBloom",
    "difficulty",
    "number",
    "gasLimit",
    "gasUsed",
    "timestamp",
    "extraData",
    "mixHash",
    "nonce",
    "baseFeePerGas",
    "withdrawalsRoot",
    "blobGasUsed",
    "excessBlobGas",
    "parentBeaconBlockRoot",
    "requestsHash",
)
INTEGER_FIELDS = frozenset(
    {
        "difficulty",
        "number",
        "gasLimit",
        "gasUsed",
        "timestamp",
        "baseFeePerGas",
        "blobGasUsed",
        "excessBlobGas",
    }
)


class HeaderError(ValueError):
    """A header that cannot be read: a field missing, unknown, out of order or not hex."""


def header_fields(block: Mapping[str, Any]) -> dict[str, Any]:
    """The header fields of a JSON-RPC block, in order, as the node gave them (hex strings)."""
    return {name: block[name] for name in HEADER_FIELDS if block.get(name) is not None}


def header_values(fields: Mapping[str, Any], extra_data: bytes | None = None) -> list[Any]:
    """The header's RLP items (integers for the integer fields); `extra_data` replaces the header's own
    (a seal hash signs the header with its extraData cut)."""
    names = list(fields)
    if names != [n for n in HEADER_FIELDS if n in fields]:
        raise HeaderError("header fields are unknown or out of order")
    values: list[Any] = []
    for name in names:
        raw = hex_field(fields[name], f"header.{name}")
        if name == "extraData" and extra_data is not None:
            raw = extra_data
        values.append(int.from_bytes(raw, "big") if name in INTEGER_FIELDS else raw)
    return values


def header_hash(fields: Mapping[str, Any]) -> bytes:
    """keccak256 of the RLP of the header."""
    return bytes(keccak(rlp.encode(header_values(fields))))


def header_number(fields: Mapping[str, Any]) -> int:
    return int.from_bytes(hex_field(fields.get("number"), "header.number"), "big")


def hex_field(value: Any, name: str) -> bytes:
    """A 0x-hex string as bytes (an odd number of digits is read as a quantity); HeaderError naming `name`."""
    if not isinstance(value, str) or not value.startswith("0x"):
        raise HeaderError(f"{name} must be 0x-prefixed hex")
    digits = value[2:]
    if len(digits) % 2:
        digits = "0" + digits
    try:
        return bytes.fromhex(digits)
    except ValueError:
        raise HeaderError(f"{name} must be 0x-prefixed hex") from None
