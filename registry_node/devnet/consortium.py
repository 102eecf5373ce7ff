"""The one local consortium that the demo, the experiments, the benchmarks and the tests start: a chain, a
deployment with N founding offices, one `ipreg node run` process per office and, when asked, the gateway
(`ipreg gateway run`).

Everything lives in one folder:

    chain/           the chain's data (a ganache; a hardhat node keeps none)
    deployment.json  where the contract lives, as `ipreg chain deploy` writes it
    nodes/EP …       each office node's folder: node.toml, its encrypted keys, its store
    gateway/         the gateway's folder (settings, index, key), made by `ipreg gateway init`
    logs/            one log per child process

Creating it (`create`) starts the chain, initialises every node (keys encrypted with the consortium's
password, funded when the chain charges gas), deploys the contract with the founders, publishes each
office's signing key and initialises the gateway. `to_json` describes what was made, and `restore` takes it
up again in a later process, so a folder can be resumed. The nodes and the gateway are child processes,
started, stopped, killed and restarted here; what breaks them on purpose lives in
`registry_node.experiment.faults`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web3 import Web3

from registry_node.devnet.chains import LocalChain, chain_web3, charges_gas, fund
from registry_node.devnet.processes import IPREG, ChildProcess, run_ipreg
from registry_node.devnet.softhsm import SoftHsm
from registry_node.node.client import NodeClient
from registry_node.node.consortium import ConsortiumConfig, FoundingOffice, deploy_consortium
from registry_node.node.service import (
    init_node,
    load_keys,
    new_operator_token,
    register_signing_key,
    set_validator,
)
from registry_node.node.settings import (
    SETTINGS_FILE,
    NodeSettings,
    load_settings,
    settings_toml,
    token_digest,
)
from registry_node.node.transactor import Transactor
from registry_node.protocol.contract import load_artifact
from registry_node.protocol.deployment import Deployment
from registry_node.protocol.errors import ConfigError
from registry_node.protocol.keys import SigningAlgorithm

GATEWAY_RUN = (str(IPREG), "gateway", "run")
PASSWORD_BYTES = 24
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Founder:
    """A founding office to create: its ST.3 code, its name, the port of its node's API, the algorithm of
    its document-signing key, and its operator token (a fresh one when None)."""

    code: str
    name: str
    port: int
    algorithm: SigningAlgorithm = SigningAlgorithm.ED25519
    token: str | None = None


@dataclass(frozen=True)
class LocalOffice:
    """An office node of the consortium: its folder, its API's port and its operator token."""

    code: str
    data_dir: Path
    port: int
    token: str

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def client(self, timeout_s: float | None = None) -> NodeClient:
        """An operator's client of this node."""
        if timeout_s is None:
            return NodeClient(self.url, self.token)
        return NodeClient(self.url, self.token, timeout_s=timeout_s)

    def settings(self) -> NodeSettings:
        """The node's settings as its node.toml holds them now."""
        return load_settings(self.data_dir / SETTINGS_FILE)

    def to_json(self) -> dict[str, Any]:
        return {"dataDir": str(self.data_dir), "port": self.port, "token": self.token}


# scrypt's N for a local consortium's key files: 2**14, which the OpenSSL command line still opens (16 MiB)
LAB_SCRYPT_N = 2**14


class LocalConsortium:
    """A consortium on this machine. `gateway_port` None: no gateway. `env`: extra environment of the child
    processes. `gateway_program` runs the gateway (`ipreg gateway run` by default; a benchmark serves the
    same app with routes of its own beside it). Setting `stop` ends a start in progress (Interrupted).
    `key_scrypt_n` is scrypt's N for the offices' two key files. An office's node uses 2**18, about a second
    per key each time it opens them; a local consortium keeps its password beside its keys (`to_json`, in
    the demo's state file), so a costly KDF would protect nothing here and only slow every start, and it
    uses LAB_SCRYPT_N unless told otherwise (None: an office's cost)."""

    def __init__(
        self,
        folder: Path,
        chain: LocalChain,
        *,
        password: str | None = None,
        gateway_port: int | None = None,
        env: Mapping[str, str] | None = None,
        gateway_program: Sequence[str] = GATEWAY_RUN,
        stop: threading.Event | None = None,
        hsm: SoftHsm | None = None,
        key_scrypt_n: int | None = LAB_SCRYPT_N,
    ) -> None:
        self.folder = folder.resolve()
        self.hsm = hsm  # None: keys in encrypted files; else each office's keys in a token of its own
        self.chain = chain
        self.password = password or secrets.token_urlsafe(PASSWORD_BYTES)
        self.gateway_port = gateway_port
        self.extra_env = dict(env or {})
        self.gateway_program = tuple(gateway_program)
        self.stopping = stop or threading.Event()
        self.key_scrypt_n = key_scrypt_n
        self.offices: dict[str, LocalOffice] = {}
        self.deployment: Deployment | None = None
        self.gateway_dir: Path | None = None
        self.nodes: dict[str, ChildProcess] = {}
        self.gateway: ChildProcess | None = None

    # ------------------------------------------------------------ creating, describing, resuming

    def create(self, founders: Sequence[Founder], max_offices: int | None = None) -> Deployment:
        """Starts the fresh chain and creates the consortium on it; the chain is left running, the nodes and
        the gateway start with `start()`. `max_offices` None keeps the consortium file's default."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.hsm is not None:
            self.hsm.create().activate()
        created: dict[str, NodeSettings] = {}
        accounts: dict[str, str] = {}
        key_locations = {founder.code: self._token_keys(founder.code) for founder in founders}
        for founder in founders:
            token = founder.token or new_operator_token()
            own, *others = self.chain.office_rpc_urls(founder.code)
            settings = NodeSettings(
                **key_locations[founder.code],
                office_code=founder.code,
                office_name=founder.name,
                data_dir=self.folder / "nodes" / founder.code,
                operator_token_sha256=token_digest(token),
                rpc_url=own,
                rpc_urls=tuple(others),
                listen_port=founder.port,
            )
            node = init_node(settings, self.password, founder.algorithm, self.key_scrypt_n)
            accounts[founder.code] = node.address
            created[founder.code] = settings
            self.offices[founder.code] = LocalOffice(founder.code, settings.data_dir, founder.port, token)
        self.chain.start(funded=accounts.values())
        w3 = chain_web3(self.chain.rpc_url)
        if charges_gas(w3):
            for account in accounts.values():
                if w3.eth.get_balance(Web3.to_checksum_address(account)) == 0:  # not funded by the genesis
                    fund(w3, self.chain.deployer, account)
        config = ConsortiumConfig(
            [FoundingOffice(code, s.office_name, accounts[code], s.public_url) for code, s in created.items()]
        )
        if max_offices is not None:
            config = dataclasses.replace(config, max_offices=max_offices)
        deployment = deploy_consortium(Transactor(w3, self.chain.deployer, load_artifact().abi), config)
        self.deployment = deployment
        self.deployment_path.write_text(json.dumps(deployment.to_json(), indent=2) + "\n")
        validators = self.chain.validators()
        for code, settings in created.items():
            settings = with_contract(settings, deployment.address, deployment.chain_id)
            keys = load_keys(settings, self.password)
            register_signing_key(settings, keys, w3)
            if code in validators:
                set_validator(settings, keys, w3, validators[code])
        if self.gateway_port is not None:
            self.gateway_dir = self.folder / "gateway"
            first, *others = self.chain.office_rpc_urls("")
            fallbacks = [arg for url in others for arg in ("--rpc-fallback", url)]
            run_ipreg(
                [
                    "gateway", "init", "--data-dir", str(self.gateway_dir), "--rpc", first, *fallbacks,
                    "--deployment", str(self.deployment_path), "--listen-port", str(self.gateway_port),
                    # the newest block a majority of validators sealed on (a single-process chain: its head)
                    "--confirmations", "majority",
                    # every office of a local consortium serves its deep links on loopback
                    "--allow-private-deep-links",
                ],
                self.env(),
            )  # fmt: skip
        return deployment

    def _token_keys(self, code: str) -> dict[str, Any]:
        """With `hsm`, the office's keys live in a SoftHSM2 token of its own, whose PIN is the password."""
        if self.hsm is None:
            return {}
        uri = self.hsm.init_token(f"ipreg-{code}", self.password)
        return {
            "signing_key": uri.with_object("signing-key"),
            "account_keystore": uri.with_object("account"),
            "pkcs11_module": self.hsm.module,
        }

    @property
    def deployment_path(self) -> Path:
        return self.folder / "deployment.json"

    def to_json(self) -> dict[str, Any]:
        """What `restore` needs to take this consortium up again (it holds the password: keep it 0600)."""
        return {
            "password": self.password,
            "offices": {code: office.to_json() for code, office in self.offices.items()},
            "deployment": self.deployment.to_json() if self.deployment else None,
            "gatewayDir": str(self.gateway_dir) if self.gateway_dir else None,
            "hsm": str(self.hsm.folder) if self.hsm else None,
        }

    def restore(self, described: Mapping[str, Any]) -> None:
        """Takes up the consortium `to_json` described; its chain is started with `chain.resume()`."""
        try:
            password = str(described["password"])
            offices = {
                code: LocalOffice(code, Path(office["dataDir"]), int(office["port"]), str(office["token"]))
                for code, office in described["offices"].items()
            }
            deployment = _deployment_from_json(described["deployment"])
            gateway_dir = described.get("gatewayDir")
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise ConfigError(str(self.folder), f"not a consortium this tooling made ({err!r})") from None
        self.password, self.offices, self.deployment = password, offices, deployment
        self.gateway_dir = Path(gateway_dir) if gateway_dir else None
        if described.get("hsm"):
            self.hsm = SoftHsm(Path(str(described["hsm"])))
            self.hsm.activate()

    # ------------------------------------------------------------ the child processes

    def env(self) -> dict[str, str]:
        """The environment of the child processes: the password that opens their keys, the chain as it runs
        now (a resumed chain may be on another port) and the gateway's port."""
        env = {
            **os.environ,
            "IPREG_NODE_PASSWORD": self.password,
            "IPREG_GATEWAY_PASSWORD": self.password,
        }
        if not self.chain.validators():  # one chain node, whose port may change when it is resumed
            env |= {"IPREG_NODE_RPC_URL": self.chain.rpc_url, "IPREG_GATEWAY_RPC_URL": self.chain.rpc_url}
        if self.gateway_port is not None:
            env["IPREG_GATEWAY_LISTEN_PORT"] = str(self.gateway_port)
            # every office serves on loopback; also for a folder whose gateway.toml predates the setting
            env["IPREG_GATEWAY_DEEP_LINKS_ALLOW_PRIVATE"] = "true"
        if self.hsm is not None:
            env |= self.hsm.env()
        return env | self.extra_env

    @property
    def gateway_url(self) -> str:
        """The gateway's URL; empty for a consortium without a gateway."""
        return f"http://{HOST}:{self.gateway_port}" if self.gateway_port is not None else ""

    def start(self) -> None:
        """Starts every office node and the gateway side by side (each decrypts its keys first); returns once
        each one answers."""
        for code in self.offices:
            self._spawn_node(code)
        if self.gateway_dir is not None:
            self._spawn_gateway()
        for code in self.offices:
            self._wait_node(code)
        if self.gateway is not None:
            self.gateway.wait_ready(f"{self.gateway_url}/v1/status", self.stopping)

    def start_node(self, code: str) -> None:
        self._spawn_node(code)
        self._wait_node(code)

    def stop_node(self, code: str, kill: bool = False) -> None:
        """Stops the office's node: SIGTERM, or SIGKILL with `kill` (no clean shutdown)."""
        _end(self.nodes.pop(code), kill)

    def start_gateway(self) -> None:
        self._spawn_gateway()
        assert self.gateway is not None
        self.gateway.wait_ready(f"{self.gateway_url}/v1/status", self.stopping)

    def stop_gateway(self, kill: bool = False) -> None:
        """Stops the gateway: SIGTERM, or SIGKILL with `kill` (no clean shutdown)."""
        child, self.gateway = self.gateway, None
        if child is not None:
            _end(child, kill)

    def stop(self) -> None:
        """Stops the gateway, the nodes and the chain."""
        self.stop_gateway()
        for code in reversed(list(self.nodes)):
            self.stop_node(code)
        self.chain.stop()

    def _spawn_node(self, code: str) -> None:
        self.nodes[code] = ChildProcess(
            f"office node {code}",
            ["node", "run", "--data-dir", str(self.offices[code].data_dir)],
            self.folder / "logs" / f"node-{code}.log",
            self.env(),
        )

    def _wait_node(self, code: str) -> None:
        self.nodes[code].wait_ready(f"{self.offices[code].url}/openapi.json", self.stopping)

    def _spawn_gateway(self) -> None:
        assert self.gateway_dir is not None, "a consortium without a gateway"
        self.gateway = ChildProcess(
            "gateway",
            ["--data-dir", str(self.gateway_dir)],
            self.folder / "logs" / "gateway.log",
            self.env(),
            program=self.gateway_program,
        )


def with_contract(settings: NodeSettings, address: str, chain_id: int) -> NodeSettings:
    """The node's settings with the deployed contract and its chain, written to its node.toml."""
    updated = dataclasses.replace(settings, contract_address=address, chain_id=chain_id)
    updated.settings_path.write_text(settings_toml(updated), "utf-8")
    return updated


def _end(child: ChildProcess, kill: bool) -> None:
    if kill:
        child.kill()
    else:
        child.stop()


def _deployment_from_json(data: Mapping[str, Any]) -> Deployment:
    """The Deployment whose `to_json()` is `data`."""
    ((contract, address),) = data["contracts"].items()
    block = data.get("deployment") or {}
    return Deployment(
        chain_id=int(data["chainId"]),
        address=str(address),
        offices={str(k): str(v) for k, v in (data.get("offices") or {}).items()},
        block_number=block.get("blockNumber"),
        block_hash=block.get("blockHash"),
        tx_hash=block.get("txHash"),
        contract=str(contract),
    )
