"""The consortium's trust anchor (`ipreg/consortium-anchor/1`): what an auditor holds to check a receipt
with no chain node of its own, as a Certificate Transparency client holds a log's key.

    {"schema": "ipreg/consortium-anchor/1", "chainId": 1515, "genesisHash": "0x…",
     "contractAddress": "0x…", "engine": "clique", "asOfBlock": 1234,
     "validators": [{"office": "EP", "address": "0x…", "fromBlock": 1, "untilBlock": null}, …]}

Each validator term names the blocks its address could seal: from `fromBlock` up to, not including,
`untilBlock` (null: still a validator at `asOfBlock`, and taken to stay one after it). The office is the one
that named the address in OfficeRegistry (`setValidator`); null for a signer no office named. `engine` is
"clique", "qbft", or "none" for a development chain, which no validator seals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils.address import is_address, to_checksum_address

ANCHOR_SCHEMA = "ipreg/consortium-anchor/1"
ENGINES = ("clique", "qbft", "none")


class AnchorFormatError(ValueError):
    """An anchor that cannot be read; the message names the field."""


@dataclass(frozen=True)
class ValidatorTerm:
    """One address's time as a validator: the blocks from `from_block` up to (not including) `until_block`."""

    address: str  # 0x, lower case
    office: str | None
    from_block: int
    until_block: int | None  # None: still a validator at the anchor's asOfBlock

    def covers(self, block: int) -> bool:
        return self.from_block <= block and (self.until_block is None or block < self.until_block)


@dataclass(frozen=True)
class ConsortiumAnchor:
    chain_id: int
    genesis_hash: bytes
    contract: str  # checksummed
    engine: str
    as_of_block: int
    validators: tuple[ValidatorTerm, ...]

    def validators_at(self, block: int) -> dict[str, str | None]:
        """The validators that could seal `block`, each with its office."""
        return {t.address: t.office for t in self.validators if t.covers(block)}

    def term_of(self, address: str) -> list[ValidatorTerm]:
        return [t for t in self.validators if t.address == address.lower()]

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": ANCHOR_SCHEMA,
            "chainId": self.chain_id,
            "genesisHash": "0x" + self.genesis_hash.hex(),
            "contractAddress": self.contract,
            "engine": self.engine,
            "asOfBlock": self.as_of_block,
            "validators": [
                {
                    "office": t.office,
                    "address": to_checksum_address(t.address),
                    "fromBlock": t.from_block,
                    "untilBlock": t.until_block,
                }
                for t in self.validators
            ],
        }

    @classmethod
    def from_json(cls, data: Any) -> ConsortiumAnchor:
        """The anchor in `data`; AnchorFormatError naming the field that is wrong."""
        if not isinstance(data, Mapping):
            raise AnchorFormatError("the anchor is not a JSON object")
        if data.get("schema") != ANCHOR_SCHEMA:
            raise AnchorFormatError(f"schema: must be {ANCHOR_SCHEMA!r}, got {data.get('schema')!r}")
        engine = data.get("engine")
        if engine not in ENGINES:
            raise AnchorFormatError(f"engine: must be one of {', '.join(ENGINES)}, got {engine!r}")
        return cls(
            chain_id=_int(data.get("chainId"), "chainId"),
            genesis_hash=_hash(data.get("genesisHash"), "genesisHash"),
            contract=_address(data.get("contractAddress"), "contractAddress"),
            engine=str(engine),
            as_of_block=_int(data.get("asOfBlock"), "asOfBlock"),
            validators=tuple(_terms(data.get("validators"))),
        )


def _terms(value: Any) -> Iterable[ValidatorTerm]:
    if not isinstance(value, list):
        raise AnchorFormatError("validators: must be a list")
    for i, item in enumerate(value):
        where = f"validators[{i}]"
        if not isinstance(item, Mapping):
            raise AnchorFormatError(f"{where}: must be an object")
        office = item.get("office")
        if office is not None and not (isinstance(office, str) and len(office) == 2 and office.isupper()):
            raise AnchorFormatError(f"{where}.office: must be a two-letter ST.3 code or null, got {office!r}")
        start = _int(item.get("fromBlock"), f"{where}.fromBlock")
        until = item.get("untilBlock")
        end = None if until is None else _int(until, f"{where}.untilBlock")
        if end is not None and end <= start:
            raise AnchorFormatError(f"{where}.untilBlock: must be after fromBlock {start}, got {end}")
        yield ValidatorTerm(_address(item.get("address"), f"{where}.address").lower(), office, start, end)


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise AnchorFormatError(f"{name}: must be a non-negative integer, got {value!r}")
    return value


def _hash(value: Any, name: str) -> bytes:
    if isinstance(value, str) and value.startswith("0x") and len(value) == 66:
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            pass
    raise AnchorFormatError(f"{name}: must be a 0x-prefixed 32-byte hash, got {value!r}")


def _address(value: Any, name: str) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise AnchorFormatError(f"{name}: must be an Ethereum address, got {value!r}")
    return str(to_checksum_address(value))
