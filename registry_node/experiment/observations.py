"""What a run observed: one OpRecord per operation, the faults as they happened, and what the chain holds.

Times are seconds since the run's clock started (the first submission could be made).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from registry_node.experiment.workload import Operation

# outcomes of an operation
CONFIRMED = "confirmed"  # on chain (a verification: answered)
ACCEPTED = "accepted"  # the node stored it; not confirmed before the run ended
REJECTED = "rejected"  # the node refused it (problem+json)
FAILED = "failed"  # the node accepted it, the contract refused it
UNKNOWN = "unknown"  # no answer (a transport error): the node may or may not have stored it
NOT_SENT = "not sent"  # its dependency never got through, or the run was interrupted first


@dataclass
class OpRecord:
    op: Operation
    outcome: str = NOT_SENT
    submitted_s: float | None = None
    accepted_s: float | None = None
    confirmed_s: float | None = None
    http_status: int | None = None
    outbox_id: int | None = None
    record_hash: str | None = None  # hex, as the node answered
    error: str = ""  # why it did not get through: the node's problem detail, the contract's error, ...
    waited_on: int | None = None  # not sent: the operation on its right that did not get through first
    tx_hash: str | None = None
    block_number: int | None = None
    gas: float | None = None  # this operation's share of its transaction's gas
    chain_bytes: float | None = None  # its share of its transaction's calldata and log bytes
    verdict: str | None = None  # verifications
    anchor_root: str | None = None  # anchors mode: the Merkle root a registration was anchored under

    @property
    def latency_s(self) -> float | None:
        if self.submitted_s is None or self.confirmed_s is None:
            return None
        return self.confirmed_s - self.submitted_s

    def row(self) -> dict[str, Any]:
        op = self.op
        return {
            "index": op.index,
            "kind": op.kind,
            "office": op.office,
            "right_id": op.right_id,
            "version": op.version if op.version is not None else "",
            "detail": op.detail,
            "conflict": "yes" if op.conflict else "",
            "outcome": self.outcome,
            "submitted_s": _fmt(self.submitted_s),
            "accepted_s": _fmt(self.accepted_s),
            "confirmed_s": _fmt(self.confirmed_s),
            "latency_s": _fmt(self.latency_s),
            "http_status": self.http_status or "",
            "outbox_id": self.outbox_id or "",
            "record_hash": self.record_hash or "",
            "tx_hash": self.tx_hash or "",
            "block_number": self.block_number if self.block_number is not None else "",
            "gas": round(self.gas) if self.gas is not None else "",
            "chain_bytes": round(self.chain_bytes) if self.chain_bytes is not None else "",
            "verdict": self.verdict or "",
            "anchor_root": self.anchor_root or "",
            "error": self.error,
            "waited_on": self.waited_on if self.waited_on is not None else "",
        }


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


@dataclass
class FaultRecord:
    kind: str
    target: str
    at_s: float
    recovered_s: float | None = None
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "target": self.target,
            "at_s": round(self.at_s, 3),
            "recovered_s": None if self.recovered_s is None else round(self.recovered_s, 3),
            "note": self.note,
        }


@dataclass(frozen=True)
class ChainEvent:
    name: str  # RightRegistered, OwnershipChanged, LegalStatusChanged, RightPublished, RootAnchored
    key: str  # 0x chain right id (or anchor root)
    version: int  # the right's version (RootAnchored: the number of records anchored)
    record_hash: str  # 0x hex (a seal for a confidential registration); "" for anchors
    block_number: int
    tx_hash: str
    log_index: int


@dataclass
class ChainFacts:
    """What the chain holds after the run, read from its events, receipts and blocks."""

    first_block: int
    last_block: int
    events: list[ChainEvent] = field(default_factory=list)
    gas_by_tx: dict[str, int] = field(default_factory=dict)
    bytes_by_tx: dict[str, int] = field(default_factory=dict)  # calldata + log data and topics
    log_bytes: int = 0
    block_bytes: int = 0
    transactions: int = 0
    state_bytes: int | None = None  # the chain's database on disk, when the backend tells
    block_hashes: dict[int, str] = field(default_factory=dict)  # the run's blocks, number -> hash
    block_by_tx: dict[str, int] = field(default_factory=dict)  # the block each transaction is in
    gas_used: int = 0  # the run's blocks' gasUsed, summed
    gas_limit: int | None = None  # the last block's gasLimit

    @property
    def blocks(self) -> int:
        return self.last_block - self.first_block + 1
