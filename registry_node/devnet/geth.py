"""go-ethereum v1.13.15 validators of a Clique proof-of-authority network: the executable, the genesis, and
one validator's folder and process. The network of them is `registry_node.devnet.network`.

go-ethereum is the engine: the consensus is its Clique, never one written here. v1.13.15 is the last
release that seals Clique blocks (1.14 removed it); `make setup` builds it into `.tools/bin/geth`.

Each validator has, in its own folder under the network's:

    keystore/         its sealing key, encrypted (scrypt): an account with no funds and no right in the
                      contracts, so geth's `--unlock` exposes nothing an attacker could spend
    geth/nodekey      its p2p identity, from which the others' static-node lists name it
    config.toml       those static nodes (no discovery: `--nodiscover`, `--netrestrict`, the network id)
    geth.log          what it printed

and its own RPC, p2p and authrpc ports. JSON-RPC listens on loopback (with `isolate`: on its own network
namespace's address), with the `clique` namespace, which the office's node uses to vote its validator set.

The genesis (`clique_genesis`) lists the founding validators in extraData, funds the accounts it is given,
and follows London rules only (Clique refuses Shanghai and Cancun). State is kept for every block
(`--gcmode archive`), since the gateway reads the registry at any stated block.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_keys.datatypes import PrivateKey

from registry_node.devnet.ganache import (
    PROJECT_ROOT,
    DevChainError,
    PortInUse,
    exit_report,
    free_port,
    port_is_free,
    reserve_ports,
    wait_for_rpc,
)
from registry_node.devnet.processes import terminate
from registry_node.protocol.keys.files import encrypt_account_key, repair_short_iv

GETH_VERSION = "1.13.15"
GETH_MODULE = f"github.com/ethereum/go-ethereum/cmd/geth@v{GETH_VERSION}"
DEFAULT_CHAIN_ID = 1515
DEFAULT_PERIOD_S = 1
DEFAULT_GAS_LIMIT = 100_000_000  # bulk registrations: about 2,000 rights a block (see the README)
CLIQUE_EPOCH = 30_000
STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
# geth dials a static peer it failed to reach (refused, or a handshake that timed out on a busy machine) again
# only 35 s later (p2p's dialHistoryExpiration): room for two such retries.
PEERING_TIMEOUT_S = 80.0
# Ports of validator i, from the first validator's RPC port: RPC base+i, p2p base+100+i, authrpc base+200+i.
P2P_OFFSET = 100
AUTHRPC_OFFSET = 200
MAX_VALIDATORS = P2P_OFFSET
OFFICE_CODE = re.compile(r"^[A-Z]{2}\Z")


class GethError(DevChainError):
    """The go-ethereum network could not be started, reached or changed."""


# ------------------------------------------------------------ the executable


def geth_executable() -> Path:
    """The geth this project built (`make setup`), or IPREG_GETH; checked to be v1.13.15."""
    configured = os.environ.get("IPREG_GETH")
    candidate = Path(configured) if configured else PROJECT_ROOT / ".tools" / "bin" / "geth"
    if not candidate.is_file():
        found = shutil.which("geth")
        if configured or found is None:
            raise GethError(
                f"geth not found at {candidate}: run `make setup`, which builds go-ethereum v{GETH_VERSION} "
                f"(`go install -ldflags=-checklinkname=0 {GETH_MODULE}`)"
            )
        candidate = Path(found)
    version = _geth_version(str(candidate))
    if version != GETH_VERSION:
        raise GethError(
            f"{candidate} is go-ethereum {version or '(no version)'}, not {GETH_VERSION}: Clique sealing "
            f"needs v{GETH_VERSION}; run `make setup`"
        )
    return candidate


@functools.cache
def _geth_version(executable: str) -> str | None:
    try:
        out = subprocess.run(
            [executable, "version"], capture_output=True, text=True, check=False, timeout=30
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"^Version: (\d+\.\d+\.\d+)", out, re.MULTILINE)
    return match.group(1) if match else None


# ------------------------------------------------------------ what a validator is


@dataclass(frozen=True)
class ValidatorPorts:
    rpc: int
    p2p: int
    authrpc: int

    @classmethod
    def from_base(cls, base: int, index: int) -> ValidatorPorts:
        """Validator `index`'s ports when the first validator's RPC port is `base`."""
        if not 0 <= index < MAX_VALIDATORS:
            raise GethError(f"at most {MAX_VALIDATORS} validators, not {index + 1}")
        if base < 1024 or base + AUTHRPC_OFFSET + index > 65535:
            raise GethError(f"--chain-port {base} leaves no room for validator {index + 1}'s ports")
        return cls(base + index, base + P2P_OFFSET + index, base + AUTHRPC_OFFSET + index)

    def all(self) -> tuple[int, int, int]:
        return (self.rpc, self.p2p, self.authrpc)


def free_validator_base(count: int) -> int:
    """A first RPC port from which the ports of `count` validators (`ValidatorPorts.from_base`) are all free,
    each reserved like a `free_port` (so no later one is handed out among them): for networks beside others,
    in tests and benchmarks."""
    for _ in range(200):
        base = free_port()
        try:
            ports = [p for i in range(count) for p in ValidatorPorts.from_base(base, i).all()]
        except GethError:
            continue
        if reserve_ports([p for p in ports if p != base]):
            return base
    raise GethError(f"no free block of ports for {count} validators")


@dataclass(frozen=True)
class ValidatorSpec:
    """One office's validator as the network's folder describes it."""

    office: str
    address: str  # the sealing account
    node_public_key: str  # hex, 64 bytes: the enode id
    ports: ValidatorPorts
    host: str = "127.0.0.1"  # where it listens; its namespace's address when isolated
    namespace: str | None = None

    @property
    def rpc_url(self) -> str:
        return f"http://{self.host}:{self.ports.rpc}"

    def check_ports_free(self) -> None:
        """PortInUse for the first of its ports something listens on (in its own namespace, none can)."""
        if self.namespace is None:
            for port in self.ports.all():
                if not port_is_free(self.host, port):
                    raise PortInUse(self.host, port)

    @property
    def enode(self) -> str:
        return f"enode://{self.node_public_key}@{self.host}:{self.ports.p2p}"

    def to_json(self) -> dict[str, Any]:
        return {
            "office": self.office,
            "address": self.address,
            "nodePublicKey": self.node_public_key,
            "ports": dataclasses.asdict(self.ports),
            "host": self.host,
            "namespace": self.namespace,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ValidatorSpec:
        return cls(
            office=str(data["office"]),
            address=str(data["address"]),
            node_public_key=str(data["nodePublicKey"]),
            ports=ValidatorPorts(**{k: int(v) for k, v in data["ports"].items()}),
            host=str(data.get("host") or "127.0.0.1"),
            namespace=data.get("namespace"),
        )


def clique_genesis(
    chain_id: int,
    period_s: int,
    validators: Sequence[str],
    funded: Mapping[str, int],
    gas_limit: int = DEFAULT_GAS_LIMIT,
) -> dict[str, Any]:
    """A Clique genesis under London rules: extraData is 32 vanity bytes, the validators' addresses (sorted,
    as Clique keeps them), then 65 zero bytes for the (absent) seal."""
    signers = sorted((bytes.fromhex(a.removeprefix("0x")) for a in validators), key=lambda b: b)
    forks = [
        "homesteadBlock", "eip150Block", "eip155Block", "eip158Block", "byzantiumBlock",
        "constantinopleBlock", "petersburgBlock", "istanbulBlock", "berlinBlock", "londonBlock",
    ]  # fmt: skip
    return {
        "config": {
            "chainId": chain_id,
            **dict.fromkeys(forks, 0),
            "clique": {"period": period_s, "epoch": CLIQUE_EPOCH},
        },
        "difficulty": "0x1",
        "gasLimit": hex(gas_limit),
        "extradata": "0x" + "00" * 32 + b"".join(signers).hex() + "00" * 65,
        "alloc": {
            address.removeprefix("0x").lower(): {"balance": hex(wei)} for address, wei in funded.items()
        },
    }


# ------------------------------------------------------------ one validator process


class Validator:
    """One geth validator: its folder, its process."""

    def __init__(self, spec: ValidatorSpec, folder: Path, network_id: int) -> None:
        self.spec = spec
        self.folder = folder
        self.network_id = network_id
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.folder / "geth.log"

    @property
    def pid_file(self) -> Path:
        return self.folder / "geth.pid"

    def create(self, genesis: Path, sealing_key: LocalAccount, node_key: bytes, password: str) -> None:
        """Initialises the validator's folder: the genesis, its encrypted sealing key, its node key."""
        self.folder.mkdir(parents=True, exist_ok=True)
        keystore = self.folder / "keystore"
        keystore.mkdir(exist_ok=True)
        encrypted = encrypt_account_key(sealing_key.key, password)
        path = keystore / f"sealing-key-{sealing_key.address.lower()}.json"
        path.write_text(json.dumps(encrypted))
        path.chmod(0o600)
        result = subprocess.run(
            [str(geth_executable()), "--datadir", str(self.folder), "--state.scheme", "hash", "init",
             str(genesis)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise GethError(f"geth init failed for {self.spec.office}: {result.stderr.strip()[-2000:]}")
        node_key_path = self.folder / "geth" / "nodekey"
        node_key_path.write_text(node_key.hex())
        node_key_path.chmod(0o600)

    def write_peers(self, peers: Iterable[ValidatorSpec]) -> None:
        """Its config.toml: every other validator as a static and trusted node."""
        enodes = ", ".join(json.dumps(p.enode) for p in peers if p.office != self.spec.office)
        (self.folder / "config.toml").write_text(
            f"[Node.P2P]\nStaticNodes = [{enodes}]\nTrustedNodes = [{enodes}]\n"
        )

    def command(self, password_file: Path, netrestrict: str, gas_limit: int) -> list[str]:
        """geth's command line. It starts without sealing: `seal()` starts it once the validator is peered,
        since validators that seal before they see each other each make their own block 1 and can stall
        Clique for good (each then waits for the others under its recency rule)."""
        spec = self.spec
        return [
            str(geth_executable()),
            "--datadir", str(self.folder),
            "--config", str(self.folder / "config.toml"),
            "--networkid", str(self.network_id),
            "--port", str(spec.ports.p2p),
            "--nodiscover", "--netrestrict", netrestrict, "--nat", f"extip:{spec.host}",
            "--http", "--http.addr", spec.host, "--http.port", str(spec.ports.rpc),
            "--http.api", "eth,net,web3,clique,txpool,miner",
            "--http.vhosts", "*",
            "--authrpc.addr", spec.host, "--authrpc.port", str(spec.ports.authrpc),
            "--ipcdisable",
            "--syncmode", "full", "--gcmode", "archive", "--state.scheme", "hash",
            "--miner.etherbase", spec.address, "--miner.gaslimit", str(gas_limit),
            "--miner.gasprice", "1",
            "--unlock", spec.address, "--password", str(password_file), "--allow-insecure-unlock",
            "--txpool.globalslots", "20000", "--txpool.accountslots", "5000",
            "--txpool.globalqueue", "5000", "--txpool.accountqueue", "5000",
            "--txpool.pricelimit", "1",
            "--rpc.txfeecap", "0", "--rpc.gascap", "0",
            "--verbosity", "3",
        ]  # fmt: skip

    def start(self, password: str, netrestrict: str, gas_limit: int, detached: bool = False) -> None:
        """Starts geth; returns once its RPC answers. `detached`: in a session of its own, so it outlives the
        command that started it (`ipreg network up`); otherwise in this process's group, like the nodes and
        the gateway, so Ctrl-C in a terminal, or a kill of the group, stops it too. The password reaches
        geth through a file that lives only until its RPC answers."""
        if self.running:
            return
        self.spec.check_ports_free()
        for keystore in (self.folder / "keystore").glob("*.json"):
            repair_short_iv(keystore)  # one made before keystores were padded would make geth panic
        password_file = self.folder / f".password-{secrets.token_hex(4)}"
        password_file.touch(0o600)
        password_file.write_text(password)
        prefix = ["ip", "netns", "exec", self.spec.namespace] if self.spec.namespace else []
        try:
            with self.log.open("ab") as log:
                self.process = subprocess.Popen(
                    [*prefix, *self.command(password_file, netrestrict, gas_limit)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=detached,
                )
            self.pid_file.write_text(str(self.process.pid))
            wait_for_rpc(
                self.process,
                self.spec.rpc_url,
                f"geth validator {self.spec.office}",
                self.log,
                STARTUP_TIMEOUT_S,
            )
        except DevChainError:
            self.stop()
            raise
        finally:
            password_file.unlink(missing_ok=True)

    def _wait_unlocked(self) -> None:
        """Returns once geth has unlocked the sealing key, which it does after its RPC answers (a scrypt
        decryption: a second or two, more on a busy machine). A miner started before fails to seal
        ("authentication needed") and tries again only on the next block, so a validator told to seal too
        early stays idle. The probe is an eth_sign of one byte, which carries Ethereum's signed-message
        prefix and so can never be a seal."""
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise GethError(exit_report(f"geth validator {self.spec.office}", self.process, self.log))
            try:
                self.rpc("eth_sign", [self.spec.address, "0x00"])
                return
            except GethError as err:
                if "authentication needed" not in str(err):
                    raise
            time.sleep(0.1)
        raise GethError(
            f"geth validator {self.spec.office} did not unlock its sealing key in {STARTUP_TIMEOUT_S:.0f} s"
        )

    def rpc(self, method: str, params: list[Any], timeout_s: float = 5.0) -> Any:
        """One JSON-RPC call to this validator; a GethError for an error answer or none."""
        import requests

        try:
            answer = requests.post(
                self.spec.rpc_url,
                json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
                timeout=timeout_s,
            ).json()
        except (requests.RequestException, ValueError) as err:
            raise GethError(f"validator {self.spec.office} does not answer {method}: {err}") from None
        if "error" in answer:
            raise GethError(f"validator {self.spec.office}: {method}: {answer['error'].get('message')}")
        return answer.get("result")

    def wait_peers(self, count: int, timeout_s: float) -> bool:
        """Whether the validator has `count` peers within `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            if int(self.rpc("net_peerCount", []), 16) >= count:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)

    def seal(self) -> None:
        """Starts sealing, once the sealing key is unlocked. The miner is stopped and started again, which
        always commits new work, even if it was started before."""
        self._wait_unlocked()
        self.rpc("miner_stop", [])
        self.rpc("miner_start", [])

    def accept_blocks(self) -> None:
        """Makes geth import the blocks its peers propagate, without sealing: until it has synced from a
        heavier peer or been told to mine, geth discards them. Starting its miner marks it synced; the miner
        is stopped at once, before an out-of-turn block's delay (up to 1.5 s with four validators) runs out.
        """
        self.rpc("miner_start", [])
        self.rpc("miner_stop", [])

    def head(self) -> int:
        return int(self.rpc("eth_blockNumber", []), 16)

    @property
    def pid(self) -> int | None:
        if self.process is not None:
            return self.process.pid if self.process.poll() is None else None
        try:
            pid = int(self.pid_file.read_text())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) else None

    @property
    def running(self) -> bool:
        return self.pid is not None

    def stop(self) -> None:
        """SIGTERM, so geth writes its state out; SIGKILL if it lingers."""
        if self.process is not None:
            terminate(self.process, STOP_TIMEOUT_S)
        else:
            _stop_pid(self.pid, STOP_TIMEOUT_S)
        self.process = None
        self.pid_file.unlink(missing_ok=True)

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, as when the office's machine loses power."""
        pid = self.pid
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            if self.process is not None:
                self.process.wait()
            else:
                _wait_gone(pid, STOP_TIMEOUT_S)
        self.process = None
        self.pid_file.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


def _wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def _stop_pid(pid: int | None, timeout_s: float) -> None:
    if pid is None:
        return
    os.kill(pid, signal.SIGTERM)
    if not _wait_gone(pid, timeout_s):
        os.kill(pid, signal.SIGKILL)
        _wait_gone(pid, timeout_s)


def new_node_key() -> tuple[bytes, str]:
    """A p2p identity: the private key, and the public key that is its enode id (hex)."""
    private = secrets.token_bytes(32)
    return private, PrivateKey(private).public_key.to_bytes().hex()
