"""What the gateway's routes work with, built once at start-up and passed to `create_app`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from web3 import Web3
from web3.contract import Contract

from gateway.read_model.queries import Index
from gateway.settings import GatewaySettings
from gateway.validators import ValidatorsView
from gateway.verify.signer import GatewaySigner
from gateway.verify.verifier import Verifier


@dataclass
class Services:
    """The gateway's parts: settings, the read model and its queries, the chain, the verifier (which fetches
    from the offices' deep links) and the gateway's signing key (None: verdicts and receipts go out
    unsigned)."""

    settings: GatewaySettings
    engine: Engine
    w3: Web3
    contract: Contract
    index: Index
    verifier: Verifier
    validators: ValidatorsView
    signer: GatewaySigner | None = None
