"""Issuing receipts: a self-contained JSON bundle an auditor re-checks offline, or against a chain node it
trusts (`gateway.verify.receipt_evidence`). A receipt is the evidence of a right's current version
(`Gatherer.right` with its storage proofs), written out.

Schema `ipreg/receipt/2` (README documents it; `gateway.verify.models.Receipt` publishes it):

    schema, issuedAt, rightId, chainRightId, version,
    record       {canonical (base64 of the exact signed bytes), recordHash, signature {office, keyId,
                  algorithm, signature}}
    officeKey    {office, keyId, algorithm, publicKey, addedAtBlock, revokedAtBlock}
    chain        {chainId, contractAddress, blockNumber, blockHash}
    event        {name, blockNumber, blockHash, transactionHash, logIndex, signingBlock, fields, log
                  {address, topics, data}}
    state        {recordHash, ownerCommitment, status, statusCode}   the full RightState at the block;
                 null for a right only anchored (no per-right state): then `event` is its RootAnchored
    stateDigest  bytes24(keccak256(abi.encode(state))) | null
    anchor       {root, proof[], blockNumber} | null     (storageProof then proves `_anchors[root]`)
    storageProof {slot, value, accountProof[], storageProof[], account {nonce, balance, storageHash,
                  codeHash}} | null    (EIP-1186, when the chain answers eth_getProof)
    blockHeader  {parentHash, …, baseFeePerGas} | null     the header whose keccak256(rlp) is blockHash
    officeKeyProof {slots [{slot, value, proof[]}]} | null   the office key's entry (`_keys[office][keyId]`),
                 proven under the storage root `storageProof` proves
    seals        {engine, headers[]} | null   the headers after blockHeader, each sealed, up to the first at
                 which a majority of the validators has sealed (Clique; QBFT: none, blockHeader carries the
                 committed seals); null on a chain no validator seals
    gatewaySignature {keyId, algorithm, signature}

A receipt is checked against the consortium's trust anchor (`ipreg verify --anchor`): the seals bind its
block, and through the block's state root everything else, to the validators the auditor trusts.

A designation of an international registration (`WO:TM:1234567@GB`) has the receipt of its designated
office's latest decision, as any right has (its record a `DesignationRecord`). While that office has decided
nothing there is none (409): the designation is proven by the registration's receipt at the block of its
`Designated` event, whose record lists it.

Bytes are 0x-hex except the canonical record (base64).
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from typing import Any

from gateway.verify.evidence import Gatherer
from gateway.verify.facts import (
    AnchoredRecord,
    BlockRef,
    KeyEvidence,
    RightEvidence,
    SignedDocument,
    StorageProof,
    Unreachable,
    signing_block,
)
from gateway.verify.models import RECEIPT_SCHEMA
from gateway.verify.signer import GatewaySigner
from registry_node.protocol.consensus.finality import finality
from registry_node.protocol.errors import RegistryError
from registry_node.protocol.signing import DetachedSignature


class ReceiptUnavailable(RegistryError):
    """No receipt can be issued; `status` is the HTTP status that says why (404, 409, 502)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def build_receipt(
    gatherer: Gatherer,
    right_id: str,
    at_block: int | None = None,
    signer: GatewaySigner | None = None,
) -> dict[str, Any]:
    """The receipt of the right's current version at the stated block, signed by the gateway if a signer is
    given. Raises ReceiptUnavailable when the right is unknown, confidential or its office cannot serve
    the signed record."""
    evidence = gatherer.right(right_id, at_block, proofs=True)
    body = receipt_json(evidence, gatherer.chain_id, gatherer.contract_address)
    return signer.sign(body) if signer is not None else body


def _seals_json(ev: RightEvidence) -> dict[str, Any] | None:
    """The sealed headers after the receipt's block; ReceiptUnavailable (409) while a majority of the
    validators has not built on it yet: such a receipt would not check against the anchor."""
    seals = ev.seals
    if seals is None:
        return None
    judged = finality(seals.engine, ev.block.hash, seals.headers, seals.anchor)
    if not judged.final:
        raise ReceiptUnavailable(
            409,
            f"block {ev.block.number} is not final yet: {judged.distinct} of {judged.validators} validators "
            f"have sealed on it, {judged.needed} are needed; ask again in a few blocks",
        )
    return {"engine": seals.engine, "headers": [dict(h) for h in seals.headers[1:]]}


def receipt_json(ev: RightEvidence, chain_id: int, contract: str) -> dict[str, Any]:
    """The unsigned receipt written from the evidence of a right (gathered with its proofs)."""
    chain = ev.chain
    if chain is None and ev.designation is not None:
        raise ReceiptUnavailable(409, _undecided(ev))
    if chain is None:
        return _anchored_json(ev, chain_id, contract)
    if not chain.rebuilt:
        raise ReceiptUnavailable(502, "the right's events do not rebuild its on-chain version")
    current = chain.history[-1]
    if current.sealed:
        raise ReceiptUnavailable(409, f"{ev.requested} is confidential: only its seal is on chain")
    document = _document(ev.document)
    if document is None:
        if chain.matches is False:
            raise ReceiptUnavailable(502, "the chain does not hold the state the right's events rebuild")
        raise ReceiptUnavailable(502, "the office serves no signed document for the current version")
    signature = _signature(document)
    return {
        "schema": RECEIPT_SCHEMA,
        "issuedAt": _now(),
        "rightId": ev.right_id or document.right_id or ev.requested,
        "chainRightId": _hex(ev.chain_right_id),
        "version": current.version,
        "record": _record_json(document, signature),
        "officeKey": _key_json(ev.key, current.office, signature),
        "chain": _chain_json(chain_id, contract, ev.block),
        "event": {
            "name": current.event,
            "blockNumber": current.block_number,
            "blockHash": _hex(current.block_hash),
            "transactionHash": _hex(current.transaction_hash),
            "logIndex": current.log_index,
            "signingBlock": signing_block(current, chain.history),
            "fields": current.fields,
            "log": current.log,
        },
        "state": {k: v if k == "statusCode" else "0x" + v for k, v in current.state.to_json().items()},
        "stateDigest": _hex(current.state.digest()),
        "anchor": {**document.anchor} if document.anchor is not None else None,
        "storageProof": _proof_json(chain.proof),
        "blockHeader": _header_json(chain.proof),
        "officeKeyProof": _key_proof_json(ev.key),
        "seals": _seals_json(ev),
    }


def _undecided(ev: RightEvidence) -> str:
    """Why a designation with no decision has no receipt of its own, and where the designation's is."""
    assert ev.designation is not None
    office, registration = ev.designation.entry.office, ev.designation.international_registration
    said = f"{ev.requested} is designated to {office}, which has recorded no decision on it yet"
    designated = ev.designation.designated
    if registration is None or designated is None:
        return said
    return (
        f"{said}: the designation is proven by the receipt of {registration} at block "
        f"{designated.block_number} (version {designated.version})"
    )


def _anchored_json(ev: RightEvidence, chain_id: int, contract: str) -> dict[str, Any]:
    """The receipt of a right registered in an anchored batch (no per-right state yet): its record, the
    Merkle proof to the root, the RootAnchored event, and the EIP-1186 proof of the root's `_anchors` slot
    (office, count, block) at the stated block. `state` and `stateDigest` are null: nothing per right is on
    chain."""
    not_found = ReceiptUnavailable(404, f"{ev.requested} has no entry on chain at block {ev.block.number}")
    if isinstance(ev.anchored, Unreachable):
        raise ReceiptUnavailable(502, f"the office endpoint could not be asked: {ev.anchored.reason}")
    if not isinstance(ev.anchored, AnchoredRecord) or ev.right_id is None:
        raise not_found
    document, anchor = ev.anchored.document, ev.anchored.anchor
    if anchor.root is None:
        raise ReceiptUnavailable(502, "the office's anchor is not {root, proof[]} of 32-byte hex values")
    anchored, event, office = anchor.anchored, anchor.event, ev.right_id.split(":", 1)[0]
    if anchored is None or event is None or anchored.office != office:
        raise not_found
    signature = _signature(document)
    served_proof = document.anchor.get("proof", []) if document.anchor is not None else []
    return {
        "schema": RECEIPT_SCHEMA,
        "issuedAt": _now(),
        "rightId": ev.right_id,
        "chainRightId": _hex(ev.chain_right_id),
        "version": 1,
        "record": _record_json(document, signature),
        "officeKey": _key_json(anchor.key, office, signature),
        "chain": _chain_json(chain_id, contract, ev.block),
        "event": {
            "name": "RootAnchored",
            "blockNumber": event.block_number,
            "blockHash": _hex(event.block_hash),
            "transactionHash": _hex(event.transaction_hash),
            "logIndex": event.log_index,
            "signingBlock": event.block_number,
            "fields": event.fields,
            "log": event.log,
        },
        "state": None,
        "stateDigest": None,
        "anchor": {
            "root": _hex(anchor.root),
            "proof": [str(p) for p in served_proof],
            "blockNumber": anchored.block_number,
        },
        "storageProof": _proof_json(anchor.slot),
        "blockHeader": _header_json(anchor.slot),
        "officeKeyProof": _key_proof_json(anchor.key),
        "seals": _seals_json(ev),
    }


def _document(fetched: SignedDocument | Unreachable | None) -> SignedDocument | None:
    if isinstance(fetched, Unreachable):
        raise ReceiptUnavailable(502, f"the office endpoint could not be asked: {fetched.reason}")
    return fetched


def _signature(document: SignedDocument) -> DetachedSignature:
    if document.signature is None:
        raise ReceiptUnavailable(502, "the office served the document without its signature")
    return document.signature


def _record_json(document: SignedDocument, signature: DetachedSignature) -> dict[str, Any]:
    return {
        "canonical": base64.b64encode(document.canonical).decode("ascii"),
        "recordHash": _hex(hashlib.sha256(document.canonical).digest()),
        "signature": signature.to_json(),
    }


def _key_json(evidence: KeyEvidence | None, office: str, signature: DetachedSignature) -> dict[str, Any]:
    key = evidence.key if evidence is not None else None
    if key is None:
        return {
            "office": office,
            "keyId": _hex(signature.key_id),
            "algorithm": None,
            "publicKey": None,
            "addedAtBlock": None,
            "revokedAtBlock": None,
        }
    data = key.to_json()
    return {**data, "keyId": "0x" + data["keyId"], "publicKey": "0x" + data["publicKey"]}


def _chain_json(chain_id: int, contract: str, block: BlockRef) -> dict[str, Any]:
    return {
        "chainId": chain_id,
        "contractAddress": contract,
        "blockNumber": block.number,
        "blockHash": _hex(block.hash),
    }


def _proof_json(proof: StorageProof | None) -> dict[str, Any] | None:
    if proof is None:
        return None
    return {
        "slot": proof.slot,
        "value": proof.value,
        "accountProof": list(proof.account_proof),
        "storageProof": list(proof.storage_proof),
        "account": dict(proof.account),
    }


def _key_proof_json(key: KeyEvidence | None) -> dict[str, Any] | None:
    if key is None or key.proof is None:
        return None
    return {"slots": [{"slot": s, "value": v, "proof": list(p)} for s, v, p in key.proof.slots]}


def _header_json(proof: StorageProof | None) -> dict[str, Any] | None:
    return dict(proof.header) if proof is not None and proof.header is not None else None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _hex(value: bytes) -> str:
    return "0x" + value.hex()
