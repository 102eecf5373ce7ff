"""Re-checking a receipt (`ipreg verify RECEIPT.json`): the receipt read back into the evidence a verdict
rests on (`gateway.verify.facts`) and judged by the judge of the gateway's online verdicts, so that a
receipt check and an online verification of the same right give the same checks, by name, and the same
verdict.

Offline, the evidence is the receipt's own: the record and its signature, the office key, the state and the
event that recorded it, and the EIP-1186 proof of the right's (or its anchor's) storage slot with the block
header, which the judge checks down to the block hash. What a receipt does not carry (the office's standing)
is a skipped check. With an RPC URL, the evidence is gathered from that node at the receipt's block as the
gateway gathers it, with the record taken from the receipt instead of a deep link; the receipt's proofs are
checked against that node's block, and its own claims compared with the node's (`rpc-block`, `rpc-log`,
`rpc-key`, `rpc-state`).

A receipt that contradicts itself or cannot be read fails `receipt-format`; a forged one gets a verdict with
failed checks; neither raises.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from web3 import Web3

from gateway.verify.chain_reads import ACTIONS, RIGHT_EVENTS, BlockOutOfRange, ChainReader, event_fields
from gateway.verify.evidence import Gatherer
from gateway.verify.facts import (
    AnchoredRecord,
    AnchorEvidence,
    AnchorInfo,
    BlockRef,
    ChainState,
    KeyEvidence,
    KeyInfo,
    KeyProof,
    RightEvidence,
    RightVersion,
    SignedDocument,
    StorageProof,
    parse_right_id,
    signing_block,
)
from gateway.verify.judge import judge
from gateway.verify.models import AUTHENTIC, RECEIPT_SCHEMA, RECEIPT_SCHEMAS, Check, CheckResult, Verdict
from gateway.verify.signer import check_gateway_signature
from gateway.verify.state_proofs import hex_bytes
from gateway.verify.uploads import hex32
from registry_node.protocol.chain import ChainError, ConfirmationDepth, web3_for
from registry_node.protocol.consensus.anchor import ConsortiumAnchor
from registry_node.protocol.consensus.finality import finality
from registry_node.protocol.contract import RightState, load_artifact, office_code, status_code
from registry_node.protocol.keys import SigningAlgorithm
from registry_node.protocol.signing import DetachedSignature

RPC_TIMEOUT_S = 15


class Binding(StrEnum):
    """What a receipt was checked against, beyond itself."""

    ANCHOR = "anchor"  # the consortium's trust anchor: the validators sealed its block
    NODE = "node"  # a chain node the auditor trusts
    NONE = "none"  # nothing: consistent with itself, bound to no consortium


@dataclass(frozen=True)
class ReceiptCheck:
    """The receipt's own checks (its format, the gateway's signature, its binding to a consortium by the
    anchor's validators or by a node), then the verdict's; `standing`: what a node says of the version now."""

    checks: tuple[Check, ...]
    verdict: Verdict | None  # None: the receipt could not be read
    bound_by: tuple[Binding, ...] = ()
    standing: str | None = None

    @property
    def consistent(self) -> bool:
        """Authentic by its own evidence, and no check failed."""
        return (
            self.verdict is not None
            and self.verdict.verdict in AUTHENTIC
            and all(c.result is not CheckResult.FAIL for c in self.checks)
        )

    @property
    def ok(self) -> bool:
        """Verified: consistent, and bound to the consortium by its anchor or by a trusted node."""
        return self.consistent and bool(self.bound_by)

    @property
    def outcome(self) -> str:
        return "verified" if self.ok else "unbound" if self.consistent else "rejected"

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "outcome": self.outcome,
            "boundBy": [b.value for b in self.bound_by],
            "verdict": self.verdict.verdict.value if self.verdict is not None else None,
            "standing": self.standing,
            "checks": [{"name": c.name, "result": c.result.value, "detail": c.detail} for c in self.checks],
        }

    def report(self) -> str:
        lines = [
            f"{'PASS' if c.result is CheckResult.PASS else c.result.value.upper():7} {c.name}: {c.detail}"
            for c in self.checks
        ]
        verdict = self.verdict.verdict.value if self.verdict is not None else "unreadable"
        if self.standing is not None:
            lines.append(f"now: {self.standing}")
        if self.ok:
            by = " and ".join(
                "the anchor's validators" if b is Binding.ANCHOR else "the node" for b in self.bound_by
            )
            lines.append(f"receipt verified: {verdict}, bound to the consortium by {by}")
        elif self.consistent:
            lines.append(
                f"receipt consistent ({verdict}) but bound to no consortium: anyone can make such a receipt "
                "on a chain of their own; check it with --anchor ANCHOR.json (from the offices) or --rpc URL "
                "(a node you trust)"
            )
        else:
            lines.append(f"receipt REJECTED: {verdict}")
        return "\n".join(lines)


class ReceiptFormatError(ValueError):
    """A receipt that cannot be read, or that contradicts itself."""


@dataclass(frozen=True)
class ReceiptClaims:
    """What a receipt says, read and checked against itself."""

    right_id: str
    chain_right_id: bytes
    chain_id: int
    contract: str
    block: BlockRef
    document: SignedDocument
    signature: DetachedSignature
    office: str  # the office its event names
    key: KeyInfo | None  # its officeKey; None when it names no registered key
    signing_block: int
    recorded: RightVersion | AnchorInfo  # the version its event and state tell, or the anchor of its batch
    anchor_proof: tuple[bytes, ...]
    proof: StorageProof | None
    event: dict[str, Any]  # as the receipt gives it
    key_proof: KeyProof | None = None
    seals: ReceiptSeals | None = None  # None: the receipt carries no seals (a development chain, or /1)


@dataclass(frozen=True)
class ReceiptSeals:
    engine: str
    headers: tuple[dict[str, str], ...]  # blockHeader first


def check_receipt(
    receipt: Any,
    rpc_url: str | None = None,
    gateway_key: bytes | None = None,
    anchor: ConsortiumAnchor | None = None,
) -> ReceiptCheck:
    """The receipt judged offline, against the consortium's trust anchor (`anchor`), and against the chain
    node at `rpc_url`; `gateway_key` (Ed25519 public key bytes) also checks the gateway's signature."""
    checks: list[Check] = []
    if gateway_key is not None:
        checks.append(_check("gateway-signature", *check_gateway_signature(receipt, gateway_key)))
    try:
        claims = read_receipt(receipt)
    except ReceiptFormatError as err:
        checks.append(_check("receipt-format", False, str(err)))
        return ReceiptCheck(tuple(checks), None)
    bound: list[Binding] = []
    if anchor is not None:
        anchored = _against_anchor(claims, anchor)
        checks += anchored
        if all(c.result is CheckResult.PASS for c in anchored):
            bound.append(Binding.ANCHOR)
    evidence = offline_evidence(claims)
    standing = None
    if rpc_url is not None:
        evidence, agreed, standing = _on_node(claims, rpc_url, evidence, anchor)
        checks += agreed
        if all(c.result is CheckResult.PASS for c in agreed):
            bound.append(Binding.NODE)
    verdict = judge(evidence)
    return ReceiptCheck((*checks, *verdict.checks), verdict, tuple(bound), standing)


def _against_anchor(claims: ReceiptClaims, anchor: ConsortiumAnchor) -> list[Check]:
    """The receipt bound to the consortium: its chain and contract are the anchor's, its block sealed by the
    anchor's validators with a majority built on it, and its office key proven under that block's state."""
    same = claims.chain_id == anchor.chain_id and claims.contract.lower() == anchor.contract.lower()
    checks = [
        _check(
            "anchor-chain",
            same,
            f"chain {claims.chain_id}, contract {claims.contract}"
            + (
                " are the anchor's"
                if same
                else f"; the anchor's: chain {anchor.chain_id}, contract {anchor.contract}"
            ),
        )
    ]
    if claims.seals is None:
        said = "names no validators" if anchor.engine == "none" else f"is sealed by {anchor.engine}"
        checks.append(_check("seals", False, f"the receipt carries no seals; the anchor's chain {said}"))
    else:
        judged = finality(claims.seals.engine, claims.block.hash, claims.seals.headers, anchor)
        checks += [_check(c.name, c.ok, c.detail) for c in judged.checks]
    checks.append(
        _check(
            "office-key-proof",
            claims.key_proof is not None,
            "the office key's entry comes with its storage proof (checked under signing-key)"
            if claims.key_proof is not None
            else "the receipt carries no proof of the office key: its key would rest on the receipt's word",
        )
    )
    return checks


def read_receipt(receipt: Any) -> ReceiptClaims:
    """The receipt's claims; ReceiptFormatError for one that cannot be read or contradicts itself."""
    if not isinstance(receipt, dict):
        raise ReceiptFormatError("the receipt is not a JSON object")
    try:
        return _read(receipt)
    except ReceiptFormatError:
        raise
    except Exception as err:  # a receipt is untrusted input: whatever fails in reading it is its format
        raise ReceiptFormatError(f"malformed receipt: {type(err).__name__}: {err}") from None


def offline_evidence(claims: ReceiptClaims) -> RightEvidence:
    """The evidence a receipt carries by itself: its proofs stand for a node's answers."""
    key = KeyEvidence(claims.office, claims.signing_block, claims.key, proof=claims.key_proof)
    rid = claims.right_id
    recorded = claims.recorded
    if isinstance(recorded, AnchorInfo):
        anchor = AnchorEvidence(
            recorded.root, claims.anchor_proof, claimed=recorded, slot=claims.proof, key=key
        )
        anchored = AnchoredRecord(claims.document, anchor)
        return RightEvidence(claims.block, rid, rid, claims.chain_right_id, None, anchored=anchored)
    chain = ChainState(recorded.version, (recorded,), proof=claims.proof)
    return RightEvidence(
        claims.block, rid, rid, claims.chain_right_id, chain, document=claims.document, key=key
    )


# ------------------------------------------------------------ reading a receipt


def _read(r: dict[str, Any]) -> ReceiptClaims:
    _expect(r["schema"] in RECEIPT_SCHEMAS, f"the receipt's schema is {r['schema']!r}, not {RECEIPT_SCHEMA}")
    record = r["record"]
    canonical = base64.b64decode(str(record["canonical"]), validate=True)
    _expect(
        hashlib.sha256(canonical).digest() == _b(record["recordHash"], "record.recordHash"),
        "record.recordHash is not the SHA-256 of the canonical bytes",
    )
    right_id, chain_rid = parse_right_id(str(r["rightId"]))
    if right_id is None or chain_rid != _b(r["chainRightId"], "chainRightId"):
        raise ReceiptFormatError("rightId is not OFFICE:TYPE:NUMBER with chainRightId its keccak256")
    anchor = r["anchor"]
    signature = DetachedSignature.from_json(record["signature"])
    document = SignedDocument(
        canonical, signature, anchor=anchor if isinstance(anchor, dict) else None, right_id=right_id
    )
    chain = r["chain"]
    block = BlockRef(int(chain["blockNumber"]), _b(chain["blockHash"], "chain.blockHash"), 0)
    event = r["event"]
    signing = int(event["signingBlock"])
    _expect(
        signing <= int(event["blockNumber"]) <= block.number,
        "the event is not at or before the receipt's block, or its record's block after the event",
    )
    name, office, args = _decode_event(event, str(chain["contractAddress"]))
    _expect(
        name == "RightPublished" or signing == int(event["blockNumber"]),
        "the record's block is not its event's (only a publication reveals a record signed earlier)",
    )
    recorded: RightVersion | AnchorInfo
    anchor_proof: tuple[bytes, ...] = ()
    seals = _seals(r.get("seals"), r.get("blockHeader"))
    if name == "RootAnchored":
        recorded = _anchor_claimed(r, args, office)
        anchor_proof = tuple(hex32(p) for p in r["anchor"]["proof"])
    else:
        _expect(bytes(args["rightId"]) == chain_rid, "the event is of another right")
        recorded = _version_claimed(r, name, office, args)
    return ReceiptClaims(
        right_id=right_id,
        chain_right_id=chain_rid,
        chain_id=int(chain["chainId"]),
        contract=str(chain["contractAddress"]),
        block=block,
        document=document,
        signature=signature,
        office=office,
        key=_office_key(r["officeKey"]),
        signing_block=signing,
        recorded=recorded,
        anchor_proof=anchor_proof,
        proof=_storage_proof(r, seals),
        event=event,
        key_proof=_key_proof(r.get("officeKeyProof")),
        seals=seals,
    )


def _decode_event(event: dict[str, Any], contract: str) -> tuple[str, str, dict[str, Any]]:
    """The event's name, the office it names and its arguments, decoded from its raw log with the
    registry's ABI; it must have been emitted by the receipt's contract."""
    name = str(event["name"])
    _expect(name in (*RIGHT_EVENTS, "RootAnchored"), f"{name!r} is not an event of the registry")
    log = event["log"]
    _expect(
        Web3.to_checksum_address(log["address"]) == Web3.to_checksum_address(contract),
        "the event was not emitted by the receipt's contract",
    )
    registry = Web3().eth.contract(abi=load_artifact().abi)
    decoded = getattr(registry.events, name)().process_log(
        {
            "address": Web3.to_checksum_address(log["address"]),
            "topics": [_b(t, "event.log.topics") for t in log["topics"]],
            "data": _b(log["data"], "event.log.data"),
            "blockNumber": int(event["blockNumber"]),
            "blockHash": _b(event["blockHash"], "event.blockHash"),
            "transactionHash": _b(event["transactionHash"], "event.transactionHash"),
            "logIndex": int(event["logIndex"]),
            "transactionIndex": 0,
        }
    )
    args = dict(decoded["args"])
    _expect(
        event_fields(name, args) == event["fields"],
        "event.fields are not the fields its log encodes",
    )
    return name, office_code(args["office"]), args


def _version_claimed(r: dict[str, Any], name: str, office: str, args: dict[str, Any]) -> RightVersion:
    """The version the receipt's state and event tell; its event must carry what the state says."""
    s = r["state"]
    state = RightState(
        _b(s["recordHash"], "state.recordHash"),
        _b(s["ownerCommitment"], "state.ownerCommitment"),
        _b(s["status"], "state.status"),
    )
    _expect(_b(r["stateDigest"], "stateDigest") == state.digest(), "stateDigest is not the state's digest")
    _expect(s["statusCode"] == status_code(state.status), "state.statusCode is not the code of state.status")
    version = int(r["version"])
    sealed = False
    if name == "RightRegistered":
        record, owner, status = (bytes(v) for v in _values(args["state"]))
        _expect(version == 1, "a registration is version 1")
        _expect((record, owner, status) == state.as_tuple(), "the event's state is not the receipt's state")
        sealed = bool(args["confidential"])
    else:
        _expect(int(args["version"]) == version, "the event's version is not the receipt's")
        _expect(bytes(args["recordHash"]) == state.record_hash, "the event's record hash is not the state's")
        if "ownerCommitment" in args:
            _expect(
                bytes(args["ownerCommitment"]) == state.owner_commitment,
                "the event's owner commitment is not the state's",
            )
        if "statusEvent" in args:
            _expect(
                bytes(_values(args["statusEvent"])[0]) == state.status,
                "the event's status is not the state's",
            )
    event = r["event"]
    return RightVersion(
        version=version,
        action=ACTIONS[name],
        office=office,
        sealed=sealed,
        block_number=int(event["blockNumber"]),
        block_hash=_b(event["blockHash"], "event.blockHash"),
        transaction_hash=_b(event["transactionHash"], "event.transactionHash"),
        log_index=int(event["logIndex"]),
        event=name,
        fields=dict(event["fields"]),
        state=state,
        log=dict(event["log"]),
    )


def _anchor_claimed(r: dict[str, Any], args: dict[str, Any], office: str) -> AnchorInfo:
    """The anchor a right only anchored has, as its RootAnchored event tells it."""
    _expect(r["state"] is None and int(r["version"]) == 1, "an anchored record is version 1, without state")
    anchor = r["anchor"]
    root = hex32(anchor["root"])
    _expect(bytes(args["root"]) == root, "the event anchors another root")
    number = int(r["event"]["blockNumber"])
    _expect(
        int(anchor["blockNumber"]) == number and int(r["event"]["signingBlock"]) == number,
        "the anchor's block is not its event's",
    )
    return AnchorInfo(root, office, int(args["count"]), number, 0)


def _office_key(key: dict[str, Any]) -> KeyInfo | None:
    if key["algorithm"] is None or key["publicKey"] is None:
        return None
    revoked = key["revokedAtBlock"]
    return KeyInfo(
        office=str(key["office"]),
        key_id=_b(key["keyId"], "officeKey.keyId"),
        algorithm=SigningAlgorithm(key["algorithm"]),
        valid_from_block=int(key["addedAtBlock"]),
        revoked_at_block=int(revoked) if revoked is not None else None,
        public_key=_b(key["publicKey"], "officeKey.publicKey"),
    )


def _seals(seals: Any, header: Any) -> ReceiptSeals | None:
    if seals is None:
        return None
    _expect(
        isinstance(seals, dict) and seals.get("engine") in ("clique", "qbft"), "seals.engine: clique or qbft"
    )
    _expect(isinstance(header, dict), "a sealed receipt carries its blockHeader")
    following = seals["headers"]
    _expect(isinstance(following, list), "seals.headers must be a list")
    return ReceiptSeals(
        str(seals["engine"]),
        tuple({str(k): str(v) for k, v in dict(h).items()} for h in [header, *following]),
    )


def _key_proof(proof: Any) -> KeyProof | None:
    if proof is None:
        return None
    return KeyProof(
        tuple((str(s["slot"]), str(s["value"]), tuple(str(n) for n in s["proof"])) for s in proof["slots"])
    )


def _storage_proof(r: dict[str, Any], seals: ReceiptSeals | None) -> StorageProof | None:
    proof = r["storageProof"]
    if proof is None:
        return None
    header = r["blockHeader"]
    return StorageProof(
        contract=str(r["chain"]["contractAddress"]),
        slot=str(proof["slot"]),
        value=str(proof["value"]),
        account_proof=tuple(str(n) for n in proof["accountProof"]),
        storage_proof=tuple(str(n) for n in proof["storageProof"]),
        account={k: str(v) for k, v in dict(proof["account"]).items()},
        header={k: str(v) for k, v in dict(header).items()} if header is not None else None,
        engine=seals.engine if seals is not None else None,
    )


# ------------------------------------------------------------ against a chain node


def _on_node(
    claims: ReceiptClaims, rpc_url: str, offline: RightEvidence, anchor: ConsortiumAnchor | None
) -> tuple[RightEvidence, list[Check], str | None]:
    """The evidence gathered from the node at the receipt's block, with the receipt's record and proofs;
    whether the receipt's claims are the node's; and what the node says of the version now. The offline
    evidence when the node cannot be asked."""
    w3 = web3_for(rpc_url, RPC_TIMEOUT_S)
    contract = w3.eth.contract(address=Web3.to_checksum_address(claims.contract), abi=load_artifact().abi)
    gatherer = Gatherer(ChainReader(w3, contract), None, confirmations=0)
    gatherer.anchors = None  # the receipt's own seals are judged against the auditor's anchor
    checks: list[Check] = []
    try:
        if anchor is not None:
            genesis = gatherer.reader.block(0).hash
            checks.append(
                _check(
                    "rpc-genesis",
                    genesis == anchor.genesis_hash,
                    f"the node's genesis block is 0x{genesis.hex()}; "
                    f"the anchor's 0x{anchor.genesis_hash.hex()}",
                )
            )
        node = gatherer.right(claims.right_id, claims.block.number, given=claims.document, proofs=True)
        chain_id = gatherer.chain_id
        standing = _standing(gatherer, claims)
    except (ChainError, BlockOutOfRange) as err:
        return offline, [*checks, _check("rpc-block", False, f"the node could not be asked: {err}")], None
    same_chain = chain_id == claims.chain_id
    checks.append(
        _check(
            "rpc-block",
            same_chain and node.block.hash == claims.block.hash,
            f"block {claims.block.number} has this hash on the node"
            if same_chain and node.block.hash == claims.block.hash
            else f"the node's chain id is {chain_id}, the receipt's {claims.chain_id}"
            if not same_chain
            else f"block {claims.block.number} on the node is 0x{node.block.hash.hex()}, not the receipt's "
            f"0x{claims.block.hash.hex()}: the receipt's block is not (or no longer) on the node's chain",
        )
    )
    recorded = claims.recorded
    if node.chain is not None and isinstance(recorded, RightVersion):
        checks += _agrees_with_version(claims, recorded, node.chain, node.key)
        return replace(node, chain=replace(node.chain, proof=claims.proof)), checks, standing
    if isinstance(node.anchored, AnchoredRecord) and isinstance(recorded, AnchorInfo):
        anchor_ev = node.anchored.anchor
        checks += _agrees_with_anchor(claims, recorded, anchor_ev)
        anchored = replace(node.anchored, anchor=replace(anchor_ev, slot=claims.proof))
        return replace(node, anchored=anchored), checks, standing
    checks.append(_check("rpc-state", False, "the node holds another kind of entry for this right"))
    return node, checks, standing


def _standing(gatherer: Gatherer, claims: ReceiptClaims) -> str:
    """Whether the receipt's version still stands at the node's newest final block, or which version
    superseded it and where."""
    final = gatherer.reader.head() - ConfirmationDepth(ConfirmationDepth.MAJORITY).behind_head(
        gatherer.reader.w3
    )
    final = max(final, claims.block.number)
    entry = gatherer.reader.right_of(claims.chain_right_id, final)
    version = claims.recorded.version if isinstance(claims.recorded, RightVersion) else 1
    if isinstance(claims.recorded, AnchorInfo) and entry.version == 0:
        return f"the anchored record still stands at block {final}: the right has no per-right state since"
    if entry.version == version:
        return f"version {version} is still the right's current version at block {final} (final on the node)"
    later = [v for v in gatherer.reader.history(claims.chain_right_id, final) if v.version > version]
    if not later:
        return f"the node holds version {entry.version} at block {final}, not the receipt's {version}"
    newest = later[-1]
    return (
        f"superseded: version {newest.version} (recorded in block {newest.block_number}) is the right's "
        f"current version at block {final}; the receipt proves what stood at block {claims.block.number}"
    )


def _agrees_with_version(
    claims: ReceiptClaims, recorded: RightVersion, chain: ChainState, key: KeyEvidence | None
) -> list[Check]:
    seen = next((v for v in chain.history if v.version == recorded.version), None)
    same_log = (
        seen is not None
        and _same_log(
            (seen.block_hash, seen.transaction_hash, seen.log_index, seen.log),
            (recorded.block_hash, recorded.transaction_hash, recorded.log_index, recorded.log),
        )
        and signing_block(seen, chain.history) == claims.signing_block
    )
    current = chain.history[-1] if chain.history else None
    same_state = current is not None and (current.version, current.state) == (
        recorded.version,
        recorded.state,
    )
    return [
        _check(
            "rpc-log",
            same_log,
            f"log {recorded.log_index} of transaction 0x{recorded.transaction_hash.hex()} is the receipt's "
            "event, and its record's block the receipt's signing block",
        ),
        _key_agrees(claims, key),
        _check(
            "rpc-state",
            same_state,
            f"version {recorded.version} and its state are the node's at block {claims.block.number}",
        ),
    ]


def _agrees_with_anchor(claims: ReceiptClaims, recorded: AnchorInfo, anchor: AnchorEvidence) -> list[Check]:
    event, seen = claims.event, anchor.event
    same_log = seen is not None and _same_log(
        (seen.block_hash, seen.transaction_hash, seen.log_index, seen.log),
        (
            _b(event["blockHash"], "event.blockHash"),
            _b(event["transactionHash"], "event.transactionHash"),
            int(event["logIndex"]),
            event["log"],
        ),
    )
    anchored = anchor.anchored
    same_anchor = anchored is not None and (anchored.office, anchored.block_number) == (
        recorded.office,
        recorded.block_number,
    )
    return [
        _check(
            "rpc-log", same_log, f"the RootAnchored log of 0x{recorded.root.hex()} is the receipt's event"
        ),
        _key_agrees(claims, anchor.key),
        _check(
            "rpc-state",
            same_anchor,
            f"0x{recorded.root.hex()} is anchored by {recorded.office} in block {recorded.block_number} "
            "on the node",
        ),
    ]


def _same_log(node: tuple[bytes, bytes, int, dict[str, Any]], receipt: tuple[bytes, bytes, int, Any]) -> bool:
    """The same log in the same transaction and block (addresses compared without their checksum case)."""
    (block, transaction, index, log), (r_block, r_transaction, r_index, r_log) = node, receipt
    return (block, transaction, index) == (r_block, r_transaction, r_index) and (
        str(log["address"]).lower(),
        [_b(t, "topics") for t in log["topics"]],
        _b(log["data"], "data"),
    ) == (
        str(r_log["address"]).lower(),
        [_b(t, "event.log.topics") for t in r_log["topics"]],
        _b(r_log["data"], "event.log.data"),
    )


def _key_agrees(claims: ReceiptClaims, key: KeyEvidence | None) -> Check:
    held = key.key if key is not None else None
    return _check(
        "rpc-key",
        held is not None and held == claims.key,
        f"the node holds the receipt's officeKey under key id 0x{claims.signature.key_id.hex()}",
    )


# ------------------------------------------------------------ plain helpers


def _check(name: str, ok: bool, detail: str) -> Check:
    return Check(name, CheckResult.PASS if ok else CheckResult.FAIL, detail)


def _expect(condition: bool, detail: str) -> None:
    if not condition:
        raise ReceiptFormatError(detail)


def _b(value: Any, name: str) -> bytes:
    return hex_bytes(value, name)


def _values(value: Any) -> list[Any]:
    return list(value.values()) if isinstance(value, dict) else list(value)
