"""Receipts: issued from the real chain and node, judged offline and against the RPC by the judge of the
online verdicts (the same checks by name, the same verdict); every forgery rejected (never with an
exception)."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import World  # type: ignore[import-not-found]  # this folder's conftest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gateway.verify.receipt_evidence import ReceiptCheck, check_receipt
from gateway.verify.receipts import build_receipt
from gateway.verify.signer import GatewaySigner
from gateway.verify.state_proofs import header_hash, right_slot, unpack_right
from registry_node.cli.main import app as ipreg
from registry_node.protocol.contract import RightState
from registry_node.protocol.records import chain_right_id


@pytest.fixture(scope="module")
def receipt(world: World) -> dict[str, Any]:
    block = world.w3.eth.block_number
    return build_receipt(world.verifier.gatherer, world.facts["three_versions"], block, world.signer)


def failed(result: ReceiptCheck) -> set[str]:
    return {c.name for c in result.checks if c.result == "fail"}


def detail(result: ReceiptCheck, name: str) -> str:
    return next(c.detail for c in result.checks if c.name == name)


def test_the_rights_slot_is_where_the_contract_keeps_the_right(world: World) -> None:
    rid = chain_right_id(world.facts["three_versions"])
    word = bytes(world.w3.eth.get_storage_at(world.contract.address, right_slot(rid)))
    packed = unpack_right(word)
    entry = world.reader.right_of(rid, world.w3.eth.block_number)
    assert (packed.version, packed.office, packed.state_digest) == (3, "EP", entry.state_digest)


def test_a_valid_receipt_is_consistent_offline_against_the_state_root_alone(
    world: World, receipt: dict[str, Any]
) -> None:
    result = check_receipt(receipt, gateway_key=world.signer.key.public_key)
    assert result.consistent, result.report()
    assert result.outcome == "unbound" and not result.ok  # a development chain: no validators bind it
    assert result.verdict is not None and result.verdict.verdict == "authentic-current"
    checks = {c.name: c.result for c in result.checks}
    assert checks["chain-state"] == checks["signature"] == checks["gateway-signature"] == "pass"
    assert "proven from the state root of block" in detail(result, "chain-state")
    assert checks["office-standing"] == "skipped"  # a receipt does not carry it
    assert header_hash(receipt["blockHeader"]).hex() == receipt["chain"]["blockHash"][2:]


def test_a_valid_receipt_verifies_against_the_rpc(
    world: World, receipt: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt), "utf-8")
    answer = CliRunner().invoke(ipreg, ["verify", str(path), "--rpc", world.rpc_url])
    assert answer.exit_code == 0, answer.output
    for name in ("rpc-block", "rpc-log", "rpc-key", "rpc-state", "chain-state", "office-standing"):
        assert f"PASS    {name}" in answer.output
    assert answer.output.rstrip().endswith(
        "receipt verified: authentic-current, bound to the consortium by the node"
    )


def test_without_anchor_or_node_ipreg_verify_says_the_receipt_is_bound_to_nothing(
    receipt: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt), "utf-8")
    answer = CliRunner().invoke(ipreg, ["verify", str(path)])
    assert answer.exit_code == 3, answer.output
    assert "receipt verified" not in answer.output
    assert "bound to no consortium" in answer.output and "--anchor" in answer.output


def test_an_online_verification_and_a_receipt_check_give_the_same_checks_and_verdict(
    world: World, receipt: dict[str, Any]
) -> None:
    online = world.verifier.verify_right(
        world.facts["three_versions"], at_block=receipt["chain"]["blockNumber"]
    )
    offline = check_receipt(receipt)
    on_node = check_receipt(receipt, world.rpc_url)
    assert offline.verdict is not None and on_node.verdict is not None
    names = [c.name for c in online.checks]
    assert names == [c.name for c in offline.checks] == [c.name for c in on_node.verdict.checks]
    assert online.verdict == offline.verdict.verdict == on_node.verdict.verdict == "authentic-current"
    assert [c.result for c in on_node.verdict.checks] == [c.result for c in online.checks]


def test_a_receipt_of_a_swapped_signature_gets_the_online_verdict(world: World) -> None:
    """The gateway issues a receipt of whatever the office serves; judged, it says what the online
    verification says."""
    with world.hostile("swap-signature"):
        online = world.verifier.verify_right(world.facts["gb"])
        receipt = build_receipt(world.verifier.gatherer, world.facts["gb"], online.block.number)
    result = check_receipt(receipt)
    assert result.verdict is not None and not result.consistent
    assert result.verdict.verdict == online.verdict == "bad-signature"
    assert [(c.name, c.result) for c in result.checks if c.name != "office-standing"] == [
        (c.name, c.result) for c in online.checks if c.name != "office-standing"
    ]


def _set(path: str, value: Any) -> Any:
    def forge(r: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = r
        for part in parents:
            target = target[part]
        target[last] = value(target[last]) if callable(value) else value

    return forge


def _altered_record(r: dict[str, Any]) -> None:
    """One byte of the record changed, and its recordHash made to match: only the chain can tell."""
    canonical = base64.b64decode(r["record"]["canonical"]).replace(b"Nordic", b"Nordik")
    r["record"]["canonical"] = base64.b64encode(canonical).decode()
    r["record"]["recordHash"] = "0x" + hashlib.sha256(canonical).hexdigest()


def _other_state(r: dict[str, Any]) -> None:
    """Another owner commitment, with the state digest made to match: only the storage proof can tell."""
    r["state"]["ownerCommitment"] = "0x" + "22" * 32
    state = RightState(
        *(bytes.fromhex(r["state"][k][2:]) for k in ("recordHash", "ownerCommitment", "status"))
    )
    r["stateDigest"] = "0x" + state.digest().hex()


FORGERIES = {
    "block hash": (_set("chain.blockHash", "0x" + "11" * 32), "chain-state", "unknown"),
    "storage proof": (
        lambda r: r["storageProof"]["storageProof"].__setitem__(
            -1, r["storageProof"]["storageProof"][-1][:-2] + "00"
        ),
        "chain-state",
        "unknown",
    ),
    "state": (_other_state, "chain-state", "unknown"),
    "state digest": (_set("stateDigest", "0x" + "44" * 24), "receipt-format", None),
    "record": (_altered_record, "record-hash signature", "tampered"),
    "record hash": (_set("record.recordHash", "0x" + "55" * 32), "receipt-format", None),
    "record signature": (
        _set("record.signature.signature", lambda old: "00" + old[2:]),
        "signature",
        "bad-signature",
    ),
    "state root": (_set("blockHeader.stateRoot", "0x" + "33" * 32), "chain-state", "unknown"),
}


@pytest.mark.parametrize("what", sorted(FORGERIES))
def test_a_forged_receipt_is_rejected(world: World, receipt: dict[str, Any], what: str) -> None:
    forge, checks, verdict = FORGERIES[what]
    forged = copy.deepcopy(receipt)
    forge(forged)
    result = check_receipt(forged, gateway_key=world.signer.key.public_key)
    assert not result.consistent and result.outcome == "rejected"
    assert failed(result) == {*checks.split(), "gateway-signature"}, result.report()
    assert (result.verdict.verdict if result.verdict is not None else None) == verdict


def test_a_receipt_re_signed_by_another_key_fails_the_gateway_signature(
    world: World, receipt: dict[str, Any]
) -> None:
    other = GatewaySigner.ephemeral().sign(receipt)
    assert check_receipt(other, gateway_key=world.signer.key.public_key).consistent is False
    assert check_receipt(other).consistent  # without the gateway key the rest still holds


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _paths(v, (*prefix, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _paths(v, (*prefix, i))]
    return [prefix]


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_random_mutation_of_a_valid_receipt_never_verifies(
    world: World, receipt: dict[str, Any], data: Any
) -> None:
    paths = [p for p in _paths(receipt) if p[0] != "issuedAt"]
    path = data.draw(st.sampled_from(paths))
    forged = copy.deepcopy(receipt)
    target = forged
    for part in path[:-1]:
        target = target[part]
    old = target[path[-1]]
    if isinstance(old, str) and old:
        position = data.draw(st.integers(0, len(old) - 1))
        replacement = data.draw(st.sampled_from("0123456789abcdefAZ=x"))
        new: Any = old[:position] + replacement + old[position + 1 :]
    elif isinstance(old, bool):
        new = not old
    elif isinstance(old, int):
        new = old + data.draw(st.integers(1, 5))
    else:
        new = "0x" + "ab" * 32
    if new == old:
        return
    target[path[-1]] = new
    assert not check_receipt(forged, gateway_key=world.signer.key.public_key).consistent, path
