"""What verification answers, as the API publishes it (`/openapi.json`): a verdict with its named checks, and
a receipt an auditor re-checks offline.

The gateway signs both over their JSON (`gateway.verify.signer`), so their JSON form is exact: a verdict
leaves out what is not known rather than sending null, a receipt keeps its nulls, and keys come in the order
the fields are declared here. `Verdict.to_json` writes the signed form; the routes declare these models as
their response models, and FastAPI's serialisation of them gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

VERDICT_SCHEMA = "ipreg/verdict/1"
RECEIPT_SCHEMA = "ipreg/receipt/2"
RECEIPT_SCHEMAS = ("ipreg/receipt/1", RECEIPT_SCHEMA)  # /1: before seals and key proofs; still read


class VerdictKind(StrEnum):
    AUTHENTIC_CURRENT = "authentic-current"
    AUTHENTIC_SUPERSEDED = "authentic-superseded"
    TAMPERED = "tampered"
    BAD_SIGNATURE = "bad-signature"
    KEY_REVOKED = "key-revoked"
    CONFIDENTIAL = "confidential"
    UNKNOWN = "unknown"
    OFFICE_UNREACHABLE = "office-unreachable"


AUTHENTIC = frozenset({VerdictKind.AUTHENTIC_CURRENT, VerdictKind.AUTHENTIC_SUPERSEDED})


class CheckResult(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIPPED = "skipped"


class _Json(BaseModel):
    """Python names in snake_case, JSON names in lowerCamelCase (as the rest of the API)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


# A verdict holds about ten checks and is made on every verification: its parts are plain slotted
# dataclasses (pydantic validates and documents them as it does models; they are made ten times faster).


@dataclass(slots=True)
class Check:
    """One named check of a verification and what it found."""

    name: Annotated[str, Field(description="e.g. chain-state, record-hash, signature, key-validity")]
    result: CheckResult
    detail: str


@dataclass(slots=True)
class StatedBlock:
    """The block every chain read of a verification was made at."""

    number: int
    hash: Annotated[str, Field(description="0x-hex")]


class GatewaySignature(_Json):
    """Ed25519 signature by the gateway key (GET /v1/keys) over the RFC 8785 JSON of the rest of the body."""

    key_id: str = Field(description="SHA-256 of the gateway's public key, hex")
    algorithm: Literal["ed25519"]
    signature: str = Field(description="base64")


class Sealer(_Json):
    block: int
    address: str | None = Field(default=None, description="0x; absent: the seal recovers to no key")
    office: str | None = Field(
        default=None, description="The office whose validator it is; absent: none of the anchor's"
    )


class VerdictFinality(_Json):
    """Who sealed the stated block and built on it, judged against the consortium's trust anchor as the
    gateway reads it from the chain (GET /v1/consortium/anchor)."""

    engine: str
    sealers: list[Sealer]
    distinct_sealers: int
    validators: int
    needed: int = Field(description="Distinct sealers a majority needs (Clique ⌊n/2⌋+1; QBFT ⌈2n/3⌉).")
    final: bool

    @classmethod
    def of(cls, judged: Any) -> VerdictFinality:
        return cls(
            engine=judged.engine,
            sealers=[Sealer(block=s.block, address=s.address, office=s.office) for s in judged.seals],
            distinct_sealers=judged.distinct,
            validators=judged.validators,
            needed=judged.needed,
            final=judged.final,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "sealers": [  # what is not known is left out, as everywhere in a verdict
                {
                    k: v
                    for k, v in (("block", s.block), ("address", s.address), ("office", s.office))
                    if v is not None
                }
                for s in self.sealers
            ],
            "distinctSealers": self.distinct_sealers,
            "validators": self.validators,
            "needed": self.needed,
            "final": self.final,
        }


class Verdict(_Json):
    """A verdict with every check done. Fields that are not known (a right id for a stray file, say) are
    absent rather than null, so the gateway's signature covers exactly what is sent."""

    schema_: Literal["ipreg/verdict/1"] = Field(default="ipreg/verdict/1", alias="schema")
    verdict: VerdictKind
    right_id: str | None = None
    chain_right_id: str | None = Field(default=None, description="0x-hex keccak256 of the right id")
    version: int | None = Field(default=None, description="The version the verdict is about.")
    current_version: int | None = Field(default=None, description="The right's version at the block.")
    block: StatedBlock
    subject: dict[str, Any] = Field(description="What was verified: a right, or an upload and its hashes.")
    checks: list[Check]
    still_checked: list[str] | None = Field(
        default=None, description="For office-unreachable: what could be checked without the office."
    )
    finality: VerdictFinality | None = Field(
        default=None, description="Who sealed the stated block; absent on a chain that no validator seals."
    )
    gateway_signature: GatewaySignature | None = None

    def to_json(self) -> dict[str, Any]:
        """The verdict as the API serves it, without the gateway's signature."""
        optional = {
            "rightId": self.right_id,
            "chainRightId": self.chain_right_id,
            "version": self.version,
            "currentVersion": self.current_version,
        }
        body: dict[str, Any] = {
            "schema": VERDICT_SCHEMA,
            "verdict": self.verdict.value,
            **{name: value for name, value in optional.items() if value is not None},
            "block": {"number": self.block.number, "hash": self.block.hash},
            "subject": self.subject,
            "checks": [{"name": c.name, "result": c.result.value, "detail": c.detail} for c in self.checks],
        }
        if self.still_checked is not None:
            body["stillChecked"] = self.still_checked
        if self.finality is not None:
            body["finality"] = self.finality.to_json()
        return body


# ------------------------------------------------------------ receipts (written by gateway.verify.receipts)


class RecordSignature(_Json):
    office: str
    key_id: str = Field(description="hex")
    algorithm: str
    signature: str = Field(description="hex")


class ReceiptRecord(_Json):
    canonical: str = Field(description="base64 of the exact signed bytes")
    record_hash: str = Field(description="0x-hex SHA-256 of the canonical bytes")
    signature: RecordSignature


class OfficeKey(_Json):
    """The office's document-signing key as registered at the receipt's block (null fields: no such key)."""

    office: str
    key_id: str
    algorithm: str | None
    public_key: str | None
    added_at_block: int | None
    revoked_at_block: int | None


class ReceiptChain(_Json):
    chain_id: int
    contract_address: str
    block_number: int
    block_hash: str


class EventLog(_Json):
    address: str
    topics: list[str]
    data: str


class ReceiptEvent(_Json):
    """The event that recorded the version (RootAnchored for a right only anchored)."""

    name: str
    block_number: int
    block_hash: str
    transaction_hash: str
    log_index: int
    signing_block: int = Field(description="The block the record was first committed in (its key's window).")
    fields: dict[str, Any]
    log: EventLog


class ReceiptState(_Json):
    record_hash: str
    owner_commitment: str
    status: str
    status_code: str


class StorageAccount(_Json):
    nonce: str
    balance: str
    storage_hash: str
    code_hash: str


class ReceiptStorageProof(_Json):
    """EIP-1186 proof of the right's (or the anchor's) storage slot at the receipt's block."""

    slot: str
    value: str
    account_proof: list[str]
    storage_proof: list[str]
    account: StorageAccount


class ProvenSlot(_Json):
    slot: str
    value: str
    proof: list[str]


class OfficeKeyProof(_Json):
    """EIP-1186 storage proofs of `_keys[office][keyId]`: the packed word, the public key's length word and
    its data words."""

    slots: list[ProvenSlot]


class ReceiptSeals(_Json):
    """What binds the receipt's block to the consortium's validators."""

    engine: Literal["clique", "qbft"]
    headers: list[dict[str, str]] = Field(
        description="Clique: the sealed headers after blockHeader, up to the first depth at which a majority "
        "of the validators has sealed. QBFT: empty (blockHeader carries the committed seals)."
    )


class Receipt(_Json):
    """A self-contained bundle an auditor re-checks offline (`ipreg verify`) or against a chain node it
    trusts. Bytes are 0x-hex except the canonical record (base64)."""

    schema_: Literal["ipreg/receipt/2"] = Field(default="ipreg/receipt/2", alias="schema")
    issued_at: str
    right_id: str
    chain_right_id: str
    version: int
    record: ReceiptRecord
    office_key: OfficeKey
    chain: ReceiptChain
    event: ReceiptEvent
    state: ReceiptState | None = Field(
        description="The full RightState at the block; null when only anchored."
    )
    state_digest: str | None = Field(description="bytes24(keccak256(abi.encode(state)))")
    anchor: dict[str, Any] | None = Field(description="{root, proof[], …} when the record is anchored.")
    storage_proof: ReceiptStorageProof | None = Field(description="Null when the chain has no eth_getProof.")
    block_header: dict[str, str] | None = Field(description="The header whose keccak256(rlp) is blockHash.")
    office_key_proof: OfficeKeyProof | None = Field(
        description="The office key's entry in OfficeRegistry, proven under the same storage root."
    )
    seals: ReceiptSeals | None = Field(description="Null on a chain that no validator seals.")
    gateway_signature: GatewaySignature | None = None
