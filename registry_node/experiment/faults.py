"""The one fault injector: what breaks a local consortium on purpose, and when.

`ConsortiumFaults` breaks a part of a running `LocalConsortium` and brings it back: an office node killed
with SIGKILL (no clean shutdown: its outbox must recover) and started again, the chain stopped and resumed
from its data, the gateway stopped (or killed) and started on its index, an office node's disk full, and on
a geth network one office's validator killed (SIGKILL), stopped cleanly, or cut off the network (its
namespace's veth down) and started or healed again. The experiment runner and the reliability suite
(`bench/reliability.py`) both break things through it.

A validator down needs no gate: each office node talks to its own validator with the others as failover,
so the nodes go on accepting and sending while the rest of the network seals.

`FaultInjector` decides when, for an experiment (a fault strikes once the run has done its `at` share), and
records what happened; the run (`FaultTargets`) holds its submissions to a part while it is down. A Gate
holds submissions to a part while it is down and counts the ones in flight, so a node is killed with work
accepted and queued in its outbox but no request half-answered: every operation's outcome stays known.
"""

from __future__ import annotations

import contextlib
import dataclasses
import resource
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from rich.console import Console

from registry_node.devnet.consortium import LocalConsortium
from registry_node.devnet.network import GethNetwork
from registry_node.experiment.config import VALIDATOR_FAULT_KINDS, FaultConfig
from registry_node.experiment.observations import FaultRecord
from registry_node.protocol.errors import RegistryError


class Gate:
    """Open while a part is up; submissions wait while it is down, and the ones in flight are counted."""

    def __init__(self) -> None:
        self.up = threading.Event()
        self.up.set()
        self._lock = threading.Lock()
        self._in_flight = 0

    @contextlib.contextmanager
    def passage(self, stop: threading.Event) -> Iterator[bool]:
        """Waits until the part is up (False if the run stops first) and counts the caller in flight."""
        while not self.up.wait(0.1):
            if stop.is_set():
                yield False
                return
        with self._lock:
            self._in_flight += 1
        try:
            yield True
        finally:
            with self._lock:
                self._in_flight -= 1

    def close_and_drain(self, timeout_s: float = 60.0) -> None:
        self.up.clear()
        deadline = time.monotonic() + timeout_s
        while self._in_flight and time.monotonic() < deadline:
            time.sleep(0.02)


@dataclasses.dataclass(frozen=True)
class Restored:
    """A part back up: when it answered again (stamped before any held submission is let through), and
    what was seen."""

    at_s: float
    note: str


class ConsortiumFaults:
    """Breaks a part of a running local consortium for as long as a `with` block lasts, then brings it back
    and returns once it answers again."""

    def __init__(self, consortium: LocalConsortium) -> None:
        self.consortium = consortium

    @contextlib.contextmanager
    def node_killed(self, code: str) -> Iterator[None]:
        """The office's node killed with SIGKILL: what it accepted is on disk, its outbox must recover."""
        self.consortium.stop_node(code, kill=True)
        yield
        self.consortium.start_node(code)

    @contextlib.contextmanager
    def chain_stopped(self) -> Iterator[None]:
        """The chain stopped, then resumed from its data dir; the nodes go on accepting changes meanwhile."""
        self.consortium.chain.stop()
        yield
        self.consortium.chain.resume()

    @contextlib.contextmanager
    def gateway_stopped(self, kill: bool = False) -> Iterator[None]:
        """The gateway stopped (SIGTERM, or SIGKILL with `kill`), then started again on its index."""
        self.consortium.stop_gateway(kill=kill)
        yield
        self.consortium.start_gateway()

    @contextlib.contextmanager
    def validator_killed(self, code: str) -> Iterator[None]:
        """The office's geth validator killed with SIGKILL (as when its machine loses power), then started
        again on its folder: it syncs what the others sealed meanwhile and seals again."""
        network = self.network()
        network.stop_validator(code, kill=True)
        yield
        network.start_validator(code)

    @contextlib.contextmanager
    def validator_stopped(self, code: str) -> Iterator[None]:
        """The office's geth validator stopped cleanly (SIGTERM: it writes its state out), then started."""
        network = self.network()
        network.stop_validator(code)
        yield
        network.start_validator(code)

    @contextlib.contextmanager
    def validator_partitioned(self, code: str) -> Iterator[None]:
        """The office's geth validator cut off the network (it keeps running, alone), then healed."""
        network = self.network()
        network.partition(code)
        try:
            yield
        finally:
            network.heal(code)

    def network(self) -> GethNetwork:
        chain = self.consortium.chain
        if not isinstance(chain, GethNetwork):
            raise RegistryError(f"validator faults need a geth network, not {chain.name}")
        return chain

    @contextlib.contextmanager
    def disk_full(self, code: str, disk: FullDisk) -> Iterator[None]:
        """The office node's disk full (`disk` prepared before the node was created), then room again."""
        pid = self.consortium.nodes[code].process.pid
        disk.fill(pid)
        try:
            yield
        finally:
            disk.free(pid)


class FullDisk:
    """A full disk under one office node: a tmpfs of `size` mounted at its data dir before the node is
    created, where this machine lets us mount one; else the node process's file size limit (RLIMIT_FSIZE)
    lowered to one byte, so every write that grows a file fails."""

    def __init__(self, data_dir: Path, size: str = "64m") -> None:
        self.data_dir = data_dir
        self.size = size
        self.method: str | None = None
        self.mount: Path | None = None
        self.free_bytes_when_full: int | None = None
        self._limits: tuple[int, int] | None = None

    def prepare(self) -> None:
        """Mounts the small filesystem, if it can, at the node's data dir (which must not exist yet)."""
        self.data_dir.mkdir(parents=True)
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={self.size},mode=0700", "tmpfs", str(self.data_dir)],
            capture_output=True,
            text=True,
            check=False,
        )
        if mounted.returncode == 0:
            self.mount = self.data_dir
            self.method = f"tmpfs of {self.size} mounted at the node's data dir"
        else:
            self.method = (
                "the node process's file size limit (RLIMIT_FSIZE) lowered to 1 byte: every write that grows "
                f"a file fails (no tmpfs here: {mounted.stderr.strip()[:120]})"
            )

    def fill(self, pid: int) -> None:
        if self.mount is not None:
            with (self.mount / "filler.bin").open("wb", buffering=0) as out:
                for size in (1 << 20, 1 << 12, 64):
                    with contextlib.suppress(OSError):
                        while True:
                            out.write(b"\0" * size)
            self.free_bytes_when_full = shutil.disk_usage(self.mount).free
            return
        soft, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
        self._limits = (soft, hard)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (1, hard))

    def free(self, pid: int) -> None:
        if self.mount is not None:
            (self.mount / "filler.bin").unlink()
            return
        assert self._limits is not None, "free() without fill()"
        resource.prlimit(pid, resource.RLIMIT_FSIZE, self._limits)
        self._limits = None

    def release(self) -> None:
        """Unmounts the small filesystem (lazily: the node may still hold files open)."""
        if self.mount is not None:
            subprocess.run(["umount", "-l", str(self.mount)], check=False, capture_output=True)


class FaultTargets(Protocol):
    """What a run offers the injector; each method breaks a part, restores it and says what it saw."""

    stop: threading.Event

    def kill_node(self, code: str, down_s: float) -> Restored: ...
    def restart_chain(self, down_s: float) -> Restored: ...
    def restart_gateway(self, down_s: float) -> Restored: ...
    def break_validator(self, kind: str, code: str, down_s: float) -> Restored: ...
    def progress_share(self) -> float: ...
    def load_running(self) -> bool: ...
    def now(self) -> float: ...


class FaultInjector:
    def __init__(self, faults: tuple[FaultConfig, ...], targets: FaultTargets, console: Console) -> None:
        self.faults = faults
        self.targets = targets
        self.console = console
        self.happened: list[FaultRecord] = []

    def run(self) -> None:
        """Strikes each fault in turn once the run has reached its share; gives up when the load ends."""
        targets = self.targets
        for fault in self.faults:
            while targets.progress_share() < fault.at:
                if targets.stop.wait(0.05) or not targets.load_running():
                    return
            at = targets.now()
            target = fault.office or ("chain" if fault.kind == "restart_chain" else "gateway")
            try:
                if fault.kind == "kill_node":
                    assert fault.office is not None
                    restored = targets.kill_node(fault.office, fault.down_s)
                elif fault.kind in VALIDATOR_FAULT_KINDS:
                    assert fault.office is not None
                    restored = targets.break_validator(fault.kind, fault.office, fault.down_s)
                elif fault.kind == "restart_chain":
                    restored = targets.restart_chain(fault.down_s)
                else:
                    restored = targets.restart_gateway(fault.down_s)
            except RegistryError as err:
                self.happened.append(FaultRecord(fault.kind, target, at, None, f"failed: {err}"))
                continue
            self.happened.append(FaultRecord(fault.kind, target, at, restored.at_s, restored.note))
            self.console.print(f"fault: {fault.kind} {target} at {at:.1f} s ({restored.note})")
