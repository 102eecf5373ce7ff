"""The trust anchor's format and Clique finality judged from sealed headers, on headers this test seals
with keys it holds (the real network's are in tests/security/test_receipt_tampering.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from typer.testing import CliRunner

from registry_node.cli.main import app as ipreg
from registry_node.protocol.consensus import clique
from registry_node.protocol.consensus.anchor import (
    AnchorFormatError,
    ConsortiumAnchor,
    ValidatorTerm,
)
from registry_node.protocol.consensus.finality import finality
from registry_node.protocol.consensus.headers import header_hash

KEYS = [bytes([i]) * 32 for i in range(1, 4)]
ADDRESSES = [Account.from_key(k).address.lower() for k in KEYS]
ANCHOR = ConsortiumAnchor(
    chain_id=1515,
    genesis_hash=b"\x11" * 32,
    contract="0x" + "22" * 20,
    engine="clique",
    as_of_block=100,
    validators=tuple(
        ValidatorTerm(a, code, 0, None) for a, code in zip(ADDRESSES, ("EP", "GB", "KR"), strict=True)
    ),
)


def header(number: int, parent: bytes) -> dict[str, str]:
    """A London header with an empty Clique extraData (vanity and a blank seal)."""
    zero = "0x" + "00" * 32
    return {
        "parentHash": "0x" + parent.hex(),
        "sha3Uncles": "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347",
        "miner": "0x" + "00" * 20,
        "stateRoot": zero,
        "transactionsRoot": zero,
        "receiptsRoot": zero,
        "logsBloom": "0x" + "00" * 256,
        "difficulty": "0x2",
        "number": hex(number),
        "gasLimit": "0x5f5e100",
        "gasUsed": "0x0",
        "timestamp": hex(1_700_000_000 + number),
        "extraData": "0x" + "00" * 97,
        "mixHash": zero,
        "nonce": "0x0000000000000000",
        "baseFeePerGas": "0x7",
    }


def sealed_chain(first: int, sealers: list[int]) -> list[dict[str, str]]:
    headers, parent = [], b"\x33" * 32
    for offset, who in enumerate(sealers):
        sealed = clique.seal(header(first + offset, parent), KEYS[who])
        headers.append(sealed)
        parent = header_hash(sealed)
    return headers


# ---------------------------------------------------------------- the anchor


def test_an_anchor_reads_back_what_it_wrote() -> None:
    assert ConsortiumAnchor.from_json(json.loads(json.dumps(ANCHOR.to_json()))) == ANCHOR


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"schema": "ipreg/consortium-anchor/9"}, "schema"),
        ({"engine": "pow"}, "engine"),
        ({"chainId": -1}, "chainId"),
        ({"genesisHash": "0x1234"}, "genesisHash"),
        ({"contractAddress": "EP"}, "contractAddress"),
        ({"validators": {}}, "validators"),
        (
            {"validators": [{"office": "EP", "address": "0x12", "fromBlock": 0, "untilBlock": None}]},
            "validators[0].address",
        ),
        (
            {"validators": [{"office": "EP", "address": ADDRESSES[0], "fromBlock": 5, "untilBlock": 5}]},
            "validators[0].untilBlock",
        ),
        (
            {"validators": [{"office": "ep", "address": ADDRESSES[0], "fromBlock": 0, "untilBlock": None}]},
            "validators[0].office",
        ),
    ],
)
def test_a_bad_anchor_is_refused_naming_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(AnchorFormatError) as refused:
        ConsortiumAnchor.from_json({**ANCHOR.to_json(), **change})
    assert str(refused.value).startswith(field + ":")


def test_a_validator_counts_only_in_its_blocks() -> None:
    anchor = replace(ANCHOR, validators=(*ANCHOR.validators[:2], ValidatorTerm(ADDRESSES[2], "KR", 10, 20)))
    assert len(anchor.validators_at(9)) == 2
    assert anchor.validators_at(10)[ADDRESSES[2]] == "KR" and anchor.validators_at(19)[ADDRESSES[2]] == "KR"
    assert ADDRESSES[2] not in anchor.validators_at(20)


def test_ipreg_verify_names_what_is_wrong_with_an_anchor_file(tmp_path: Path) -> None:
    receipt, anchor = tmp_path / "receipt.json", tmp_path / "anchor.json"
    receipt.write_text("{}")
    anchor.write_text(json.dumps({**ANCHOR.to_json(), "engine": "pow"}))
    answer = CliRunner().invoke(ipreg, ["verify", str(receipt), "--anchor", str(anchor)])
    assert answer.exit_code == 1
    assert "--anchor" in answer.output and "engine" in answer.output


# ---------------------------------------------------------------- Clique finality


def test_a_block_sealed_on_by_a_majority_of_distinct_validators_is_final() -> None:
    headers = sealed_chain(40, [0, 1])
    judged = finality("clique", header_hash(headers[0]), headers, ANCHOR)
    assert judged.final and (judged.distinct, judged.validators, judged.needed) == (2, 3, 2)
    assert [s.office for s in judged.seals] == ["EP", "GB"]


def test_one_validator_sealing_twice_is_not_a_majority() -> None:
    headers = sealed_chain(40, [0, 0])
    judged = finality("clique", header_hash(headers[0]), headers, ANCHOR)
    assert not judged.final
    assert {c.name for c in judged.checks if not c.ok} == {"distinct-sealers"}


def test_a_header_that_is_not_the_block_breaks_the_links() -> None:
    headers = sealed_chain(40, [0, 1])
    judged = finality("clique", b"\x44" * 32, headers, ANCHOR)
    assert {c.name for c in judged.checks if not c.ok} == {"header-links"}


def test_an_unsealed_header_names_no_sealer() -> None:
    headers = sealed_chain(40, [0, 1])
    headers[1] = {**headers[1], "extraData": "0x" + "00" * 97}
    judged = finality("clique", header_hash(headers[0]), headers, ANCHOR)
    assert "seals" in {c.name for c in judged.checks if not c.ok}


def test_a_development_chain_anchor_binds_nothing() -> None:
    headers = sealed_chain(40, [0, 1])
    judged = finality(
        "clique", header_hash(headers[0]), headers, replace(ANCHOR, engine="none", validators=())
    )
    assert not judged.final and "names no validators" in judged.checks[0].detail
