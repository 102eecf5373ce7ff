"""Response models of the query API (what the OpenAPI contract documents)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class StatusPublic(BaseModel):
    chainId: int | None
    contractAddress: str
    headBlock: int | None = Field(description="The chain's head as last seen; null before the first look.")
    indexedBlock: int = Field(description="The last block indexed (head - confirmations at most).")
    lag: int | None = Field(description="headBlock - indexedBlock.")
    confirmations: int
    headSeenAt: str | None = Field(description="When the head was last read (ISO 8601, UTC).")
    lastError: str | None = Field(description="Why the last pass failed (e.g. the chain is unreachable).")


class ValidatorNodePublic(BaseModel):
    headBlock: int | None
    headHash: str | None
    peers: int | None


class ValidatorPublic(BaseModel):
    officeCode: str
    officeStatus: str = Field(description="active | suspended")
    address: str | None = Field(
        description="The address its validator seals with; null until the office names one."
    )
    signer: bool = Field(description="Among the chain's signers at the head.")
    sealedBlocks: list[int] = Field(description="Which of the latest blocks this validator sealed.")
    node: ValidatorNodePublic | None = Field(
        description="The validator's own view (head, peers), when it is a node this gateway follows."
    )


class NetworkPublic(BaseModel):
    engine: str = Field(description="clique; none for a single-process development chain")
    headBlock: int | None
    signers: list[str]
    finalDepth: int = Field(
        description="Blocks, the block itself included, after which a majority of the validators "
        "(n // 2 + 1) have sealed it or on top of it: the depth the gateway and the nodes call final."
    )
    recentBlocks: int = Field(description="How many of the latest blocks sealedBlocks covers.")
    validators: list[ValidatorPublic]


class ValidatorTermPublic(BaseModel):
    office: str | None = Field(description="The office that named the address in OfficeRegistry; null: none")
    address: str
    fromBlock: int = Field(description="The first block it could seal.")
    untilBlock: int | None = Field(description="The first block it could no longer seal; null: still one.")


class ConsortiumAnchorPublic(BaseModel):
    """`ipreg/consortium-anchor/1`: what `ipreg verify --anchor` checks a receipt against."""

    schema_: str = Field(alias="schema", default="ipreg/consortium-anchor/1")
    chainId: int
    genesisHash: str
    contractAddress: str
    engine: str = Field(description="clique, qbft, or none for a chain no validator seals")
    asOfBlock: int = Field(description="The head the validator history was read to.")
    validators: list[ValidatorTermPublic]


class StateWords(BaseModel):
    code: str
    name: str


class StageWords(BaseModel):
    code: int
    name: str


class KeyEventWords(BaseModel):
    code: str = Field(description="ST.27 key event: category letter and two digits, e.g. H13")
    category: str
    categoryName: str
    name: str | None = Field(description="The key event's own name, where the registry's tables have one")


class StatusWords(BaseModel):
    """A legal-status code in words (registry_node/protocol/legal_status.py cites the tables' sources)."""

    code: str = Field(description="As on chain: state, stage, key event, e.g. T6H13")
    standard: str = Field(description="ST.27 (patents, utility models), ST.61 (trademarks), ST.87 (designs)")
    state: StateWords
    stage: StageWords
    keyEvent: KeyEventWords | None
    text: str = Field(description="One line, e.g. 'Terminated (stage: terminated), key event H13: ...'")


class KeyPublic(BaseModel):
    keyId: str
    algorithm: str
    publicKey: str = Field(description="hex")
    addedAtBlock: int
    revokedAtBlock: int | None
    addedAt: str | None = Field(description="The time of the block that added it (ISO 8601, UTC)")
    revokedAt: str | None = Field(description="The time of the block that revoked it; null: not revoked")
    valid: bool = Field(description="Not revoked: valid for records from addedAtBlock on.")


class OfficePublic(BaseModel):
    officeCode: str
    name: str
    account: str
    endpoint: str
    status: str = Field(description="active | suspended")
    validator: str | None = Field(
        description="The address the office's chain validator seals blocks with; null until the office names "
        "one. The validators of active offices are the chain's signers."
    )
    admittedAtBlock: int
    keys: list[KeyPublic]


class OfficeList(BaseModel):
    items: list[OfficePublic]


class RightPublic(BaseModel):
    rightId: str | None = Field(description="The string id, null until learned from a published record.")
    chainRightId: str
    officeCode: str
    kind: str = Field(description="patent | utilityModel | trademark | design")
    version: int
    confidential: bool
    statusCode: str = Field(description="ST.27 state, stage and key event, e.g. A4F10")
    status: StatusWords | None = Field(description="The status code in words")
    recordHash: str = Field(description="SHA-256 of the current signed record (its seal while confidential)")
    ownerCommitment: str
    owners: list[dict[str, Any]] | None = Field(description="From the published record, once fetched.")
    title: str | None
    registeredBlock: int
    updatedBlock: int
    updatedAt: str


class RightStatePublic(RightPublic):
    asOf: str = Field(description="The end of the requested day, or the requested instant, UTC.")


class RightPage(BaseModel):
    count: int = Field(description="How many rights match, over all pages.")
    items: list[RightPublic]
    next: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


class HistoryItem(BaseModel):
    version: int
    action: str = Field(description="registration | ownershipChange | legalStatusEvent | publication")
    summary: str = Field(
        description="What happened, in words: 'Assignment from A to B, effective 2023-10-16, recorded "
        "2023-11-02 by GB'. A confidential version is told with what the chain shows alone."
    )
    officeCode: str
    confidential: bool
    recordHash: str
    ownerCommitment: str
    statusCode: str
    status: StatusWords | None = Field(description="The status after this version, in words")
    owners: list[dict[str, Any]] | None = Field(
        description="The owners after this version, from its published record; null while confidential or "
        "not fetched yet"
    )
    ownersChecked: bool = Field(
        description="The owners come from a record whose SHA-256 is the record hash on chain"
    )
    blockNumber: int
    blockHash: str
    timestamp: str
    transactionHash: str
    logIndex: int
    conveyance: dict[str, Any] | None = None
    statusEvent: dict[str, Any] | None = None


class ChangePublic(HistoryItem):
    rightId: str | None
    chainRightId: str


class ChangeList(BaseModel):
    items: list[ChangePublic] = Field(description="Newest first")


class OfficeRights(BaseModel):
    officeCode: str
    total: int
    kinds: dict[str, int] = Field(description="Rights of each kind (patent, trademark, ...)")


class RegistrySummary(BaseModel):
    total: int = Field(description="Rights on chain, as far as the index has followed it")
    offices: list[OfficeRights]
    kinds: dict[str, int]


class OfficeHealth(BaseModel):
    officeCode: str
    endpoint: str
    reachable: bool = Field(description="The office's deep-link endpoint answered")
    latencyMs: float | None
    checkedAt: str
    detail: str | None = Field(description="Why it is unreachable, or what it answered")


class HistoryPublic(BaseModel):
    rightId: str | None
    chainRightId: str
    items: list[HistoryItem]


class AnchoredItem(BaseModel):
    rightId: str
    version: int
    recordHash: str


class AnchorPublic(BaseModel):
    root: str
    officeCode: str
    count: int
    manifestHash: str
    manifestStatus: str = Field(description="pending | verified | mismatch")
    manifestHashChecked: bool
    blockNumber: int
    blockHash: str
    logIndex: int
    timestamp: str
    transactionHash: str
    items: list[AnchoredItem] | None = None


class AnchorPage(BaseModel):
    count: int
    items: list[AnchorPublic]
    next: str | None


class KnownAs(BaseModel):
    role: str = Field(description="record | evidence | sourceXml | anchored")
    rightId: str | None = None
    chainRightId: str | None = None
    version: int | None = None
    blockNumber: int | None = None
    root: str | None = None
    c14nAlgorithm: str | None = None


class DocumentPublic(BaseModel):
    sha256: str
    knownAs: list[KnownAs]
