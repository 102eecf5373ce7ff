"""The chain's validator set follows the consortium, without an operator's step.

OfficeRegistry says who the validators should be: the validator of every active office. Clique says who
they are (`clique_getSigners`), and changes them only by the votes of more than half of them
(`clique_propose`, cast as each validator seals). So every office's node, in a loop, compares the two at
its own validator and proposes the difference there: an office admitted or reinstated is voted in, a
suspended one voted out, a validator an office replaced voted out for the new one. Once more than half of
the offices' nodes have done so, the set has changed; a proposal already carried out is ignored by geth.

Votes go to the office's own validator only (its `rpc_url`), never to a failover node: a vote is that
validator's. The node acts only when every active office has named its validator, so a consortium still
being set up never votes its founders' validators out. On a chain that is not Clique (a single-process
development chain) there is nothing to follow, and the loop ends.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, cast

from web3 import Web3
from web3.contract import Contract

from registry_node.protocol.chain import CHAIN_DOWN
from registry_node.protocol.contract import OfficeView

log = logging.getLogger(__name__)

POLL_S = 2.0


@dataclass(frozen=True)
class Vote:
    validator: str
    authorize: bool  # True: in; False: out


class NotClique(Exception):
    """The chain node does not speak Clique: there is no validator set to follow."""


def wanted_validators(contract: Contract) -> set[str] | None:
    """The validators of the active offices, lower-case; None while an active office has not named one."""
    wanted: set[str] = set()
    for code in contract.functions.officeCodes().call():
        view = OfficeView.from_call(contract.functions.office(code).call())
        if not view.active:
            continue
        if view.validator is None:
            return None
        wanted.add(view.validator.lower())
    return wanted


def _rpc(own: Web3, method: str, params: list[Any]) -> Any:
    answer = cast(Any, own.provider).make_request(method, params)
    if "error" in answer:
        raise NotClique(f"{method}: {answer['error'].get('message')}")
    return answer.get("result")


def votes_needed(wanted: set[str], signers: set[str]) -> list[Vote]:
    """The proposals that bring `signers` to `wanted`: additions first, so the set never shrinks first."""
    return [Vote(v, True) for v in sorted(wanted - signers)] + [
        Vote(v, False) for v in sorted(signers - wanted)
    ]


class ValidatorFollower:
    """Proposes, at the office's own validator (`own`), the votes that bring Clique's signers to the
    contract's active offices' validators (`contract`, read through any node)."""

    def __init__(self, contract: Contract, own: Web3, poll_s: float = POLL_S) -> None:
        self.contract = contract
        self.own = own
        self.poll_s = poll_s
        self._stop = threading.Event()

    def step(self) -> list[Vote]:
        """One comparison; the votes proposed. NotClique on a chain without Clique."""
        signers = {str(s).lower() for s in _rpc(self.own, "clique_getSigners", ["latest"]) or []}
        wanted = wanted_validators(self.contract)
        if wanted is None:
            return []
        votes = votes_needed(wanted, signers)
        for vote in votes:
            _rpc(self.own, "clique_propose", [Web3.to_checksum_address(vote.validator), vote.authorize])
        # a proposal already carried out is dropped, so that it cannot undo a later change
        for address in _rpc(self.own, "clique_proposals", []) or {}:
            if (address.lower() in signers) == (address.lower() in wanted):
                _rpc(self.own, "clique_discard", [address])
        return votes

    def run(self) -> None:
        """Follows until stop(); a chain that is down is waited for, a chain without Clique ends it."""
        last: list[Vote] = []
        while not self._stop.is_set():
            try:
                votes = self.step()
            except NotClique as err:
                log.info("the chain is not Clique (%s): no validator set to follow", err)
                return
            except CHAIN_DOWN:
                votes = last
            except Exception:
                log.exception("following the validator set failed; trying again")
                votes = last
            if votes != last and votes:
                log.info("proposing to our validator: %s", ", ".join(
                    f"{'add' if v.authorize else 'remove'} {v.validator}" for v in votes
                ))  # fmt: skip
            last = votes
            self._stop.wait(self.poll_s)

    def stop(self) -> None:
        self._stop.set()
