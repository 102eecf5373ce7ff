"""Talking to any Ethereum JSON-RPC chain: transactions signed locally and sent raw, fees from the chain.

Gas settings come from the chain itself: EIP-1559 where blocks carry a base fee, a legacy gas price
otherwise, and zero on permissioned networks that charge nothing. Reverts are decoded from the contract's
custom errors so a refused change says which rule it broke, with the offending values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_typing import ABIError
from eth_utils.abi import function_abi_to_4byte_selector
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError, ContractPanicError, Web3Exception
from web3.types import Nonce, TxParams, TxReceipt, Wei

from registry_node.errors import RegistryError

GAS_MARGIN = 1.25
RECEIPT_TIMEOUT_S = 120.0
DEFAULT_PRIORITY_FEE_WEI = 1_000_000_000


class ChainError(RegistryError):
    """The chain could not be reached or did not answer as a chain should."""


@dataclass(frozen=True)
class RevertReason:
    """A contract refusal: the custom error's name and its arguments, or a plain message."""

    name: str
    args: dict[str, Any]

    def __str__(self) -> str:
        shown = ", ".join(f"{k}={_show(v)}" for k, v in self.args.items())
        return f"{self.name}({shown})"


class TransactionReverted(RegistryError):
    """The contract refused the transaction; `reason` names the rule and the values that broke it."""

    def __init__(self, reason: RevertReason, tx_hash: str | None = None) -> None:
        where = f" (transaction {tx_hash})" if tx_hash else ""
        super().__init__(f"refused by the contract: {reason}{where}")
        self.reason = reason
        self.tx_hash = tx_hash


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        text = value.rstrip(b"\0")
        if text and all(0x20 <= b < 0x7F for b in text) and len(value) <= 16:
            return repr(text.decode("ascii"))
        return "0x" + value.hex()
    return repr(value)


class ErrorDecoder:
    """Maps revert data to the contract's custom errors."""

    def __init__(self, abi: list[dict[str, Any]]) -> None:
        self._errors: dict[bytes, dict[str, Any]] = {
            bytes(function_abi_to_4byte_selector(cast(ABIError, entry))): entry
            for entry in abi
            if entry.get("type") == "error"
        }

    def decode(self, data: bytes | str | None) -> RevertReason:
        raw = bytes(HexBytes(data)) if data else b""
        entry = self._errors.get(raw[:4])
        if entry is None:
            return RevertReason("Reverted", {"data": "0x" + raw.hex()} if raw else {})
        types = [_abi_type(i) for i in entry["inputs"]]
        values = abi_decode(types, raw[4:])
        return RevertReason(
            entry["name"], {i["name"]: v for i, v in zip(entry["inputs"], values, strict=True)}
        )


def _abi_type(param: dict[str, Any]) -> str:
    if param["type"].startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in param["components"])
        return f"({inner}){param['type'][5:]}"
    return str(param["type"])


class CallEncoder:
    """Calldata of a contract's functions, encoded straight from its ABI.

    web3's `build_transaction` spends about 3 ms per call finding and validating the function; a worker
    that signs every accepted change cannot afford that, so it encodes with eth_abi directly.
    """

    def __init__(self, abi: list[dict[str, Any]]) -> None:
        self._functions: dict[str, tuple[bytes, list[str]]] = {}
        for entry in abi:
            if entry.get("type") == "function":
                selector = bytes(function_abi_to_4byte_selector(cast(Any, entry)))
                self._functions[entry["name"]] = (selector, [_abi_type(i) for i in entry["inputs"]])

    def encode(self, function: str, args: tuple[Any, ...] | list[Any]) -> bytes:
        selector, types = self._functions[function]
        return selector + abi_encode(types, list(args))


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


class Transactor:
    """Signs transactions with a local key and sends them raw; never uses a node's unlocked accounts."""

    def __init__(self, w3: Web3, account: LocalAccount, abi: list[dict[str, Any]]) -> None:
        self.w3 = w3
        self.account = account
        self.errors = ErrorDecoder(abi)
        self.chain_id = w3.eth.chain_id

    @property
    def address(self) -> str:
        return str(self.account.address)

    def send(self, call: ContractFunction | ContractConstructor, nonce: int | None = None) -> TxReceipt:
        """Sends `call` and waits for its receipt; raises TransactionReverted if the contract refuses it."""
        tx: TxParams = {"from": self.account.address, "chainId": self.chain_id}
        tx.update(fee_fields(self.w3))
        tx["nonce"] = Nonce(
            nonce if nonce is not None else self.w3.eth.get_transaction_count(self.account.address, "pending")
        )
        try:
            estimate = call.estimate_gas(tx)
        except (ContractCustomError, ContractLogicError, ContractPanicError) as err:
            raise TransactionReverted(self.errors.decode(_revert_data(err))) from None
        tx["gas"] = int(estimate * GAS_MARGIN)
        built = call.build_transaction(tx)
        signed = self.account.sign_transaction(cast(dict[str, Any], built))
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT_S)
        if receipt["status"] != 1:
            raise TransactionReverted(self._replay_reason(built, receipt), tx_hash.to_0x_hex())
        return receipt

    def _replay_reason(self, tx: TxParams, receipt: TxReceipt) -> RevertReason:
        """Re-runs a mined, failed transaction as a call at its block to learn why it reverted."""
        call: TxParams = {k: v for k, v in tx.items() if k in ("from", "to", "data", "value", "gas")}  # type: ignore[assignment]
        try:
            self.w3.eth.call(call, receipt["blockNumber"] - 1)
        except (ContractCustomError, ContractLogicError, ContractPanicError) as err:
            return self.errors.decode(_revert_data(err))
        return RevertReason("Reverted", {"gasUsed": receipt["gasUsed"]})


def _revert_data(err: Exception) -> bytes | str | None:
    """The revert data web3 attached to `err`: a hex string, or a node's error object holding it (ganache
    puts it under `result`, geth-style nodes under `data`)."""
    data = getattr(err, "data", None)
    if isinstance(data, dict):
        data = data.get("data") or data.get("result")
    return data if isinstance(data, bytes | str) else None


def connect(rpc_url: str, timeout_s: float = 30.0) -> Web3:
    """A web3 connection to `rpc_url`, checked to answer; raises ChainError with the URL otherwise."""
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout_s}))
    try:
        w3.eth.chain_id  # noqa: B018 - the first call proves the node answers
    except Exception as err:
        raise ChainError(f"no Ethereum JSON-RPC node answers at {rpc_url}: {err}") from None
    return w3
