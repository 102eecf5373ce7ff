"""The outbox worker against a real ganache: order, refusals, crashes, a shared nonce, outages, depth."""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest
import requests
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import TransactionNotFound, Web3RPCError

from registry_node.devnet.ganache import Ganache
from registry_node.node.outbox import OutboxWorker, decode_args, encode_args
from registry_node.node.store import AcceptedChange, OutboxState, Store
from registry_node.node.transactor import Transactor
from registry_node.protocol.contract import load_artifact
from registry_node.protocol.records import chain_right_id

if TYPE_CHECKING:
    from conftest import FreshChain, GanacheFactory


GRANTED = b"A4F10"


def h(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


class Office(NamedTuple):
    w3: Web3
    contract: Contract
    account: LocalAccount
    other: LocalAccount
    store: Store
    chain: Ganache


@pytest.fixture
def office(fresh_chain: FreshChain, tmp_path: Path) -> Office:
    c = fresh_chain
    return Office(c.w3, c.contract, c.offices["EP"], c.offices["GB"], Store(tmp_path / "ep.sqlite"), c.chain)


def state(n: int, version: int) -> tuple[bytes, bytes, bytes]:
    return (h(f"record {n} v{version}"), h(f"owner {n} v{version}"), GRANTED)


def registration(n: int) -> AcceptedChange:
    right_id = f"EP:PAT:EP{n}"
    new = state(n, 1)
    return accepted(right_id, 1, "register", [(chain_right_id(right_id), 0, False, new)], new)


def transfer(n: int, version: int) -> AcceptedChange:
    right_id = f"EP:PAT:EP{n}"
    new = state(n, version)
    args = [
        chain_right_id(right_id),
        version - 1,
        state(n, version - 1),
        new[0],
        new[1],
        (0, False, 20260101, h("deed")),
    ]
    return accepted(right_id, version, "recordOwnershipChange", args, new)


def accepted(
    right_id: str, version: int, action: str, args: list[Any], new: tuple[bytes, ...]
) -> AcceptedChange:
    return AcceptedChange(
        right_id=right_id,
        kind="patent",
        version=version,
        change_kind="registration" if version == 1 else "ownershipChange",
        record_hash=new[0],
        canonical=b"{}",
        signature={},
        action=action,
        payload={
            "args": encode_args(args),
            "applied": {
                "rightId": encode_args(chain_right_id(right_id)),
                "version": version,
                "state": encode_args(new),
            },
        },
    )


def on_chain(office: Office, n: int) -> tuple[int, bool]:
    rid = chain_right_id(f"EP:PAT:EP{n}")
    version = office.contract.functions.rightOf(rid).call()[0]
    return version, bool(
        office.contract.functions.matchesState(rid, state(n, version)).call()
    ) if version else False


def worker(office: Office, **kwargs: Any) -> OutboxWorker:
    return OutboxWorker(office.store, office.w3, office.contract, office.account, **kwargs)


def right_events(office: Office) -> list[tuple[str, int]]:
    """(event name, version) of every RightRegistered/OwnershipChanged on chain, in order."""
    events = office.contract.events
    logs = [*events.RightRegistered.get_logs(from_block=0), *events.OwnershipChanged.get_logs(from_block=0)]
    logs.sort(key=lambda log: (log["blockNumber"], log["logIndex"]))
    return [(log["event"], log["args"].get("version", 1)) for log in logs]


def test_accepted_changes_reach_the_chain_in_order(office: Office) -> None:
    for change in (registration(1), transfer(1, 2), registration(2), transfer(1, 3)):
        office.store.accept(change)

    worker(office).drain()

    assert on_chain(office, 1) == (3, True)
    assert on_chain(office, 2) == (1, True)
    assert {e.state for e in office.store.outbox()} == {OutboxState.CONFIRMED}
    expected = [
        ("RightRegistered", 1),
        ("RightRegistered", 1),
        ("OwnershipChanged", 2),
        ("OwnershipChanged", 3),
    ]
    assert sorted(right_events(office)) == sorted(expected)


def test_a_refused_change_is_failed_with_the_decoded_error_and_not_retried(office: Office) -> None:
    taken = (chain_right_id("EP:PAT:EP9"), 0, False, (h("GB's record"), h("GB's owner"), GRANTED))
    Transactor(office.w3, office.other, load_artifact().abi).send(office.contract.functions.register(taken))
    office.store.accept(registration(9))  # the id is already registered, by GB

    worker(office).drain()

    entry = office.store.outbox()[0]
    assert entry.state == OutboxState.FAILED
    assert entry.error is not None and entry.error.startswith("RightsRegistryAlreadyRegistered(rightId=0x")
    assert entry.attempts == 1  # sent once, refused by the contract, never sent again
    worker(office).drain()
    assert office.store.outbox()[0].attempts == 1


def crash_before_broadcast(raw: bytes) -> None:
    raise KeyboardInterrupt("the node dies after recording the transaction, before sending it")


def test_a_crash_before_broadcast_sends_the_same_transaction_after_restart(office: Office) -> None:
    office.store.accept(registration(1))
    with pytest.raises(KeyboardInterrupt):
        worker(office, broadcast=crash_before_broadcast).run_once()
    sent = office.store.outbox()[0]
    assert sent.state == OutboxState.SENT and sent.raw_tx

    worker(office).drain()  # the restarted node

    assert on_chain(office, 1) == (1, True)
    confirmed = office.store.outbox()[0]
    assert confirmed.state == OutboxState.CONFIRMED and confirmed.tx_hash == sent.tx_hash
    assert right_events(office) == [("RightRegistered", 1)]


def test_a_lost_transaction_the_chain_refuses_as_it_was_is_signed_again_at_its_nonce(office: Office) -> None:
    """The node died before broadcasting; by its restart fees rose, and the chain refuses the stored bytes
    (their fee cap is below the base fee): the same call goes again at the same nonce with today's fees,
    once."""
    office.store.accept(registration(4))
    with pytest.raises(KeyboardInterrupt):
        worker(office, broadcast=crash_before_broadcast).run_once()
    stored = office.store.outbox()[0]
    assert stored.raw_tx is not None

    refused: list[bytes] = []

    def underpriced(raw: bytes) -> None:
        if raw == stored.raw_tx:
            refused.append(raw)
            raise Web3RPCError(
                "Transaction maxFeePerGas (2) is too low for the next block, which has a baseFeePerGas of 7"
            )
        office.w3.eth.send_raw_transaction(raw)

    worker(office, broadcast=underpriced).drain()

    confirmed = office.store.outbox()[0]
    assert confirmed.state == OutboxState.CONFIRMED
    assert confirmed.tx_hash != stored.tx_hash and confirmed.nonce == stored.nonce
    assert refused == [stored.raw_tx]  # the stored bytes were tried once, then signed anew
    assert on_chain(office, 4) == (1, True)
    assert right_events(office).count(("RightRegistered", 1)) == 1


def send_queued(office: Office, raw_tx: bytes | None) -> None:
    """Sends a transaction above a nonce gap. ganache 7.9.2 queues it at once but holds its answer for
    30 s (then "transaction underpriced"), so a test sends it from a thread and waits for the pool instead."""
    assert raw_tx is not None
    with contextlib.suppress(Web3RPCError, requests.RequestException):
        office.w3.eth.send_raw_transaction(raw_tx)


def in_pool(office: Office, tx_hash: str | None) -> bool:
    try:
        office.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
    except TransactionNotFound:
        return False
    return True


def test_lost_transactions_go_back_lowest_nonce_first_and_queued_ones_are_left_in_the_pool(
    office: Office,
) -> None:
    """Killed after recording three transactions, before broadcasting them; the chain then got the two
    higher nonces only (they sit queued behind the gap). After the restart the lowest goes back first, and
    the queued ones the pool already holds are not signed again: each change lands once."""
    for n in (11, 12, 13):
        office.store.accept(registration(n))
    w = worker(office, broadcast=crash_before_broadcast, batch_size=1)
    with pytest.raises(KeyboardInterrupt):
        w.run_once()
    sent = sorted(office.store.outbox(), key=lambda e: e.nonce or 0)
    assert [e.state for e in sent] == [OutboxState.SENT] * 3
    gapped = sent[1:]  # the chain gets these, not the first: a nonce gap
    senders = [threading.Thread(target=send_queued, args=(office, e.raw_tx), daemon=True) for e in gapped]
    for sender in senders:
        sender.start()
    wait_until(lambda: all(in_pool(office, e.tx_hash) for e in gapped), timeout_s=60)
    assert [office.w3.eth.get_transaction(e.tx_hash)["nonce"] for e in gapped] == [e.nonce for e in gapped]

    worker(office).drain()
    for sender in senders:
        sender.join(timeout=60)

    confirmed = sorted(office.store.outbox(), key=lambda e: e.nonce or 0)
    assert [e.state for e in confirmed] == [OutboxState.CONFIRMED] * 3
    assert [e.tx_hash for e in confirmed] == [e.tx_hash for e in sent]  # none signed again
    assert right_events(office).count(("RightRegistered", 1)) >= 3
    for n in (11, 12, 13):
        assert on_chain(office, n) == (1, True)


def test_a_crash_after_broadcast_is_confirmed_by_its_receipt_after_restart(office: Office) -> None:
    office.store.accept(registration(1))
    office.store.accept(transfer(1, 2))
    first = worker(office)
    first.run_once()  # sends version 1 (version 2 waits for it), then the node "dies"

    worker(office).drain()

    assert on_chain(office, 1) == (2, True)
    assert right_events(office) == [("RightRegistered", 1), ("OwnershipChanged", 2)]


def test_a_nonce_taken_by_another_process_is_signed_again_with_a_free_one(office: Office) -> None:
    office.store.accept(registration(1))
    with pytest.raises(KeyboardInterrupt):
        worker(office, broadcast=crash_before_broadcast).run_once()
    taken = office.store.outbox()[0].nonce
    # another process sends with the office's account and uses that nonce
    Transactor(office.w3, office.account, load_artifact().abi).send(
        office.contract.functions.anchor(h("root"), 1, h("manifest")), nonce=taken
    )

    worker(office).drain()

    entry = office.store.outbox()[0]
    assert entry.state == OutboxState.CONFIRMED and entry.nonce != taken
    assert on_chain(office, 1) == (1, True)
    assert right_events(office) == [("RightRegistered", 1)]


def test_a_change_already_on_chain_is_confirmed_without_writing_twice(office: Office) -> None:
    change = registration(1)
    office.store.accept(change)
    Transactor(office.w3, office.account, load_artifact().abi).send(
        office.contract.functions.register(*tuple(_decode(change.payload["args"])))
    )

    worker(office).drain()

    assert office.store.outbox()[0].state == OutboxState.CONFIRMED
    assert right_events(office) == [("RightRegistered", 1)]


def _decode(args: Any) -> Any:
    return decode_args(args)


def test_changes_made_while_the_chain_is_down_all_land_in_order_after_it_returns(
    office: Office, start_ganache: GanacheFactory
) -> None:
    office.store.accept(registration(1))
    running = worker(office, backoff_max_s=0.5)
    running.drain()
    thread = threading.Thread(target=running.run, kwargs={"poll_s": 0.05}, daemon=True)
    thread.start()
    try:
        office.chain.stop()
        for change in (transfer(1, 2), registration(2), transfer(1, 3)):
            office.store.accept(change)
        office.chain.start()  # same data dir, same port
        wait_until(lambda: not office.store.outbox((OutboxState.PENDING, OutboxState.SENT)), timeout_s=60)
    finally:
        running.stop()
        thread.join(timeout=10)

    assert on_chain(office, 1) == (3, True)
    assert on_chain(office, 2) == (1, True)
    assert [v for name, v in right_events(office) if name == "OwnershipChanged"] == [2, 3]


def test_an_entry_is_confirmed_only_at_the_configured_depth(office: Office) -> None:
    office.store.accept(registration(1))
    deep = worker(office, confirmations=3)
    deep.run_once()
    deep.run_once()
    assert office.store.outbox()[0].state == OutboxState.SENT
    office.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    office.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    deep.run_once()
    assert office.store.outbox()[0].state == OutboxState.CONFIRMED


def wait_until(condition: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


def test_registrations_go_in_batches_and_a_refused_one_fails_alone(office: Office) -> None:
    taken = (chain_right_id("EP:PAT:EP7"), 0, False, (h("GB's record"), h("GB's owner"), GRANTED))
    Transactor(office.w3, office.other, load_artifact().abi).send(office.contract.functions.register(taken))
    for n in range(1, 121):
        office.store.accept(registration(n))

    worker(office, batch_size=50).drain()

    entries = office.store.outbox()
    failed = [e for e in entries if e.state == OutboxState.FAILED]
    assert [e.right_id for e in failed] == ["EP:PAT:EP7"]
    assert failed[0].error is not None and failed[0].error.startswith("RightsRegistryAlreadyRegistered")
    confirmed = [e for e in entries if e.state == OutboxState.CONFIRMED]
    assert len(confirmed) == 119
    sizes = sorted(Counter(e.tx_hash for e in confirmed).values(), reverse=True)
    # the batches without a refused right went in one transaction each; the one with it, right by right
    assert sizes == [50, 20] + [1] * 49
    assert all(on_chain(office, n) == (1, True) for n in (1, 50, 51, 119, 120))
