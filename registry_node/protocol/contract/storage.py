"""Where the contract keeps its state, from the compiler's storage layout (solc's `storageLayout` output,
shipped in the artifact) and never from a literal: a proof of a right's or an anchor's slot must name the
slot solc chose, and a change of the contracts' inheritance or variables moves it.

A mapping `m` at slot `p` keeps `m[k]` at keccak256(k ‖ uint256(p)) (k padded to 32 bytes as ABI-encoded);
a struct of at most 32 bytes is packed into one word, its first member in the lowest-order bytes, each
member at the byte offset the layout gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak

WORD = 32


class StorageLayoutError(ValueError):
    """The layout does not hold what was asked of it (an unknown variable, a value that is not a packed
    struct): the contract and this code disagree."""


@dataclass(frozen=True)
class PackedMember:
    """A struct member's place in its slot: byte offset from the low-order end, size in bytes."""

    offset: int
    size: int
    type: str


@dataclass(frozen=True)
class PackedStruct:
    """A struct the compiler packed into one storage word."""

    label: str
    members: dict[str, PackedMember]

    def unpack(self, word: bytes) -> dict[str, bytes]:
        """Each member's bytes (big-endian, as the EVM holds them) out of a 32-byte storage word."""
        if len(word) != WORD:
            raise ValueError("a storage word is 32 bytes")
        return {name: word[WORD - m.offset - m.size : WORD - m.offset] for name, m in self.members.items()}


class StorageLayout:
    """solc's storage layout of one contract: slots by variable name, and the packing of mapped structs."""

    def __init__(self, layout: Mapping[str, Any]) -> None:
        self._types: Mapping[str, Any] = layout["types"] or {}
        self._variables: dict[str, Mapping[str, Any]] = {}
        self._structs: dict[str, PackedStruct] = {}
        for entry in layout["storage"]:
            if entry["label"] in self._variables:
                raise StorageLayoutError(f"two state variables are named {entry['label']}")
            self._variables[entry["label"]] = entry

    def slot(self, variable: str) -> int:
        """The slot of a state variable (its first slot, for one that spans several)."""
        return int(self._variable(variable)["slot"])

    def mapping_slot(self, variable: str, key: bytes) -> bytes:
        """The slot of `variable[key]` for a mapping keyed by a bytesN type."""
        key_type = self._type(self._mapping(variable)["key"])
        if not key_type["label"].startswith("bytes"):
            raise StorageLayoutError(f"{variable} is not a mapping keyed by bytes")
        if len(key) != int(key_type["numberOfBytes"]):
            raise ValueError(f"a key of {variable} is {key_type['numberOfBytes']} bytes")
        return bytes(keccak(key.ljust(WORD, b"\0") + self.slot(variable).to_bytes(WORD, "big")))

    def nested_mapping_slot(self, variable: str, keys: list[bytes]) -> bytes:
        """The slot of `variable[keys[0]][keys[1]]…` for mappings of mappings keyed by bytesN types."""
        type_id = self._variable(variable)["type"]
        slot = self.slot(variable).to_bytes(WORD, "big")
        for key in keys:
            mapping = self._type(type_id)
            if mapping["encoding"] != "mapping" or not self._type(mapping["key"])["label"].startswith(
                "bytes"
            ):
                raise StorageLayoutError(
                    f"{variable} is not a mapping keyed by bytes {len(keys)} levels deep"
                )
            if len(key) != int(self._type(mapping["key"])["numberOfBytes"]):
                raise ValueError(
                    f"a key of {variable} is {self._type(mapping['key'])['numberOfBytes']} bytes"
                )
            slot = bytes(keccak(key.ljust(WORD, b"\0") + slot))
            type_id = mapping["value"]
        return slot

    def struct_members(self, variable: str, depth: int) -> dict[str, tuple[int, PackedMember]]:
        """Each member of the struct `variable` maps to (`depth` mappings deep): its slot from the struct's
        first, and its place in that slot."""
        type_id = self._variable(variable)["type"]
        for _ in range(depth):
            type_id = self._type(type_id)["value"]
        members = self._type(type_id).get("members")
        if not members:
            raise StorageLayoutError(f"{variable} does not map to a struct")
        return {
            m["label"]: (
                int(m["slot"]),
                PackedMember(int(m["offset"]), int(self._type(m["type"])["numberOfBytes"]), m["type"]),
            )
            for m in members
        }

    def mapped_struct(self, variable: str) -> PackedStruct:
        """The one-word struct a mapping holds as its values."""
        if variable not in self._structs:
            self._structs[variable] = self._mapped_struct(variable)
        return self._structs[variable]

    def _mapped_struct(self, variable: str) -> PackedStruct:
        value = self._type(self._mapping(variable)["value"])
        members = value.get("members")
        if not members or int(value["numberOfBytes"]) != WORD:
            raise StorageLayoutError(f"{variable} does not map to a struct packed into one word")
        return PackedStruct(
            label=value["label"],
            members={
                m["label"]: PackedMember(
                    int(m["offset"]), int(self._type(m["type"])["numberOfBytes"]), m["type"]
                )
                for m in members
            },
        )

    def _mapping(self, variable: str) -> Mapping[str, Any]:
        mapping = self._type(self._variable(variable)["type"])
        if mapping["encoding"] != "mapping":
            raise StorageLayoutError(f"{variable} is not a mapping")
        return mapping

    def _variable(self, name: str) -> Mapping[str, Any]:
        try:
            return self._variables[name]
        except KeyError:
            raise StorageLayoutError(f"the contract has no state variable {name}") from None

    def _type(self, type_id: str) -> Mapping[str, Any]:
        try:
            return self._types[type_id]  # type: ignore[no-any-return]
        except KeyError:
            raise StorageLayoutError(f"the storage layout does not describe type {type_id!r}") from None
