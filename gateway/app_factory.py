"""Puts a gateway together from its settings: the read model, the chain, offices' deep links, the
verifier and signer, the API and the indexer. `ipreg gateway run` serves the app and runs the indexer."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
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


def build(settings: GatewaySettings, signer: GatewaySigner | None = None) -> tuple[FastAPI, Indexer]:
    """The API app and the indexer of one gateway, sharing one read model. Nothing is asked of the chain
    here, so the gateway starts (and serves its index) while the chain is down. `signer`: the gateway's
    key, opened by the caller (it needs the password); None opens it from the settings."""
    address = settings.require_contract()
    engine = open_database(settings.database_url)
    abi = load_artifact().abi
    documents = OfficeDocuments(
        timeout_s=settings.fetch_timeout_s,
        max_bytes=settings.fetch_max_bytes,
        policy=EndpointPolicy(allow_private=settings.deep_links_allow_private),
    )

    def web3() -> Web3:
        return web3_for(settings.chain_urls, RPC_TIMEOUT_S)

    # blocks behind the head, or the depth a majority of the validators has sealed (read from the chain)
    depth = (
        settings.confirmations if isinstance(settings.confirmations, int) else ConfirmationDepth("majority")
    )
    api_w3 = web3()
    api_contract = api_w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi)
    index = Index(engine)
    if signer is None:
        password = settings.signing_key_password()
        if password is None:
            raise ConfigError(
                "signing_key", "no password: set IPREG_GATEWAY_PASSWORD or password_file in gateway.toml"
            )
        signer = GatewaySigner.open(settings.signing_key, password)
    indexer_w3 = web3()  # its own connection: the indexer runs in its own thread
    indexer = Indexer(
        engine,
        indexer_w3,
        indexer_w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi),
        documents,
        confirmations=depth,
        start_block=settings.start_block,
        poll_interval_s=settings.poll_interval_s,
    )

    def known_head() -> int | None:
        """The head this gateway's indexer last saw, from memory (None before its first pass: then the
        verification asks the chain)."""
        return indexer.head_seen

    def locate(digest: bytes) -> list[dict[str, Any]]:
        return index.document(digest.hex())

    verifier = Verifier(
        ChainReader(api_w3, api_contract, start_block=settings.start_block),
        documents,
        confirmations=depth,
        locate=locate,
        known_head=known_head,
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
    return create_app(services), indexer
