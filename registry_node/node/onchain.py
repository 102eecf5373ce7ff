"""Reading a right's on-chain state, to show an operator whether the chain has caught up with the store.

The API takes any `ChainView`, so tests and tools can pass the real contract or a stand-in; it only reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from web3.contract import Contract
from web3.exceptions import ContractLogicError, Web3Exception

from registry_node.protocol.chain import CHAIN_DOWN, ChainError
from registry_node.protocol.contract import OfficeView, RightState, office_bytes, office_code
from registry_node.protocol.records import RightKind, chain_right_id


@dataclass(frozen=True)
class OnChainRight:
    """The right as the contract holds it: its version (0 if unknown there) and whether `state` is its
    current state."""

    version: int
    state_matches: bool


@dataclass(frozen=True)
class OnChainEntry:
    """An entry's slot as the contract keeps it: version (0: not registered), office (for a designation at
    version 0: the office it is reserved for; empty: nothing there) and kind."""

    version: int
    office: str
    kind: RightKind | None


class ChainView(Protocol):
    def right(self, right_id: str, state: RightState) -> OnChainRight:
        """The right's on-chain version and whether `state` is its current state; ChainError when the
        chain cannot be asked."""
        ...

    def entry(self, right_id: str) -> OnChainEntry:
        """The entry's slot (a right's, or a designation's); ChainError when the chain cannot be asked."""
        ...

    def office_status(self, code: str) -> str:
        """The office's standing in the consortium: active, suspended, or none (not a member); ChainError
        when the chain cannot be asked."""
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

    def entry(self, right_id: str) -> OnChainEntry:
        try:
            version, office, kind, *_ = self.contract.functions.rightOf(chain_right_id(right_id)).call()
        except (*CHAIN_DOWN, Web3Exception) as err:
            raise ChainError(f"the chain did not answer: {type(err).__name__}") from None
        code = office_code(office) if any(office) else ""
        kinds = list(RightKind)
        return OnChainEntry(int(version), code, kinds[int(kind)] if code and int(kind) < len(kinds) else None)

    def office_status(self, code: str) -> str:
        try:
            raw = self.contract.functions.office(office_bytes(code)).call()
        except ContractLogicError:  # the registry refuses to describe an office it does not know
            return "none"
        except (*CHAIN_DOWN, Web3Exception) as err:
            raise ChainError(f"the chain did not answer: {type(err).__name__}") from None
        return OfficeView.from_call(raw).status
