"""Re-checking a receipt offline, or against a chain node the auditor trusts (`ipreg verify RECEIPT.json`).

Offline, a receipt proves itself down to one block header: the record's hash and signature (with the
included office key), the state digest against the storage slot value, the EIP-1186 proofs against the
header's state root, and the header against the block hash. With an RPC URL the block hash, the event's
log and the key's validity are asked of that node too. A forged receipt is a result with failed checks,
never an exception.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hexbytes import HexBytes
from web3 import Web3

from gateway.verify.chain_reads import office_code
from gateway.verify.facts import RightState
from gateway.verify.models import RECEIPT_SCHEMA, Check, CheckResult
from gateway.verify.signer import check_gateway_signature
from gateway.verify.state_proofs import (
    ProofError,
    anchor_slot,
    header_hash,
    hex_bytes,
    right_slot,
    unpack_anchor,
    unpack_right,
    verify_storage,
)
from registry_node.protocol.contract import load_artifact
from registry_node.protocol.keys import SigningAlgorithm
from registry_node.protocol.merkle import verify as merkle_verify
from registry_node.protocol.records import chain_right_id
from registry_node.protocol.signing import DetachedSignature, verify_signature


@dataclass
class ReceiptCheck:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.result is not CheckResult.FAIL for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [c.model_dump(mode="json") for c in self.checks]}

    def report(self) -> str:
        lines = [
            f"{'PASS' if c.result is CheckResult.PASS else c.result.value.upper():7} {c.name}: {c.detail}"
            for c in self.checks
        ]
        lines.append("receipt verified" if self.ok else "receipt REJECTED")
        return "\n".join(lines)


class _Failed(Exception):
    """A check that failed; its message is the detail."""


def check_receipt(receipt: Any, rpc_url: str | None = None, gateway_key: bytes | None = None) -> ReceiptCheck:
    """Every check of the receipt, offline, then against `rpc_url` if given; `gateway_key` (Ed25519 public
    key bytes) checks the gateway's signature."""
    result = ReceiptCheck()

    def run(name: str, check: Callable[[], str | None]) -> None:
        try:
            detail = check()
        except _Failed as err:
            result.checks.append(Check(name=name, result=CheckResult.FAIL, detail=str(err)))
        except Exception as err:  # a malformed receipt: any missing or ill-typed field fails its check
            detail = f"malformed receipt: {type(err).__name__}: {err}"
            result.checks.append(Check(name=name, result=CheckResult.FAIL, detail=detail))
        else:
            if detail is None:
                result.checks.append(
                    Check(name=name, result=CheckResult.SKIPPED, detail="not in the receipt")
                )
            else:
                result.checks.append(Check(name=name, result=CheckResult.PASS, detail=detail))

    if not isinstance(receipt, dict):
        result.checks.append(
            Check(name="schema", result=CheckResult.FAIL, detail="the receipt is not a JSON object")
        )
        return result
    r = receipt
    run("schema", lambda: _expect(r["schema"] == RECEIPT_SCHEMA, f"schema {r['schema']}"))
    if gateway_key is not None:
        run("gateway-signature", lambda: _gateway(r, gateway_key))
    run("record-hash", lambda: _record_hash(r))
    run("right-id", lambda: _right_id(r))
    run("signature", lambda: _signature(r))
    run("key-window", lambda: _key_window(r))
    run("event", lambda: _event(r))
    run("state-digest", lambda: _state_digest(r))
    run("storage-proof", lambda: _storage(r))
    run("block-header", lambda: _header(r))
    run("anchor", lambda: _anchor(r))
    if rpc_url is not None:
        w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 15}))
        run("rpc-block", lambda: _rpc_block(r, w3))
        run("rpc-log", lambda: _rpc_log(r, w3))
        run("rpc-key", lambda: _rpc_key(r, w3))
        run("rpc-state", lambda: _rpc_state(r, w3))
    return result


def main_check(
    path: str | Path, rpc_url: str | None = None, gateway_key: bytes | None = None
) -> tuple[bool, str]:
    """The CLI's entry: (ok, human-readable report) for the receipt file at `path`."""
    try:
        receipt = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as err:
        return False, f"cannot read the receipt {path}: {err}"
    result = check_receipt(receipt, rpc_url, gateway_key)
    return result.ok, result.report()


# ------------------------------------------------------------ offline checks


def _expect(condition: bool, detail: str) -> str:
    if not condition:
        raise _Failed(detail)
    return detail


def _b(value: Any, name: str) -> bytes:
    try:
        return hex_bytes(value, name)
    except ProofError as err:
        raise _Failed(str(err)) from None


def _canonical(r: dict[str, Any]) -> bytes:
    return base64.b64decode(str(r["record"]["canonical"]), validate=True)


def _state(r: dict[str, Any]) -> RightState:
    s = r["state"]
    return RightState(
        _b(s["recordHash"], "state.recordHash"),
        _b(s["ownerCommitment"], "state.ownerCommitment"),
        _b(s["status"], "state.status"),
    )


def _gateway(r: dict[str, Any], key: bytes) -> str:
    ok, why = check_gateway_signature(r, key)
    return _expect(ok, why)


def _record_hash(r: dict[str, Any]) -> str:
    digest = hashlib.sha256(_canonical(r)).digest()
    _expect(
        digest == _b(r["record"]["recordHash"], "record.recordHash"),
        "record.recordHash is not the SHA-256 of the canonical bytes",
    )
    if _anchored_only(r):  # on chain as a leaf of the anchored root: the anchor checks prove it
        return f"SHA-256 {digest.hex()} is record.recordHash"
    return _expect(digest == _state(r).record_hash, f"SHA-256 {digest.hex()} is the record hash on chain")


def _right_id(r: dict[str, Any]) -> str:
    record = json.loads(_canonical(r))
    right_id = record["right"]["rightId"]
    _expect(right_id == r["rightId"], f"the record is of {right_id}, the receipt says {r['rightId']}")
    return _expect(
        chain_right_id(right_id) == _b(r["chainRightId"], "chainRightId"),
        f"keccak256({right_id}) is the chain right id",
    )


def _signature(r: dict[str, Any]) -> str:
    signature = DetachedSignature.from_json(r["record"]["signature"])
    key = r["officeKey"]
    _expect(
        signature.office == key["office"] and signature.key_id == _b(key["keyId"], "officeKey.keyId"),
        "the signature names another key than the receipt's office key",
    )
    algorithm = SigningAlgorithm(key["algorithm"])
    ok = verify_signature(_canonical(r), signature, _b(key["publicKey"], "officeKey.publicKey"), algorithm)
    return _expect(ok, f"{algorithm.value} signature of {key['office']} over the canonical bytes")


def _key_window(r: dict[str, Any]) -> str:
    key, event = r["officeKey"], r["event"]
    signing, added, revoked = int(event["signingBlock"]), int(key["addedAtBlock"]), key["revokedAtBlock"]
    _expect(
        signing <= int(event["blockNumber"]) <= int(r["chain"]["blockNumber"]),
        "the event is not at or before the receipt's block",
    )
    _expect(added <= signing, f"the key was added at block {added}, after the record's block {signing}")
    _expect(
        revoked is None or signing < int(revoked),
        f"the key was revoked at block {revoked}, at or before the record's block {signing}",
    )
    return f"key valid for block {signing} (added {added}, revoked {revoked})"


def _event(r: dict[str, Any]) -> str:
    event = r["event"]
    log = event["log"]
    contract = Web3().eth.contract(abi=load_artifact().abi)
    decoded = getattr(contract.events, event["name"])().process_log(
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
    args = decoded["args"]
    _expect(
        Web3.to_checksum_address(log["address"]) == Web3.to_checksum_address(r["chain"]["contractAddress"]),
        "the event was not emitted by the receipt's contract",
    )
    if event["name"] == "RootAnchored":
        anchor = r["anchor"]
        _expect(r["state"] is None and r["version"] == 1, "an anchored record is version 1, without state")
        _expect(bytes(args["root"]) == _b(anchor["root"], "anchor.root"), "the event anchors another root")
        _expect(office_code(args["office"]) == r["officeKey"]["office"], "another office anchored this root")
        return f"RootAnchored of 0x{bytes(args['root']).hex()} by {office_code(args['office'])}"
    _expect(bytes(args["rightId"]) == _b(r["chainRightId"], "chainRightId"), "the event is of another right")
    state = _state(r)
    if event["name"] == "RightRegistered":
        record, owner, status = (bytes(v) for v in _values(args["state"]))
        _expect(r["version"] == 1, "a registration is version 1")
        _expect((record, owner, status) == state.as_tuple(), "the event's state is not the receipt's state")
    else:
        _expect(int(args["version"]) == int(r["version"]), "the event's version is not the receipt's")
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
    return f"{event['name']} (version {r['version']}) decodes to the receipt's state"


def _anchored_only(r: dict[str, Any]) -> bool:
    """A right registered in an anchored batch, with no per-right state: its event is RootAnchored."""
    return bool(r["event"]["name"] == "RootAnchored")


def _values(value: Any) -> list[Any]:
    return list(value.values()) if isinstance(value, dict) else list(value)


def _state_digest(r: dict[str, Any]) -> str | None:
    if _anchored_only(r):
        return None  # nothing per right is on chain: the anchor's checks stand for it
    digest = _state(r).digest()
    return _expect(digest == _b(r["stateDigest"], "stateDigest"), f"stateDigest 0x{digest.hex()}")


def _storage(r: dict[str, Any]) -> str | None:
    proof = r.get("storageProof")
    if proof is None:
        return None
    header = r["blockHeader"]
    anchored = _anchored_only(r)
    slot = (
        anchor_slot(_b(r["anchor"]["root"], "anchor.root"))
        if anchored
        else right_slot(_b(r["chainRightId"], "chainRightId"))
    )
    _expect(_b(proof["slot"], "storageProof.slot") == slot, "the proof is of another storage slot")
    try:
        word, storage_root = verify_storage(
            _b(header["stateRoot"], "blockHeader.stateRoot"),
            _b(r["chain"]["contractAddress"], "chain.contractAddress"),
            slot,
            [_b(n, "storageProof.accountProof") for n in proof["accountProof"]],
            [_b(n, "storageProof.storageProof") for n in proof["storageProof"]],
        )
    except ProofError as err:
        raise _Failed(f"the proof does not verify: {err}") from None
    _expect(
        storage_root == _b(proof["account"]["storageHash"], "storageProof.account.storageHash"),
        "the account's storage root is not the one stated",
    )
    _expect(
        int.from_bytes(word, "big") == int(str(proof["value"]), 16), "the slot value is not the proven one"
    )
    if anchored:
        stored = unpack_anchor(word)
        _expect(stored.office == r["officeKey"]["office"], f"the proven anchor belongs to {stored.office}")
        _expect(
            stored.block_number == int(r["event"]["blockNumber"]),
            f"the proven anchor is of block {stored.block_number}",
        )
        return (
            f"slot 0x{slot.hex()} holds the anchor of {stored.office} from block {stored.block_number}, "
            "proven from the header's state root"
        )
    packed = unpack_right(word)
    _expect(packed.state_digest == _state(r).digest(), "the proven slot holds another state digest")
    _expect(packed.version == int(r["version"]), f"the proven slot is at version {packed.version}")
    _expect(packed.office == r["officeKey"]["office"], f"the proven slot belongs to office {packed.office}")
    return (
        f"slot 0x{slot.hex()} holds version {packed.version} of {packed.office} with the state digest, "
        "proven from the header's state root"
    )


def _header(r: dict[str, Any]) -> str | None:
    header = r.get("blockHeader")
    if header is None:
        return None
    try:
        computed = header_hash(header)
    except ProofError as err:
        raise _Failed(str(err)) from None
    _expect(
        int(str(header["number"]), 16) == int(r["chain"]["blockNumber"]), "the header is of another block"
    )
    return _expect(
        computed == _b(r["chain"]["blockHash"], "chain.blockHash"),
        f"keccak256(rlp(header)) is the block hash 0x{computed.hex()}",
    )


def _anchor(r: dict[str, Any]) -> str | None:
    anchor = r.get("anchor")
    if anchor is None:
        return None
    root = _b(anchor["root"], "anchor.root")
    proof = [_b(p, "anchor.proof") for p in anchor["proof"]]
    ok = merkle_verify(root, hashlib.sha256(_canonical(r)).digest(), proof)
    return _expect(ok, f"the record is in the Merkle tree 0x{root.hex()}")


# ------------------------------------------------------------ against a chain node


def _rpc_block(r: dict[str, Any], w3: Web3) -> str:
    chain = r["chain"]
    _expect(int(w3.eth.chain_id) == int(chain["chainId"]), f"the node's chain id is {w3.eth.chain_id}")
    block = w3.eth.get_block(int(chain["blockNumber"]))
    return _expect(
        bytes(block["hash"]) == _b(chain["blockHash"], "chain.blockHash"),
        f"block {chain['blockNumber']} has this hash on the node",
    )


def _rpc_log(r: dict[str, Any], w3: Web3) -> str:
    event = r["event"]
    tx = w3.eth.get_transaction_receipt(HexBytes(_b(event["transactionHash"], "event.transactionHash")))
    _expect(
        bytes(tx["blockHash"]) == _b(event["blockHash"], "event.blockHash"),
        "the transaction is in another block on the node",
    )
    log = next((lg for lg in tx["logs"] if int(lg["logIndex"]) == int(event["logIndex"])), None)
    _expect(log is not None, "the transaction has no log at that index")
    assert log is not None
    mine = event["log"]
    same = (
        str(log["address"]).lower() == str(mine["address"]).lower()
        and [bytes(t) for t in log["topics"]] == [_b(t, "topics") for t in mine["topics"]]
        and bytes(log["data"]) == _b(mine["data"], "data")
    )
    return _expect(same, f"log {event['logIndex']} of the transaction is the receipt's event")


def _rpc_key(r: dict[str, Any], w3: Web3) -> str:
    contract = w3.eth.contract(
        address=Web3.to_checksum_address(r["chain"]["contractAddress"]), abi=load_artifact().abi
    )
    key = r["officeKey"]
    office, key_id = key["office"].encode("ascii"), _b(key["keyId"], "officeKey.keyId")
    block = int(r["chain"]["blockNumber"])
    published = contract.functions.signingKey(office, key_id).call(block_identifier=block)
    _expect(
        bytes(_values(published)[4]) == _b(key["publicKey"], "officeKey.publicKey"),
        "the node holds another public key under this key id",
    )
    signing = int(r["event"]["signingBlock"])
    valid = contract.functions.isKeyValidAt(office, key_id, signing).call(block_identifier=block)
    return _expect(bool(valid), f"isKeyValidAt({key['office']}, key, {signing}) at block {block}")


def _rpc_state(r: dict[str, Any], w3: Web3) -> str:
    contract = w3.eth.contract(
        address=Web3.to_checksum_address(r["chain"]["contractAddress"]), abi=load_artifact().abi
    )
    block = int(r["chain"]["blockNumber"])
    if _anchored_only(r):
        root = _b(r["anchor"]["root"], "anchor.root")
        proof = [_b(p, "anchor.proof") for p in r["anchor"]["proof"]]
        digest = hashlib.sha256(_canonical(r)).digest()
        found = contract.functions.verifyRecord(root, digest, proof).call(block_identifier=block)
        return _expect(bool(found), f"verifyRecord(root, recordHash, proof) at block {block} on the node")
    matches = contract.functions.matchesState(
        _b(r["chainRightId"], "chainRightId"), _state(r).as_tuple()
    ).call(block_identifier=block)
    return _expect(bool(matches), f"matchesState at block {block} on the node")
