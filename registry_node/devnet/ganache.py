"""A local ganache chain started by the project's own tooling, for the demo, tests and benchmarks.

State lives in a data directory, so a chain stopped and started again on the same directory resumes.
Ganache runs with its default eager instamine: `--miner.blockTime` and strict instamine stall
transactions in ganache 7.9.2.
"""

from __future__ import annotations

import collections
import fcntl
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import requests

from registry_node.devnet.processes import terminate
from registry_node.protocol.errors import RegistryError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BALANCE_WEI = 10**24
STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0  # for the database to be flushed
PORT_POOL_FLOOR = 20000  # free_port's ports start here, below the kernel's ephemeral range
PORT_RESERVATIONS = 512  # how many ports one process holds reserved at once (the oldest is let go)


class DevChainError(RegistryError):
    """The local chain could not be started."""


class PortInUse(DevChainError):
    def __init__(self, host: str, port: int) -> None:
        super().__init__(
            f"port {port} on {host} is already in use: stop what listens there or choose another port"
        )
        self.port = port


def ganache_executable() -> Path:
    """The ganache of this project's node_modules (IPREG_GANACHE overrides)."""
    configured = os.environ.get("IPREG_GANACHE")
    candidates = [Path(configured)] if configured else [PROJECT_ROOT / "node_modules" / ".bin" / "ganache"]
    found = shutil.which("ganache")
    if found and not configured:
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise DevChainError(f"ganache not found at {candidates[0]}: run `make setup` (npm ci) first")


def port_is_free(host: str, port: int) -> bool:
    """Whether nothing listens on the port. SO_REUSEADDR, as servers set it, so the closing connections of a
    chain just stopped do not count as a listener."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def _local_port_pool() -> range:
    """Ports no client connection is ever given: below the kernel's ephemeral range (or above it, if the
    range starts too low to leave room)."""
    low, high = _ephemeral_range()
    return range(PORT_POOL_FLOOR, low) if low - PORT_POOL_FLOOR >= 1000 else range(high + 1, 65536)


_held_ports: collections.deque[tuple[int, int]] = collections.deque()  # (port, lock file descriptor)
_held_ports_lock = threading.Lock()


def free_port(host: str = "127.0.0.1") -> int:
    """A port for a server we are about to start: nothing listens there, and no other caller gets it.

    A port from bind(("", 0)) comes from the ephemeral range, which outgoing connections draw from too:
    while a chain is down, a client retrying it can be given the chain's own port (a TCP self-connect), and
    the chain cannot come back on it; a later bind(0) can also hand out the same port twice. So ports come
    from outside that range, and each is reserved by an flock on a file under the temp folder, held until
    this process exits or has handed out PORT_RESERVATIONS more: every process of the project's tooling
    (tests, benchmarks, experiments) skips a port another one holds.
    """
    pool = _local_port_pool()
    start = secrets.randbelow(len(pool))
    lock_dir = _lock_dir()
    with _held_ports_lock:
        for step in range(len(pool)):
            port = pool[(start + step) % len(pool)]
            if _reserve(port, host, lock_dir):
                return port
    raise DevChainError(f"no free port on {host} in {pool.start}..{pool.stop - 1}")


def reserve_ports(ports: list[int], host: str = "127.0.0.1") -> bool:
    """Reserves every one of `ports` as `free_port` reserves its own (so no later `free_port`, in this
    process or another, hands one of them out), or none: whether it did. For a block of ports that follow
    from a first one, such as a geth network's."""
    lock_dir = _lock_dir()
    with _held_ports_lock:
        taken: list[int] = []
        for port in ports:
            if not _reserve(port, host, lock_dir):
                _release(taken)
                return False
            taken.append(port)
    return True


def release_ports(ports: list[int]) -> None:
    """Lets go of ports this process reserved, for any caller to take again."""
    with _held_ports_lock:
        _release(ports)


def _release(ports: list[int]) -> None:
    for held in [h for h in _held_ports if h[0] in ports]:
        _held_ports.remove(held)
        os.close(held[1])


def _lock_dir() -> Path:
    """Where the ports' lock files are, shared by every process of the project's tooling."""
    lock_dir = Path(tempfile.gettempdir()) / "ipreg-ports"
    lock_dir.mkdir(exist_ok=True)
    return lock_dir


def _reserve(port: int, host: str, lock_dir: Path) -> bool:
    """Takes the port's lock file if no one holds it, this process included (a second flock of the same
    file is refused), and nothing listens there; under `_held_ports_lock`."""
    fd = os.open(lock_dir / str(port), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    if not port_is_free(host, port):
        os.close(fd)
        return False
    _held_ports.append((port, fd))
    while len(_held_ports) > PORT_RESERVATIONS:
        os.close(_held_ports.popleft()[1])
    return True


def exit_report(name: str, process: subprocess.Popen[bytes], log: Path) -> str:
    """What to say of a chain's process that exited: its code and the end of its log."""
    tail = log.read_text("utf-8", "replace")[-2000:] if log.exists() else "(no log)"
    return f"{name} exited with code {process.returncode}: {tail}"


def wait_for_rpc(
    process: subprocess.Popen[bytes], rpc_url: str, name: str, log: Path, timeout_s: float = STARTUP_TIMEOUT_S
) -> None:
    """Returns once the chain `process` started answers eth_chainId at `rpc_url`; a DevChainError (with the
    tail of its `log`) if it exits first or does not answer within `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DevChainError(exit_report(name, process, log))
        try:
            answer = requests.post(
                rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=2
            )
            if answer.ok and "result" in answer.json():
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise DevChainError(f"{name} did not answer at {rpc_url} within {timeout_s:.0f} s")


@dataclass
class Ganache:
    """A ganache process; use as a context manager, or call start() and stop()."""

    data_dir: Path
    port: int = 8545
    host: str = "127.0.0.1"
    chain_id: int = 1337
    funded_accounts: list[str] = field(default_factory=list)  # private keys, 0x-hex
    block_gas_limit: int = 30_000_000
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def rpc_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Ganache:
        if not port_is_free(self.host, self.port):
            raise PortInUse(self.host, self.port)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            str(ganache_executable()),
            "--server.host", self.host,
            "--server.port", str(self.port),
            "--chain.chainId", str(self.chain_id),
            "--chain.networkId", str(self.chain_id),
            "--chain.hardfork", "london",
            "--miner.blockGasLimit", str(self.block_gas_limit),
            "--database.dbPath", str(self.data_dir),
            "--logging.quiet",
        ]  # fmt: skip
        for key in self.funded_accounts:
            command += ["--wallet.accounts", f"{key},{hex(DEFAULT_BALANCE_WEI)}"]
        if not self.funded_accounts:
            command += ["--wallet.totalAccounts", "0"]
        log = (self.data_dir / "ganache.log").open("ab")
        self._process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        log.close()
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        assert self._process is not None
        try:
            wait_for_rpc(self._process, self.rpc_url, "ganache", self.data_dir / "ganache.log")
        except DevChainError:
            self.stop()
            raise

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        """Stops ganache cleanly so its database is flushed; kills it if it does not stop in time."""
        process, self._process = self._process, None
        if process is not None:
            terminate(process, STOP_TIMEOUT_S)

    def __enter__(self) -> Ganache:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
