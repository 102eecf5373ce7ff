"""Receipts: issued from the real chain and node, accepted offline and against the RPC; every forgery
rejected by the checker (never with an exception)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import World  # type: ignore[import-not-found]  # this folder's conftest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.verify.receipt_check import check_receipt, main_check
from gateway.verify.receipts import build_receipt
from gateway.verify.state_proofs import header_hash, right_slot, unpack_right
from registry_node.protocol.records import chain_right_id


@pytest.fixture(scope="module")
def receipt(world: World) -> dict[str, Any]:
    block = world.w3.eth.block_number
    return build_receipt(world.verifier.gatherer, world.facts["three_versions"], block, world.signer)


def failed(result: Any) -> set[str]:
    return {c.name for c in result.checks if c.result == "fail"}


def test_the_rights_slot_is_where_the_contract_keeps_the_right(world: World) -> None:
    rid = chain_right_id(world.facts["three_versions"])
    word = bytes(world.w3.eth.get_storage_at(world.contract.address, right_slot(rid)))
    packed = unpack_right(word)
    entry = world.reader.right_of(rid, world.w3.eth.block_number)
    assert (packed.version, packed.office, packed.state_digest) == (3, "EP", entry.state_digest)


def test_a_valid_receipt_verifies_offline_against_the_state_root_alone(
    world: World, receipt: dict[str, Any]
) -> None:
    result = check_receipt(receipt, gateway_key=world.signer.key.public_key)
    assert result.ok, result.report()
    checks = {c.name: c.result for c in result.checks}
    assert checks["storage-proof"] == checks["block-header"] == checks["gateway-signature"] == "pass"
    assert header_hash(receipt["blockHeader"]).hex() == receipt["chain"]["blockHash"][2:]


def test_a_valid_receipt_verifies_against_the_rpc(
    world: World, receipt: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt), "utf-8")
    ok, report = main_check(path, world.rpc_url)
    assert ok, report
    for name in ("rpc-block", "rpc-log", "rpc-key", "rpc-state"):
        assert f"PASS    {name}" in report


FORGERIES = {
    "block hash": (lambda r: r["chain"].__setitem__("blockHash", "0x" + "11" * 32), "block-header"),
    "storage proof": (
        lambda r: r["storageProof"]["storageProof"].__setitem__(
            -1, r["storageProof"]["storageProof"][-1][:-2] + "00"
        ),
        "storage-proof",
    ),
    "state": (lambda r: r["state"].__setitem__("ownerCommitment", "0x" + "22" * 32), "state-digest"),
    "record": (
        lambda r: r["record"].__setitem__("canonical", r["record"]["canonical"][:-4] + "AAAA"),
        "record-hash",
    ),
    "record signature": (
        lambda r: r["record"]["signature"].__setitem__(
            "signature", "00" + r["record"]["signature"]["signature"][2:]
        ),
        "signature",
    ),
    "state root": (lambda r: r["blockHeader"].__setitem__("stateRoot", "0x" + "33" * 32), "storage-proof"),
}


@pytest.mark.parametrize("what", sorted(FORGERIES))
def test_a_forged_receipt_is_rejected(world: World, receipt: dict[str, Any], what: str) -> None:
    forge, check = FORGERIES[what]
    forged = copy.deepcopy(receipt)
    forge(forged)
    result = check_receipt(forged, gateway_key=world.signer.key.public_key)
    assert not result.ok
    assert check in failed(result)
    assert "gateway-signature" in failed(result)


def test_a_receipt_re_signed_by_another_key_fails_the_gateway_signature(
    world: World, receipt: dict[str, Any]
) -> None:
    from gateway.verify.signer import GatewaySigner

    other = GatewaySigner.ephemeral().sign(receipt)
    assert check_receipt(other, gateway_key=world.signer.key.public_key).ok is False
    assert check_receipt(other).ok  # without the gateway key the rest still verifies


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
    assert not check_receipt(forged, gateway_key=world.signer.key.public_key).ok, path
