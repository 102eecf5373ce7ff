"""Real chains for tests: ganache on free loopback ports, a deployed three-office consortium.

Shared by the node's and the gateway's tests (import `tests.support.chain`). Readiness is checked by asking
the chain for its id, never by sleeping a fixed time. Ports come from
`registry_node.devnet.ganache.free_port`: outside the ephemeral range, and never handed out twice.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from registry_node.devnet.ganache import Ganache, free_port, ganache_executable
from registry_node.node.consortium import ConsortiumConfig, FoundingOffice, deploy_consortium
from registry_node.node.transactor import Transactor
from registry_node.protocol.chain import connect
from registry_node.protocol.contract import load_artifact
from registry_node.protocol.deployment import Deployment

READY_TIMEOUT_S = 60.0
OFFICES = {
    "EP": ("European Patent Office", "https://ep.example/registry"),
    "GB": ("UK Intellectual Property Office", "https://gb.example/registry"),
    "KR": ("Korean Intellectual Property Office", "https://kr.example/registry"),
}
BUREAU = {"WO": ("WIPO International Bureau", "https://wo.example/registry")}  # joins where a test asks
VOTING_PERIOD_DAYS = 7


def wait_for_rpc(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout_s: float = READY_TIMEOUT_S
) -> None:
    """Returns once the JSON-RPC node at `url` answers eth_chainId; fails if its process exits first."""
    deadline = time.monotonic() + timeout_s
    request = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"ganache exited with code {process.returncode}: {log.read_text('utf-8', 'replace')}")
        try:
            if "result" in requests.post(url, json=request, timeout=2).json():
                return
        except (requests.RequestException, ValueError):
            time.sleep(0.05)  # not listening yet: poll again
    pytest.fail(f"no JSON-RPC answer at {url} within {timeout_s:.0f} s")


def stop_process(process: subprocess.Popen[Any]) -> None:
    """Terminates a process we started (by its id), killing it if it does not stop in time."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class GanacheFactory:
    """Starts `registry_node.devnet.ganache.Ganache` chains on free ports; stops every one of them at
    teardown."""

    def __init__(self, base_dir: Path) -> None:
        self._base_dir = base_dir
        self._chains: list[Ganache] = []

    def __call__(self, keys: list[str], data_dir: Path | None = None, port: int | None = None) -> Ganache:
        chain = Ganache(
            data_dir=data_dir or self._base_dir / f"chain-{len(self._chains)}",
            port=port or free_port(),
            funded_accounts=keys,
        )
        self._chains.append(chain)
        return chain.start()

    def stop_all(self) -> None:
        for chain in self._chains:
            chain.stop()


class RawGanacheFactory:
    """Starts ganache directly with extra command-line options (e.g. a pre-London hardfork)."""

    def __init__(self, base_dir: Path) -> None:
        self._base_dir = base_dir
        self._processes: list[subprocess.Popen[bytes]] = []

    def __call__(self, accounts: list[tuple[str, int]], *options: str) -> str:
        """Starts a chain funding each (private key, balance in wei); returns its RPC URL once it answers."""
        index = len(self._processes)
        data_dir = self._base_dir / f"raw-chain-{index}"
        data_dir.mkdir(parents=True)
        port = free_port()
        command = [
            str(ganache_executable()),
            "--server.host", "127.0.0.1",
            "--server.port", str(port),
            "--database.dbPath", str(data_dir),
            "--logging.quiet",
            *options,
        ]  # fmt: skip
        for key, balance in accounts:
            command += ["--wallet.accounts", f"{key},{hex(balance)}"]
        log = self._base_dir / f"raw-chain-{index}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        self._processes.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_for_rpc(url, process, log)
        return url

    def stop_all(self) -> None:
        for process in self._processes:
            stop_process(process)


class Consortium(NamedTuple):
    """A three-office consortium deployed on a running chain."""

    w3: Web3
    deployment: Deployment
    contract: Contract
    offices: dict[str, LocalAccount]
    transactors: dict[str, Transactor]
    deployer: LocalAccount
    config: ConsortiumConfig
    chain: Ganache


def consortium_config(offices: dict[str, LocalAccount]) -> ConsortiumConfig:
    known = OFFICES | BUREAU
    return ConsortiumConfig(
        [
            FoundingOffice(code, known[code][0], acct.address, known[code][1])
            for code, acct in offices.items()
        ],
        voting_period_s=VOTING_PERIOD_DAYS * 86_400,
    )


class FreshChain(NamedTuple):
    """A consortium of its own on a chain of its own, for tests that stop the chain or count its events."""

    w3: Web3
    contract: Contract
    offices: dict[str, LocalAccount]
    chain: Ganache


def deploy_fresh(start: GanacheFactory, codes: Sequence[str] = tuple(OFFICES)) -> FreshChain:
    """A consortium of its own (the offices `codes`, by default EP, GB and KR, and a separate deployer) on a
    chain started by `start`."""
    deployer: LocalAccount = Account.create()
    offices: dict[str, LocalAccount] = {code: Account.create() for code in codes}
    chain = start(["0x" + a.key.hex() for a in (deployer, *offices.values())])
    w3 = connect(chain.rpc_url)
    abi = load_artifact().abi
    deployment = deploy_consortium(Transactor(w3, deployer, abi), consortium_config(offices))
    return FreshChain(w3, w3.eth.contract(address=deployment.address, abi=abi), offices, chain)


def register_right(fresh: FreshChain, office: str, label: str, status: bytes = b"A4F10") -> bytes:
    """Registers a patent of `office` straight through the contract (no node); returns its chain right id."""
    right_id = bytes(Web3.keccak(text=f"{office}:PAT:{label}"))
    state = (bytes(Web3.keccak(text=f"record {label}")), bytes(Web3.keccak(text=f"owners {label}")), status)
    sender = Transactor(fresh.w3, fresh.offices[office], load_artifact().abi)
    sender.send(fresh.contract.functions.register((right_id, 0, False, state)))
    return right_id


def anchor_root(fresh: FreshChain, office: str, label: str, count: int = 3) -> bytes:
    """Anchors a made-up Merkle root for `office` straight through the contract; returns the root."""
    root = bytes(Web3.keccak(text=f"root {label}"))
    sender = Transactor(fresh.w3, fresh.offices[office], load_artifact().abi)
    sender.send(fresh.contract.functions.anchor(root, count, bytes(Web3.keccak(text=f"manifest {label}"))))
    return root
