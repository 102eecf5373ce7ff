"""A receipt checked against the consortium's trust anchor, and every way of forging one rejected with the
check that catches it named.

Each case starts from a real receipt of a real network: three go-ethereum Clique validators (EP, GB, KR)
sealing, office nodes writing, in network namespaces so that one validator can really be cut off (a
reorganised-out block). A second consortium with the same office codes, on a chain of its own, gives the
receipt an impostor could download from a registry it runs itself. QBFT receipts are the Clique receipt's
block re-sealed the way Besu seals, by keys the test holds (Besu cannot run here).
"""

from __future__ import annotations

import base64
import copy
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gateway.deep_links import OfficeDocuments
from gateway.endpoint_policy import EndpointPolicy
from gateway.verify.chain_reads import ChainReader
from gateway.verify.evidence import Gatherer
from gateway.verify.facts import SignedDocument
from gateway.verify.judge import judge
from gateway.verify.receipt_evidence import ReceiptCheck, check_receipt
from gateway.verify.receipts import ReceiptUnavailable, build_receipt, receipt_json
from registry_node.cli.main import app as ipreg
from registry_node.devnet.consortium import Founder, LocalConsortium
from registry_node.devnet.ganache import free_port
from registry_node.devnet.network import GethNetwork
from registry_node.devnet.processes import IPREG
from registry_node.protocol.chain import ConfirmationDepth, web3_for
from registry_node.protocol.consensus import clique, qbft
from registry_node.protocol.consensus.anchor import ConsortiumAnchor, ValidatorTerm
from registry_node.protocol.contract import load_artifact
from registry_node.protocol.keys import load_signing_key
from registry_node.protocol.signing import sign_document
from tests.support.keys import FAST_SCRYPT_N
from tests.support.network import eventually, same_head_everywhere
from tests.support.records import assignment_json, patent_right

OFFICES = ("EP", "GB", "KR")
ROOT = str(Path(__file__).resolve().parents[2])
RIGHT = "EP:PAT:EP4000001"
OTHER_RIGHT = "GB:PAT:GB4000002"


@dataclass
class Registry:
    """A running consortium and what the test reads from it."""

    consortium: LocalConsortium
    network: GethNetwork
    anchored: list[str] = field(default_factory=list)  # rights EP registered in an anchored batch

    def gatherer(self, code: str = "EP") -> Gatherer:
        w3 = web3_for(self.network.rpc_urls[code])
        assert self.consortium.deployment is not None
        address = self.consortium.deployment.address
        contract = w3.eth.contract(address=w3.to_checksum_address(address), abi=load_artifact().abi)
        documents = OfficeDocuments(policy=EndpointPolicy(allow_private=True))  # the offices are on loopback
        return Gatherer(ChainReader(w3, contract), documents, ConfirmationDepth("majority"))

    def receipt(self, right_id: str = RIGHT) -> dict[str, Any]:
        return build_receipt(self.gatherer(), right_id)

    def anchor(self) -> ConsortiumAnchor:
        anchor = self.gatherer().anchor()
        assert anchor is not None
        return anchor

    def write(self, code: str, send: Callable[[Any], Any]) -> None:
        with self.consortium.offices[code].client() as client:
            send(client)
            client.wait_for_outbox(120)


def _start(folder: Path, offices: tuple[str, ...], isolate: bool) -> LocalConsortium:
    password = secrets.token_urlsafe(16)
    network = GethNetwork(folder / "network", offices, password=password, period_s=1, isolate=isolate)
    consortium = LocalConsortium(folder, network, password=password, key_scrypt_n=FAST_SCRYPT_N)
    consortium.create([Founder(code, f"Office {code}", free_port()) for code in offices])
    consortium.start()
    return consortium


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    consortium = _start(tmp_path_factory.mktemp("tamper"), OFFICES, isolate=True)
    try:
        assert isinstance(consortium.chain, GethNetwork)
        running = Registry(consortium, consortium.chain)
        running.write("EP", lambda c: c.register(patent_right(RIGHT)))
        running.write("EP", lambda c: c.record_ownership_change(RIGHT, 1, assignment_json(RIGHT)))
        running.write("GB", lambda c: c.register(patent_right(OTHER_RIGHT)))
        sample = (Path(ROOT) / "tests" / "assets" / "st96" / "patent_application_publication.xml").read_text()
        files = [(f"ep{n}.xml", sample.replace("19175123.4", f"2477700{n}.4").encode()) for n in range(3)]
        with consortium.offices["EP"].client() as client:
            accepted = client.import_st96(files, mode="anchor")
            client.wait_for_outbox(120)
        running.anchored = [str(item["rightId"]) for item in accepted["items"]]
        yield running
    finally:
        consortium.stop()


@pytest.fixture(scope="module")
def impostor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A consortium anyone can start: the same office code, its own single validator, the same right id
    owned by whomever it likes."""
    consortium = _start(tmp_path_factory.mktemp("impostor"), ("EP",), isolate=False)
    try:
        assert isinstance(consortium.chain, GethNetwork)
        running = Registry(consortium, consortium.chain)
        running.write("EP", lambda c: c.register(patent_right(RIGHT, title="Cryogenic valve (ours now)")))
        yield running
    finally:
        consortium.stop()


@pytest.fixture(scope="module")
def receipt(registry: Registry) -> dict[str, Any]:
    return registry.receipt()


@pytest.fixture(scope="module")
def anchor(registry: Registry) -> ConsortiumAnchor:
    return registry.anchor()


def failed(result: ReceiptCheck) -> set[str]:
    return {c.name for c in result.checks if c.result == "fail"}


def detail(result: ReceiptCheck, name: str) -> str:
    return " / ".join(c.detail for c in result.checks if c.name == name)


def rejected(result: ReceiptCheck, check: str) -> None:
    assert not result.ok and result.outcome == "rejected", result.report()
    assert check in failed(result), result.report()


# ---------------------------------------------------------------- the real receipt


def test_a_real_receipt_verifies_against_the_anchor_the_offices_write(
    registry: Registry, receipt: dict[str, Any], tmp_path: Path
) -> None:
    anchor_path, receipt_path = tmp_path / "anchor.json", tmp_path / "receipt.json"
    deployment = registry.consortium.deployment_path
    wrote = subprocess.run(
        [str(IPREG), "network", "anchor", "--rpc", registry.network.rpc_urls["GB"],
         "--deployment", str(deployment), "--out", str(anchor_path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert wrote.returncode == 0, wrote.stderr
    written = json.loads(anchor_path.read_text())
    assert written["schema"] == "ipreg/consortium-anchor/1" and written["engine"] == "clique"
    assert {v["office"] for v in written["validators"]} == set(OFFICES)
    receipt_path.write_text(json.dumps(receipt))
    answer = CliRunner().invoke(ipreg, ["verify", str(receipt_path), "--anchor", str(anchor_path)])
    assert answer.exit_code == 0, answer.output
    for name in (
        "anchor-chain",
        "header-links",
        "seals",
        "distinct-sealers",
        "office-key-proof",
        "signing-key",
    ):
        assert f"PASS    {name}" in answer.output
    assert "proven from the state root" in answer.output
    assert answer.output.rstrip().endswith("bound to the consortium by the anchor's validators")
    assert len({h["miner"] for h in receipt["seals"]["headers"]}) >= 1
    unbound = CliRunner().invoke(ipreg, ["verify", str(receipt_path)])
    assert unbound.exit_code == 3 and "bound to no consortium" in unbound.output


def test_the_receipt_carries_seals_up_to_a_majority_of_distinct_validators(
    receipt: dict[str, Any], anchor: ConsortiumAnchor
) -> None:
    headers = [receipt["blockHeader"], *receipt["seals"]["headers"]]
    sealers = [clique.sealer(h) for h in headers]
    assert len(set(sealers)) == len(OFFICES) // 2 + 1 == len(headers)
    assert all(
        anchor.validators_at(int(h["number"], 16)).get(s) for h, s in zip(headers, sealers, strict=True)
    )


def test_the_gateway_verdict_names_who_sealed_its_block(registry: Registry) -> None:
    gatherer = registry.gatherer()
    verdict = judge(gatherer.right(RIGHT))
    assert verdict.finality is not None and verdict.finality.final
    assert verdict.finality.validators == 3 and verdict.finality.distinct_sealers >= 2
    assert {s.office for s in verdict.finality.sealers} <= set(OFFICES)
    head = gatherer.reader.head()
    gatherer.known_head = lambda: head  # what the gateway's indexer has seen: nothing on top of it yet
    at_head = judge(gatherer.right(RIGHT, head))
    assert at_head.finality is not None and not at_head.finality.final  # nobody has built on the head yet


def test_a_record_anchored_in_a_batch_gets_a_receipt_that_verifies_against_the_anchor(
    registry: Registry, anchor: ConsortiumAnchor
) -> None:
    right_id = registry.anchored[0]
    receipt = eventually(lambda: _receipt_or_none(registry, right_id), f"a receipt of {right_id}")
    assert receipt["state"] is None and receipt["anchor"]["proof"] and receipt["officeKeyProof"] is not None
    result = check_receipt(receipt, anchor=anchor)
    assert result.ok, result.report()
    passed = {c.name for c in result.checks if c.result == "pass"}
    assert {"anchor", "merkle-proof", "seals", "distinct-sealers", "signing-key"} <= passed
    forged = copy.deepcopy(receipt)
    forged["anchor"]["proof"][0] = "0x" + "00" * 32
    rejected(check_receipt(forged, anchor=anchor), "merkle-proof")


def _receipt_or_none(registry: Registry, right_id: str) -> dict[str, Any] | None:
    """The receipt, once the batch's block is final and its office serves the record."""
    try:
        return registry.receipt(right_id)
    except ReceiptUnavailable:
        return None


# ---------------------------------------------------------------- the tamper matrix (Clique)


def test_a_seal_by_a_key_outside_the_anchor_is_rejected(
    receipt: dict[str, Any], anchor: ConsortiumAnchor
) -> None:
    forged = copy.deepcopy(receipt)
    outsider = Account.create()
    forged["seals"]["headers"][-1] = clique.seal(forged["seals"]["headers"][-1], bytes(outsider.key))
    result = check_receipt(forged, anchor=anchor)
    rejected(result, "seals")
    assert "no validator of the anchor" in detail(result, "seals")
    assert outsider.address.lower() in detail(result, "seals")


def test_a_seal_by_a_validator_outside_its_block_range_is_rejected(
    receipt: dict[str, Any], anchor: ConsortiumAnchor
) -> None:
    last = receipt["seals"]["headers"][-1]
    sealer, number = clique.sealer(last), int(last["number"], 16)
    narrowed = replace(
        anchor,
        validators=tuple(
            replace(t, until_block=number) if t.address == sealer else t for t in anchor.validators
        ),
    )
    result = check_receipt(receipt, anchor=narrowed)
    rejected(result, "seals")
    assert f"a validator for blocks 0 to {number - 1} only" in detail(result, "seals")


def test_too_few_distinct_sealers_are_rejected(receipt: dict[str, Any], anchor: ConsortiumAnchor) -> None:
    forged = copy.deepcopy(receipt)
    forged["seals"]["headers"] = []
    result = check_receipt(forged, anchor=anchor)
    rejected(result, "distinct-sealers")
    assert "1 distinct of the anchor's 3 validators" in detail(result, "distinct-sealers")


def test_a_header_with_a_changed_state_root_is_rejected(
    receipt: dict[str, Any], anchor: ConsortiumAnchor
) -> None:
    forged = copy.deepcopy(receipt)
    forged["blockHeader"]["stateRoot"] = "0x" + "33" * 32
    result = check_receipt(forged, anchor=anchor)
    rejected(result, "header-links")
    assert "chain-state" in failed(result)


def test_a_broken_parent_hash_link_is_rejected(receipt: dict[str, Any], anchor: ConsortiumAnchor) -> None:
    forged = copy.deepcopy(receipt)
    forged["seals"]["headers"][0]["parentHash"] = "0x" + "44" * 32
    result = check_receipt(forged, anchor=anchor)
    rejected(result, "header-links")
    assert "parentHash is not the hash of block" in detail(result, "header-links")


def test_a_receipt_from_another_consortium_with_the_same_office_codes_is_rejected(
    impostor: Registry, anchor: ConsortiumAnchor
) -> None:
    foreign = impostor.receipt()
    assert foreign["rightId"] == RIGHT
    own = check_receipt(foreign, anchor=impostor.anchor())
    assert own.ok, own.report()  # it is a perfectly good receipt of the impostor's own chain...
    result = check_receipt(foreign, anchor=anchor)  # ...and nothing against the consortium's anchor
    rejected(result, "seals")
    assert "no validator of the anchor" in detail(result, "seals")


def test_a_wrong_chain_id_is_rejected(receipt: dict[str, Any], anchor: ConsortiumAnchor) -> None:
    forged = copy.deepcopy(receipt)
    forged["chain"]["chainId"] = anchor.chain_id + 1
    result = check_receipt(forged, anchor=anchor)
    rejected(result, "anchor-chain")


def test_a_wrong_contract_address_is_rejected(receipt: dict[str, Any], anchor: ConsortiumAnchor) -> None:
    forged = copy.deepcopy(receipt)
    other = Account.create().address
    forged["chain"]["contractAddress"] = other
    forged["event"]["log"]["address"] = other
    result = check_receipt(forged, anchor=anchor)
    rejected(result, "anchor-chain")
    assert "chain-state" in failed(result)  # nor does the proof hold for another account


def test_a_storage_proof_for_another_slot_is_rejected(
    registry: Registry, receipt: dict[str, Any], anchor: ConsortiumAnchor
) -> None:
    other = registry.gatherer().right(OTHER_RIGHT, receipt["chain"]["blockNumber"], proofs=True)
    assert other.chain is not None and other.chain.proof is not None
    forged = copy.deepcopy(receipt)
    proof = other.chain.proof
    forged["storageProof"].update(slot=proof.slot, value=proof.value, storageProof=list(proof.storage_proof))
    result = check_receipt(forged, anchor=anchor)
    rejected(result, "chain-state")
    assert "another storage slot" in detail(result, "chain-state")


def test_an_office_key_forged_in_the_receipt_is_rejected_by_its_proof(
    receipt: dict[str, Any], anchor: ConsortiumAnchor
) -> None:
    forged = copy.deepcopy(receipt)
    forged["officeKey"]["addedAtBlock"] = 1
    result = check_receipt(forged, anchor=anchor)
    rejected(result, "signing-key")
    assert "not EP's entry proven at block" in detail(result, "signing-key")


def test_a_receipt_without_the_key_proof_is_not_bound(
    receipt: dict[str, Any], anchor: ConsortiumAnchor
) -> None:
    forged = copy.deepcopy(receipt)
    forged["officeKeyProof"] = None
    result = check_receipt(forged, anchor=anchor)
    rejected(result, "office-key-proof")


def test_a_receipt_of_a_record_signed_with_a_key_revoked_before_it_is_rejected(
    registry: Registry, anchor: ConsortiumAnchor
) -> None:
    """EP's key leaks and is rotated away; the next version is written (signed with the new key). A receipt
    of that version with the leaked key's signature, and the leaked key's real, proven entry: key-revoked."""
    office = registry.consortium.offices["EP"]
    settings_ = office.settings()
    leaked = load_signing_key(settings_.signing_key, registry.consortium.password)
    registry.consortium.stop_node("EP")
    rotated = subprocess.run(
        [str(IPREG), "node", "rotate-key", "--data-dir", str(office.data_dir), "--json"],
        env=registry.consortium.env(), capture_output=True, text=True, check=False, timeout=180,
    )  # fmt: skip
    assert rotated.returncode == 0, rotated.stderr
    revoked_at = int(json.loads(rotated.stdout)["previousRevokedAtBlock"])
    registry.consortium.start_node("EP")
    status = {
        "status": {"stateCode": "A", "stageCode": 4, "keyEventCode": "F10"},
        "previousStageCode": 2,
        "eventDate": "2026-05-01",
        "effectiveDate": "2026-05-01",
    }
    registry.write("EP", lambda c: c.record_status(RIGHT, 2, status))
    gatherer = registry.gatherer()
    eventually(lambda: gatherer.right(RIGHT).chain.version == 3, "version 3 final")  # type: ignore[union-attr]
    honest = gatherer.right(RIGHT, proofs=True)
    assert isinstance(honest.document, SignedDocument) and honest.chain is not None
    forged_signature = sign_document(honest.document.canonical, leaked, "EP")
    evidence = gatherer.right(
        RIGHT, honest.block.number, given=replace(honest.document, signature=forged_signature), proofs=True
    )
    forged = receipt_json(evidence, gatherer.chain_id, gatherer.contract_address)
    assert forged["officeKey"]["revokedAtBlock"] == revoked_at < forged["event"]["signingBlock"]
    result = check_receipt(forged, anchor=anchor)
    rejected(result, "key-validity")
    assert result.verdict is not None and result.verdict.verdict == "key-revoked"
    assert "proven from the state root" in detail(result, "signing-key")
    assert failed(result) == {"key-validity"}, result.report()


def test_with_the_rpc_an_auditor_learns_that_the_receipts_version_was_superseded(
    registry: Registry, receipt: dict[str, Any], anchor: ConsortiumAnchor
) -> None:
    assert receipt["version"] == 2  # issued before EP recorded version 3 (the test above)
    result = check_receipt(receipt, registry.network.rpc_urls["GB"], anchor=anchor)
    assert result.ok, result.report()
    assert result.standing is not None and result.standing.startswith("superseded: version 3"), (
        result.standing
    )
    assert f"what stood at block {receipt['chain']['blockNumber']}" in result.standing
    assert "now: superseded: version 3" in result.report()


def test_the_gateway_issues_no_receipt_of_a_block_no_majority_has_built_on(registry: Registry) -> None:
    gatherer = registry.gatherer()
    head = gatherer.reader.head()
    gatherer.known_head = lambda: head  # nothing sealed on top of it yet, as far as this gatherer knows
    with pytest.raises(ReceiptUnavailable) as refused:
        build_receipt(gatherer, RIGHT, head)
    assert refused.value.status == 409 and "is not final yet: 1 of 3 validators" in refused.value.reason


def test_a_reorganised_out_block_is_rejected_with_the_rpc(registry: Registry, tmp_path: Path) -> None:
    """KR is cut off and seals a block of its own on top of the last it saw; the majority goes on without it.
    A receipt read at KR's block (KR's own node, inside its namespace, the only place it can be asked)
    fails against EP's node once KR is back and has taken the majority's chain."""
    network = registry.network
    gatherer = registry.gatherer()
    current = gatherer.right(RIGHT)
    assert isinstance(current.document, SignedDocument) and current.document.signature is not None
    given = tmp_path / "document.json"
    given.write_text(
        json.dumps(
            {
                "canonical": base64.b64encode(current.document.canonical).decode(),
                "signature": current.document.signature.to_json(),
            }
        )
    )
    kr = network.specs["KR"]
    assert kr.namespace is not None
    for _attempt in range(8):  # each cut races KR against its sealing turns (4 once fell short)
        eventually(lambda: same_head_everywhere(network), "the validators agree")
        split = gatherer.reader.head()
        network.partition("KR")
        try:
            inside = subprocess.run(
                ["ip", "netns", "exec", kr.namespace, sys.executable, "-c", KR_ALONE,
                 network.rpc_urls["KR"], gatherer.contract_address, RIGHT, str(split), str(given)],
                capture_output=True, text=True, timeout=120, check=False,
                env={**os.environ, "PYTHONPATH": ROOT},
            )  # fmt: skip
            assert inside.returncode == 0, inside.stderr
            receipt = json.loads(inside.stdout) if inside.stdout.strip() != "none" else None
            if receipt is not None:  # the majority builds on without KR, well past KR's block
                number = receipt["chain"]["blockNumber"]
                eventually(lambda: gatherer.reader.head() >= number + 3, "the majority three blocks on")  # noqa: B023
        finally:
            network.heal("KR")
        if receipt is None:
            continue  # KR sealed the split block itself: it may not seal the next one alone
        eventually(lambda: same_head_everywhere(network), "KR back on the majority's chain")
        if (
            gatherer.reader.block(receipt["chain"]["blockNumber"]).hash.hex()
            == receipt["chain"]["blockHash"][2:]
        ):
            continue  # KR's block had reached the others before the cut: not a fork
        result = check_receipt(receipt, network.rpc_urls["EP"])
        rejected(result, "rpc-block")
        assert "not (or no longer) on the node's chain" in detail(result, "rpc-block")
        return
    pytest.fail("KR sealed no block of its own in eight partitions")


# Run in KR's namespace while it is cut off: wait for KR to seal past the split, then write the receipt body
# of the right at KR's block from KR's own node (no seals: no majority ever built on it).
KR_ALONE = """
import base64, json, sys, time
from gateway.verify.chain_reads import ChainReader
from gateway.verify.evidence import Gatherer
from gateway.verify.facts import SignedDocument
from gateway.verify.judge import judge
from gateway.verify.receipts import receipt_json
from registry_node.protocol.chain import web3_for
from registry_node.protocol.contract import load_artifact
from registry_node.protocol.signing import DetachedSignature
rpc, address, right, split, given = sys.argv[1:]
w3 = web3_for(rpc)
reader = ChainReader(w3, w3.eth.contract(address=address, abi=load_artifact().abi))
deadline = time.monotonic() + 8
while reader.head() <= int(split) and time.monotonic() < deadline:
    time.sleep(0.25)
head = reader.head()
if head <= int(split):
    print("none")
    raise SystemExit(0)
document = json.loads(open(given).read())
gatherer = Gatherer(reader, None, confirmations=0)
gatherer.anchors = None
signature = DetachedSignature.from_json(document["signature"])
signed = SignedDocument(base64.b64decode(document["canonical"]), signature)
evidence = gatherer.right(right, head, given=signed, proofs=True)
print(json.dumps(receipt_json(evidence, gatherer.chain_id, gatherer.contract_address)))
"""


# ---------------------------------------------------------------- QBFT


QBFT_KEYS = [bytes([i]) * 32 for i in range(1, 5)]


@pytest.fixture(scope="module")
def qbft_case(receipt: dict[str, Any], anchor: ConsortiumAnchor) -> tuple[dict[str, Any], ConsortiumAnchor]:
    """The real receipt's block as Besu's QBFT would have sealed it: four validators, three committed seals
    (⌈2·4/3⌉) over the header with its round; the block hash is Besu's, without the seals."""
    validators = [Account.from_key(k).address.lower() for k in QBFT_KEYS]
    number = receipt["chain"]["blockNumber"]
    trust = replace(
        anchor,
        engine="qbft",
        validators=tuple(
            ValidatorTerm(a, code, 0, None)
            for a, code in zip(validators, ("EP", "GB", "KR", "FR"), strict=True)
        ),
    )
    header = dict(receipt["blockHeader"])
    extra = qbft.QbftExtraData(b"\0" * 32, tuple(validators), None, 0, ())
    header["extraData"] = "0x" + qbft.encode_extra(extra).hex()
    header = qbft.seal_header(header, QBFT_KEYS[:3], round=0)
    forged = copy.deepcopy(receipt)
    forged["blockHeader"] = header
    forged["chain"]["blockHash"] = "0x" + qbft.block_hash(header).hex()
    forged["seals"] = {"engine": "qbft", "headers": []}
    if forged["event"]["blockNumber"] == number:
        forged["event"]["blockHash"] = forged["chain"]["blockHash"]
    return forged, trust


def test_a_qbft_receipt_with_committed_seals_of_two_thirds_verifies(
    qbft_case: tuple[dict[str, Any], ConsortiumAnchor],
) -> None:
    sealed, trust = qbft_case
    result = check_receipt(sealed, anchor=trust)
    assert result.ok, result.report()
    assert "3 distinct of the anchor's 4 validators have committed it; 3 are needed" in detail(
        result, "distinct-sealers"
    )


def test_a_qbft_receipt_with_a_duplicated_seal_is_rejected(
    qbft_case: tuple[dict[str, Any], ConsortiumAnchor],
) -> None:
    sealed, trust = qbft_case
    forged = copy.deepcopy(sealed)
    extra = qbft.decode_extra(bytes.fromhex(forged["blockHeader"]["extraData"][2:]))
    doubled = replace(extra, seals=(extra.seals[0], extra.seals[0], extra.seals[1]))
    forged["blockHeader"]["extraData"] = "0x" + qbft.encode_extra(doubled).hex()
    result = check_receipt(forged, anchor=trust)
    rejected(result, "seals")
    assert "more than once" in detail(result, "seals")
    assert "distinct-sealers" in failed(result)


def test_a_qbft_seal_over_the_hash_with_the_wrong_round_is_rejected(
    qbft_case: tuple[dict[str, Any], ConsortiumAnchor],
) -> None:
    sealed, trust = qbft_case
    other_round = qbft.seal_header(sealed["blockHeader"], QBFT_KEYS[:3], round=1)
    extra = qbft.decode_extra(bytes.fromhex(sealed["blockHeader"]["extraData"][2:]))
    wrong = qbft.decode_extra(bytes.fromhex(other_round["extraData"][2:]))
    forged = copy.deepcopy(sealed)
    mixed = replace(extra, seals=(extra.seals[0], extra.seals[1], wrong.seals[2]))
    forged["blockHeader"]["extraData"] = "0x" + qbft.encode_extra(mixed).hex()
    result = check_receipt(forged, anchor=trust)
    rejected(result, "seals")
    assert "no validator of the anchor" in detail(result, "seals")


# ---------------------------------------------------------------- any byte


def _strings(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _strings(v, (*prefix, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _strings(v, (*prefix, i))]
    return [prefix] if isinstance(value, str) and value else []


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_random_byte_flip_in_a_valid_receipt_never_verifies(
    receipt: dict[str, Any], anchor: ConsortiumAnchor, data: Any
) -> None:
    # issuedAt is the gateway's clock; the event's block and transaction hashes locate its log and are
    # checked only with --rpc (README: "What is taken on the receipt's word"); logIndex is a number
    unbound = {("issuedAt",), ("event", "blockHash"), ("event", "transactionHash")}
    paths = [p for p in _strings(receipt) if p[:2] not in unbound and p[:1] not in unbound]
    path = data.draw(st.sampled_from(paths))
    forged = copy.deepcopy(receipt)
    target = forged
    for part in path[:-1]:
        target = target[part]
    old: str = target[path[-1]]
    position = data.draw(st.integers(0, len(old) - 1))
    new = old[:position] + chr(ord(old[position]) ^ data.draw(st.integers(1, 15))) + old[position + 1 :]
    target[path[-1]] = new
    assert not check_receipt(forged, anchor=anchor).ok, path
