"""A consortium on a real Clique network: three go-ethereum validators, one per office, each office node on
its own validator, and the gateway following them. Nothing here is mocked: geth v1.13.15 seals the blocks.

The tests share one network (module scope) and run in file order; the last ones change the validator set.
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from web3 import Web3
from web3.logs import DISCARD

from gateway.verify.signer import check_gateway_signature
from registry_node.devnet.chains import fund
from registry_node.devnet.consortium import Founder, LocalConsortium
from registry_node.devnet.ganache import free_port
from registry_node.devnet.network import GethNetwork, network_status
from registry_node.devnet.processes import IPREG
from registry_node.node.service import load_keys
from registry_node.node.transactor import Transactor
from registry_node.protocol.chain import connect
from registry_node.protocol.consensus.signers import ValidatorHistory
from registry_node.protocol.contract import load_artifact
from tests.support.keys import FAST_SCRYPT_N
from tests.support.network import eventually, same_head_everywhere
from tests.support.records import patent_right

OFFICES = ("EP", "GB", "KR")
PERIOD_S = 1


@pytest.fixture(scope="module")
def consortium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalConsortium]:
    folder = tmp_path_factory.mktemp("geth-consortium")
    password = secrets.token_urlsafe(16)
    network = GethNetwork(folder / "network", OFFICES, password=password, period_s=PERIOD_S)
    running = LocalConsortium(
        folder, network, password=password, gateway_port=free_port(), key_scrypt_n=FAST_SCRYPT_N
    )
    try:
        running.create([Founder(code, f"Office {code}", free_port()) for code in OFFICES])
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def network(consortium: LocalConsortium) -> GethNetwork:
    assert isinstance(consortium.chain, GethNetwork)
    return consortium.chain


def heads(network: GethNetwork) -> dict[str, str | None]:
    return {s.office: s.head_hash for s in network_status(network)}


def register(consortium: LocalConsortium, code: str, number: str) -> str:
    right_id = f"{code}:PAT:{number}"
    with consortium.offices[code].client() as client:
        client.register(patent_right(right_id))
        client.wait_for_outbox(90)
    return right_id


def transaction_of(consortium: LocalConsortium, right_id: str) -> str:
    """The transaction that registered `right_id`, from its office node's outbox."""
    with consortium.offices[right_id[:2]].client() as client:
        items = client.outbox(state="confirmed", limit=500)["items"]
    return next(str(item["txHash"]) for item in items if item["rightId"] == right_id)


# ---------------------------------------------------------------- sealing


def test_every_validator_seals_in_turn(network: GethNetwork) -> None:
    def all_sealing() -> Any:
        statuses = network_status(network)
        return all((s.sealed_recent or 0) >= 3 and len(s.signers or ()) == 3 for s in statuses) and statuses

    statuses = eventually(all_sealing, "each of the three validators sealing")
    signers = {signer.lower() for signer in statuses[0].signers}
    assert signers == {address.lower() for address in network.validators().values()}
    assert all(s.peers == 2 for s in statuses)


def test_the_first_block_was_sealed_in_turn_by_the_validator_whose_turn_it_was(network: GethNetwork) -> None:
    """The start (`GethNetwork._seal_all`): block 1's in-turn validator seals it alone, so no rival first
    blocks are sealed out of turn (difficulty 1) by the others."""
    first = network.validator(OFFICES[0])
    block = first.rpc("eth_getBlockByNumber", ["0x1", False])
    in_turn = sorted(address.lower() for address in network.validators().values())[1 % len(OFFICES)]
    assert int(block["difficulty"], 16) == 2  # Clique's in-turn difficulty
    assert first.rpc("clique_getSigner", [block["hash"]]).lower() == in_turn


def test_the_gateway_shows_each_offices_validator_its_head_peers_and_sealed_blocks(
    consortium: LocalConsortium, network: GethNetwork
) -> None:
    def shown() -> Any:
        answer = httpx.get(f"{consortium.gateway_url}/v1/network", timeout=10).json()
        return all(v["sealedBlocks"] and v["node"] for v in answer["validators"]) and answer

    network_view = eventually(shown, "every validator shown with its node and sealed blocks")
    assert network_view["engine"] == "clique" and network_view["finalDepth"] == 2  # 3 // 2 + 1
    by_office = {v["officeCode"]: v for v in network_view["validators"]}
    assert set(by_office) == set(OFFICES)
    for code, address in network.validators().items():
        assert by_office[code]["address"] == address.lower() and by_office[code]["signer"]
        assert by_office[code]["node"]["peers"] == 2


def test_a_right_registered_through_ep_reads_the_same_through_every_validator(
    consortium: LocalConsortium, network: GethNetwork
) -> None:
    right_id = register(consortium, "EP", "EP26100001")
    tx_hash = transaction_of(consortium, right_id)
    registry = consortium.deployment
    assert registry is not None
    seen = []
    for code, url in network.rpc_urls.items():
        w3 = connect(url)
        receipt = eventually(lambda w3=w3: _receipt(w3, tx_hash), f"the receipt through {code}'s validator")
        contract = w3.eth.contract(
            address=Web3.to_checksum_address(registry.address), abi=load_artifact().abi
        )
        state = contract.functions.rightOf(Web3.keccak(text=right_id)).call(
            block_identifier=receipt["blockNumber"]
        )
        seen.append((receipt["blockHash"], receipt["status"], state))
    assert len(set(map(repr, seen))) == 1, seen
    assert seen[0][1] == 1


def _receipt(w3: Web3, tx_hash: str) -> Any:
    try:
        return w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
    except Exception:  # not there yet
        return None


def test_the_gateway_verifies_a_record_and_its_receipt_checks_against_every_validator(
    consortium: LocalConsortium, network: GethNetwork, tmp_path: Path
) -> None:
    right_id = register(consortium, "GB", "GB26100002")
    gateway = consortium.gateway_url

    def indexed() -> Any:
        answer = httpx.get(f"{gateway}/v1/rights/{right_id}", timeout=10)
        return answer.status_code == 200 and answer

    eventually(indexed, f"{right_id} indexed by the gateway")
    receipt = httpx.get(f"{gateway}/v1/rights/{right_id}/receipt", timeout=30)
    assert receipt.status_code == 200, receipt.text
    path = tmp_path / "receipt.json"
    path.write_text(receipt.text, "utf-8")
    for code, url in network.rpc_urls.items():
        checked = subprocess.run(
            [str(IPREG), "verify", str(path), "--rpc", url], capture_output=True, text=True, timeout=120
        )
        assert checked.returncode == 0, f"through {code}'s validator: {checked.stdout}{checked.stderr}"

    # the verdict says who sealed its block, and the gateway's signature covers it
    verdict = httpx.get(f"{gateway}/v1/rights/{right_id}/verification", timeout=30).json()
    finality = verdict["finality"]
    assert finality["engine"] == "clique" and finality["validators"] == 3 and finality["final"], finality
    assert finality["distinctSealers"] >= finality["needed"] == 2
    assert {s["office"] for s in finality["sealers"]} <= set(OFFICES)
    key = bytes.fromhex(httpx.get(f"{gateway}/v1/keys", timeout=10).json()["items"][0]["publicKey"])
    assert check_gateway_signature(verdict, key)[0], check_gateway_signature(verdict, key)[1]
    anchor = httpx.get(f"{gateway}/v1/consortium/anchor", timeout=30).json()
    assert {(v["office"], v["address"].lower()) for v in anchor["validators"]} == {
        (code, address.lower()) for code, address in network.validators().items()
    }


# ---------------------------------------------------------------- faults


def test_one_validator_killed_the_chain_goes_on_and_restarted_it_catches_up(network: GethNetwork) -> None:
    network.stop_validator("KR", kill=True)
    ep = connect(network.rpc_urls["EP"])
    start = ep.eth.block_number
    eventually(lambda: ep.eth.block_number >= start + 4, "blocks sealed by EP and GB without KR")
    network.start_validator("KR")
    eventually(lambda: same_head_everywhere(network), "KR back on the same head hash as EP and GB")


def test_an_office_node_fails_over_to_another_validator_while_its_own_is_down(
    consortium: LocalConsortium, network: GethNetwork
) -> None:
    network.stop_validator("EP")
    try:
        right_id = register(consortium, "EP", "EP26100003")  # confirmed through GB's or KR's validator
        gb = connect(network.rpc_urls["GB"])
        registry = consortium.deployment
        assert registry is not None
        contract = gb.eth.contract(
            address=Web3.to_checksum_address(registry.address), abi=load_artifact().abi
        )
        assert contract.functions.rightOf(Web3.keccak(text=right_id)).call()[0] == 1  # version 1
    finally:
        network.start_validator("EP")
    eventually(lambda: same_head_everywhere(network), "EP back on the same head hash")


# ---------------------------------------------------------------- the validator set follows the consortium


def proposal_of(contract: Any, receipt: Any) -> int:
    (created,) = contract.events.ProposalCreated().process_receipt(receipt, errors=DISCARD)
    return int(created["args"]["proposalId"])


def test_admitting_an_office_admits_its_validator_and_suspending_it_stops_its_sealing(
    consortium: LocalConsortium, network: GethNetwork
) -> None:
    registry = consortium.deployment
    assert registry is not None
    w3 = connect(network.rpc_url)
    abi = load_artifact().abi
    contract = w3.eth.contract(address=Web3.to_checksum_address(registry.address), abi=abi)
    actors = {
        code: Transactor(w3, load_keys(office.settings(), consortium.password).account, abi)
        for code, office in consortium.offices.items()
    }
    newcomer = Account.create()
    fund(w3, network.deployer, newcomer.address)
    spec = network.add_validator("FR")

    # EP proposes FR (with its transaction account); GB and KR approve: more than two thirds of three
    receipt = actors["EP"].send(
        contract.functions.proposeAdmission((b"FR", newcomer.address, "Office FR", "http://127.0.0.1:9"))
    )
    proposal = proposal_of(contract, receipt)
    actors["GB"].send(contract.functions.approve(proposal))
    actors["KR"].send(contract.functions.approve(proposal))
    assert contract.functions.office(b"FR").call()[1] == 1  # active
    Transactor(w3, newcomer, abi).send(contract.functions.setValidator(spec.address))

    def fr_sealing() -> Any:
        statuses = {s.office: s for s in network_status(network)}
        fr = statuses["FR"]
        return len(fr.signers or ()) == 4 and (fr.sealed_recent or 0) >= 1 and fr

    eventually(fr_sealing, "FR's validator voted in by the offices' nodes and sealing")

    # KR proposes FR's suspension; EP and GB approve (FR neither votes nor counts)
    receipt = actors["KR"].send(contract.functions.proposeSuspension(b"FR"))
    proposal = proposal_of(contract, receipt)
    actors["EP"].send(contract.functions.approve(proposal))
    actors["GB"].send(contract.functions.approve(proposal))
    assert contract.functions.office(b"FR").call()[1] == 2  # suspended

    def fr_out() -> Any:
        status = network_status(network)[0]
        return status.signers is not None and len(status.signers) == 3 and status.head_number

    voted_out_at = int(eventually(fr_out, "FR's validator voted out"))
    ep = connect(network.rpc_url)
    eventually(lambda: ep.eth.block_number >= voted_out_at + 6, "six more blocks")
    sealers = [
        str(ep.provider.make_request("clique_getSigner", [hex(n)])["result"]).lower()  # type: ignore[arg-type]
        for n in range(voted_out_at + 1, ep.eth.block_number + 1)
    ]
    assert spec.address.lower() not in sealers, f"FR sealed after it was voted out: {sealers}"
    assert set(sealers) <= {a.lower() for code, a in network.validators().items() if code != "FR"}

    # the trust anchor written from the chain gives FR's validator the blocks it could seal, and no others
    anchor = ValidatorHistory(ep, registry.address).anchor()
    (term,) = anchor.term_of(spec.address)
    assert term.office == "FR" and term.until_block is not None and 0 < term.from_block < term.until_block
    assert term.until_block <= voted_out_at + 1
    fr_sealed = [
        n
        for n in range(term.from_block, term.until_block)
        if str(ep.provider.make_request("clique_getSigner", [hex(n)])["result"]).lower()  # type: ignore[arg-type]
        == spec.address.lower()
    ]
    assert fr_sealed, "FR sealed within its term"
    assert anchor.validators_at(term.until_block).keys() == {
        a.lower() for c, a in network.validators().items() if c != "FR"
    }
    assert len(anchor.validators_at(term.from_block)) == 4
