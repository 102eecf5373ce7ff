"""Transactions signed with the office's own key and sent raw; never a chain node's unlocked accounts."""

from __future__ import annotations

from typing import Any, cast

from web3 import Web3
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError, ContractPanicError
from web3.types import Nonce, TxParams, TxReceipt

from registry_node.protocol.chain import fee_fields, wait_final
from registry_node.protocol.contract import ErrorDecoder, RevertReason, revert_data
from registry_node.protocol.errors import RegistryError
from registry_node.protocol.keys.account import TransactionSigner

GAS_MARGIN = 1.25
RECEIPT_TIMEOUT_S = 120.0


class TransactionReverted(RegistryError):
    """The contract refused the transaction; `reason` names the rule and the values that broke it."""

    def __init__(self, reason: RevertReason, tx_hash: str | None = None) -> None:
        where = f" (transaction {tx_hash})" if tx_hash else ""
        super().__init__(f"refused by the contract: {reason}{where}")
        self.reason = reason
        self.tx_hash = tx_hash


class Transactor:
    """Signs transactions with a local key and sends them raw; never uses a node's unlocked accounts."""

    def __init__(self, w3: Web3, account: TransactionSigner, abi: list[dict[str, Any]]) -> None:
        self.w3 = w3
        self.account = account
        self.errors = ErrorDecoder(abi)
        self.chain_id = w3.eth.chain_id

    @property
    def address(self) -> str:
        return str(self.account.address)

    def send(self, call: ContractFunction | ContractConstructor, nonce: int | None = None) -> TxReceipt:
        """Sends `call` and waits until it is final (`wait_final`); raises TransactionReverted if the contract
        refuses it."""
        tx: TxParams = {"from": self.account.address, "chainId": self.chain_id}
        tx.update(fee_fields(self.w3))
        tx["nonce"] = Nonce(
            nonce if nonce is not None else self.w3.eth.get_transaction_count(self.account.address, "pending")
        )
        try:
            estimate = call.estimate_gas(tx)
        except (ContractCustomError, ContractLogicError, ContractPanicError) as err:
            raise TransactionReverted(self.errors.decode(revert_data(err))) from None
        tx["gas"] = int(estimate * GAS_MARGIN)
        built = call.build_transaction(tx)
        signed = self.account.sign_transaction(cast(dict[str, Any], built))
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = wait_final(self.w3, tx_hash, RECEIPT_TIMEOUT_S)
        if receipt["status"] != 1:
            raise TransactionReverted(self._replay_reason(built, receipt), tx_hash.to_0x_hex())
        return receipt

    def _replay_reason(self, tx: TxParams, receipt: TxReceipt) -> RevertReason:
        """Re-runs a mined, failed transaction as a call at its block to learn why it reverted."""
        call: TxParams = {k: v for k, v in tx.items() if k in ("from", "to", "data", "value", "gas")}  # type: ignore[assignment]
        try:
            self.w3.eth.call(call, receipt["blockNumber"] - 1)
        except (ContractCustomError, ContractLogicError, ContractPanicError) as err:
            return self.errors.decode(revert_data(err))
        return RevertReason("Reverted", {"gasUsed": receipt["gasUsed"]})
