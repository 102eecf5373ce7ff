"""A batch parsed on every core: `ParsePool` and the functions its worker processes run.

The executor names each function it sends a worker by module and name (`registry_node.protocol.st96.pool`),
and the fork server preloads this module, so a worker starts with the whole package imported. A worker
sends back each document or refusal as `parse_st96` gives it, and a configuration error as data, raised
again in the caller.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from collections.abc import Iterable, Sequence
from concurrent import futures
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Final

from registry_node.protocol.errors import ConfigError
from registry_node.protocol.st96.document import ImportOutcome, St96Document, St96Error
from registry_node.protocol.st96.parse import outcome, parse_source
from registry_node.protocol.st96.schema import SchemaSet

POOL_MIN_DOCUMENTS: Final = 16  # below this a batch is parsed in the caller: the round trip would cost more
POOL_MAX_CHUNK: Final = 64  # documents per task at most; a batch is cut into 4+ tasks per worker to share it


@dataclass(frozen=True)
class _WorkerConfigError:
    """A worker's ConfigError, sent back as data (ConfigError is not rebuilt by pickle from its message)."""

    field: str
    reason: str


class ParsePool:
    """Parses ST.96 documents in worker processes, one per core by default: parsing, mapping and the C14N
    hash are about 0.3 ms of single-threaded Python and libxml2 per document, the bulk of an import.

    A document gets exactly what `parse_st96` gives it (the same hardened parser, refusals and evidence),
    and results come back in the order given. Each worker validates against its own `SchemaSet` of
    `schemas.folder`, so a schema is loaded at most once per worker for the pool's life. The workers are
    started at the first batch of `POOL_MIN_DOCUMENTS` or more (smaller ones are parsed in the caller,
    with `schemas`) by a fork server, never by forking the caller, whose threads may hold locks; they stay
    until `close` and exit by themselves if the caller dies without closing the pool. Safe to share
    between threads.
    """

    def __init__(self, schemas: SchemaSet | None = None, workers: int | None = None) -> None:
        self.schemas = schemas
        self.workers = workers if workers is not None else os.cpu_count() or 1
        self._executor: ProcessPoolExecutor | None = None
        # The workers exit when the writing end closes (see _exit_with_the_pool); nothing is sent on it.
        self._alive: tuple[Connection, Connection] | None = None
        self._lock = threading.Lock()

    @property
    def started(self) -> bool:
        """Whether the worker processes are running."""
        return self._executor is not None

    def start(self) -> None:
        """Starts the workers now rather than at the first big batch, and waits until they can take work.

        The first start in a process also starts its fork server, which imports the caller's main module:
        up to a second, paid once.
        """
        if self.workers < 2:
            return
        executor = self._running()
        futures.wait([executor.submit(_ready) for _ in range(self.workers)])

    def parse_many(self, sources: Sequence[bytes]) -> list[St96Document | St96Error]:
        """Each document imported, or the St96Error that refused it, in the order of `sources`.

        A schema folder that cannot be loaded is a ConfigError, as with `parse_st96`.
        """
        return self._parse_all(list(sources))

    def import_files(self, paths: Iterable[Path]) -> list[ImportOutcome]:
        """`import_files` on every core: each worker reads its own files."""
        paths = [Path(path) for path in paths]
        return [outcome(path, result) for path, result in zip(paths, self._parse_all(paths), strict=True)]

    def close(self) -> None:
        """Stops the workers (a later batch starts new ones)."""
        with self._lock:
            executor, alive = self._executor, self._alive
            self._executor = self._alive = None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        for end in alive or ():
            end.close()

    def __enter__(self) -> ParsePool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _parse_all(self, sources: list[bytes] | list[Path]) -> list[St96Document | St96Error]:
        if self.workers < 2 or len(sources) < POOL_MIN_DOCUMENTS:
            return [parse_source(source, self.schemas) for source in sources]
        executor = self._running()
        chunk = max(1, min(POOL_MAX_CHUNK, len(sources) // (4 * self.workers)))
        try:
            results = list(executor.map(_parse_in_worker, sources, chunksize=chunk))
        except BrokenProcessPool:
            # A worker died (killed, or out of memory): the next batch gets new workers.
            with self._lock:
                if self._executor is executor:
                    for end in self._alive or ():
                        end.close()
                    self._executor = self._alive = None
            raise
        parsed: list[St96Document | St96Error] = []
        for result in results:
            if isinstance(result, _WorkerConfigError):
                raise ConfigError(result.field, result.reason)
            parsed.append(result)
        return parsed

    def _running(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                context = multiprocessing.get_context("forkserver")
                # The server (one per process) imports the caller's main module, as by default, and this
                # one; the workers it forks start with both instead of importing them each.
                context.set_forkserver_preload(["__main__", __name__])
                folder = self.schemas.folder if self.schemas is not None else None
                self._alive = context.Pipe(duplex=False)
                self._executor = ProcessPoolExecutor(
                    self.workers, context, initializer=_start_worker, initargs=(folder, self._alive[0])
                )
            return self._executor


_worker_schemas: SchemaSet | None = None  # a ParsePool worker's own schemas, set once by _start_worker


def _start_worker(schema_folder: Path | None, pool_alive: Connection) -> None:
    global _worker_schemas
    _worker_schemas = SchemaSet(schema_folder) if schema_folder is not None else None
    threading.Thread(target=_exit_with_the_pool, args=(pool_alive,), daemon=True).start()


def _exit_with_the_pool(pool_alive: Connection) -> None:
    """Ends the worker when the pool's process is gone. Nothing is ever sent on `pool_alive`: the read
    returns at end of file, once the only writing end, the pool's, is closed, as it is when that process
    dies. A pool killed before it could stop its workers would otherwise leave them waiting for tasks
    forever (each holds the task queue's writing end itself, so it never sees the queue end)."""
    with contextlib.suppress(EOFError):
        pool_alive.recv_bytes()
    os._exit(0)


def _ready() -> None:
    """A task that does nothing: `ParsePool.start` waits for it to know the workers are up."""


def _parse_in_worker(source: bytes | Path) -> St96Document | St96Error | _WorkerConfigError:
    try:
        return parse_source(source, _worker_schemas)
    except ConfigError as exc:
        return _WorkerConfigError(exc.field, exc.reason)
