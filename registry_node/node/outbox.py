"""The outbox worker: accepted changes reach the chain exactly once, whatever restarts in between.

Each entry is a contract call (`action` and JSON `args`, bytes as 0x-hex). The worker signs it locally,
records the transaction hash, nonce and raw bytes in the store *before* broadcasting, then confirms it by
receipt to the configured depth. After a crash it looks its SENT entries up by hash; a transaction the
chain never saw is broadcast again from the stored raw bytes while its nonce is free, and signed anew
otherwise. Before anything is sent twice the chain's own state is asked: the contract's version check
means a change already applied is recognised (its right is at that version with that state; an anchor
by its root having a block) and confirmed, never written again. A call the contract refuses is marked
failed with the decoded custom error and not retried; an unreachable chain is retried with backoff.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, cast

from eth_typing import HexStr
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    ContractPanicError,
    TransactionNotFound,
    Web3Exception,
)
from web3.types import TxParams

from registry_node.node.store import OutboxEntry, OutboxState, SentTransaction, Store
from registry_node.protocol.chain import (
    CHAIN_DOWN,
    ChainError,
    ConfirmationDepth,
    RpcAnswer,
    fee_fields,
    rpc_batch,
)
from registry_node.protocol.contract import (
    CallEncoder,
    ErrorDecoder,
    RevertReason,
    RightState,
    revert_data,
)
from registry_node.protocol.keys.account import TransactionSigner

log = logging.getLogger(__name__)

# Gas limits by action, about twice what bench/gas.py measures, so no call needs estimating first.
GAS_LIMITS = {
    "register": 120_000,
    "recordOwnershipChange": 120_000,
    "recordStatusEvent": 120_000,
    "publish": 120_000,
    "anchor": 120_000,
    "designate": 140_000,
}
GAS_PER_BATCHED_RIGHT = 45_000  # registerBatch and recordStatusEvents: per item, on top of 100,000


def gas_limit(action: str, items: int) -> int:
    if action in GAS_LIMITS:
        return GAS_LIMITS[action]
    return 100_000 + GAS_PER_BATCHED_RIGHT * items


ACTIONS = frozenset({"register", "registerBatch", "recordOwnershipChange", "recordStatusEvent",
                     "recordStatusEvents", "publish", "anchor", "designate"})  # fmt: skip


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


def _results(answers: list[RpcAnswer]) -> list[Any]:
    for answer in answers:
        if answer.error is not None:
            raise ChainError(f"the chain node refused a read: {answer.error.get('message', answer.error)}")
    return [answer.result for answer in answers]


@dataclass(frozen=True)
class AppliedCheck:
    """How to recognise on chain that an entry's change is already there: the right reached `version`
    and `state` is its state at that version."""

    right_id: bytes
    version: int
    state: RightState


def _bumped(fees: TxParams) -> TxParams:
    """Today's fees raised by an eighth, as a chain node asks of a transaction that takes a used nonce's
    place; a zero-gas network stays at zero."""
    raised: dict[str, int] = {key: int(cast(int, value)) for key, value in fees.items()}
    return cast(TxParams, {key: value + value // 8 for key, value in raised.items()})


def _call_of(entries: list[OutboxEntry]) -> tuple[str, tuple[Any, ...]]:
    """The contract call of one transaction: an entry's own call, or several registrations as one batch."""
    if len(entries) == 1:
        return entries[0].action, tuple(decode_args(entries[0].payload["args"]))
    return "registerBatch", ([decode_args(e.payload["args"])[0] for e in entries],)


def applied_check(entry: OutboxEntry) -> AppliedCheck | None:
    """The check for entries that change one right; None for anchors (`anchored`: their root decides)."""
    check = entry.payload.get("applied")
    if not check:
        return None
    state = RightState(*decode_args(check["state"]))
    return AppliedCheck(decode_args(check["rightId"]), int(check["version"]), state)


@dataclass(frozen=True)
class SignedSend:
    """A transaction signed and recorded for `entries`, ready to broadcast."""

    entries: list[OutboxEntry]
    tx_hash: str
    nonce: int
    raw_tx: bytes


class OutboxWorker:
    """Sends one office's outbox to the chain, in order, from one thread.

    A pass reconciles what was sent (one JSON-RPC batch for the head and the receipts, one store
    transaction for every entry it confirms), then signs every entry that can go, records them all in one
    store transaction and broadcasts them as one JSON-RPC batch. While `run` loops, a pass's broadcast
    goes on in the background as the next pass reconciles and signs, so the chain never waits for the
    worker; `run_once` waits for its own broadcast.
    """

    def __init__(
        self,
        store: Store,
        w3: Web3,
        contract: Contract,
        account: TransactionSigner,
        confirmations: int | ConfirmationDepth = 1,
        backoff_max_s: float = 10.0,
        broadcast: Callable[[bytes], Any] | None = None,
        batch_size: int = 100,
        max_sends: int = 100,
    ) -> None:
        self.store = store
        self.w3 = w3
        self.contract = contract
        self.account = account
        if not isinstance(confirmations, ConfirmationDepth):
            confirmations = ConfirmationDepth(max(1, confirmations))
        self.depth = confirmations
        self.backoff_max_s = backoff_max_s
        self.batch_size = max(1, batch_size)
        self.max_sends = max(1, max_sends)  # transactions signed per pass
        self.errors = ErrorDecoder([dict(entry) for entry in contract.abi])
        self.encoder = CallEncoder([dict(entry) for entry in contract.abi])
        self._transport = broadcast  # a given transport sends one transaction at a time
        self._next_nonce: int | None = None
        self._chain_id_cache: int | None = None
        self._pass_fees: TxParams | None = None
        self._solo: set[int] = set()  # registrations whose batch was refused: sent one by one
        self._stop = threading.Event()
        self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-broadcast")
        self._inflight: tuple[Future[list[tuple[SignedSend, str]]], list[SignedSend]] | None = None

    # ------------------------------------------------------------ the loop

    def run(self, poll_s: float = 0.2) -> None:
        """Works until stop(); chain outages only delay it."""
        delay = poll_s
        try:
            while not self._stop.is_set():
                try:
                    busy = self._step()
                    delay = poll_s
                except CHAIN_DOWN as err:
                    log.warning("chain unreachable, retrying in %.1f s: %s", delay, err)
                    self._next_nonce = None
                    busy = False
                    delay = min(delay * 2, self.backoff_max_s)
                if not busy:
                    self._stop.wait(delay)
        finally:
            with contextlib.suppress(*CHAIN_DOWN):
                self._finish_broadcast()

    def stop(self) -> None:
        self._stop.set()

    def run_once(self) -> bool:
        """One pass: reconcile sent entries, then sign, record and broadcast what can go. True if anything
        moved."""
        busy = self._step()
        return self._finish_broadcast() or busy

    def drain(self, timeout_s: float = 60.0) -> None:
        """Runs until no entry is pending or sent (for tests, benchmarks and `ipreg node outbox --wait`)."""
        deadline = time.monotonic() + timeout_s
        while self.store.outbox((OutboxState.PENDING, OutboxState.SENT), limit=1):
            if time.monotonic() > deadline:
                raise TimeoutError(f"outbox not drained within {timeout_s:.0f} s")
            if not self.run_once():
                time.sleep(0.05)

    def _step(self) -> bool:
        """Reconciles, signs and records the next transactions, waits for the previous broadcast (which
        ran meanwhile), then starts broadcasting the new ones."""
        self._pass_fees = None
        moved = self._reconcile_sent()
        try:
            signed = self._sign_pending()
        finally:
            moved = self._finish_broadcast() or moved
        if signed:
            self._inflight = (self._sender.submit(self._broadcast_all, signed), signed)
        return moved or bool(signed)

    # ------------------------------------------------------------ sent entries

    def _reconcile_sent(self) -> bool:
        """Settles sent transactions in two JSON-RPC round trips: the head and the account's mined nonce
        count, then the receipts of the mined ones and a look-up of the others (lost, or in the pool)."""
        sent = self.store.outbox((OutboxState.SENT,), limit=100_000)
        if not sent:
            return False
        by_tx: dict[str, list[OutboxEntry]] = {}
        for entry in sent:
            assert entry.tx_hash is not None
            by_tx.setdefault(entry.tx_hash, []).append(entry)
        head_hex, mined_hex = _results(
            rpc_batch(
                self.w3,
                [("eth_blockNumber", []), ("eth_getTransactionCount", [self.account.address, "latest"])],
            )
        )
        head, mined = int(head_hex, 16), int(mined_hex, 16)
        broadcasting = {s.tx_hash for s in self._inflight[1]} if self._inflight else set()
        # a nonce below the mined count was used: by this transaction (a receipt) or by another one
        receipts = [tx for tx, entries in by_tx.items() if (entries[0].nonce or 0) < mined]
        unmined = [
            tx for tx, entries in by_tx.items() if (entries[0].nonce or 0) >= mined and tx not in broadcasting
        ]
        answers = _results(
            rpc_batch(
                self.w3,
                [("eth_getTransactionReceipt", [tx]) for tx in receipts]
                + [("eth_getTransactionByHash", [tx]) for tx in unmined],
            )
        )
        moved = False
        confirmed: dict[int, int] = {}
        depth = self.depth.blocks(self.w3)
        for tx_hash, receipt in zip(receipts, answers[: len(receipts)], strict=True):
            entries = by_tx[tx_hash]
            if receipt is None:
                moved = self._settle_unseen(entries, head) or moved
                continue
            block, status = int(receipt["blockNumber"], 16), int(receipt["status"], 16)
            if status != 1:
                self._settle_reverted(entries, block)
                moved = True
            elif head - block + 1 >= depth:
                confirmed.update(dict.fromkeys((e.id for e in entries), block))
        # lowest nonce first: a lost transaction below others must go back to the chain before them
        lookups = sorted(
            zip(unmined, answers[len(receipts) :], strict=True), key=lambda pair: by_tx[pair[0]][0].nonce or 0
        )
        for tx_hash, pooled in lookups:
            if pooled is None:  # neither mined nor in the chain node's pool
                moved = self._settle_unseen(by_tx[tx_hash], head) or moved
        if confirmed:
            self.store.mark_confirmed_many(confirmed)
        return moved or bool(confirmed)

    def _settle_reverted(self, entries: list[OutboxEntry], block: int) -> None:
        if len(entries) > 1:
            # a batch the contract refused: each registration goes alone, so only the bad one fails
            for entry in entries:
                self.store.mark_pending(entry.id, error="its batch was refused; sent alone")
                self._solo.add(entry.id)
            self._next_nonce = None
            return
        self._settle_refusal(entries[0], self._replay_reason(entries[0], block))

    def _settle_unseen(self, entries: list[OutboxEntry], head: int) -> bool:
        """A sent transaction the chain does not know: already applied by another, lost (the chain node
        restarted: the same bytes again while the nonce is free), or replaced (its nonce used: sign anew)."""
        first = entries[0]
        assert first.nonce is not None
        ids = [e.id for e in entries]
        if len(entries) == 1 and self._already_applied(first):
            self.store.mark_confirmed(ids, head)
        elif (
            self.w3.eth.get_transaction_count(self.account.address, "latest") <= first.nonce and first.raw_tx
        ):
            try:
                self._broadcast(first.raw_tx)  # the chain lost it (a restart): the same bytes again
            except Web3Exception as err:
                if first.tx_hash is not None and self._in_pool(first.tx_hash):
                    # queued above a nonce gap (ganache 7.9.2 answers "transaction underpriced" as it
                    # queues it): it goes when the nonces below it do
                    return False
                # refused as it was (e.g. its fee cap is below today's base fee): the same call again at the
                # same nonce, with today's fees, recorded before it is sent
                log.info("re-signing lost transaction %s at nonce %d: %s", first.tx_hash, first.nonce, err)
                action, args = _call_of(entries)
                again = self._sign(entries, action, args, nonce=first.nonce)
                self.store.mark_sent_many([SentTransaction(ids, again.tx_hash, again.nonce, again.raw_tx)])
                try:
                    self._broadcast(again.raw_tx)
                except Web3Exception as refused:
                    # recorded: the next pass finds it in the pool, mined, or lost and handles it from there
                    log.info("re-signed transaction %s not taken yet: %s", again.tx_hash, refused)
        else:
            for entry in entries:
                self.store.mark_pending(entry.id, error="transaction dropped; its nonce was used by another")
            self._next_nonce = None
        return True

    def _already_applied(self, entry: OutboxEntry) -> bool:
        anchored = entry.payload.get("anchored")
        if anchored:  # an anchor is there once its root has a block number
            return bool(self.contract.functions.anchorOf(decode_args(anchored["root"])).call()[2])
        check = applied_check(entry)
        if check is None:
            return False
        right = self.contract.functions.rightOf(check.right_id).call()
        if right[0] < check.version:
            return False
        return right[0] > check.version or bool(
            self.contract.functions.matchesState(check.right_id, check.state.as_tuple()).call()
        )

    # ------------------------------------------------------------ pending entries

    def _sign_pending(self) -> list[SignedSend]:
        """Signs what can go (registrations grouped into batches, other changes one by one, never a version
        of a right before the previous one is confirmed) and records every signed transaction in one store
        transaction before any is broadcast."""
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
        groups = [
            registrations[i : i + self.batch_size] for i in range(0, len(registrations), self.batch_size)
        ]
        calls = [(group, *_call_of(group)) for group in groups + [[e] for e in solo + singles]]
        signed: list[SignedSend] = []
        try:
            for entries, action, args in calls[: self.max_sends]:
                if action not in ACTIONS:
                    for entry in entries:
                        self.store.mark_failed(entry.id, f"unknown action {action!r}")
                    continue
                signed.append(self._sign(entries, action, args))
            self.store.mark_sent_many(
                [SentTransaction([e.id for e in s.entries], s.tx_hash, s.nonce, s.raw_tx) for s in signed]
            )
        except BaseException:
            self._next_nonce = None  # the nonces taken were not recorded: count again from the chain
            raise
        for sent in signed:
            for entry in sent.entries:
                self._solo.discard(entry.id)
        return signed

    def _sign(
        self, entries: list[OutboxEntry], action: str, args: tuple[Any, ...], nonce: int | None = None
    ) -> SignedSend:
        """Signs one transaction for `entries` (at `nonce`, when one of theirs was lost, else the next).

        Nothing is executed first (no eth_estimateGas, no eth_call): on a chain that runs the EVM slowly that
        would double the chain's work per change. The gas limit comes from GAS_LIMITS, and a refusal shows
        as a failed receipt, whose reason `_settle_reverted` decodes by replaying the call.
        """
        tx: dict[str, Any] = {
            "to": self.contract.address,
            "data": self.encoder.encode(action, args),
            "value": 0,
            "chainId": self._chain_id(),
            "gas": gas_limit(action, len(entries)),
            "nonce": self._take_nonce() if nonce is None else nonce,
            **(self._fees() if nonce is None else _bumped(fee_fields(self.w3))),
        }
        signed = self.account.sign_transaction(tx)
        return SignedSend(
            entries, "0x" + bytes(signed.hash).hex(), tx["nonce"], bytes(signed.raw_transaction)
        )

    def _broadcast_all(self, signed: list[SignedSend]) -> list[tuple[SignedSend, str]]:
        """Broadcasts in nonce order, as one JSON-RPC batch; returns the transactions the chain node
        refused, with its reason. Runs on the sender thread."""
        if self._transport is not None:
            refused = []
            for send in signed:
                try:
                    self._transport(send.raw_tx)
                except Web3Exception as err:
                    refused.append((send, str(err)))
            return refused
        answers = rpc_batch(self.w3, [("eth_sendRawTransaction", ["0x" + s.raw_tx.hex()]) for s in signed])
        return [
            (s, str(a.error.get("message", a.error))) for s, a in zip(signed, answers, strict=True) if a.error
        ]

    def _finish_broadcast(self) -> bool:
        """Waits for the broadcast under way, if any; a transaction the chain node refused (nonce too low:
        another process took it) goes back to pending, to be signed again."""
        if self._inflight is None:
            return False
        future, _ = self._inflight
        self._inflight = None
        for send, reason in future.result():
            if self._in_pool(send.tx_hash):
                continue  # queued above a nonce gap (ganache still answers an error): it stays sent
            for entry in send.entries:
                self.store.mark_pending(entry.id, error=f"broadcast refused: {reason}")
            self._next_nonce = None
        return True

    def _in_pool(self, tx_hash: str) -> bool:
        """Whether the chain node holds the transaction (pending, queued or mined), whatever it answered
        when the transaction was sent."""
        try:
            self.w3.eth.get_transaction(HexStr(tx_hash))
        except TransactionNotFound:
            return False
        return True

    def _broadcast(self, raw_tx: bytes) -> None:
        if self._transport is not None:
            self._transport(raw_tx)
        else:
            self.w3.eth.send_raw_transaction(raw_tx)

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
        replay = reason.name in (
            "RightsRegistryVersionMismatch",
            "RightsRegistryAlreadyRegistered",
            "AnchorsAlreadyAnchored",
        )
        if replay and self._already_applied(entry):
            self.store.mark_confirmed(entry.id, self.w3.eth.block_number)
        else:
            self.store.mark_failed(entry.id, str(reason))

    def _replay_reason(self, entry: OutboxEntry, block_number: int) -> RevertReason:
        call = getattr(self.contract.functions, entry.action)(*decode_args(entry.payload["args"]))
        try:
            call.call({"from": self.account.address}, block_identifier=block_number - 1)
        except (ContractCustomError, ContractLogicError, ContractPanicError) as err:
            return self.errors.decode(revert_data(err))
        return RevertReason("Reverted", {"blockNumber": block_number})
