"""The API's request and response models, split by role: `…Create` is what an operator sends, `…Public`
what the node answers. The records themselves are `registry_node.protocol.records` models, used as they
are."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from registry_node.node.store import OutboxState
from registry_node.protocol.http.problems import FieldError
from registry_node.protocol.keys import SigningAlgorithm
from registry_node.protocol.records import (
    Designation,
    DesignationDecision,
    LegalStatusEvent,
    OwnershipChange,
    Right,
)

MAX_VERSION = 2**32 - 1  # the contract keeps versions as uint32

ExpectedVersion = Annotated[
    int,
    Field(strict=True, ge=1, le=MAX_VERSION, description="The right's current version, which this change "
                                                          "supersedes; 409 if it moved on."),
]  # fmt: skip


class RequestModel(BaseModel):
    """Unknown fields are refused: a typo is an error naming it, not a silently dropped value."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class RightCreate(RequestModel):
    right: Right
    confidential: bool = Field(
        default=False,
        strict=True,
        description="Keep the record unpublished: only a salted seal of its hash goes on chain, and the "
        "deep link answers 404 until it is published.",
    )


class OwnershipChangeCreate(RequestModel):
    expectedVersion: ExpectedVersion
    change: OwnershipChange


class StatusEventCreate(RequestModel):
    expectedVersion: ExpectedVersion
    event: LegalStatusEvent


class PublicationCreate(RequestModel):
    expectedVersion: ExpectedVersion


class DesignationCreate(RequestModel):
    """The International Bureau designates an office on one of its international registrations."""

    expectedVersion: ExpectedVersion
    designation: Designation


class DecisionCreate(RequestModel):
    """A designated office's decision on its designation."""

    expectedVersion: Annotated[
        int,
        Field(strict=True, ge=0, le=MAX_VERSION, description="The designation's current version at this "
              "office: 0 for its first decision; 409 if it moved on."),
    ]  # fmt: skip
    decision: DesignationDecision


class ChangeAccepted(BaseModel):
    """A change on disk and queued for the chain; follow `Location` (`/v1/outbox/{outboxId}`)."""

    rightId: str
    version: int
    recordHash: str = Field(description="SHA-256 of the new version's canonical bytes, hex.")
    outboxId: int
    status: OutboxState


class OutboxEntryPublic(BaseModel):
    id: int
    rightId: str
    version: int
    action: str = Field(description="The contract function the entry calls.")
    state: OutboxState
    txHash: str | None
    nonce: int | None
    blockNumber: int | None
    error: str | None = Field(description="Why the contract refused it (failed), or why it was re-sent.")
    attempts: int


class OutboxPage(BaseModel):
    items: list[OutboxEntryPublic]
    limit: int
    offset: int
    nextOffset: int | None = Field(description="Offset of the next page; null on the last one.")


class OnChainPublic(BaseModel):
    version: int = Field(description="The right's version on chain; 0 if the chain does not know it yet.")
    matchesLocal: bool = Field(
        description="Whether the chain holds the node's latest version with its exact state."
    )


class RightPublic(BaseModel):
    """A right as this node holds it, with what the chain says about it."""

    rightId: str
    version: int
    changeKind: str
    recordHash: str
    confidential: bool
    record: dict[str, Any] = Field(description="The latest signed record (its canonical JSON).")
    documentUrl: str | None = Field(
        description="The public deep link of this version; null while confidential."
    )
    onChain: OnChainPublic | None = Field(description="Null when the chain could not be asked.")
    onChainError: str | None = None


class SignaturePublic(BaseModel):
    """A detached signature over the canonical bytes (`registry_node.protocol.signing.DetachedSignature`)."""

    office: str
    keyId: str
    algorithm: SigningAlgorithm
    signature: str


class AnchorProofPublic(BaseModel):
    """Where an anchored version's record hash is proven: `Anchors.verifyRecord(root, recordHash, proof)`."""

    root: str = Field(description="The anchored Merkle root, 0x-hex.")
    proof: list[str] = Field(description="Sibling hashes from the record's leaf up to the root, 0x-hex.")
    manifestUrl: str = Field(description="The anchor's manifest (`GET /v1/anchors/{root}`).")


class DocumentPublic(BaseModel):
    """A published version's signed record: verify `signature` over the bytes of `canonical`, and check
    `recordHash` (their SHA-256) against the chain."""

    rightId: str
    version: int
    record: dict[str, Any] = Field(description="The canonical JSON, parsed.")
    canonical: str = Field(description="Base64 of the exact canonical bytes (RFC 8785) that were signed.")
    signature: SignaturePublic
    recordHash: str
    sourceXml: str | None = Field(default=None, description="Base64 of the source ST.96 XML, if any.")
    anchor: AnchorProofPublic | None = Field(
        default=None, description="For a version imported anchored: its anchor's root and inclusion proof."
    )


class AnchorItemPublic(BaseModel):
    rightId: str
    version: int
    recordHash: str = Field(description="SHA-256 of the version's canonical record, hex.")


class AnchorManifestPublic(BaseModel):
    """An anchored batch's manifest: rebuild the Merkle tree from `items` to check `root`; `manifestHash`
    (on chain with the root) is the SHA-256 of this object's RFC 8785 form without `manifestHash`."""

    root: str
    officeCode: str
    count: int
    manifestHash: str
    items: list[AnchorItemPublic]


class ImportFile(BaseModel):
    """One ST.96 XML file, as its exact bytes (base64), so every encoding survives the transport."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255, description="The file's name, to report its outcome by.")
    content: str = Field(min_length=1, description="The file's bytes, base64.")


class ImportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    files: list[ImportFile] = Field(min_length=1, max_length=1000)
    mode: Literal["register", "anchor"] = Field(
        default="register",
        description="`register`: each right gets its own state on chain (registerBatch). `anchor`: the "
        "records are proven by Merkle roots, one `anchor` transaction per batch; a right gets its own state "
        "when the office first changes it.",
    )
    confidential: bool = Field(
        default=False,
        strict=True,
        description="Register the rights confidential (sealed until published); refused in anchor mode.",
    )

    @field_validator("confidential")
    @classmethod
    def _confidential_is_never_anchored(cls, confidential: bool, info: ValidationInfo) -> bool:
        if confidential and info.data.get("mode") == "anchor":
            raise ValueError(
                "a confidential right cannot be anchored: its record hash must stay sealed until "
                "publication; import it with mode register"
            )
        return confidential


class TransactionImportCreate(BaseModel):
    """A WIPO ST.96 Madrid or Hague transaction (IB to office at WO's node, office to IB at the designated
    office's node), as its exact bytes."""

    model_config = ConfigDict(extra="forbid")

    file: ImportFile


class TransactionItemPublic(BaseModel):
    """One item of a transaction, accepted whole (its changes queued for the chain) or refused whole."""

    index: int = Field(description="The item's position in the transaction, from 0.")
    item: str = Field(description="internationalRegistration, designation, holderChange or decision.")
    rightId: str = Field(description="The international registration or the designation it changes.")
    accepted: bool
    alreadyRecorded: bool = Field(
        default=False, description="The node held this item already (the transaction was imported before)."
    )
    changes: list[ChangeAccepted] = Field(default_factory=list)
    error: FieldError | None = None


class TransactionAccepted(BaseModel):
    name: str
    root: str = Field(description="The transaction's root element.")
    standard: str = Field(description="ST.61 (Madrid) or ST.87 (Hague).")
    validated: bool
    accepted: int
    refused: int
    items: list[TransactionItemPublic]


class ImportOutcomePublic(BaseModel):
    """One file's outcome: accepted whole (its right registered, queued for the chain) or refused whole."""

    name: str
    accepted: bool
    rightId: str | None = None
    version: int | None = None
    outboxId: int | None = None
    validated: bool | None = Field(default=None, description="Whether the file was checked against its XSD.")
    validationNote: str | None = None
    error: FieldError | None = None


class AnchorQueuedPublic(BaseModel):
    """An anchor of an anchored import, on disk and queued for the chain."""

    root: str
    count: int
    manifestHash: str
    outboxId: int


class ImportAccepted(BaseModel):
    accepted: int
    refused: int
    items: list[ImportOutcomePublic]
    anchors: list[AnchorQueuedPublic] = Field(
        default_factory=list,
        description="The anchors queued (anchor mode); an item's outboxId is its anchor's.",
    )
