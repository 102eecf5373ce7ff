"""The child processes of a local consortium: `ipreg node run` and `ipreg gateway run`, the same commands an
office and an auditor run, each with its log file.

A child stays in its parent's process group, so Ctrl-C in a terminal reaches every child too. A child is
ready when its URL answers 200, never after a fixed sleep; it is stopped with SIGTERM (killed if it
lingers), or killed with SIGKILL on purpose when a fault asks for a crash.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from registry_node.protocol.errors import RegistryError

IPREG = Path(sys.executable).with_name("ipreg")  # the command of the venv running this one
READY_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 20.0


class Interrupted(RegistryError):
    """A stop was asked for while a child was starting; what was done so far is kept."""


class ChildProcess:
    """A child `ipreg …` process with its log file."""

    def __init__(
        self,
        name: str,
        args: list[str],
        log: Path,
        env: Mapping[str, str],
        program: Sequence[str] = (str(IPREG),),
    ) -> None:
        self.name = name
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [*program, *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(env),  # same process group: Ctrl-C in a terminal reaches every child too
            )

    def wait_ready(
        self, url: str, stop: threading.Event | None = None, timeout_s: float = READY_TIMEOUT_S
    ) -> None:
        """Returns once `url` answers 200; fails if the process exits first, or when `stop` is set."""
        stop = stop or threading.Event()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if stop.is_set():
                raise Interrupted(f"interrupted while starting {self.name}")
            if self.process.poll() is not None:
                tail = self.log.read_text("utf-8", "replace")[-2000:]
                raise RegistryError(f"{self.name} exited with code {self.process.returncode}:\n{tail}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            stop.wait(0.2)
        raise RegistryError(f"{self.name} did not answer at {url} within {timeout_s:.0f} s (log: {self.log})")

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM, so the child shuts down cleanly; SIGKILL if it has not within STOP_TIMEOUT_S."""
        terminate(self.process, STOP_TIMEOUT_S)

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, as when the machine loses power under the process."""
        self.process.kill()
        self.process.wait()


def terminate(process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """Stops a process we started with SIGTERM (so it shuts down cleanly), then SIGKILL if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_ipreg(args: Sequence[str], env: Mapping[str, str], timeout_s: float | None = None) -> str:
    """Runs `ipreg <args>` to completion and returns what it printed; a failure is a RegistryError with its
    error output."""
    result = subprocess.run(
        [str(IPREG), *args],
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=timeout_s,
    )
    if result.returncode != 0:
        raise RegistryError(f"ipreg {' '.join(args[:2])} failed: {result.stderr.strip()}")
    return result.stdout
