"""The outbox worker: accepted changes reach the chain exactly once, whatever restarts in between.

Each entry is a contract call (`action` and JSON `args`, bytes as 0x-hex). The worker signs it locally,
records the transaction hash, nonce and raw bytes in the store *before* broadcasting, then confirms it by
receipt to the configured depth. After a crash it looks its SENT entries up by hash; a transaction the
chain never saw is broadcast again from the stored raw bytes while its nonce is free, and signed anew
otherwise. Before anything is sent twice the chain's own state is asked: the contract's version check
means a change already applied is recognised (its right is at that version with that state) and
confirmed, never written again. A call the contract refuses is marked failed with the decoded custom
error and not retried; an unreachable chain is retried with backoff.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import Timeout
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    ContractPanicError,
    TransactionNotFound,
    Web3Exception,
)
from web3.types import Nonce, TxParams

from registry_node.chain import ErrorDecoder, RevertReason, _revert_data, fee_fields
from registry_node.store import OutboxEntry, OutboxState, Store

log = logging.getLogger(__name__)

# Gas limits by action, about twice what bench/gas.py measures, so no call needs estimating first.
GAS_LIMITS = {
    "register": 120_000,
    "recordOwnershipChange": 120_000,
    "recordStatusEvent": 120_000,
    "publish": 120_000,
    "anchor": 120_000,
}
GAS_PER_BATCHED_RIGHT = 45_000  # registerBatch and recordStatusEvents: per item, on top of 100,000


def gas_limit(action: str, items: int) -> int:
    if action in GAS_LIMITS:
        return GAS_LIMITS[action]
    return 100_000 + GAS_PER_BATCHED_RIGHT * items


ACTIONS = frozenset({"register", "registerBatch", "recordOwnershipChange", "recordStatusEvent",
                     "recordStatusEvents", "publish", "anchor"})  # fmt: skip
CHAIN_DOWN = (RequestsConnectionError, Timeout, ConnectionError, OSError)


def encode_args(value: Any) -> Any:
    """Contract arguments as JSON: bytes as 0x-hex, tuples as lists."""
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, list | tuple):
        return [encode_args(v) for v in value]
    return value


def decode_args(value: Any) -> Any:
    """The inverse of encode_args (the registry's calls take no strings beginning with 0x)."""
    if isinstance(value, str) and value.startswith("0x"):
        return bytes.fromhex(value[2:])
    if isinstance(value, list):
        return tuple(decode_args(v) for v in value)
    return value


@dataclass(frozen=True)
class AppliedCheck:
    """How to recognise on chain that an entry's change is already there: the right reached `version`
    and `state` (the RightState tuple) is its state at that version."""

    right_id: bytes
    version: int
    state: tuple[bytes, bytes, bytes]


def applied_check(entry: OutboxEntry) -> AppliedCheck | None:
    """The check for entries that change one right; None for batches and anchors (their hash decides)."""
    check = entry.payload.get("applied")
    if not check:
        return None
    state = decode_args(check["state"])
    return AppliedCheck(decode_args(check["rightId"]), int(check["version"]), tuple(state))


class OutboxWorker:
    """Sends one office's outbox to the chain, in order, from one thread."""

    def __init__(
        self,
        store: Store,
        w3: Web3,
        contract: Contract,
        account: LocalAccount,
        confirmations: int = 1,
        backoff_max_s: float = 10.0,
        broadcast: Callable[[bytes], Any] | None = None,
        batch_size: int = 100,
    ) -> None:
        self.store = store
        self.w3 = w3
        self.contract = contract
        self.account = account
        self.confirmations = max(1, confirmations)
        self.backoff_max_s = backoff_max_s
        self.batch_size = max(1, batch_size)
        self.errors = ErrorDecoder([dict(entry) for entry in contract.abi])
        self._broadcast = broadcast or self.w3.eth.send_raw_transaction
        self._next_nonce: int | None = None
        self._chain_id_cache: int | None = None
        self._pass_fees: TxParams | None = None
        self._solo: set[int] = set()  # registrations whose batch was refused: sent one by one
        self._stop = threading.Event()

    # ------------------------------------------------------------ the loop

    def run(self, poll_s: float = 0.2) -> None:
        """Works until stop(); chain outages only delay it."""
        delay = poll_s
        while not self._stop.is_set():
            try:
                busy = self.run_once()
                delay = poll_s
            except CHAIN_DOWN as err:
                log.warning("chain unreachable, retrying in %.1f s: %s", delay, err)
                self._next_nonce = None
                busy = False
                delay = min(delay * 2, self.backoff_max_s)
            if not busy:
                self._stop.wait(delay)

    def stop(self) -> None:
        self._stop.set()

    def run_once(self) -> bool:
        """One pass: reconcile sent entries, then send what can go. True if anything moved."""
        self._pass_fees = None
        moved = self._reconcile_sent()
        return self._send_pending() or moved

    def drain(self, timeout_s: float = 60.0) -> None:
        """Runs until no entry is pending or sent (for tests, benchmarks and `ipreg node outbox --wait`)."""
        deadline = time.monotonic() + timeout_s
        while self.store.outbox((OutboxState.PENDING, OutboxState.SENT), limit=1):
            if time.monotonic() > deadline:
                raise TimeoutError(f"outbox not drained within {timeout_s:.0f} s")
            if not self.run_once():
                time.sleep(0.05)

    # ------------------------------------------------------------ sent entries

    def _reconcile_sent(self) -> bool:
        moved = False
        head = self.w3.eth.block_number
        by_tx: dict[str, list[OutboxEntry]] = {}
        for entry in self.store.outbox((OutboxState.SENT,), limit=100_000):
            assert entry.tx_hash is not None
            by_tx.setdefault(entry.tx_hash, []).append(entry)
        for tx_hash, entries in by_tx.items():
            moved = self._reconcile_transaction(tx_hash, entries, head) or moved
        return moved

    def _reconcile_transaction(self, tx_hash: str, entries: list[OutboxEntry], head: int) -> bool:
        """Settles the entries one sent transaction carries (one change, or a batch of registrations)."""
        ids = [e.id for e in entries]
        try:
            receipt = self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
        except TransactionNotFound:
            receipt = None
        if receipt is not None:
            if receipt["status"] != 1 and len(entries) > 1:
                # a batch the contract refused: each registration goes alone, so only the bad one fails
                for entry in entries:
                    self.store.mark_pending(entry.id, error="its batch was refused; sent alone")
                    self._solo.add(entry.id)
                self._next_nonce = None
                return True
            if receipt["status"] != 1:
                self._settle_refusal(entries[0], self._replay_reason(entries[0], receipt["blockNumber"]))
                return True
            if head - receipt["blockNumber"] + 1 < self.confirmations:
                return False
            self.store.mark_confirmed(ids, receipt["blockNumber"])
            return True
        if self._is_known(tx_hash):
            return False  # still in the node's pool
        first = entries[0]
        assert first.nonce is not None
        if len(entries) == 1 and self._already_applied(first):
            self.store.mark_confirmed(ids, head)
        elif (
            self.w3.eth.get_transaction_count(self.account.address, "latest") <= first.nonce and first.raw_tx
        ):
            self._broadcast(first.raw_tx)  # the chain lost it (a restart): the same bytes again
        else:
            for entry in entries:
                self.store.mark_pending(entry.id, error="transaction dropped; its nonce was used by another")
            self._next_nonce = None
        return True

    def _is_known(self, tx_hash: str) -> bool:
        try:
            return self.w3.eth.get_transaction(HexBytes(tx_hash)) is not None
        except TransactionNotFound:
            return False

    def _already_applied(self, entry: OutboxEntry) -> bool:
        check = applied_check(entry)
        if check is None:
            return False
        right = self.contract.functions.rightOf(check.right_id).call()
        if right[0] < check.version:
            return False
        return right[0] > check.version or bool(
            self.contract.functions.matchesState(check.right_id, check.state).call()
        )

    # ------------------------------------------------------------ pending entries

    def _send_pending(self) -> bool:
        """Sends what can go: registrations grouped into batches, other changes one by one, and never a
        version of a right before the previous one is confirmed."""
        busy_rights = {e.right_id for e in self.store.outbox((OutboxState.SENT,), limit=100_000)}
        registrations: list[OutboxEntry] = []
        singles: list[OutboxEntry] = []
        for entry in self.store.outbox((OutboxState.PENDING,), limit=10 * self.batch_size):
            if entry.right_id in busy_rights:
                continue  # an earlier version of this right is still on its way
            busy_rights.add(entry.right_id)
            if entry.attempts and self._already_applied(entry):  # sent before: it may have landed
                self.store.mark_confirmed(entry.id, self.w3.eth.block_number)
                continue
            (registrations if entry.action == "register" else singles).append(entry)
        solo = [e for e in registrations if e.id in self._solo]
        registrations = [e for e in registrations if e.id not in self._solo]
        for start in range(0, len(registrations), self.batch_size):
            self._send_batch(registrations[start : start + self.batch_size])
        singles = solo + singles
        for entry in singles:
            self._send([entry], entry.action, decode_args(entry.payload["args"]))
            self._solo.discard(entry.id)
        return bool(registrations or singles)

    def _send_batch(self, entries: list[OutboxEntry]) -> None:
        if len(entries) == 1:
            self._send(entries, "register", decode_args(entries[0].payload["args"]))
            return
        batch = [decode_args(e.payload["args"])[0] for e in entries]
        self._send(entries, "registerBatch", (batch,))

    def _send(self, entries: list[OutboxEntry], action: str, args: tuple[Any, ...]) -> None:
        """Signs, records and broadcasts one transaction for `entries`.

        Nothing is executed first (no eth_estimateGas, no eth_call): on a chain that runs the EVM slowly that
        would double the chain's work per change. The gas limit comes from GAS_LIMITS, and a refusal shows
        as a failed receipt, whose reason `_reconcile_transaction` decodes by replaying the call.
        """
        if action not in ACTIONS:
            for entry in entries:
                self.store.mark_failed(entry.id, f"unknown action {action!r}")
            return
        call = getattr(self.contract.functions, action)(*args)
        tx: TxParams = {"from": self.account.address, "chainId": self._chain_id(), **self._fees()}
        tx["gas"] = gas_limit(action, len(entries))
        tx["nonce"] = Nonce(self._take_nonce())
        signed = self.account.sign_transaction(call.build_transaction(tx))
        tx_hash = "0x" + bytes(signed.hash).hex()
        ids = [e.id for e in entries]
        self.store.mark_sent(ids, tx_hash, tx["nonce"], raw_tx=bytes(signed.raw_transaction))
        try:
            self._broadcast(bytes(signed.raw_transaction))
        except Web3Exception as err:
            # the node refused the bytes (nonce too low: another process took it); sign again next pass
            for entry_id in ids:
                self.store.mark_pending(entry_id, error=f"broadcast refused: {err}")
            self._next_nonce = None

    def _chain_id(self) -> int:
        if self._chain_id_cache is None:
            self._chain_id_cache = int(self.w3.eth.chain_id)
        return self._chain_id_cache

    def _fees(self) -> TxParams:
        """The chain's fee fields, asked once per pass rather than once per transaction."""
        if self._pass_fees is None:
            self._pass_fees = fee_fields(self.w3)
        return self._pass_fees

    def _take_nonce(self) -> int:
        """The next nonce: counted locally once known, asked of the chain (pending count) after a start, an
        outage or a dropped transaction, when another process may have used some."""
        if self._next_nonce is None:
            self._next_nonce = int(self.w3.eth.get_transaction_count(self.account.address, "pending"))
        nonce = self._next_nonce
        self._next_nonce = nonce + 1
        return nonce

    def _settle_refusal(self, entry: OutboxEntry, reason: RevertReason) -> None:
        """A refusal is final, unless it only says the change is already there (a replay)."""
        replay = reason.name in ("RightsRegistryVersionMismatch", "RightsRegistryAlreadyRegistered")
        if replay and self._already_applied(entry):
            self.store.mark_confirmed(entry.id, self.w3.eth.block_number)
        else:
            self.store.mark_failed(entry.id, str(reason))

    def _replay_reason(self, entry: OutboxEntry, block_number: int) -> RevertReason:
        call = getattr(self.contract.functions, entry.action)(*decode_args(entry.payload["args"]))
        try:
            call.call({"from": self.account.address}, block_identifier=block_number - 1)
        except (ContractCustomError, ContractLogicError, ContractPanicError) as err:
            return self.errors.decode(_revert_data(err))
        return RevertReason("Reverted", {"blockNumber": block_number})
