"""Office nodes in tests, their deep links served for real on a loopback port, for the gateway to fetch."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from registry_node.node.office import Office
from registry_node.node.outbox import OutboxWorker
from registry_node.node.store import Store
from registry_node.node.transactor import Transactor
from registry_node.protocol.keys import OfficeSigningKey


class ServedApp:
    """An ASGI app under uvicorn in a thread on a fixed loopback port; can be stopped and restarted."""

    def __init__(self, app: ASGIApp, port: int) -> None:
        self.app = app
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ServedApp:
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"uvicorn did not start on port {self.port}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._server.force_exit = True
            self._thread.join(timeout=10)
            self._server = None

    @contextmanager
    def stopped(self) -> Iterator[None]:
        self.stop()
        try:
            yield
        finally:
            self.start()


@dataclass
class OfficeNode:
    """An office's node in a test: its office, store and outbox worker in this process, the account that
    sends its governance transactions, its signing key, and its deep links served for real (behind a
    `tamper` wrapper, where a test makes the office hostile)."""

    code: str
    office: Office
    store: Store
    worker: OutboxWorker
    transactor: Transactor
    key: OfficeSigningKey
    server: ServedApp
    tamper: Any = None
