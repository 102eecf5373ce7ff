"""Reading a right's on-chain state, to show an operator whether the chain has caught up with the store.

The API takes any `ChainView`, so tests and tools can pass the real contract or a stand-in; it only reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from web3.contract import Contract
from web3.exceptions import Web3Exception

from registry_node.protocol.chain import CHAIN_DOWN, ChainError
from registry_node.protocol.contract import RightState
from registry_node.protocol.records import chain_right_id


@dataclass(frozen=True)
class OnChainRight:
    """The right as the contract holds it: its version (0 if unknown there) and whether `state` is its
    current state."""

    version: int
    state_matches: bool


class ChainView(Protocol):
    def right(self, right_id: str, state: RightState) -> OnChainRight:
        """The right's on-chain version and whether `state` is its current state; ChainError when the
        chain cannot be asked."""
        ...


class ContractChainView:
    """A ChainView over the deployed SharedIPRegistry."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract

    def right(self, right_id: str, state: RightState) -> OnChainRight:
        rid = chain_right_id(right_id)
        try:
            version = int(self.contract.functions.rightOf(rid).call()[0])
            matches = bool(version) and bool(
                self.contract.functions.matchesState(rid, state.as_tuple()).call()
            )
        except (*CHAIN_DOWN, Web3Exception) as err:
            raise ChainError(f"the chain did not answer: {type(err).__name__}") from None
        return OnChainRight(version, matches)
