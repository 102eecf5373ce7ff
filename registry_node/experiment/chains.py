"""The chain an experiment runs on: a fresh ganache (keeps its data dir, so it can be stopped and resumed),
a fresh hardhat node (memory only), or an existing network given by its JSON-RPC URL.

Gas settings always come from the chain (`registry_node.protocol.chain.fee_fields`); on a zero-gas network the
offices' accounts are not funded. Proof-of-authority headers (Clique, QBFT: extraData over 32 bytes) get
web3's ExtraDataToPOAMiddleware so blocks can be read.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Protocol

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.middleware import ExtraDataToPOAMiddleware

from registry_node.devnet.ganache import PROJECT_ROOT, DevChainError, Ganache, free_port
from registry_node.experiment.config import ChainConfig
from registry_node.protocol.chain import connect, fee_fields
from registry_node.protocol.errors import ConfigError

HARDHAT_DIR = PROJECT_ROOT / "scripts" / "experiments" / "hardhat"
HARDHAT_CHAIN_ID = 31337
STARTUP_TIMEOUT_S = 90.0


def chain_web3(rpc_url: str) -> Web3:
    """A web3 connection that also reads proof-of-authority blocks (extraData longer than 32 bytes)."""
    w3 = connect(rpc_url)
    extra = bytes(w3.eth.get_block("latest").get("extraData", b""))
    if len(extra) > 32:
        w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    return w3


def charges_gas(w3: Web3) -> bool:
    fees = fee_fields(w3)
    return int(fees.get("gasPrice", 0) or 0) > 0 or int(fees.get("maxFeePerGas", 0) or 0) > 0


class ChainBackend(Protocol):
    name: str
    rpc_url: str
    deployer: LocalAccount

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def resume(self) -> None:
        """Starts the chain again after stop(), with its state (only chains that keep their data)."""
        ...

    def state_bytes(self) -> int | None:
        """Bytes of the chain's database on disk, when the backend keeps one here."""
        ...


class FreshGanache:
    name = "ganache"

    def __init__(self, work_dir: Path, config: ChainConfig) -> None:
        self.deployer: LocalAccount = Account.create()
        self.data_dir = work_dir / "chain"
        self._chain = Ganache(
            data_dir=self.data_dir,
            port=free_port(),
            funded_accounts=["0x" + self.deployer.key.hex()],
            block_gas_limit=config.block_gas_limit,
        )
        self.rpc_url = self._chain.rpc_url

    def start(self) -> None:
        self._chain.start()

    def stop(self) -> None:
        self._chain.stop()

    def resume(self) -> None:
        self._chain.funded_accounts = []  # the accounts and their balances are in the database already
        self._chain.start()

    def state_bytes(self) -> int | None:
        return sum(
            p.stat().st_size for p in self.data_dir.rglob("*") if p.is_file() and p.name != "ganache.log"
        )


class FreshHardhat:
    """`hardhat node` from scripts/experiments/hardhat (London rules, automine), in memory only."""

    name = "hardhat"

    def __init__(self, work_dir: Path, config: ChainConfig) -> None:
        self.deployer = Account.create()
        self.port = free_port()
        self.rpc_url = f"http://127.0.0.1:{self.port}"
        self.log_path = work_dir / "logs" / "hardhat.log"
        self.config = config
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        executable = PROJECT_ROOT / "node_modules" / ".bin" / "hardhat"
        if not executable.exists():
            raise DevChainError(f"hardhat not found at {executable}: run `make setup` (npm ci) first")
        env = {
            **os.environ,
            "IPREG_HARDHAT_ACCOUNTS": f'["0x{self.deployer.key.hex()}"]',
            "IPREG_HARDHAT_CHAIN_ID": str(HARDHAT_CHAIN_ID),
            "IPREG_HARDHAT_BLOCK_GAS_LIMIT": str(self.config.block_gas_limit),
            "HARDHAT_DISABLE_TELEMETRY_PROMPT": "true",
        }
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [str(executable), "node", "--hostname", "127.0.0.1", "--port", str(self.port)],
                cwd=HARDHAT_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                tail = self.log_path.read_text("utf-8", "replace")[-2000:]
                raise DevChainError(f"hardhat exited with code {self._process.returncode}: {tail}")
            try:
                answer = requests.post(
                    self.rpc_url,
                    json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
                    timeout=2,
                )
                if answer.ok and "result" in answer.json():
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise DevChainError(f"hardhat did not answer at {self.rpc_url} within {STARTUP_TIMEOUT_S:.0f} s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def resume(self) -> None:
        raise DevChainError("a hardhat node keeps its state in memory: it cannot be restarted with it")

    def state_bytes(self) -> int | None:
        return None


class ExistingNetwork:
    """A network someone else runs; the deployer's key comes from an environment variable."""

    name = "rpc"

    def __init__(self, config: ChainConfig) -> None:
        assert config.url is not None
        self.rpc_url = config.url
        key = os.environ.get(config.deployer_key_env)
        if not key:
            raise ConfigError(
                "chain.deployer_key_env",
                f"set {config.deployer_key_env} to the deployer's private key (0x-hex)",
            )
        try:
            self.deployer = Account.from_key(key)
        except (ValueError, TypeError):
            raise ConfigError(
                "chain.deployer_key_env", f"{config.deployer_key_env} is not a private key"
            ) from None

    def start(self) -> None:
        chain_web3(self.rpc_url)

    def stop(self) -> None:
        """The network is not ours to stop."""

    def resume(self) -> None:
        raise DevChainError("an existing network is not restarted by the harness")

    def state_bytes(self) -> int | None:
        return None


def chain_backend(config: ChainConfig, work_dir: Path) -> ChainBackend:
    if config.kind == "ganache":
        return FreshGanache(work_dir, config)
    if config.kind == "hardhat":
        return FreshHardhat(work_dir, config)
    return ExistingNetwork(config)
