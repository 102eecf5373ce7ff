"""What the gateway tells Prometheus at /metrics: requests, their latency, verdicts by kind, how far the
indexer is behind the chain, and what stalls a worker: the event loop's lag (how late a timer fires: any
request waiting then waits as long) and the garbage collector's pauses.

One `Metrics` per app, with a registry of its own (tests build many apps in one process). Under
`ipreg gateway serve`, the workers are separate processes: the parent points PROMETHEUS_MULTIPROC_DIR at a
fresh folder before any worker starts, each worker writes its counts there, and a scrape, whichever worker
answers it, adds up every worker's (prometheus-client's multiprocess mode). The indexer's lag is read from
the read model at each scrape, so it is the same whichever worker is asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.read_model.queries import Index
from gateway.workers import MULTIPROCESS_ENV

LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LAG_TICK_S = 0.05  # how often the loop-lag probe asks to be woken


class IndexerCollector(Collector):
    """The indexer's position, read from the read model at scrape time."""

    def __init__(self, index: Index) -> None:
        self.index = index

    def collect(self) -> Iterator[Metric]:
        status = self.index.status(0)
        head = GaugeMetricFamily("ipreg_gateway_chain_head_block", "The chain head the indexer last saw")
        indexed = GaugeMetricFamily("ipreg_gateway_indexed_block", "The last block indexed")
        lag = GaugeMetricFamily("ipreg_gateway_indexer_lag_blocks", "Blocks the index is behind the head")
        seen = GaugeMetricFamily(
            "ipreg_gateway_head_seen_age_seconds", "Seconds since the indexer last read the head"
        )
        if status.head_block is not None:
            head.add_metric([], status.head_block)
        indexed.add_metric([], status.indexed_block)
        if status.lag is not None:
            lag.add_metric([], status.lag)
        if status.head_seen_at is not None:
            seen.add_metric([], max(0.0, time.time() - status.head_seen_at))
        yield from (head, indexed, lag, seen)


class Metrics:
    """The gateway's metrics and the exposition of them."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.multiprocess = bool(os.environ.get(MULTIPROCESS_ENV))
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ipreg_gateway_requests",
            "Requests answered, by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ipreg_gateway_request_seconds",
            "Time from the request's arrival to the end of its answer, by route template",
            ["route"],
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.verdicts = Counter(
            "ipreg_gateway_verdicts",
            "Verdicts given, by what was verified (right or document) and verdict",
            ["subject", "verdict"],
            registry=self.registry,
        )
        self.loop_lag = Histogram(
            "ipreg_gateway_event_loop_lag_seconds",
            f"How late a {LAG_TICK_S * 1000:.0f} ms timer fires on the worker's event loop",
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.gc_pause = Histogram(
            "ipreg_gateway_gc_pause_seconds",
            "Garbage collections and how long each held the interpreter, by generation",
            ["generation"],
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.registry.register(IndexerCollector(index))
        self._gc_started = 0.0

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[None]:
        """While the app serves: the loop-lag probe runs and garbage collections are timed."""
        probe = asyncio.get_running_loop().create_task(self._probe_loop_lag())
        gc.callbacks.append(self._on_gc)
        try:
            yield
        finally:
            gc.callbacks.remove(self._on_gc)
            probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await probe

    async def _probe_loop_lag(self) -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(LAG_TICK_S)
            self.loop_lag.observe(max(0.0, time.perf_counter() - asked - LAG_TICK_S))

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_pause.labels(str(info["generation"])).observe(time.perf_counter() - self._gc_started)

    def verdict(self, subject: str, verdict: str) -> None:
        self.verdicts.labels(subject, verdict).inc()

    def exposition(self) -> bytes:
        """The Prometheus text format of every worker's counts (one process's, outside `serve`)."""
        if not self.multiprocess:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(IndexerCollector(self.index))
        return generate_latest(registry)


class RequestMetrics:
    """Counts every request and times it to the end of its answer (pure ASGI, so 429s and errors count)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(template, scope["method"], str(status)).inc()
            self.metrics.latency.labels(template).observe(time.perf_counter() - started)
