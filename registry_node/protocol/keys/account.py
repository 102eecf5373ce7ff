"""What signs an office's transactions: an Ethereum account, in a keystore file or in a PKCS#11 token."""

from __future__ import annotations

from typing import Any, Protocol

from eth_account.datastructures import SignedTransaction


class TransactionSigner(Protocol):
    """The office's transaction account as the node uses it: eth-account's LocalAccount is one,
    `pkcs11.TokenAccount` another."""

    @property
    def address(self) -> Any: ...

    def sign_transaction(self, transaction_dict: Any) -> SignedTransaction: ...
