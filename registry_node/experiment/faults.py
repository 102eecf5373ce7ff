"""Faults injected on schedule: an office node killed with SIGKILL and restarted, the chain stopped and
resumed from its data, the gateway restarted.

The injector decides when (a fault strikes once the run has done its `at` share) and records what happened;
the run (`FaultTargets`) knows how to break and restore its own processes. A Gate holds submissions to a
part while it is down and counts the ones in flight, so a node is killed with work accepted and queued in
its outbox but no request half-answered: every operation's outcome stays known.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Iterator
from typing import Protocol

from rich.console import Console

from registry_node.experiment.config import FaultConfig
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


class FaultTargets(Protocol):
    """What a run offers the injector; each method breaks a part, restores it and says what it saw."""

    stop: threading.Event

    def kill_node(self, code: str, down_s: float) -> Restored: ...
    def restart_chain(self, down_s: float) -> Restored: ...
    def restart_gateway(self, down_s: float) -> Restored: ...
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
                elif fault.kind == "restart_chain":
                    restored = targets.restart_chain(fault.down_s)
                else:
                    restored = targets.restart_gateway(fault.down_s)
            except RegistryError as err:
                self.happened.append(FaultRecord(fault.kind, target, at, None, f"failed: {err}"))
                continue
            self.happened.append(FaultRecord(fault.kind, target, at, restored.at_s, restored.note))
            self.console.print(f"fault: {fault.kind} {target} at {at:.1f} s ({restored.note})")
