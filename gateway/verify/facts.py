"""The evidence a verdict rests on, as plain data: what the chain held at a stated block, what an office
served, what a receipt carries. `gateway.verify.evidence` gathers it (all the I/O),
`gateway.verify.receipt_evidence` reads it out of a receipt, and `gateway.verify.judge` decides on it
without asking anyone anything.

Two kinds of chain fact appear here: an answer a chain node gave (`matches`, `included`, `valid`: the
gateway's node online, the auditor's with `ipreg verify --rpc`), and a proof anyone can check
(`StorageProof`: a slot proven from a block header). A fact that is neither is None, and the judge says it
was not checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from registry_node.protocol.consensus.anchor import ConsortiumAnchor
from registry_node.protocol.contract import RightState
from registry_node.protocol.keys import SigningAlgorithm
from registry_node.protocol.records import RIGHT_ID, chain_right_id
from registry_node.protocol.signing import DetachedSignature

# ------------------------------------------------------------ what the chain holds


@dataclass(frozen=True)
class BlockRef:
    number: int
    hash: bytes
    timestamp: int


@dataclass(frozen=True)
class RightEntry:
    """`rightOf` at a block: version 0 means not registered."""

    version: int
    office: str
    kind: str
    confidential: bool
    state_digest: bytes


@dataclass(frozen=True)
class RightVersion:
    """One version of a right as its event tells it, with the whole state after it."""

    version: int
    action: str
    office: str
    sealed: bool
    block_number: int
    block_hash: bytes
    transaction_hash: bytes
    log_index: int
    event: str
    fields: dict[str, Any]
    state: RightState
    log: dict[str, Any] = field(repr=False)

    @property
    def record_hash(self) -> bytes:
        """As on chain: the seal while the version is sealed."""
        return self.state.record_hash

    @property
    def owner_commitment(self) -> bytes:
        return self.state.owner_commitment

    @property
    def status(self) -> bytes:
        return self.state.status


@dataclass(frozen=True)
class OfficeInfo:
    code: str
    status: str
    account: str
    name: str
    endpoint: str
    key_count: int
    validator: str  # the chain validator's sealing address; the zero address until the office names one


@dataclass(frozen=True)
class KeyInfo:
    office: str
    key_id: bytes
    algorithm: SigningAlgorithm | None
    valid_from_block: int
    revoked_at_block: int | None
    public_key: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "office": self.office,
            "keyId": self.key_id.hex(),
            "algorithm": self.algorithm.value if self.algorithm else None,
            "publicKey": self.public_key.hex(),
            "addedAtBlock": self.valid_from_block,
            "revokedAtBlock": self.revoked_at_block,
        }


@dataclass(frozen=True)
class AnchorInfo:
    root: bytes
    office: str
    count: int
    block_number: int
    timestamp: int


@dataclass(frozen=True)
class AnchorEvent:
    """The RootAnchored log of a root: where it was recorded, its decoded fields and its raw form."""

    block_number: int
    block_hash: bytes
    transaction_hash: bytes
    log_index: int
    fields: dict[str, Any]
    log: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class StorageProof:
    """An EIP-1186 proof of one storage slot of the registry with the header of its block, as a chain node
    gives them (0x-hex strings): whoever holds it can check the slot's value without asking any node."""

    contract: str
    slot: str
    value: str
    account_proof: tuple[str, ...]
    storage_proof: tuple[str, ...]
    account: Mapping[str, str]  # nonce, balance, storageHash, codeHash
    header: Mapping[str, str] | None  # None: the node gave no header with the proof
    engine: str | None = None  # "qbft": the block hash leaves the header's committed seals out


@dataclass(frozen=True)
class KeyProof:
    """EIP-1186 storage proofs of an office key's entry (`_keys[office][keyId]`), each slot with its value and
    proof nodes (0x-hex), under the storage root the right's (or anchor's) proof proves."""

    slots: tuple[tuple[str, str, tuple[str, ...]], ...]  # (slot, value, proof nodes)


@dataclass(frozen=True)
class SealEvidence:
    """The stated block's header and the sealed headers after it, with the trust anchor they are judged by
    (the gateway's own, read from the chain; a receipt's, the auditor's)."""

    engine: str  # clique, qbft
    headers: tuple[Mapping[str, str], ...]  # the stated block's first
    anchor: ConsortiumAnchor


# ------------------------------------------------------------ evidence


@dataclass(frozen=True)
class ChainState:
    """A right's per-right state at the stated block: the version the chain holds, its versions rebuilt from
    the events up to the block, and what shows that the last one's state is the one on chain."""

    version: int
    history: tuple[RightVersion, ...]
    matches: bool | None = None  # matchesState(history[-1].state) at the block, as a node answered
    proof: StorageProof | None = None  # the right's slot, proven from the block's header

    @property
    def rebuilt(self) -> bool:
        return bool(self.history) and self.history[-1].version == self.version


@dataclass(frozen=True)
class OfficeStanding:
    code: str
    info: OfficeInfo | None  # None: not a member at the block
    suspended_since: int | None = None  # the block of its latest suspension, when suspended


@dataclass(frozen=True)
class KeyEvidence:
    """The key a signature names, for the office that should have signed, and whether it was valid for the
    block the record was first committed in."""

    office: str
    signing_block: int
    key: KeyInfo | None  # registered under the signature's key id at the stated block; None: no such key
    valid: bool | None = None  # isKeyValidAt(office, key, signing_block), as a node answered
    proof: KeyProof | None = None  # the key's entry, proven under the stated block's state root


@dataclass(frozen=True)
class SignedDocument:
    """A signed record: fetched from its office's deep link (`url`), uploaded, or carried by a receipt."""

    canonical: bytes
    signature: DetachedSignature | None
    anchor: Mapping[str, Any] | None = None  # {root, proof[]} when the office anchored it in a batch
    url: str | None = None
    right_id: str | None = None  # the right id its office served it under
    source_xml: bytes | None = None


@dataclass(frozen=True)
class Unreachable:
    """An office's deep link that could not be asked."""

    endpoint: str
    reason: str


Fetched = SignedDocument | Unreachable | None  # None: the office says it serves no such document


@dataclass(frozen=True)
class AnchorEvidence:
    """What shows that a record is a leaf of a Merkle root an office anchored. The reads stop where the judge
    will stop: a root not anchored, anchored by another office, or a proof that fails."""

    root: bytes | None  # None: the claimed anchor is not {root, proof[]} of 32-byte hex values
    proof: tuple[bytes, ...] = ()
    anchored: AnchorInfo | None = None  # anchorOf(root) at the block, as a node answered
    claimed: AnchorInfo | None = None  # the anchor a receipt claims, when no node was asked
    slot: StorageProof | None = None  # the root's `_anchors` slot, proven from the block's header
    event: AnchorEvent | None = None
    included: bool | None = None  # verifyRecord(root, recordHash, proof) at the block, as a node answered
    office: OfficeStanding | None = None
    key: KeyEvidence | None = None
    history: tuple[RightVersion, ...] = ()  # the right's per-right versions, when it has any since


@dataclass(frozen=True)
class AnchoredRecord:
    document: SignedDocument
    anchor: AnchorEvidence


@dataclass(frozen=True)
class DesignationEvidence:
    """A designation of an international registration (IR) the chain reserves for the designated office's
    decision, none recorded yet: the IR's versions, the one whose `Designated` event reserved it, and that
    version's signed record, which lists the designation."""

    entry: RightEntry  # rightOf(designation) at the block: version 0, the designated office, the IR's kind
    international_registration: str | None  # the IR's id; None: the designation was named by its 0x chain id
    chain: ChainState | None = None  # the IR's state at the block; None: not read
    designated: RightVersion | None = None  # the IR's version whose Designated event names this designation
    office: OfficeStanding | None = None  # the IR's office (the International Bureau)
    document: Fetched = None  # the signed record of `designated`
    key: KeyEvidence | None = None


@dataclass(frozen=True)
class RightEvidence:
    """A right's current version at the stated block: its chain state, its office, its signed record."""

    block: BlockRef
    requested: str  # the id as asked for: `EP:PAT:…` or the 0x chain id
    right_id: str | None
    chain_right_id: bytes
    chain: ChainState | None  # None: no per-right state at the block
    office: OfficeStanding | None = None  # None: not read (a receipt does not carry it)
    document: Fetched = None
    key: KeyEvidence | None = None
    anchored: AnchoredRecord | Unreachable | None = None  # no per-right state: what its office serves
    seals: SealEvidence | None = None  # who sealed the stated block and built on it; None: no validators
    designation: DesignationEvidence | None = None  # no per-right state: a designation with no decision yet


@dataclass(frozen=True)
class RecordEvidence:
    """A record's canonical bytes (uploaded, or fetched for a file found by its hash), and what the chain
    and its office say about them."""

    canonical: bytes
    signature: DetachedSignature | None
    anchor: Mapping[str, Any] | None  # the anchor the upload claims
    claimed: tuple[str | None, int | None]  # the right id and version the record names (None: none valid)
    entry_version: int = 0
    chain: ChainState | None = None
    office: OfficeStanding | None = None
    anchored: AnchorEvidence | AnchoredRecord | None = None  # the claimed anchor, or what the office serves
    fetched: Fetched = None  # the signed document of the matching version, for an upload without signature
    key: KeyEvidence | None = None


@dataclass(frozen=True)
class SourceFetch:
    """A published version asked for its source XML."""

    version: RightVersion
    document: Fetched
    c14n_sha256: bytes | None = None  # of its source XML; None: no source, or not ST.96


@dataclass(frozen=True)
class XmlEvidence:
    right_id: str
    c14n_sha256: bytes
    entry_version: int
    chain: ChainState | None = None
    office: OfficeStanding | None = None
    sources: tuple[SourceFetch, ...] = ()  # in the order asked, up to a match or an unreachable office
    key: KeyEvidence | None = None  # for the matching version's signature


@dataclass(frozen=True)
class Candidate:
    """A right the index thinks a hash belongs to; only a pointer, read from the chain afterwards."""

    chain_right_id: bytes | None = None
    right_id: str | None = None


@dataclass(frozen=True)
class CandidateEvidence:
    """A candidate right read from the chain: its history, and what the file's hash turned out to be."""

    chain_right_id: bytes
    right_id: str | None
    history: tuple[RightVersion, ...]
    chain: ChainState | None = None  # the hash is the evidence document of one of its versions
    fetched: Fetched = None  # the hash is the record hash of one of its versions
    record: RecordEvidence | None = None  # that record, fetched and read as an upload would be


@dataclass(frozen=True)
class FileEvidence:
    located: int | None  # candidates the index named; None: no look-up available
    candidates: tuple[CandidateEvidence, ...] = ()  # those with a history, up to the first that decided


@dataclass(frozen=True)
class UploadEvidence:
    """An uploaded document: what it turned out to be, and the evidence for that form."""

    block: BlockRef
    sha256: bytes
    size: int
    filename: str | None
    form: str  # signed-record, record, st96-xml, file
    format_error: str | None = None
    record: RecordEvidence | None = None
    xml: XmlEvidence | str | None = None  # a str: why the ST.96 document could not be parsed
    file: FileEvidence | None = None
    seals: SealEvidence | None = None


Evidence = RightEvidence | UploadEvidence


# ------------------------------------------------------------ reading the evidence


class BadRightId(ValueError):
    """Neither a right id (OFFICE:TYPE:NUMBER), a designation id (WO:TM:NUMBER@OFFICE) nor a 0x chain id."""


def parse_right_id(value: str) -> tuple[str | None, bytes]:
    """(string id or None, chain id) from `EP:PAT:…`, a designation `WO:TM:…@GB` or a 0x-prefixed 64-hex
    chain id; BadRightId else."""
    if value.startswith("0x") and len(value) == 66:
        try:
            return None, bytes.fromhex(value[2:])
        except ValueError:
            pass
    elif RIGHT_ID.match(value):
        return value, chain_right_id(value)
    raise BadRightId(
        f"{value!r} is neither a right id (OFFICE:TYPE:NUMBER), a designation (WO:TM:NUMBER@OFFICE) nor a 0x "
        "chain id"
    )


def signing_block(target: RightVersion, history: Sequence[RightVersion]) -> int:
    """The block the version's record was first committed in: a publication reveals a record sealed
    (and signed) at the version before it."""
    if target.action == "publication":
        earlier = [v for v in history if v.version < target.version]
        if earlier:
            return earlier[-1].block_number
    return target.block_number


def matching_version(history: Sequence[RightVersion], digest: bytes) -> RightVersion | None:
    """The latest published version whose record hash is `digest`."""
    return next((v for v in reversed(history) if not v.sealed and v.record_hash == digest), None)


def designating_version(history: Sequence[RightVersion], designation: bytes) -> RightVersion | None:
    """The international registration's version whose `Designated` event reserved `designation` (its chain
    id)."""
    return next(
        (
            v
            for v in history
            if v.event == "Designated" and v.fields.get("designationId") == designation.hex()
        ),
        None,
    )


def evidence_version(history: Sequence[RightVersion], digest: bytes) -> RightVersion | None:
    """The first version whose ownership change names `digest` as its evidence document."""
    return next(
        (v for v in history if (v.fields.get("conveyance") or {}).get("evidenceHash") == digest.hex()),
        None,
    )
