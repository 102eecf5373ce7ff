"""Response models of the query API (what the OpenAPI contract documents)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from gateway.verify.models import Verdict


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


class GeographicalIndicationPublic(BaseModel):
    """A geographical indication's name, product and area (ST.96 GIApplication)."""

    name: str | None = Field(description="giNameText")
    product: str | None = Field(description="productText")
    area: str | None = Field(description="geographicRegionDescriptionText")


class EntryRef(BaseModel):
    rightId: str | None = Field(description="The string id, null until learned from a published record.")
    chainRightId: str


class RightPublic(BaseModel):
    rightId: str | None = Field(description="The string id, null until learned from a published record.")
    chainRightId: str
    officeCode: str
    kind: str = Field(description="patent | utilityModel | trademark | design | geographicalIndication")
    version: int
    confidential: bool
    statusCode: str = Field(description="ST.27 state, stage and key event, e.g. A4F10")
    status: StatusWords | None = Field(description="The status code in words")
    recordHash: str = Field(description="SHA-256 of the current signed record (its seal while confidential)")
    ownerCommitment: str
    owners: list[dict[str, Any]] | None = Field(
        description="From the published record, once fetched; a designation's are its international "
        "registration's."
    )
    title: str | None
    registeredBlock: int
    updatedBlock: int
    updatedAt: str
    geographicalIndication: GeographicalIndicationPublic | None = Field(
        default=None, description="A geographical indication's name, product and area."
    )
    internationalRegistration: EntryRef | None = Field(
        default=None,
        description="For a designation (`WO:TM:1234567@GB`): the international registration it designates "
        "the office on, whose owners and title it shows.",
    )


class RightStatePublic(RightPublic):
    asOf: str = Field(description="The end of the requested day, or the requested instant, UTC.")


class RightPage(BaseModel):
    count: int = Field(description="How many rights match, over all pages.")
    items: list[RightPublic]
    next: str | None = Field(description="Pass as `cursor` for the next page; null on the last.")


class HistoryItem(BaseModel):
    version: int
    action: str = Field(
        description="registration | ownershipChange | legalStatusEvent | publication | designation "
        "(an international registration designating an office)"
    )
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
    designation: dict[str, Any] | None = Field(
        default=None, description="For a designation: the office designated, the designation's chain id, date"
    )
    decision: dict[str, Any] | None = Field(
        default=None,
        description="A designation's version: the designated office's decision, from its record once fetched",
    )


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


# ------------------------------------------------------------ across offices


class DecisionPublic(BaseModel):
    """A designated office's latest decision on its designation: what the chain holds (version, status, record
    hash) and, once its signed record is fetched and checked against that hash, what it says."""

    version: int = Field(description="The designation's version: its office's decisions, from 1")
    decisionCategory: str | None = Field(
        default=None,
        description="provisionalRefusal | grantOfProtection | finalDecision | invalidation; absent until the "
        "decision record is fetched",
    )
    scopeCategory: str | None = Field(default=None, description="total | partial")
    classificationBag: list[str] | None = Field(
        default=None, description="The classes a partial decision concerns (Nice: marks; Locarno: designs)"
    )
    goodsServicesText: str | None = None
    decisionDate: str | None = None
    statusCode: str = Field(description="ST.61 (marks) or ST.87 (designs) status on chain, e.g. A4")
    status: StatusWords | None = None
    recordHash: str
    recordChecked: bool = Field(description="The decision's words come from a record hashing to recordHash")
    blockNumber: int
    timestamp: str
    summary: str = Field(description="'Protected in GB since 2024-05-02', 'Provisionally refused in KR ...'")


class DesignationPublic(BaseModel):
    """One office designated by an international registration, with its latest decision and the verdict on
    it (on the designation itself while no decision is recorded)."""

    designatedOfficeCode: str
    designationId: str | None = Field(
        default=None, description="`WO:TM:1234567@GB`; absent until the registration's record is fetched"
    )
    chainDesignationId: str = Field(description="keccak256 of the designation id: its entry on chain")
    designationCategory: str | None = Field(default=None, description="original | subsequent")
    designationDate: str | None = None
    designatedInVersion: int = Field(description="The registration's version that designated the office")
    blockNumber: int
    transactionHash: str
    timestamp: str
    summary: str = Field(description="The designation's state in words")
    latestDecision: DecisionPublic | None = Field(default=None, description="Absent: no decision yet")
    verification: Verdict | None = Field(
        default=None,
        description="The verdict GET /v1/rights/{designationId}/verification gives: on the latest decision, "
        "or, with none yet, on the registration's version that designated the office. Absent when the "
        "chain could not be asked.",
    )
    receipt: str = Field(
        description="Where the receipt is: the latest decision's, or with none yet the registration's at the "
        "block that designated the office"
    )


class DesignationList(BaseModel):
    rightId: str | None = None
    chainRightId: str
    items: list[DesignationPublic]


class FamilyMember(BaseModel):
    """A right or application linked to the asked right, directly or through other members."""

    relation: str = Field(
        description="What the member is to `via` (to the asked right when `depth` is 1): priorityClaim, "
        "pctInternationalApplication, parentOfDivisional, parentOfContinuation, validatedRegionalRight, "
        "internationalRegistration, or their inverses priorityOf, pctNationalPhase, divisional, "
        "continuation, validation, designatedProtection; `designation` for an international registration's "
        "designation"
    )
    depth: int = Field(description="Links between the asked right and the member")
    via: str | None = Field(default=None, description="The member it is linked through; absent at depth 1")
    officeCode: str | None = None
    applicationNumber: str | None = Field(default=None, description="As the linking record gives it")
    filingDate: str | None = None
    rightId: str | None = Field(default=None, description="Absent when the member is not in the registry")
    chainRightId: str | None = None
    inRegistry: bool
    decided: bool = Field(description="False for a designation on which its office has decided nothing yet")
    kind: str | None = None
    title: str | None = None
    owners: list[dict[str, Any]] | None = Field(
        default=None, description="A designation's are its international registration's"
    )
    statusCode: str | None = None
    status: StatusWords | None = None
    verification: Verdict | None = Field(
        default=None, description="The verdict on the member's current version (registry members only)"
    )


class FamilyList(BaseModel):
    rightId: str | None = None
    chainRightId: str
    maxDepth: int = Field(description="How many links away members are looked for")
    maxMembers: int = Field(description="How many members are listed at most")
    items: list[FamilyMember]
