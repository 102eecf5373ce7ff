"""Open-loop load on a gateway, shared by the reliability suite and the gateway benchmark's soak.

Request i leaves at i/rate seconds whatever the answers before it, so a slow gateway shows as latency (and,
past the client timeout, as unanswered requests) instead of a lower rate. The mix is the soak's: queries
(a right, its history, its state at a date, the offices, pages of rights) and verifications (of a right,
and uploads of the offices' authentic signed documents), every verdict checked.
"""

from __future__ import annotations

import asyncio
import gc
import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import aiohttp
import httpx

from registry_node.experiment.metrics import percentile
from registry_node.node.client import right_path

CLIENT_TIMEOUT_S = 60.0
SLOWEST = 10  # the slowest requests a result names, with when they left
LAG_TICK_S = 0.05


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: bytes | None = None
    verdict: str | None = None  # the verdict the answer must carry


Pick = Callable[[], tuple[str, Call]]


@dataclass
class LoadResult:
    offered: int = 0
    answered: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    unanswered: list[str] = field(default_factory=list)
    wrong_verdicts: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    sent_at_s: list[float] = field(default_factory=list)  # when each answered request left, from the start
    kinds: list[str] = field(default_factory=list)  # each answered request's kind
    by_kind: Counter[str] = field(default_factory=Counter)
    latencies_by_kind: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    duration_s: float = 0.0
    client_pauses: ClientPauses = field(default_factory=lambda: ClientPauses())

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 400) + len(self.wrong_verdicts)

    def figures(self, window_s: float | None = None) -> dict[str, Any]:
        """The figures of the run; with `window_s`, also the p99 and the worst of each window of that many
        seconds (by when the requests left), which shows whether a tail is spread or gathered in time."""
        figures: dict[str, Any] = {
            "requests": self.offered,
            "answered": self.answered,
            "achieved_per_s": round(self.answered / self.duration_s, 1) if self.duration_s else 0.0,
            "errors": self.errors,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "unanswered": len(self.unanswered),
            "wrong_verdicts": len(self.wrong_verdicts),
            "p50_ms": _ms(self.latencies_ms, 0.50),
            "p99_ms": _ms(self.latencies_ms, 0.99),
            "p999_ms": _ms(self.latencies_ms, 0.999),
            "max_ms": round(max(self.latencies_ms), 1) if self.latencies_ms else None,
            "mix": dict(self.by_kind),
            "p99_ms_by_kind": {k: _ms(v, 0.99) for k, v in sorted(self.latencies_by_kind.items())},
            "slowest": [
                {"at_s": round(self.sent_at_s[i], 2), "kind": self.kinds[i], "ms": round(ms, 1)}
                for i, ms in sorted(enumerate(self.latencies_ms), key=lambda pair: -pair[1])[:SLOWEST]
            ],
            "examples": (self.unanswered + self.wrong_verdicts)[:5],
            "load_generator": self.client_pauses.figures(),
        }
        if window_s:
            windows: dict[int, list[float]] = defaultdict(list)
            for at, ms in zip(self.sent_at_s, self.latencies_ms, strict=True):
                windows[int(at // window_s)].append(ms)
            figures["by_window"] = {
                "window_s": window_s,
                "p99_ms": [_ms(windows[w], 0.99) for w in sorted(windows)],
                "max_ms": [round(max(windows[w]), 1) for w in sorted(windows)],
            }
        return figures


def _ms(latencies_ms: list[float], share: float) -> float | None:
    """The percentile in milliseconds to 0.1, None when nothing was answered."""
    return round(percentile(latencies_ms, share), 1) if latencies_ms else None


class ClientPauses:
    """The load generator's own pauses while it offers load: how late its event loop runs a LAG_TICK_S
    timer, and its garbage collections. A pause here delays every request in flight, and is no server's."""

    def __init__(self) -> None:
        self.loop_lag_ms: list[float] = []
        self.gc_ms: dict[int, list[float]] = defaultdict(list)
        self._gc_started = 0.0

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_ms[info["generation"]].append((time.perf_counter() - self._gc_started) * 1000)

    async def probe(self) -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(LAG_TICK_S)
            self.loop_lag_ms.append(max(0.0, (time.perf_counter() - asked - LAG_TICK_S) * 1000))

    def figures(self) -> dict[str, Any]:
        return {
            "loop_lag_max_ms": round(max(self.loop_lag_ms), 1) if self.loop_lag_ms else None,
            "loop_lag_over_50_ms": sum(1 for ms in self.loop_lag_ms if ms > 50),
            "gc": {
                f"generation_{generation}": {"count": len(pauses), "max_ms": round(max(pauses), 1)}
                for generation, pauses in sorted(self.gc_ms.items())
            },
        }


async def _offer(url: str, rate: float, duration_s: float, pick: Pick) -> LoadResult:
    result = LoadResult()
    timeout = aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=512)
    pauses = result.client_pauses
    gc.freeze()  # what the caller prepared (the requests to send) is never collected during the load
    gc.callbacks.append(pauses.on_gc)
    probe = asyncio.get_running_loop().create_task(pauses.probe())
    try:
        async with aiohttp.ClientSession(url, connector=connector, timeout=timeout) as session:
            await _send_all(session, result, rate, duration_s, pick)
    finally:
        probe.cancel()
        gc.callbacks.remove(pauses.on_gc)
        gc.unfreeze()
    return result


async def _send_all(
    session: aiohttp.ClientSession, result: LoadResult, rate: float, duration_s: float, pick: Pick
) -> None:
    """Sends request i at i/rate seconds from the start, whatever the answers before it."""
    clock = time.monotonic()

    async def one(kind: str, call: Call) -> None:
        started = time.perf_counter()
        sent_at = time.monotonic() - clock
        try:
            async with session.request(call.method, call.path, data=call.body) as answer:
                data = await answer.read()
                status = answer.status
        except (aiohttp.ClientError, TimeoutError) as err:
            result.unanswered.append(f"{kind} {call.path}: {type(err).__name__} {err}"[:200])
            return
        result.latencies_ms.append((time.perf_counter() - started) * 1000)
        result.sent_at_s.append(sent_at)
        result.kinds.append(kind)
        result.latencies_by_kind[kind].append(result.latencies_ms[-1])
        result.answered += 1
        result.statuses[status] += 1
        if status == 200 and call.verdict is not None:
            verdict = json.loads(data).get("verdict")
            if verdict != call.verdict:
                result.wrong_verdicts.append(f"{kind} {call.path}: {verdict}, not {call.verdict}")

    # Only the requests in flight are held, and what the caller prepared is frozen out of the collector
    # (`_offer`): holding every task of a run to its end (120,000 in ten minutes, each with its coroutine)
    # with every prepared request scanned by each full collection, the generator's own garbage collections
    # paused it for 100 to 230 ms, and every request in flight showed the pause, the bare ones too.
    in_flight: set[asyncio.Task[None]] = set()
    for i in range(int(rate * duration_s)):
        delay = clock + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        kind, call = pick()
        result.offered += 1
        result.by_kind[kind] += 1
        task = asyncio.create_task(one(kind, call))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    while in_flight:
        await asyncio.gather(*list(in_flight))
    result.duration_s = time.monotonic() - clock


def offer(url: str, rate: float, duration_s: float, pick: Pick) -> LoadResult:
    """`rate` requests a second for `duration_s` to `url`, each picked by `pick`, open loop."""
    return asyncio.run(_offer(url, rate, duration_s, pick))


class Mix:
    """The soak's mixed load on one consortium's gateway: its published rights, and their current signed
    documents as the offices' deep links serve them."""

    KINDS: ClassVar[dict[str, int]] = {
        "right": 20, "history": 15, "state": 10, "offices": 10, "page": 10,
        "verify-right": 20, "verify-upload": 15,
    }  # fmt: skip

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.pool: list[str] = []  # published rights the load asks about and verifies
        self.uploads: list[tuple[str, bytes]] = []  # their signed documents, as the deep links serve them
        self.today = datetime.now(UTC).date().isoformat()

    @classmethod
    def of(cls, gateway_url: str, node_urls: dict[str, str], rng: random.Random) -> Mix:
        """The mix of the rights the gateway lists (up to 100), fetching their documents from the nodes."""
        mix = cls(rng)
        for right_id, _deep_link, body in published_documents(gateway_url, node_urls):
            mix.pool.append(right_id)
            mix.uploads.append((right_id, body))
        if not mix.pool:
            raise RuntimeError("the consortium's gateway lists no published right")
        return mix

    def call(self) -> tuple[str, Call]:
        kind = self.rng.choices(list(self.KINDS), list(self.KINDS.values()))[0]
        right = right_path(self.rng.choice(self.pool))
        if kind == "right":
            return kind, Call("GET", f"/v1/rights/{right}")
        if kind == "history":
            return kind, Call("GET", f"/v1/rights/{right}/history")
        if kind == "state":
            return kind, Call("GET", f"/v1/rights/{right}/state?date={self.today}")
        if kind == "offices":
            return kind, Call("GET", "/v1/offices")
        if kind == "page":
            return kind, Call("GET", f"/v1/rights?limit={self.rng.choice([10, 50, 100])}")
        return self.verification_call(kind)

    def verification_call(self, kind: str | None = None) -> tuple[str, Call]:
        kind = kind or self.rng.choice(["verify-right", "verify-upload"])
        if kind == "verify-right":
            right = right_path(self.rng.choice(self.pool))
            return kind, Call("GET", f"/v1/rights/{right}/verification", verdict="authentic-current")
        _, document = self.rng.choice(self.uploads)
        return kind, Call("POST", "/v1/verifications", document, verdict="authentic-current")


def published_documents(gateway_url: str, node_urls: dict[str, str]) -> list[tuple[str, str, bytes]]:
    """Each published right the gateway lists (up to 100): its id, its current version's deep link at its
    office's node (`node_urls` by office code) and the signed document that link serves."""
    with httpx.Client(base_url=gateway_url, timeout=30) as gateway:
        items = gateway.get("/v1/rights", params={"limit": 100}).raise_for_status().json()["items"]
    documents = []
    with httpx.Client(timeout=30) as nodes:
        for item in items:
            if item["confidential"] or not item["rightId"]:
                continue
            right = right_path(item["rightId"])
            url = f"{node_urls[item['officeCode']]}/v1/documents/{right}/{item['version']}"
            documents.append((item["rightId"], url, nodes.get(url).raise_for_status().content))
    return documents
