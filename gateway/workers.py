"""N API worker processes on one port (`ipreg gateway serve --workers N`).

The parent reserves the port (a socket bound with SO_REUSEPORT that never listens, so a port another
program holds is a clear error before anything starts), opens what every worker shares (the gateway's
signing key: opened once, and each worker inherits it) and forks the workers. Each worker listens on a
socket of its own on the port, with SO_REUSEPORT: the kernel spreads new connections evenly over the
workers. (With one socket shared by all, the worker that woke first took a whole burst of connections, and
kept-alive clients stayed with it: two workers measured 1.02 times one.) A worker builds its own app after
the fork (its own database pool, chain connection and per-block chain-read cache) and serves until told to
stop. The parent restarts a worker that dies, so a killed worker costs only the requests it had already
taken: the others go on accepting, and the new one joins them. SIGINT or SIGTERM stops every worker
gracefully (each finishes what it is answering).

The parent starts no thread before it forks (a forked thread would be a copy without its owner), and the
engine it migrated the read model with is disposed of first, so no database connection is shared.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

log = logging.getLogger(__name__)

# Where prometheus-client's multiprocess mode keeps each worker's counts; it must be set before
# prometheus_client is first imported in the process (it picks its value class then).
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

RESTART_WINDOW_S = 30.0
MAX_RESTARTS_IN_WINDOW = 10  # a worker that dies this often at start is a configuration error, not bad luck
STOP_GRACE_S = 15.0


@dataclass
class WorkerPool:
    """The workers of one `serve`: `make_app` builds a worker's app (called in the worker, after the fork),
    `serve` serves it on the listener until the worker is told to stop."""

    listen: Callable[[], socket.socket]  # a worker's own socket on the port (called in the worker)
    workers: int
    make_app: Callable[[], FastAPI]
    serve: Callable[[FastAPI, socket.socket], None]
    on_exit: Callable[[int], None] = lambda pid: None  # the parent's bookkeeping of a worker that ended
    pids: dict[int, int] = field(default_factory=dict)  # pid -> slot
    _stopping: bool = False
    _restarts: list[float] = field(default_factory=list)

    def run(self) -> int:
        """Forks the workers, keeps them running until SIGINT or SIGTERM, then stops them; returns the exit
        status (0, or 1 when workers kept dying)."""
        previous = {s: signal.signal(s, self._stop) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            for slot in range(self.workers):
                self._spawn(slot)
            status = self._supervise()
        finally:
            self._stop_all()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return status

    def _stop(self, signum: int, frame: Any) -> None:
        self._stopping = True

    def _spawn(self, slot: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                for signum in (signal.SIGINT, signal.SIGTERM):
                    signal.signal(signum, signal.SIG_DFL)  # the server installs its own
                self.serve(self.make_app(), self.listen())
                code = 0
            except BaseException:
                log.exception("gateway worker %d failed", slot)
            finally:
                os._exit(code)
        self.pids[pid] = slot
        log.info("gateway worker %d started (pid %d)", slot, pid)

    def _supervise(self) -> int:
        while not self._stopping:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return 1
            if pid == 0:
                time.sleep(0.1)
                continue
            slot = self.pids.pop(pid, None)
            if slot is None:
                continue
            self.on_exit(pid)
            if self._stopping:
                break
            now = time.monotonic()
            self._restarts = [t for t in self._restarts if now - t < RESTART_WINDOW_S] + [now]
            if len(self._restarts) > MAX_RESTARTS_IN_WINDOW:
                log.error(
                    "gateway workers died %d times in %.0f s: stopping", len(self._restarts), RESTART_WINDOW_S
                )
                return 1
            log.warning("gateway worker %d (pid %d) ended (%s): starting another", slot, pid, _said(status))
            self._spawn(slot)
        return 0

    def _stop_all(self) -> None:
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        while self.pids and time.monotonic() < deadline:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                time.sleep(0.05)
                continue
            if self.pids.pop(pid, None) is not None:
                self.on_exit(pid)
        for pid in list(self.pids):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            del self.pids[pid]
            self.on_exit(pid)


def _said(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
