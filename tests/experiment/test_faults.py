"""The fault injector and the gate, on a scripted run: when each fault strikes, what is recorded, and that no
submission is half-way through a part when it goes down."""

from __future__ import annotations

import threading
import time

import pytest
from rich.console import Console

from registry_node.experiment.config import FaultConfig
from registry_node.experiment.faults import FaultInjector, Gate, Restored
from registry_node.protocol.errors import RegistryError


class ScriptedRun:
    """A run whose progress the test sets; it logs each fault with the progress it struck at."""

    def __init__(self, fail: str | None = None) -> None:
        self.stop = threading.Event()
        self.share = 0.0
        self.running = True
        self.fail = fail
        self.struck: list[tuple[str, float]] = []
        self._reads = threading.Condition()
        self._reads_of_share = 0

    def _strike(self, what: str) -> Restored:
        if what == self.fail:
            raise RegistryError(f"{what} would not come back")
        self.struck.append((what, self.share))
        return Restored(self.now(), f"{what} done")

    def kill_node(self, code: str, down_s: float) -> Restored:
        return self._strike(f"kill {code}")

    def restart_chain(self, down_s: float) -> Restored:
        return self._strike("chain")

    def restart_gateway(self, down_s: float) -> Restored:
        return self._strike("gateway")

    def break_validator(self, kind: str, code: str, down_s: float) -> Restored:
        return self._strike(f"{kind} {code} {down_s:g}")

    def progress_share(self) -> float:
        with self._reads:
            self._reads_of_share += 1
            self._reads.notify_all()
            return self.share

    def advance(self, share: float, injector: threading.Thread) -> None:
        """Sets the progress, then waits until the injector has read it twice (so it has struck every fault
        due at this share and gone back to waiting) or has finished."""
        with self._reads:
            self.share, self._reads_of_share = share, 0
            while self._reads_of_share < 2 and injector.is_alive():
                self._reads.wait(0.05)

    def load_running(self) -> bool:
        return self.running

    def now(self) -> float:
        return self.share * 100


FAULTS = (
    FaultConfig("kill_node", at=0.2, office="EP"),
    FaultConfig("restart_chain", at=0.5),
    FaultConfig("restart_gateway", at=0.8),
)


def drive(run: ScriptedRun, injector: FaultInjector, shares: list[float]) -> None:
    thread = threading.Thread(target=injector.run, daemon=True)
    thread.start()
    for share in shares:
        run.advance(share, thread)
    run.running = False
    thread.join(timeout=30)
    assert not thread.is_alive()


def test_each_fault_strikes_once_the_run_reaches_its_share_in_order() -> None:
    run = ScriptedRun()
    injector = FaultInjector(FAULTS, run, Console(quiet=True))
    drive(run, injector, [0.1, 0.3, 0.6, 0.9])
    assert run.struck == [("kill EP", 0.3), ("chain", 0.6), ("gateway", 0.9)]
    assert [(f.kind, f.target, f.note) for f in injector.happened] == [
        ("kill_node", "EP", "kill EP done"),
        ("restart_chain", "chain", "chain done"),
        ("restart_gateway", "gateway", "gateway done"),
    ]
    assert [f.recovered_s for f in injector.happened] == pytest.approx([30, 60, 90])  # when each was back


def test_a_fault_that_fails_is_recorded_as_failed_and_the_next_still_strikes() -> None:
    run = ScriptedRun(fail="chain")
    injector = FaultInjector(FAULTS, run, Console(quiet=True))
    drive(run, injector, [0.3, 0.6, 0.9])
    chain = injector.happened[1]
    assert (chain.kind, chain.recovered_s) == ("restart_chain", None)
    assert chain.note == "failed: chain would not come back"
    assert run.struck[-1][0] == "gateway"


def test_faults_not_reached_when_the_load_ends_do_not_strike() -> None:
    run = ScriptedRun()
    injector = FaultInjector(FAULTS, run, Console(quiet=True))
    drive(run, injector, [0.3])
    assert [f.kind for f in injector.happened] == ["kill_node"]


def test_validator_faults_strike_the_named_office_and_are_recorded_like_the_others() -> None:
    run = ScriptedRun()
    faults = (
        FaultConfig("kill_validator", at=0.2, office="GB", down_s=3),
        FaultConfig("restart_validator", at=0.4, office="EP"),
        FaultConfig("partition_validator", at=0.6, office="KR", down_s=5),
    )
    injector = FaultInjector(faults, run, Console(quiet=True))
    drive(run, injector, [0.3, 0.5, 0.7])
    assert [what for what, _ in run.struck] == [
        "kill_validator GB 3",
        "restart_validator EP 1",
        "partition_validator KR 5",
    ]
    assert [(f.kind, f.target) for f in injector.happened] == [
        ("kill_validator", "GB"),
        ("restart_validator", "EP"),
        ("partition_validator", "KR"),
    ]
    assert all(f.recovered_s is not None and f.recovered_s >= f.at_s for f in injector.happened)


def test_a_closed_gate_waits_for_submissions_in_flight_and_holds_new_ones_until_it_opens() -> None:
    gate, stop = Gate(), threading.Event()
    events: list[str] = []
    inside = threading.Event()

    def submission(name: str, hold_s: float) -> None:
        with gate.passage(stop) as open_:
            if open_:
                events.append(f"{name} in")
                inside.set()
                time.sleep(hold_s)
                events.append(f"{name} out")

    first = threading.Thread(target=submission, args=("first", 0.3))
    first.start()
    assert inside.wait(30)
    gate.close_and_drain()
    events.append("down")
    second = threading.Thread(target=submission, args=("second", 0.0))
    second.start()
    time.sleep(0.3)
    assert events == ["first in", "first out", "down"]  # the second waits while the part is down
    gate.up.set()
    second.join(30)
    first.join(30)
    assert events[-2:] == ["second in", "second out"]


def test_a_run_stopping_while_the_gate_is_closed_lets_waiting_submissions_go_without_passing() -> None:
    gate, stop = Gate(), threading.Event()
    gate.close_and_drain()
    results: list[bool] = []

    def submission() -> None:
        with gate.passage(stop) as open_:
            results.append(open_)

    waiting = threading.Thread(target=submission)
    waiting.start()
    stop.set()
    waiting.join(30)
    assert results == [False]
