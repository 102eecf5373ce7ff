"""Receipts: a self-contained JSON bundle an auditor re-checks offline, or against a chain node it trusts.

Schema `ipreg/receipt/1` (README documents it):

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
    gatewaySignature {keyId, algorithm, signature}

Bytes are 0x-hex except the canonical record (base64).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from gateway.deep_links import OfficeDocuments, OfficeUnreachable
from gateway.verify.chain_reads import ChainReader
from gateway.verify.models import RECEIPT_SCHEMA
from gateway.verify.signer import GatewaySigner
from gateway.verify.state_proofs import anchor_slot, header_fields, right_slot
from gateway.verify.verifier import parse_right_id, signing_block
from registry_node.protocol.errors import RegistryError


class ReceiptUnavailable(RegistryError):
    """No receipt can be issued; `status` is the HTTP status that says why (404, 409, 502)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def build_receipt(
    reader: ChainReader,
    documents: OfficeDocuments,
    right_id: str,
    block_number: int,
    signer: GatewaySigner | None = None,
) -> dict[str, Any]:
    """The receipt of the right's current version at `block_number`, signed by the gateway if a signer is
    given. Raises ReceiptUnavailable when the right is unknown, confidential or its office cannot serve
    the signed record."""
    text, chain_rid = parse_right_id(right_id)
    entry = reader.right_of(chain_rid, block_number)
    if entry.version == 0:
        if text is not None:
            return _anchored_receipt(reader, documents, text, chain_rid, block_number, signer)
        raise ReceiptUnavailable(404, f"{right_id} has no entry on chain at block {block_number}")
    history = reader.history(chain_rid, block_number)
    if not history or history[-1].version != entry.version:
        raise ReceiptUnavailable(502, "the right's events do not rebuild its on-chain version")
    current = history[-1]
    if current.sealed:
        raise ReceiptUnavailable(409, f"{right_id} is confidential: only its seal is on chain")
    office = reader.office(current.office, block_number)
    endpoint = office.endpoint if office else ""
    try:
        if text is not None:
            document = documents.by_version(endpoint, text, current.version)
        else:
            document = documents.by_hash(endpoint, current.record_hash)
    except OfficeUnreachable as err:
        raise ReceiptUnavailable(502, f"the office endpoint could not be asked: {err.reason}") from None
    if document is None:
        raise ReceiptUnavailable(502, "the office serves no signed document for the current version")
    key = reader.signing_key(current.office, document.signature.key_id, block_number)
    block = reader.block(block_number)
    slot = right_slot(chain_rid)
    proof = reader.storage_proof(slot, block_number)
    header = header_fields(reader.raw_header(block_number)) if proof is not None else None
    anchor = None
    if document.anchor is not None:
        anchor = {**document.anchor}
    body: dict[str, Any] = {
        "schema": RECEIPT_SCHEMA,
        "issuedAt": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "rightId": text or document.right_id,
        "chainRightId": _hex(chain_rid),
        "version": current.version,
        "record": {
            "canonical": base64.b64encode(document.canonical).decode("ascii"),
            "recordHash": _hex(document.record_hash),
            "signature": document.signature.to_json(),
        },
        "officeKey": _key_json(key, current.office, document.signature.key_id),
        "chain": {
            "chainId": reader.chain_id,
            "contractAddress": reader.address,
            "blockNumber": block.number,
            "blockHash": _hex(block.hash),
        },
        "event": {
            "name": current.event,
            "blockNumber": current.block_number,
            "blockHash": _hex(current.block_hash),
            "transactionHash": _hex(current.transaction_hash),
            "logIndex": current.log_index,
            "signingBlock": signing_block(current, history),
            "fields": current.fields,
            "log": current.log,
        },
        "state": {k: v if k == "statusCode" else "0x" + v for k, v in current.state.to_json().items()},
        "stateDigest": _hex(current.state.digest()),
        "anchor": anchor,
        "storageProof": _storage_json(proof, slot) if proof is not None else None,
        "blockHeader": header,
    }
    return signer.sign(body) if signer is not None else body


def _anchored_receipt(
    reader: ChainReader,
    documents: OfficeDocuments,
    right_id: str,
    chain_rid: bytes,
    block_number: int,
    signer: GatewaySigner | None,
) -> dict[str, Any]:
    """The receipt of a right registered in an anchored batch (no per-right state yet): its record, the
    Merkle proof to the root, the RootAnchored event, and the EIP-1186 proof of the root's `_anchors` slot
    (office, count, block) at the stated block. `state` and `stateDigest` are null: nothing per right is on
    chain."""
    not_found = ReceiptUnavailable(404, f"{right_id} has no entry on chain at block {block_number}")
    office = reader.office(right_id.split(":", 1)[0], block_number)
    if office is None:
        raise not_found
    try:
        document = documents.by_version(office.endpoint, right_id, 1)
    except OfficeUnreachable as err:
        raise ReceiptUnavailable(502, f"the office endpoint could not be asked: {err.reason}") from None
    if document is None or document.anchor is None:
        raise not_found
    root = bytes.fromhex(str(document.anchor["root"]).removeprefix("0x"))
    proof = [str(p) for p in document.anchor.get("proof", [])]
    anchored = reader.anchor_of(root, block_number)
    event = reader.anchor_event(root, block_number)
    if anchored is None or event is None or anchored.office != office.code:
        raise not_found
    key = reader.signing_key(office.code, document.signature.key_id, block_number)
    block = reader.block(block_number)
    slot = anchor_slot(root)
    storage = reader.storage_proof(slot, block_number)
    header = header_fields(reader.raw_header(block_number)) if storage is not None else None
    body: dict[str, Any] = {
        "schema": RECEIPT_SCHEMA,
        "issuedAt": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "rightId": right_id,
        "chainRightId": _hex(chain_rid),
        "version": 1,
        "record": {
            "canonical": base64.b64encode(document.canonical).decode("ascii"),
            "recordHash": _hex(document.record_hash),
            "signature": document.signature.to_json(),
        },
        "officeKey": _key_json(key, office.code, document.signature.key_id),
        "chain": {
            "chainId": reader.chain_id,
            "contractAddress": reader.address,
            "blockNumber": block.number,
            "blockHash": _hex(block.hash),
        },
        "event": {
            "name": "RootAnchored",
            "blockNumber": event["blockNumber"],
            "blockHash": _hex(event["blockHash"]),
            "transactionHash": _hex(event["transactionHash"]),
            "logIndex": event["logIndex"],
            "signingBlock": event["blockNumber"],
            "fields": event["fields"],
            "log": event["log"],
        },
        "state": None,
        "stateDigest": None,
        "anchor": {"root": _hex(root), "proof": proof, "blockNumber": anchored.block_number},
        "storageProof": _storage_json(storage, slot) if storage is not None else None,
        "blockHeader": header,
    }
    return signer.sign(body) if signer is not None else body


def _key_json(key: Any, office: str, key_id: bytes) -> dict[str, Any]:
    if key is None:
        return {
            "office": office,
            "keyId": _hex(key_id),
            "algorithm": None,
            "publicKey": None,
            "addedAtBlock": None,
            "revokedAtBlock": None,
        }
    data = key.to_json()
    return {**data, "keyId": "0x" + data["keyId"], "publicKey": "0x" + data["publicKey"]}


def _storage_json(proof: dict[str, Any], slot: bytes) -> dict[str, Any]:
    storage = proof["storageProof"][0]
    return {
        "slot": _hex(slot),
        "value": str(storage["value"]),
        "accountProof": [str(node) for node in proof["accountProof"]],
        "storageProof": [str(node) for node in storage["proof"]],
        "account": {
            "nonce": str(proof["nonce"]),
            "balance": str(proof["balance"]),
            "storageHash": str(proof["storageHash"]),
            "codeHash": str(proof["codeHash"]),
        },
    }


def _hex(value: bytes) -> str:
    return "0x" + value.hex()
