"""A new API process warms up before it takes requests (gateway/warm_up.py), on a real chain and a real read
model: afterwards the first verification of a recently changed right asks the chain for nothing."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3
from web3.types import RPCEndpoint, RPCResponse

from gateway.deep_links import OfficeDocuments
from gateway.endpoint_policy import EndpointPolicy
from gateway.read_model.db import open_database
from gateway.read_model.indexer import Indexer
from gateway.read_model.queries import Index
from gateway.services import Services
from gateway.settings import GatewaySettings
from gateway.validators import ValidatorsView
from gateway.verify.chain_reads import ChainReader
from gateway.verify.verifier import Verifier
from gateway.warm_up import warm_up
from registry_node.devnet.ganache import free_port
from registry_node.protocol.contract import load_artifact
from tests.gateway.conftest import Registry
from tests.gateway.test_indexer import life

CHAIN_READS = {"eth_call", "eth_getProof", "eth_getStorageAt", "eth_getBlockByNumber", "eth_getLogs"}


class CountingProvider(Web3.HTTPProvider):
    """The chain connection, counting what it asks."""

    def __init__(self, url: str) -> None:
        super().__init__(url, request_kwargs={"timeout": 5})
        self.asked: Counter[str] = Counter()

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        self.asked[method] += 1
        return super().make_request(method, params)


def services_on(registry: Registry, tmp: Path, rpc_url: str, documents: OfficeDocuments) -> Services:
    """The API's services over a read model of `registry` indexed up to now, reading the chain at `rpc_url`
    (which may be one that does not answer)."""
    settings = GatewaySettings(
        data_dir=tmp, rpc_url=rpc_url, contract_address=registry.contract.address, confirmations=0
    )
    engine = open_database(settings.database_url)
    abi = load_artifact().abi
    indexer_w3 = Web3(Web3.HTTPProvider(registry.rpc_url))
    indexer = Indexer(
        engine, indexer_w3, indexer_w3.eth.contract(address=registry.contract.address, abi=abi), documents,
        confirmations=0,
    )  # fmt: skip
    indexer.run_once()
    indexer.enrich_once()
    w3 = Web3(CountingProvider(rpc_url))
    contract = w3.eth.contract(address=registry.contract.address, abi=abi)
    verifier = Verifier(ChainReader(w3, contract), documents, confirmations=0)
    validators = ValidatorsView(contract, w3, [rpc_url])
    return Services(settings, engine, w3, contract, Index(engine), verifier, validators)


@pytest.fixture
def documents() -> Any:
    fetcher = OfficeDocuments(timeout_s=2, policy=EndpointPolicy(allow_private=True))
    yield fetcher
    fetcher.close()


def test_after_warm_up_a_recent_right_is_verified_without_reading_the_chain(
    registry: Registry, tmp_path: Path, documents: OfficeDocuments
) -> None:
    rights = [life(registry), life(registry, "GB"), life(registry)]
    services = services_on(registry, tmp_path, registry.rpc_url, documents)
    provider = services.w3.provider
    assert isinstance(provider, CountingProvider)

    done = warm_up(services, rights=2)

    assert done.finished and done.rights == 2 and done.failed == 0
    assert done.connections == services.engine.pool.size()  # type: ignore[attr-defined]
    warmed = services.index.recently_changed(2)
    assert warmed == [rights[2], rights[1]]  # the last changed first
    provider.asked.clear()
    assert services.verifier.verify_right(warmed[0]).verdict == "authentic-current"
    assert not CHAIN_READS & set(provider.asked), provider.asked  # from the per-block cache
    assert services.verifier.verify_right(rights[0]).verdict == "authentic-current"
    assert CHAIN_READS & set(provider.asked)  # not warmed: read from the chain on first sight


def test_a_chain_that_does_not_answer_does_not_stop_the_start(
    registry: Registry, tmp_path: Path, documents: OfficeDocuments
) -> None:
    life(registry)
    services = services_on(registry, tmp_path, f"http://127.0.0.1:{free_port()}", documents)

    done = warm_up(services, rights=3, budget_s=20)

    assert done.finished and done.rights == 1 and done.failed == 1  # the first failed: the others not tried
    assert done.connections == services.engine.pool.size()  # type: ignore[attr-defined]
