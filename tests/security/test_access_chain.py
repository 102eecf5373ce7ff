"""Who may do what on chain: every cell of README's access table (chain layer), on a real ganache, with
transactions signed locally and sent raw by each actor.

Actors: the competent office (EP), another member office (GB), a suspended office (KR, suspended by a
vote of EP and GB), a non-member account, and anyone replaying a captured signed transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import Web3Exception

from registry_node.node.transactor import TransactionReverted, Transactor
from registry_node.protocol.chain import fee_fields
from registry_node.protocol.contract import load_artifact
from registry_node.protocol.keys import SigningAlgorithm
from registry_node.protocol.merkle import MerkleTree
from tests.support.chain import FreshChain, GanacheFactory, deploy_fresh

ABI = load_artifact().abi
GRANTED = b"A4F10"
SUSPENDED = 2  # OfficeStatus.Suspended


@dataclass
class World:
    chain: FreshChain
    contract: Contract
    actors: dict[str, Transactor]
    outsider: LocalAccount
    right_of_ep: bytes
    ep_state: tuple[bytes, bytes, bytes]
    counter: int = 0

    def fresh(self, label: str) -> bytes:
        self.counter += 1
        return keccak(text=f"{label}-{self.counter}")


def registration(right_id: bytes) -> tuple[Any, ...]:
    return (right_id, 0, False, (keccak(right_id + b"record"), keccak(right_id + b"owner"), GRANTED))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    factory = GanacheFactory(tmp_path_factory.mktemp("access"))
    outsider: LocalAccount = Account.create()
    try:
        fresh = deploy_fresh(lambda keys: factory([*keys, outsider.key.to_0x_hex()]))
        contract = fresh.contract
        actors = {code: Transactor(fresh.w3, acct, ABI) for code, acct in fresh.offices.items()}
        actors["outsider"] = Transactor(fresh.w3, outsider, ABI)
        # KR is suspended by a vote of EP and GB (an office neither votes on nor counts for its own)
        actors["EP"].send(contract.functions.proposeSuspension(b"KR"))
        proposal = contract.functions.proposalCount().call()  # ids count from 1
        for code in ("EP", "GB"):
            if contract.functions.office(b"KR").call()[1] != SUSPENDED:
                try:
                    actors[code].send(contract.functions.approve(proposal))
                except TransactionReverted as err:
                    assert err.reason.name == "OfficeRegistryAlreadyApproved"
        assert contract.functions.office(b"KR").call()[1] == SUSPENDED
        right = keccak(text="EP:PAT:access-1")
        actors["EP"].send(contract.functions.register(registration(right)))
        state = registration(right)[3]
        yield World(fresh, contract, actors, outsider, right, state)
    finally:
        factory.stop_all()


def refused_with(world: World, actor: str, call: Callable[[World], Any]) -> str:
    """The custom error the contract answered `actor`'s transaction with, or "ok"."""
    try:
        world.actors[actor].send(call(world))
    except TransactionReverted as err:
        return err.reason.name
    return "ok"


def register_new(w: World) -> Any:
    return w.contract.functions.register(registration(w.fresh("register")))


def change_ep_right(w: World) -> Any:
    version = w.contract.functions.rightOf(w.right_of_ep).call()[0]
    new_owner = w.fresh("owner")
    conveyance = (0, False, 20240101, hashlib.sha256(new_owner).digest())
    return w.contract.functions.recordOwnershipChange(
        w.right_of_ep, version, w.ep_state, w.ep_state[0], new_owner, conveyance
    )


def anchor_batch(w: World) -> Any:
    tree = MerkleTree.from_record_hashes([w.fresh("anchored"), w.fresh("anchored")])
    return w.contract.functions.anchor(tree.root, 2, w.fresh("manifest"))


def add_key(w: World) -> Any:
    public_key = w.fresh("public key")  # 32 bytes: the size of an Ed25519 key
    return w.contract.functions.addSigningKey(
        w.fresh("key"), SigningAlgorithm.ED25519.chain_value, public_key
    )


def propose_suspension_of_gb(w: World) -> Any:
    return w.contract.functions.proposeSuspension(b"GB")


# (action, actor, expected): the chain rows of README's access table
CELLS = [
    ("register a right", "EP", "ok"),
    ("register a right", "KR", "OfficeRegistryOfficeNotActive"),
    ("register a right", "outsider", "OfficeRegistryNotMember"),
    ("change a right", "GB", "RightsRegistryNotCompetent"),
    ("change a right", "KR", "OfficeRegistryOfficeNotActive"),
    ("change a right", "outsider", "OfficeRegistryNotMember"),
    ("anchor a batch", "EP", "ok"),
    ("anchor a batch", "KR", "OfficeRegistryOfficeNotActive"),
    ("anchor a batch", "outsider", "OfficeRegistryNotMember"),
    ("add a signing key", "EP", "ok"),
    ("add a signing key", "KR", "OfficeRegistryOfficeNotActive"),
    ("add a signing key", "outsider", "OfficeRegistryNotMember"),
    ("propose a suspension", "KR", "OfficeRegistryOfficeNotActive"),
    ("propose a suspension", "outsider", "OfficeRegistryNotMember"),
]
CALLS: dict[str, Callable[[World], Any]] = {
    "register a right": register_new,
    "change a right": change_ep_right,
    "anchor a batch": anchor_batch,
    "add a signing key": add_key,
    "propose a suspension": propose_suspension_of_gb,
}


@pytest.mark.parametrize(("action", "actor", "expected"), CELLS)
def test_chain_access_cell(world: World, action: str, actor: str, expected: str) -> None:
    assert refused_with(world, actor, CALLS[action]) == expected


def test_the_competent_office_changes_its_right_and_the_change_lands(world: World) -> None:
    before = world.contract.functions.rightOf(world.right_of_ep).call()[0]
    assert refused_with(world, "EP", change_ep_right) == "ok"
    assert world.contract.functions.rightOf(world.right_of_ep).call()[0] == before + 1
    world.ep_state = (world.ep_state[0], _last_owner(world), world.ep_state[2])


def _last_owner(world: World) -> bytes:
    logs = world.contract.events.OwnershipChanged().get_logs(from_block=0)
    return bytes(logs[-1]["args"]["ownerCommitment"])


def test_a_replayed_signed_transaction_never_applies_twice(world: World) -> None:
    w3: Web3 = world.chain.w3
    ep = world.chain.offices["EP"]
    call = register_new(world)
    tx: Any = call.build_transaction(
        {
            "from": ep.address,
            "nonce": w3.eth.get_transaction_count(ep.address),
            "gas": 300_000,
            **fee_fields(w3),
        }
    )
    raw = ep.sign_transaction(tx).raw_transaction
    w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(raw))
    registered = len(world.contract.events.RightRegistered().get_logs(from_block=0))
    with pytest.raises(Web3Exception, match=r"nonce|known"):
        w3.eth.send_raw_transaction(raw)
    assert len(world.contract.events.RightRegistered().get_logs(from_block=0)) == registered


def test_anyone_reads_any_right_and_office(world: World) -> None:
    stranger = Account.create().address
    right = world.contract.functions.rightOf(world.right_of_ep).call({"from": stranger})
    assert right[0] >= 1 and right[1] == b"EP"
    assert world.contract.functions.office(b"KR").call({"from": stranger})[1] == SUSPENDED


def test_a_suspended_office_keeps_its_history_readable(world: World) -> None:
    """Suspension is not retroactive: KR's keys and records from before stay as they were."""
    keys = world.contract.functions.signingKeys(b"KR").call()
    assert all(int(key[3]) == 0 for key in keys)  # none revoked by the suspension
