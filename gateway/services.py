"""What the gateway's routes work with, built once at start-up and passed to `create_app`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from web3 import Web3
from web3.contract import Contract

from gateway.deep_links import OfficeDocuments
from gateway.read_model.queries import Index
from gateway.settings import GatewaySettings


@dataclass
class Services:
    """The gateway's parts: settings, the read model and its queries, the chain, offices' deep links, and
    the verifier and signer (built by `gateway.app_factory`; typed loosely here so this module does not
    depend on how verification is put together)."""

    settings: GatewaySettings
    engine: Engine
    w3: Web3
    contract: Contract
    index: Index
    documents: OfficeDocuments
    verifier: Any = None
    signer: Any = None
