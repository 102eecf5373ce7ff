"""Talking to any Ethereum JSON-RPC chain: connections, batched calls, and fees priced by the chain.

Gas settings come from the chain itself: EIP-1559 where blocks carry a base fee, a legacy gas price
otherwise, and zero on permissioned networks that charge nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import Timeout
from web3 import Web3
from web3.exceptions import Web3Exception
from web3.types import TxParams, Wei

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


def connect(rpc_url: str, timeout_s: float = 30.0) -> Web3:
    """A web3 connection to `rpc_url`, checked to answer; raises ChainError with the URL otherwise."""
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout_s}))
    try:
        w3.eth.chain_id  # noqa: B018 - the first call proves the node answers
    except Exception as err:
        raise ChainError(f"no Ethereum JSON-RPC node answers at {rpc_url}: {err}") from None
    return w3
