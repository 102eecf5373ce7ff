"""Puts a gateway together from its settings: the read model, the chain, offices' deep links, the
verifier and signer, the API and the indexer.

A gateway runs in one of two shapes. `ipreg gateway run` is one process: the API and the indexer share the
read model, and a verification takes the head from the indexer's memory (`build`). For a consortium,
`ipreg gateway index` runs the indexer alone (`build_indexer`) and `ipreg gateway serve --workers N` runs N
API processes (`build_api`) that hold no state of their own: they read the indexer's head from the read
model, and each keeps its own per-block chain-read cache.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from sqlalchemy.engine import Engine
from web3 import Web3

from gateway.api.app import create_app
from gateway.deep_links import OfficeDocuments
from gateway.endpoint_policy import EndpointPolicy
from gateway.read_model.db import open_database
from gateway.read_model.indexer import Indexer
from gateway.read_model.queries import Index
from gateway.services import Services
from gateway.settings import GatewaySettings
from gateway.validators import ValidatorsView
from gateway.verify.chain_reads import ChainReader
from gateway.verify.signer import GatewaySigner
from gateway.verify.verifier import Verifier
from registry_node.protocol.chain import ConfirmationDepth, web3_for
from registry_node.protocol.contract import load_artifact
from registry_node.protocol.errors import ConfigError

RPC_TIMEOUT_S = 30
HEAD_FROM_READ_MODEL_TTL_S = 0.5  # an API worker re-reads the indexer's head at most this often


def open_signer(settings: GatewaySettings) -> GatewaySigner:
    """The gateway's signing key, opened with the password of its settings (file or environment)."""
    password = settings.signing_key_password()
    if password is None:
        raise ConfigError(
            "signing_key", "no password: set IPREG_GATEWAY_PASSWORD or password_file in gateway.toml"
        )
    return GatewaySigner.open(settings.signing_key, password)


def _depth(settings: GatewaySettings) -> int | ConfirmationDepth:
    """Blocks behind the head, or the depth a majority of the validators has sealed (read from the chain)."""
    depth = settings.confirmations
    return depth if isinstance(depth, int) else ConfirmationDepth("majority")


def _documents(settings: GatewaySettings) -> OfficeDocuments:
    return OfficeDocuments(
        timeout_s=settings.fetch_timeout_s,
        max_bytes=settings.fetch_max_bytes,
        policy=EndpointPolicy(allow_private=settings.deep_links_allow_private),
    )


def build_api(
    settings: GatewaySettings,
    signer: GatewaySigner,
    engine: Engine | None = None,
    known_head: Callable[[], int | None] | None = None,
) -> FastAPI:
    """The API app. `engine`: the read model (None opens it without migrating: an API worker's indexer
    migrates). `known_head`: where the indexer's last head comes from (None: the read model, re-read at
    most every HEAD_FROM_READ_MODEL_TTL_S). Nothing is asked of the chain here, so the gateway starts (and
    serves its index) while the chain is down."""
    address = settings.require_contract()
    engine = engine if engine is not None else open_database(settings.database_url, migrating=False)
    abi = load_artifact().abi
    api_w3 = web3_for(settings.chain_urls, RPC_TIMEOUT_S)
    api_contract = api_w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi)
    index = Index(engine)

    def locate(digest: bytes) -> list[dict[str, Any]]:
        return index.document(digest.hex())

    verifier = Verifier(
        ChainReader(api_w3, api_contract, start_block=settings.start_block),
        _documents(settings),
        confirmations=_depth(settings),
        locate=locate,
        known_head=known_head or HeadFromReadModel(index),
    )
    services = Services(
        settings=settings,
        engine=engine,
        w3=api_w3,
        contract=api_contract,
        index=index,
        verifier=verifier,
        validators=ValidatorsView(api_contract, api_w3, settings.chain_urls),
        signer=signer,
    )
    return create_app(services)


def build_indexer(settings: GatewaySettings, engine: Engine | None = None) -> Indexer:
    """The indexer of the read model (opened and migrated when `engine` is None), on its own chain
    connection."""
    address = settings.require_contract()
    engine = engine if engine is not None else open_database(settings.database_url)
    indexer_w3 = web3_for(settings.chain_urls, RPC_TIMEOUT_S)
    return Indexer(
        engine,
        indexer_w3,
        indexer_w3.eth.contract(address=Web3.to_checksum_address(address), abi=load_artifact().abi),
        _documents(settings),
        confirmations=_depth(settings),
        start_block=settings.start_block,
        poll_interval_s=settings.poll_interval_s,
    )


def build(
    settings: GatewaySettings, signer: GatewaySigner | None = None, engine: Engine | None = None
) -> tuple[FastAPI, Indexer]:
    """The API app and the indexer of one single-process gateway, sharing one read model; a verification
    takes the head from the indexer's memory. `signer`: the gateway's key, opened by the caller (it needs
    the password); None opens it from the settings. `engine`: the read model (None opens and migrates it)."""
    engine = engine if engine is not None else open_database(settings.database_url)
    indexer = build_indexer(settings, engine)

    def known_head() -> int | None:
        """The head this gateway's indexer last saw, from memory (None before its first pass: then the
        verification asks the chain)."""
        return indexer.head_seen

    app = build_api(settings, signer or open_signer(settings), engine, known_head)
    return app, indexer


class HeadFromReadModel:
    """The head the indexer last recorded in the read model, re-read at most every `ttl_s`: an API worker's
    `known_head`, since the indexer runs in another process."""

    def __init__(self, index: Index, ttl_s: float = HEAD_FROM_READ_MODEL_TTL_S) -> None:
        self.index = index
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._read_at = float("-inf")
        self._head: int | None = None

    def __call__(self) -> int | None:
        now = time.monotonic()
        if now - self._read_at >= self.ttl_s:
            with self._lock:
                if now - self._read_at >= self.ttl_s:
                    self._head = self.index.status(0).head_block
                    self._read_at = now
        return self._head
