"""What the gateway tells Prometheus at /metrics: requests, their latency, verdicts by kind, and how far the
indexer is behind the chain.

One `Metrics` per app, with a registry of its own (tests build many apps in one process). Under
`ipreg gateway serve`, the workers are separate processes: the parent points PROMETHEUS_MULTIPROC_DIR at a
fresh folder before any worker starts, each worker writes its counts there, and a scrape, whichever worker
answers it, adds up every worker's (prometheus-client's multiprocess mode). The indexer's lag is read from
the read model at each scrape, so it is the same whichever worker is asked.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.read_model.queries import Index
from gateway.workers import MULTIPROCESS_ENV

LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


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
        self.registry.register(IndexerCollector(index))

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
