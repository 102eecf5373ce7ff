"""Talking to any Ethereum JSON-RPC chain: connections, failover, batched calls, fees priced by the chain,
and the confirmation depth a proof-of-authority network calls final.

Gas settings come from the chain itself: EIP-1559 where blocks carry a base fee, a legacy gas price
otherwise, and zero on permissioned networks that charge nothing.

Every connection reads proof-of-authority blocks (Clique, QBFT: extraData longer than 32 bytes), and may
name several chain nodes: the first is the service's own (an office's own validator), the others serve,
in order, while it is down (`FailoverProvider`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import Timeout
from web3 import HTTPProvider, Web3
from web3.exceptions import TransactionNotFound, Web3Exception
from web3.middleware import ExtraDataToPOAMiddleware
from web3.types import RPCEndpoint, RPCResponse, TxParams, TxReceipt, Wei

from registry_node.protocol.consensus.finality import majority_depth
from registry_node.protocol.errors import RegistryError

DEFAULT_PRIORITY_FEE_WEI = 1_000_000_000
# What a chain node that is down or unreachable raises: callers wait and try again rather than fail.
CHAIN_DOWN = (RequestsConnectionError, Timeout, ConnectionError, OSError)


class ChainError(RegistryError):
    """The chain could not be reached or did not answer as a chain should."""


@dataclass(frozen=True)
class RpcAnswer:
    """One answer of a JSON-RPC batch: its `result`, or the node's `error` object."""

    result: Any
    error: dict[str, Any] | None = None


def rpc_batch(w3: Web3, calls: list[tuple[str, list[Any]]]) -> list[RpcAnswer]:
    """Sends `calls` as one JSON-RPC batch (one round trip) and returns the answers in their order; a
    provider or node that cannot batch gets them one by one. Raw results, without web3's formatters."""
    if not calls:
        return []
    provider = cast(Any, w3.provider)
    answers: Any = None
    if len(calls) > 1 and hasattr(provider, "make_batch_request"):
        answers = provider.make_batch_request([(method, params) for method, params in calls])
    if not isinstance(answers, list) or len(answers) != len(calls):  # no batching here: one by one
        answers = [provider.make_request(method, params) for method, params in calls]
    return [RpcAnswer(a.get("result"), a.get("error") or None) for a in answers]


def fee_fields(w3: Web3) -> TxParams:
    """Fee fields for the next transaction, as the chain prices gas."""
    block = w3.eth.get_block("latest")
    base_fee = block.get("baseFeePerGas")
    if base_fee is None:
        return {"gasPrice": w3.eth.gas_price}
    try:
        priority = int(w3.eth.max_priority_fee)
    except (ValueError, Web3Exception):  # a node without eth_maxPriorityFeePerGas
        priority = DEFAULT_PRIORITY_FEE_WEI
    if base_fee == 0 and w3.eth.gas_price == 0:
        priority = 0  # a zero-gas permissioned network
    return {"maxFeePerGas": Wei(2 * int(base_fee) + priority), "maxPriorityFeePerGas": Wei(priority)}


PRIMARY_RETRY_S = 5.0  # after a failover, how often the first node is tried again
CONNECT_TIMEOUT_S = 2.0  # with several nodes: how long a connection attempt may take before the next node
FAILOVER_READ_TIMEOUT_S = 10.0  # with several nodes: how long an answer may take before the next node
PROBE_TIMEOUT_S = 1.0  # how long the probe of the first node, after a failover, may take


class FailoverProvider(HTTPProvider):
    """JSON-RPC over HTTP to the first of `urls` that answers. After a failover, the first node is probed
    (eth_blockNumber, PROBE_TIMEOUT_S) at most every PRIMARY_RETRY_S, and used again once it answers: a
    service goes back to its own node, and no real request waits on a node that is still down. A request
    no node answers raises the last connection error (CHAIN_DOWN), which callers wait out as before.

    Each node answers for itself: a transaction sent to one is gossiped to the others by the chain, and
    the outbox's exactly-once rests on transaction hashes and nonces, which every node agrees on."""

    def __init__(self, urls: Sequence[str], timeout_s: float = 30.0) -> None:
        if not urls:
            raise ValueError("a provider needs at least one URL")
        super().__init__(urls[0], request_kwargs={"timeout": timeout_s})
        # With other nodes, no retries inside one node (the next node is the retry) and short timeouts: a
        # node cut off from the network answers nothing, neither a new connection nor a request already
        # sent on a kept-alive one, and the service must not wait the single-node timeout before it moves
        # on. Alone: web3's retries and the caller's timeout.
        options: Any = {"request_kwargs": {"timeout": timeout_s}}
        if len(urls) > 1:
            read_s = min(FAILOVER_READ_TIMEOUT_S, timeout_s)
            options = {
                "request_kwargs": {"timeout": (min(CONNECT_TIMEOUT_S, read_s), read_s)},
                "exception_retry_configuration": None,
            }
        self._nodes = [HTTPProvider(url, **options) for url in urls]
        self._probe = HTTPProvider(
            urls[0], request_kwargs={"timeout": PROBE_TIMEOUT_S}, exception_retry_configuration=None
        )
        self.urls = tuple(urls)
        self._current = 0
        self._next_probe_at = 0.0
        self._lock = threading.Lock()
        self._chain_id_answer: RPCResponse | None = None

    @property
    def current_url(self) -> str:
        """The node that answered last."""
        return self.urls[self._current]

    def _order(self) -> list[int]:
        with self._lock:
            current = self._current
            due = current != 0 and time.monotonic() >= self._next_probe_at
            if due:  # this thread probes; the others go on with the node in use meanwhile
                self._next_probe_at = time.monotonic() + PRIMARY_RETRY_S
        if due and self._primary_answers():
            current = 0
        return [current, *(i for i in range(len(self._nodes)) if i != current)]

    def _primary_answers(self) -> bool:
        try:
            answer = self._probe.make_request(RPCEndpoint("eth_blockNumber"), [])
        except CHAIN_DOWN:
            return False
        return "result" in answer

    def _send(self, call: Callable[[HTTPProvider], Any]) -> Any:
        last: BaseException | None = None
        for index in self._order():
            try:
                answer = call(self._nodes[index])
            except CHAIN_DOWN as err:
                last = err
                continue
            with self._lock:
                if index != self._current:
                    self._current = index
                    self._next_probe_at = time.monotonic() + PRIMARY_RETRY_S
            return answer
        assert last is not None
        raise last

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        if method == "eth_chainId":
            return self._chain_id()
        return cast(RPCResponse, self._send(lambda node: node.make_request(method, params)))

    def _chain_id(self) -> RPCResponse:
        """eth_chainId, asked once: web3 asks it before every eth_call, eth_estimateGas and transaction it
        sends (to validate a chainId field), which doubled the round trips of every contract read; a
        chain's id never changes."""
        answer = self._chain_id_answer
        if answer is None:
            ask = RPCEndpoint("eth_chainId")
            answer = cast(RPCResponse, self._send(lambda node: node.make_request(ask, [])))
            if "result" in answer:
                self._chain_id_answer = answer
        return answer

    def make_batch_request(
        self, batch_requests: list[tuple[RPCEndpoint, Any]]
    ) -> list[RPCResponse] | RPCResponse:
        return cast(
            list[RPCResponse] | RPCResponse, self._send(lambda node: node.make_batch_request(batch_requests))
        )


def web3_for(urls: str | Sequence[str], timeout_s: float = 30.0) -> Web3:
    """A web3 connection to the chain nodes `urls` (the first preferred), not checked now: a service starts,
    and queues, while the chain is down. It reads proof-of-authority blocks."""
    w3 = Web3(FailoverProvider([urls] if isinstance(urls, str) else list(urls), timeout_s))
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    return w3


def connect(rpc_url: str | Sequence[str], timeout_s: float = 30.0) -> Web3:
    """A web3 connection to `rpc_url` (or the first of several that answers), checked to answer; raises
    ChainError with the URL otherwise."""
    w3 = web3_for(rpc_url, timeout_s)
    try:
        w3.eth.chain_id  # noqa: B018 - the first call proves the node answers
    except Exception as err:
        shown = rpc_url if isinstance(rpc_url, str) else ", ".join(rpc_url)
        raise ChainError(f"no Ethereum JSON-RPC node answers at {shown}: {err}") from None
    return w3


# ------------------------------------------------------------ finality on proof of authority

SIGNERS_CACHE_S = 10.0


def validator_count(w3: Web3) -> int:
    """How many validators seal this chain: Clique's signers, or 1 for a chain that is not Clique (a
    single-process development chain)."""
    try:
        answer = cast(Any, w3.provider).make_request("clique_getSigners", ["latest"])
    except CHAIN_DOWN:
        raise
    except Exception:  # a provider that rejects the method: not Clique
        return 1
    signers = answer.get("result") if isinstance(answer, dict) else None
    return len(signers) if isinstance(signers, list) and signers else 1


class ConfirmationDepth:
    """A service's confirmation depth in blocks (the block itself included): a fixed number, or
    MAJORITY, which follows the chain's validator set (read again every SIGNERS_CACHE_S)."""

    MAJORITY = "majority"

    def __init__(self, setting: int | str) -> None:
        if setting != self.MAJORITY and not (isinstance(setting, int) and setting >= 1):
            raise ValueError(f"a confirmation depth is a positive number of blocks or {self.MAJORITY!r}")
        self.setting = setting
        self._cached: tuple[float, int] | None = None

    def blocks(self, w3: Web3) -> int:
        if isinstance(self.setting, int):
            return self.setting
        now = time.monotonic()
        if self._cached is None or now - self._cached[0] >= SIGNERS_CACHE_S:
            self._cached = (now, majority_depth(validator_count(w3)))
        return self._cached[1]

    def behind_head(self, w3: Web3) -> int:
        """How many blocks behind the head the newest final block is."""
        return self.blocks(w3) - 1


def blocks_behind_head(confirmations: int | ConfirmationDepth, w3: Web3) -> int:
    """A gateway's `confirmations`: blocks behind the head (0: the head itself), or a ConfirmationDepth."""
    return confirmations if isinstance(confirmations, int) else confirmations.behind_head(w3)


FINAL_POLL_S = 0.2


def wait_final(w3: Web3, tx_hash: Any, timeout_s: float, depth: ConfirmationDepth | None = None) -> TxReceipt:
    """The transaction's receipt once its block is final (`depth`, the majority's by default) and still on
    the chain. On Clique two validators can seal the same height; the block that loses is dropped with its
    transactions, which go back to the pool and into a later block: a receipt read too early can name a
    block that no longer exists. Raises ChainError if it is not final within `timeout_s`."""
    depth = depth or ConfirmationDepth(ConfirmationDepth.MAJORITY)
    deadline = time.monotonic() + timeout_s
    while True:
        receipt = _receipt_or_none(w3, tx_hash)
        if receipt is not None:
            number = int(receipt["blockNumber"])
            if int(w3.eth.block_number) - number + 1 >= depth.blocks(w3):
                block = w3.eth.get_block(number)
                if bytes(block["hash"]) == bytes(receipt["blockHash"]):
                    return cast(TxReceipt, receipt)
        if time.monotonic() >= deadline:
            raise ChainError(f"transaction {Web3.to_hex(tx_hash)} not final within {timeout_s:.0f} s")
        time.sleep(FINAL_POLL_S)


def _receipt_or_none(w3: Web3, tx_hash: Any) -> Any:
    try:
        return w3.eth.get_transaction_receipt(tx_hash)
    except TransactionNotFound:
        return None
