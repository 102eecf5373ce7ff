"""The chains a local consortium runs on, behind one small seam (`LocalChain`): a ganache that keeps its data
dir (so it can be stopped and resumed), a hardhat node (memory only), a Clique network of geth validators,
one per office (`registry_node.devnet.geth`), or an existing network given by its JSON-RPC URL.

Every chain comes with a funded deployer account, which deploys the consortium and funds the offices'
accounts. Gas settings always come from the chain (`registry_node.protocol.chain.fee_fields`); on a zero-gas
network the offices' accounts are not funded. Every connection reads proof-of-authority headers
(`registry_node.protocol.chain.connect`).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from registry_node.devnet.ganache import (
    PROJECT_ROOT,
    STOP_TIMEOUT_S,
    DevChainError,
    Ganache,
    free_port,
    wait_for_rpc,
)
from registry_node.devnet.processes import terminate
from registry_node.protocol.chain import connect, fee_fields, wait_final

HARDHAT_DIR = PROJECT_ROOT / "scripts" / "experiments" / "hardhat"
HARDHAT_CHAIN_ID = 31337
HARDHAT_STARTUP_TIMEOUT_S = 90.0
BLOCK_GAS_LIMIT = 30_000_000


def chain_web3(rpc_url: str) -> Web3:
    """A checked web3 connection to the chain."""
    return connect(rpc_url)


def charges_gas(w3: Web3) -> bool:
    fees = fee_fields(w3)
    return int(fees.get("gasPrice", 0) or 0) > 0 or int(fees.get("maxFeePerGas", 0) or 0) > 0


class LocalChain(Protocol):
    """What a local consortium needs of its chain."""

    name: str

    @property
    def rpc_url(self) -> str:
        """Where the deployer deploys (a network's first validator)."""
        ...

    @property
    def deployer(self) -> LocalAccount:
        """Funded on a fresh chain: deploys the consortium, funds the offices."""
        ...

    def start(self, funded: Iterable[str] = ()) -> None:
        """Starts a fresh chain. A chain that can fund accounts from its genesis funds `funded` (a geth
        network); the consortium funds the others' accounts by transfer."""
        ...

    def stop(self) -> None: ...

    def resume(self) -> None:
        """Starts the chain again after stop(), with its state (only chains that keep their data)."""
        ...

    def state_bytes(self) -> int | None:
        """Bytes of the chain's database on disk, when the chain keeps one here."""
        ...

    def validators(self) -> dict[str, str]:
        """Each office's validator (its sealing address), on a chain the offices seal; empty otherwise."""
        ...

    def office_rpc_urls(self, code: str) -> list[str]:
        """The chain nodes an office's node talks to: its own validator first, then the others; the one
        chain node where there is one."""
        ...


class GanacheChain:
    """A ganache on its data dir (`registry_node.devnet.ganache`); a fresh one funds the deployer."""

    name = "ganache"

    def __init__(
        self, data_dir: Path, port: int | None = None, block_gas_limit: int = BLOCK_GAS_LIMIT
    ) -> None:
        self.deployer: LocalAccount = Account.create()
        self.data_dir = data_dir
        self._chain = Ganache(
            data_dir=data_dir,
            port=port or free_port(),
            funded_accounts=["0x" + self.deployer.key.hex()],
            block_gas_limit=block_gas_limit,
        )
        self.rpc_url = self._chain.rpc_url

    def start(self, funded: Iterable[str] = ()) -> None:
        self._chain.start()

    def stop(self) -> None:
        self._chain.stop()

    def resume(self) -> None:
        self._chain.funded_accounts = []  # the accounts and their balances are in the database already
        self._chain.start()

    @property
    def running(self) -> bool:
        return self._chain.running

    def state_bytes(self) -> int | None:
        return sum(
            p.stat().st_size for p in self.data_dir.rglob("*") if p.is_file() and p.name != "ganache.log"
        )

    def validators(self) -> dict[str, str]:
        return {}

    def office_rpc_urls(self, code: str) -> list[str]:
        return [self.rpc_url]


class HardhatChain:
    """`hardhat node` from scripts/experiments/hardhat (London rules, automine), in memory only."""

    name = "hardhat"

    def __init__(self, log_path: Path, block_gas_limit: int = BLOCK_GAS_LIMIT) -> None:
        self.deployer: LocalAccount = Account.create()
        self.port = free_port()
        self.rpc_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.block_gas_limit = block_gas_limit
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, funded: Iterable[str] = ()) -> None:
        executable = PROJECT_ROOT / "node_modules" / ".bin" / "hardhat"
        if not executable.exists():
            raise DevChainError(f"hardhat not found at {executable}: run `make setup` (npm ci) first")
        env = {
            **os.environ,
            "IPREG_HARDHAT_ACCOUNTS": f'["0x{self.deployer.key.hex()}"]',
            "IPREG_HARDHAT_CHAIN_ID": str(HARDHAT_CHAIN_ID),
            "IPREG_HARDHAT_BLOCK_GAS_LIMIT": str(self.block_gas_limit),
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
        try:
            wait_for_rpc(self._process, self.rpc_url, "hardhat", self.log_path, HARDHAT_STARTUP_TIMEOUT_S)
        except DevChainError:
            self.stop()
            raise

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            terminate(process, STOP_TIMEOUT_S)

    def resume(self) -> None:
        raise DevChainError("a hardhat node keeps its state in memory: it cannot be restarted with it")

    def state_bytes(self) -> int | None:
        return None

    def validators(self) -> dict[str, str]:
        return {}

    def office_rpc_urls(self, code: str) -> list[str]:
        return [self.rpc_url]


class ExistingChain:
    """A network someone else runs, and a funded account of theirs to deploy with."""

    name = "rpc"

    def __init__(self, rpc_url: str, deployer: LocalAccount) -> None:
        self.rpc_url = rpc_url
        self.deployer = deployer

    def start(self, funded: Iterable[str] = ()) -> None:
        chain_web3(self.rpc_url)

    def stop(self) -> None:
        """The network is not ours to stop."""

    def resume(self) -> None:
        raise DevChainError("an existing network is not restarted by the harness")

    def state_bytes(self) -> int | None:
        return None

    def validators(self) -> dict[str, str]:
        return {}

    def office_rpc_urls(self, code: str) -> list[str]:
        return [self.rpc_url]


FUNDING_WEI = 10**22  # what a funded account gets: enough gas for any run
FUND_TIMEOUT_S = 120.0


def fund(w3: Web3, sender: LocalAccount, to: str, value_wei: int = FUNDING_WEI) -> None:
    """Sends `value_wei` from `sender` to `to` and waits until the transfer is final."""
    tx: Any = {"to": to, "value": value_wei, "gas": 21_000, "chainId": w3.eth.chain_id, **fee_fields(w3)}
    tx["nonce"] = w3.eth.get_transaction_count(sender.address, "pending")
    wait_final(w3, w3.eth.send_raw_transaction(sender.sign_transaction(tx).raw_transaction), FUND_TIMEOUT_S)
