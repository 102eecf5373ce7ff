"""Gateway verification throughput and query latency against bare endpoints on the same server, in one run.

A demo consortium (registry_node.devnet.demo: a fresh ganache, three office node processes, about fifty seeded
rights) is brought up in a temporary folder; its gateway process serves the real app (app_factory.build,
as `ipreg gateway run` does) with two bare endpoints mounted beside the real routes, behind the same
middleware (body limit, rate limit, security headers) on the same uvicorn server. Writes
bench/results/gateway.json:

  verify_per_s        POST /v1/verifications of authentic signed documents, as the offices' deep links serve
                      them (hash, signature, key validity and chain state all checked), per second
  bare_upload_per_s   POST of the same uploads to a bare endpoint that reads the body and answers 200
  verify_ratio        verify_per_s / bare_upload_per_s (target >= 0.5)
  raw_crypto_per_s    the same SHA-256 + signature checks in a bare loop, for reference
  get_p50_ms, get_p99_ms   GET /v1/rights/{id} latency at `clients` concurrent clients
  bare_p99_ms         the same load on a bare GET endpoint returning a fixed small JSON
  p99_ratio           get_p99_ms / bare_p99_ms (target <= 3)
  wrk                 the same server measured by an independent load generator, Debian's `wrk` (C): one
                      kept-alive connection and one new connection per request (`Connection: close`) to
                      the gateway's /v1/offices and a node's deep link, and `clients` kept-alive
                      connections to GET /v1/rights/{id} and its bare twin
  workers             `ipreg gateway serve --workers 1` and `--workers 2` on the same read model, the bare
                      routes in every worker, through wrk: verifications/s and bare uploads/s per pool (the
                      ratio each), `scaling` (2 workers / 1 worker, target >= 1.7), `bare_scaling` (the same
                      for the bare endpoint: what the server stack alone gains from a second worker on
                      this machine), and GET /v1/rights/{id} p50/p99 at `clients` connections on 2 workers
  soak                the gateway as a consortium runs it: a PostgreSQL server of its own, `ipreg gateway
                      index` apart and `serve --workers 2` started once it has caught up, under the soak's
                      open-loop mixed load (bench/open_loop.py: queries and verifications, every verdict
                      checked) at 200 requests/s for 10 minutes (--soak-seconds, --soak-rate), then the same
                      requests at the same times on the bare endpoints of the same workers: p50, p99, p99.9,
                      the worst, the p99 of each minute and the slowest requests with when they left, and
                      the workers' own count of garbage collections and event-loop lateness meanwhile

Each pair is measured in alternating rounds, so drift on the machine falls on both sides alike. The chain
mines no block during the measurement (ganache mines on transactions only), so the gateway's per-block
cache is warm after the first pass over the uploads: this is the steady state of a block's life.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(ROOT)  # run as a script: this file would otherwise shadow the `gateway` package

import argparse  # noqa: E402
import asyncio  # noqa: E402
import base64  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import ExitStack, contextmanager  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

import aiohttp  # noqa: E402
import httpx  # noqa: E402
from fastapi import FastAPI, Request  # noqa: E402
from sqlalchemy.exc import SQLAlchemyError  # noqa: E402

from bench.open_loop import Call, Mix, offer, published_documents  # noqa: E402
from registry_node.devnet.demo import GANACHE, Demo, DemoPorts  # noqa: E402
from registry_node.devnet.ganache import free_port  # noqa: E402
from registry_node.devnet.postgres import LocalPostgres  # noqa: E402
from registry_node.devnet.processes import ChildProcess  # noqa: E402
from registry_node.experiment.metrics import percentile  # noqa: E402
from registry_node.node.client import right_path  # noqa: E402
from registry_node.protocol.keys import SigningAlgorithm  # noqa: E402
from registry_node.protocol.signing import DetachedSignature, verify_signature  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "gateway.json"
BARE_UPLOAD = "/bench/bare-upload"
BARE_RIGHT = "/bench/bare-right"
TARGETS = {"verify_ratio": 0.5, "p99_ratio": 3.0, "workers_scaling": 1.7, "soak_p99_ms": 100.0}
AUTHENTIC_CHECKS = ("chain-state", "record-hash", "signing-key", "signature", "key-validity")
ROUNDS = 3  # alternating rounds of real and bare


# ------------------------------------------------------------ the server side


def add_bare_routes(app: FastAPI) -> None:
    """The baselines, on the gateway's own app: same server, same middleware, no work of their own."""

    @app.post(BARE_UPLOAD, include_in_schema=False)
    async def bare_upload(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    @app.get(BARE_RIGHT + "/{rightId:path}", include_in_schema=False)
    async def bare_right(rightId: str) -> dict[str, str]:
        return {"rightId": rightId}


def serve(data_dir: Path) -> None:
    """The gateway of `data_dir` as `ipreg gateway run` serves it, plus the bare routes. The rate limit is
    raised above the benchmark's load (it still runs, for the real and the bare routes alike)."""
    from gateway.cli import run_gateway

    os.environ["IPREG_GATEWAY_RATE_LIMIT_PER_S"] = "1000000"
    run_gateway(data_dir, extend=add_bare_routes)


# ------------------------------------------------------------ the consortium


@dataclass(frozen=True)
class Upload:
    right_id: str
    deep_link: str  # where its office serves it
    body: bytes  # the signed document JSON exactly as the office's deep link served it
    canonical: bytes
    signature: DetachedSignature


@contextmanager
def consortium(folder: Path, say: Callable[[str], None] = print) -> Iterator[Demo]:
    """A fresh demo consortium whose gateway process also serves the bare routes."""
    server = (sys.executable, str(Path(__file__).resolve()), "serve")
    demo = Demo(folder, DemoPorts.free(GANACHE), say, gateway_program=server)
    try:
        demo.start(threading.Event())
        yield demo
    finally:
        demo.stop()


def authentic_uploads(demo: Demo) -> list[Upload]:
    """The current signed document of every published right, fetched from its office's deep link."""
    offices = {code: office.url for code, office in demo.consortium.offices.items()}
    uploads = []
    for right_id, url, body in published_documents(demo.gateway_url, offices):
        document = json.loads(body)
        uploads.append(
            Upload(
                right_id,
                url,
                body,
                base64.b64decode(document["canonical"]),
                DetachedSignature.from_json(document["signature"]),
            )
        )
    if not uploads:
        raise RuntimeError("the consortium has no published right to verify")
    return uploads


def check_verdicts(gateway_url: str, uploads: list[Upload]) -> None:
    """Every upload is verified as authentic-current with every check run and passed (this also fills the
    gateway's per-block cache, as the first verification in a block does)."""
    with httpx.Client(base_url=gateway_url, timeout=60) as client:
        for upload in uploads:
            verdict = client.post("/v1/verifications", content=upload.body).raise_for_status().json()
            results = {c["name"]: c["result"] for c in verdict["checks"]}
            missing = [name for name in AUTHENTIC_CHECKS if results.get(name) != "pass"]
            if verdict["verdict"] != "authentic-current" or missing:
                raise RuntimeError(f"{upload.right_id}: {verdict['verdict']}, checks not passed: {missing}")


def public_keys(gateway_url: str) -> dict[tuple[str, str], tuple[bytes, SigningAlgorithm]]:
    """(office, key id hex) -> (public key, algorithm), as the gateway read them from the chain."""
    keys = {}
    with httpx.Client(base_url=gateway_url, timeout=30) as client:
        for office in client.get("/v1/offices").raise_for_status().json()["items"]:
            for key in office["keys"]:
                if key["algorithm"] is None:
                    continue
                keys[(office["officeCode"], key["keyId"].removeprefix("0x"))] = (
                    bytes.fromhex(key["publicKey"].removeprefix("0x")),
                    SigningAlgorithm(key["algorithm"]),
                )
    return keys


# ------------------------------------------------------------ measurements


def raw_crypto_per_s(uploads: list[Upload], keys: dict[tuple[str, str], Any], n: int) -> float:
    """SHA-256 of the canonical bytes and the signature check, in a bare loop."""
    material = [(u, *keys[(u.signature.office, u.signature.key_id.hex())]) for u in uploads]
    started = time.perf_counter()
    for i in range(n):
        upload, public_key, algorithm = material[i % len(material)]
        hashlib.sha256(upload.canonical).digest()
        if not verify_signature(upload.canonical, upload.signature, public_key, algorithm):
            raise RuntimeError(f"{upload.right_id}: the signature does not verify")
    return n / (time.perf_counter() - started)


@dataclass(frozen=True)
class Load:
    """`n` requests from `clients` concurrent clients, each sending its next request when the last one is
    answered: requests per second and each request's latency in ms."""

    per_s: float
    latencies_ms: list[float]


async def _drive(url: str, requests: list[tuple[str, str, bytes | None]], clients: int) -> Load:
    latencies: list[float] = []
    queue = iter(requests)
    connector = aiohttp.TCPConnector(limit=clients, force_close=False)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(url, connector=connector, timeout=timeout) as session:

        async def client() -> None:
            for method, path, body in queue:
                started = time.perf_counter()
                async with session.request(method, path, data=body) as answer:
                    await answer.read()
                    if answer.status != 200:
                        raise RuntimeError(f"{method} {path}: HTTP {answer.status}")
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return Load(len(requests) / elapsed, latencies)


def drive(url: str, requests: list[tuple[str, str, bytes | None]], clients: int) -> Load:
    return asyncio.run(_drive(url, requests, clients))


def alternate(
    url: str,
    real: list[tuple[str, str, bytes | None]],
    bare: list[tuple[str, str, bytes | None]],
    clients: int,
) -> tuple[Load, Load]:
    """Real and bare in ROUNDS alternating rounds (after one warm-up round each); loads merged."""
    drive(url, real[: max(clients, len(real) // 10)], clients)
    drive(url, bare[: max(clients, len(bare) // 10)], clients)
    loads: dict[str, list[Load]] = {"real": [], "bare": []}
    for round_ in range(ROUNDS):
        share = slice(round_ * len(real) // ROUNDS, (round_ + 1) * len(real) // ROUNDS)
        loads["real"].append(drive(url, real[share], clients))
        loads["bare"].append(drive(url, bare[share], clients))
    return _merged(loads["real"]), _merged(loads["bare"])


def _merged(loads: list[Load]) -> Load:
    requests = sum(len(load.latencies_ms) for load in loads)
    seconds = sum(len(load.latencies_ms) / load.per_s for load in loads)
    return Load(requests / seconds, [ms for load in loads for ms in load.latencies_ms])


def measure_verification(url: str, uploads: list[Upload], n: int, clients: int) -> tuple[Load, Load]:
    real = [("POST", "/v1/verifications", uploads[i % len(uploads)].body) for i in range(n)]
    bare = [("POST", BARE_UPLOAD, uploads[i % len(uploads)].body) for i in range(n)]
    return alternate(url, real, bare, clients)


def measure_reads(url: str, right_ids: list[str], n: int, clients: int) -> tuple[Load, Load]:
    real = [("GET", f"/v1/rights/{right_path(right_ids[i % len(right_ids)])}", None) for i in range(n)]
    bare = [("GET", f"{BARE_RIGHT}/{right_path(right_ids[i % len(right_ids)])}", None) for i in range(n)]
    return alternate(url, real, bare, clients)


# ------------------------------------------------------------ the same server through wrk

# wrk's summary as one JSON line, from its own histogram (microseconds), after its human-readable report.
WRK_REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"non_2xx":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class WrkLoad:
    """What wrk measured: requests per second and the latency percentiles of its own histogram."""

    per_s: float
    p50_ms: float
    p99_ms: float
    requests: int

    def figures(self) -> dict[str, float]:
        return {
            "per_s": round(self.per_s, 1),
            "p50_ms": round(self.p50_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "requests": self.requests,
        }


def wrk(
    url: str, connections: int, seconds: int, *, close: bool = False, body: bytes | None = None
) -> WrkLoad:
    """`connections` connections for `seconds` (one wrk thread: the machine's other core is the server's),
    kept alive, or a new one for every request with `close`; a POST of `body` when one is given."""
    program = shutil.which("wrk")
    if program is None:
        raise RuntimeError("wrk is not installed: run `make setup` (it installs Debian's wrk)")
    posted = None
    if body is not None:
        with tempfile.NamedTemporaryFile("wb", suffix=".body", delete=False) as payload:
            payload.write(body)
        posted = payload.name
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        if posted is not None:
            script.write(
                f'local f = io.open("{posted}", "rb")\nwrk.body = f:read("*a")\nf:close()\n'
                'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/octet-stream"\n'
            )
        script.write(WRK_REPORT)
    command = [program, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "-s", script.name]
    if close:
        command += ["-H", "Connection: close"]
    try:
        done = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 120)
    finally:
        os.unlink(script.name)
        if posted is not None:
            os.unlink(posted)
    if done.returncode != 0:
        raise RuntimeError(f"wrk {url}: exit {done.returncode}: {done.stderr.strip()}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    if report["non_2xx"] or report["socket_errors"] or not report["requests"]:
        raise RuntimeError(f"wrk {url}: {report}")
    return WrkLoad(
        report["requests"] / (report["duration_us"] / 1e6),
        report["p50_us"] / 1000,
        report["p99_us"] / 1000,
        report["requests"],
    )


def wrk_version() -> str:
    program = shutil.which("wrk")
    if program is None:
        return "not installed"
    # wrk has no --version; its usage text (exit 1) starts with the version line
    usage = subprocess.run([program, "-v"], capture_output=True, text=True, timeout=30)
    return (usage.stdout or usage.stderr).strip().splitlines()[0].split(" Copyright")[0]


def measure_with_wrk(url: str, upload: Upload, clients: int, seconds: int) -> dict[str, Any]:
    """One connection kept alive against a new connection per request, at the gateway and at a node's deep
    link; then `clients` kept-alive connections on the real and the bare GET, as the Python load does."""
    one_connection = {}
    for name, target in (("gateway_offices", f"{url}/v1/offices"), ("node_deep_link", upload.deep_link)):
        kept, closed = wrk(target, 1, seconds), wrk(target, 1, seconds, close=True)
        one_connection[name] = {
            "kept_alive": kept.figures(),
            "closed": closed.figures(),
            "p50_ratio": round(kept.p50_ms / closed.p50_ms, 3),
        }
    path = right_path(upload.right_id)
    real = wrk(f"{url}/v1/rights/{path}", clients, seconds)
    bare = wrk(f"{url}{BARE_RIGHT}/{path}", clients, seconds)
    return {
        "seconds_each": seconds,
        "one_connection": one_connection,
        "get_right": {
            "connections": clients,
            "real": real.figures(),
            "bare": bare.figures(),
            "p99_ratio": round(real.p99_ms / bare.p99_ms, 3),
        },
    }


# ------------------------------------------------------------ API workers (`ipreg gateway serve --workers N`)


def serve_workers(data_dir: Path, workers: int) -> None:
    """The gateway of `data_dir` as `ipreg gateway serve --workers N` serves it, plus the bare routes in
    every worker; the rate limit is raised above the load, as for `serve`."""
    from gateway.cli import serve_gateway

    os.environ["IPREG_GATEWAY_RATE_LIMIT_PER_S"] = "1000000"
    serve_gateway(data_dir, workers, extend=add_bare_routes)


def serve_pool(demo: Demo, workers: int, log_name: str, env: dict[str, str]) -> tuple[ChildProcess, str]:
    """`serve-workers --workers N` (below) on the demo's gateway folder, on a free port, with `env`; returns
    the process and its URL (the caller waits for it)."""
    assert demo.consortium.gateway_dir is not None
    port = free_port()
    child = ChildProcess(
        f"gateway serve --workers {workers}",
        ["serve-workers", "--workers", str(workers), "--data-dir", str(demo.consortium.gateway_dir)],
        demo.consortium.folder / "logs" / log_name,
        env | {"IPREG_GATEWAY_LISTEN_PORT": str(port)},
        program=(sys.executable, str(Path(__file__).resolve())),
    )
    return child, f"http://127.0.0.1:{port}"


@contextmanager
def worker_pools(demo: Demo, counts: tuple[int, ...]) -> Iterator[dict[int, str]]:
    """A `serve` process for each worker count, side by side on the demo's read model (the demo's own
    gateway keeps indexing it); yields each one's URL. An idle pool takes no CPU from a measured one."""
    with ExitStack() as running:
        urls, children = {}, []
        for count in counts:  # started side by side, then waited for
            child, urls[count] = serve_pool(demo, count, f"gateway-serve-{count}.log", demo.consortium.env())
            running.callback(child.stop)
            children.append(child)
        for child, url in zip(children, urls.values(), strict=True):
            child.wait_ready(f"{url}/v1/status")
        yield urls


def measure_workers(
    demo: Demo, upload: Upload, clients: int, seconds: int, counts: tuple[int, ...] = (1, 2)
) -> dict[str, Any]:
    """Verifications per second with 1 and 2 API workers, each against a bare upload endpoint served the
    same way, in alternating rounds through wrk (C, one thread, so the load generator takes as little of
    the two cores as it can); and GET /v1/rights/{id} at `clients` connections on the largest pool."""
    figures: dict[int, dict[str, list[float]]] = {c: {"verify": [], "bare": []} for c in counts}
    path = right_path(upload.right_id)
    with worker_pools(demo, counts) as urls:
        for url in urls.values():  # warm-up: each worker's per-block cache and connections
            wrk(f"{url}/v1/verifications", clients, 1, body=upload.body)
        for _ in range(ROUNDS):
            for count, url in urls.items():
                figures[count]["verify"].append(
                    wrk(f"{url}/v1/verifications", clients, seconds, body=upload.body).per_s
                )
                figures[count]["bare"].append(
                    wrk(f"{url}{BARE_UPLOAD}", clients, seconds, body=upload.body).per_s
                )
        largest = urls[max(counts)]
        real = wrk(f"{largest}/v1/rights/{path}", clients, seconds)
        bare = wrk(f"{largest}{BARE_RIGHT}/{path}", clients, seconds)
    by_count = {}
    for count in counts:
        verify = statistics.median(figures[count]["verify"])
        bare_upload = statistics.median(figures[count]["bare"])
        by_count[str(count)] = {
            "verify_per_s": round(verify, 1),
            "bare_upload_per_s": round(bare_upload, 1),
            "verify_ratio": round(verify / bare_upload, 3),
            "rounds": {k: [round(v, 1) for v in values] for k, values in figures[count].items()},
        }
    low, high = min(counts), max(counts)
    return {
        "by_workers": by_count,
        "scaling": round(by_count[str(high)]["verify_per_s"] / by_count[str(low)]["verify_per_s"], 3),
        "bare_scaling": round(
            by_count[str(high)]["bare_upload_per_s"] / by_count[str(low)]["bare_upload_per_s"], 3
        ),
        "get_right": {
            "workers": high,
            "connections": clients,
            "real": real.figures(),
            "bare": bare.figures(),
            "p99_ratio": round(real.p99_ms / bare.p99_ms, 3),
        },
        "seconds_each": seconds,
        "load": "wrk, one thread, kept-alive connections, the same signed document each time",
    }


# ------------------------------------------------------------ the soak (PostgreSQL, indexer apart, 2 workers)

SOAK_WORKERS = 2
SOAK_RATE = 200.0
CAUGHT_UP_S = 300.0


def as_bare(call: Call) -> Call:
    """The same request on the bare endpoints: a GET on the bare GET, an upload on the bare upload."""
    if call.method == "POST":
        return Call("POST", BARE_UPLOAD, call.body)
    return Call("GET", f"{BARE_RIGHT}/{call.path.removeprefix('/v1/')}")


def caught_up(database_url: str, expected: list[dict[str, Any]]) -> bool:
    """The read model at `database_url` holds every right of `expected` at its version, each published one
    with the owners its record names (so the indexer has also fetched the records from the deep links)."""
    from gateway.read_model.db import engine_for
    from gateway.read_model.queries import Index, RightFilter

    engine = engine_for(database_url)
    try:
        items = Index(engine).rights(RightFilter(), 100).items
    except SQLAlchemyError:
        return False  # not migrated yet
    finally:
        engine.dispose()
    seen = {item["rightId"]: item for item in items}
    return all(
        right["rightId"] in seen
        and seen[right["rightId"]]["version"] == right["version"]
        and (right["confidential"] or seen[right["rightId"]]["owners"])
        for right in expected
        if right["rightId"]  # a right known by its hash only has no record to learn
    )


@contextmanager
def scaled_gateway(demo: Demo, workers: int, say: Callable[[str], None]) -> Iterator[tuple[str, str]]:
    """The gateway as a consortium runs it, on the demo's chain and nodes: a PostgreSQL server of its own,
    one `ipreg gateway index` writing it and one `serve --workers N` (with the bare routes) reading it,
    started once the indexer has caught up (as workers start on a running consortium's read model). The
    demo's own gateway is stopped meanwhile (so only these processes serve and index), and started again
    after. Yields the pool's URL and PostgreSQL's version."""
    consortium = demo.consortium
    assert consortium.gateway_dir is not None
    expected = httpx.get(f"{demo.gateway_url}/v1/rights", params={"limit": 100}, timeout=30).json()["items"]
    consortium.stop_gateway()
    try:
        # the processes stop first (the ExitStack), then PostgreSQL
        with LocalPostgres() as postgres, ExitStack() as running:
            database_url = postgres.create_database()
            env = consortium.env() | {"IPREG_GATEWAY_DATABASE_URL": database_url}
            indexer = ChildProcess(
                "gateway index",
                ["gateway", "index", "--data-dir", str(consortium.gateway_dir)],
                consortium.folder / "logs" / "gateway-idx.log",
                env,
            )
            running.callback(indexer.stop)
            deadline = time.monotonic() + CAUGHT_UP_S
            while not caught_up(database_url, expected):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the indexer did not catch up within {CAUGHT_UP_S:.0f} s")
                time.sleep(0.5)
            pool, url = serve_pool(demo, workers, f"gateway-serve-{workers}-postgres.log", env)
            running.callback(pool.stop)
            pool.wait_ready(f"{url}/v1/status")
            say(f"PostgreSQL read model caught up; {workers} workers at {url}")
            yield url, postgres.version()
    finally:
        consortium.start_gateway()


SLOW_S = (0.05, 0.1)  # the pause lengths worker_pauses counts


def worker_pauses(url: str) -> dict[str, dict[str, int]]:
    """What the workers' own /metrics count so far (every worker's added up): garbage collections by
    generation and the event loop's lateness, each as how many, and how many longer than each of SLOW_S."""
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(f"{url}/metrics", timeout=30).raise_for_status().text
    buckets: dict[str, dict[float, float]] = {}  # what -> upper bound -> how many at most that long
    for family in text_string_to_metric_families(text):
        if family.name not in ("ipreg_gateway_gc_pause_seconds", "ipreg_gateway_event_loop_lag_seconds"):
            continue
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                generation = sample.labels.get("generation")
                what = "loop_lag" if generation is None else f"gc_generation_{generation}"
                buckets.setdefault(what, {})[float(sample.labels["le"])] = sample.value
    return {
        what: {"count": int(counted[float("inf")])}
        | {f"over_{int(t * 1000)}_ms": int(counted[float("inf")] - counted[t]) for t in SLOW_S}
        for what, counted in buckets.items()
    }


def _pauses_during(before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]) -> dict[str, Any]:
    return {
        what: {key: value - before.get(what, {}).get(key, 0) for key, value in entry.items()}
        for what, entry in sorted(after.items())
    }


def measure_soak(
    demo: Demo, seconds: float, rate: float, seed: int, say: Callable[[str], None] = print
) -> dict[str, Any]:
    """The soak's open-loop mixed load (bench/open_loop.py) at `rate` requests/s for `seconds`, on the
    gateway as a consortium runs it (scaled_gateway), then the same requests, in the same order and at the
    same times, on the bare endpoints of the same workers. No warm-up: the load starts on fresh workers."""
    offices = {code: office.url for code, office in demo.consortium.offices.items()}
    with scaled_gateway(demo, SOAK_WORKERS, say) as (url, postgres_version):
        mix = Mix.of(url, offices, random.Random(seed))
        calls = [mix.call() for _ in range(int(rate * seconds))]
        window_s = 60.0 if seconds >= 300 else 10.0
        say(f"soak: {len(calls)} mixed requests at {rate:.0f}/s on {SOAK_WORKERS} workers")
        figures = {}
        for name, way in (("real", lambda call: call), ("bare", as_bare)):
            picks = iter([(kind, way(call)) for kind, call in calls])
            before = worker_pauses(url)
            figures[name] = offer(url, rate, seconds, lambda: next(picks)).figures(window_s)  # noqa: B023
            figures[name]["worker_pauses"] = _pauses_during(before, worker_pauses(url))
            said = figures[name]
            say(f"  {name}: p50 {said['p50_ms']} ms, p99 {said['p99_ms']} ms, p99.9 {said['p999_ms']} ms")
    real_figures, bare_figures = figures["real"], figures["bare"]
    return {
        "seconds": seconds,
        "offered_per_s": rate,
        "workers": SOAK_WORKERS,
        "database": f"PostgreSQL {postgres_version} (its own server, default durability)",
        "indexer": "`ipreg gateway index`, a process of its own",
        "real": real_figures,
        "bare": bare_figures,
        "p99_ratio": round(real_figures["p99_ms"] / bare_figures["p99_ms"], 3),
        "lost": real_figures["unanswered"] + real_figures["errors"],
        "load": "one asyncio process (aiohttp), open loop, keep-alive connections; bench/open_loop.py's mix",
    }


# ------------------------------------------------------------ the run


def measure(
    demo: Demo,
    uploads_n: int,
    reads_n: int,
    crypto_n: int,
    clients: int,
    wrk_seconds: int,
    soak_seconds: float = 0.0,
    soak_rate: float = SOAK_RATE,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Every figure of gateway.json, against a running consortium (the soak when `soak_seconds`)."""
    url = demo.gateway_url
    uploads = authentic_uploads(demo)
    check_verdicts(url, uploads)
    raw = raw_crypto_per_s(uploads, public_keys(url), crypto_n)
    verify, bare_upload = measure_verification(url, uploads, uploads_n, clients)
    get, bare_get = measure_reads(url, [u.right_id for u in uploads], reads_n, clients)
    get_p99, bare_p99 = percentile(get.latencies_ms, 0.99), percentile(bare_get.latencies_ms, 0.99)
    by_wrk = measure_with_wrk(url, uploads[0], clients, wrk_seconds)
    workers = measure_workers(demo, uploads[0], clients, wrk_seconds)
    soak = measure_soak(demo, soak_seconds, soak_rate, seed=2026, say=say) if soak_seconds else None
    return {
        "verify_per_s": round(verify.per_s, 1),
        "bare_upload_per_s": round(bare_upload.per_s, 1),
        "verify_ratio": round(verify.per_s / bare_upload.per_s, 3),
        "raw_crypto_per_s": round(raw, 1),
        "get_p50_ms": round(percentile(get.latencies_ms, 0.50), 2),
        "get_p99_ms": round(get_p99, 2),
        "bare_p50_ms": round(percentile(bare_get.latencies_ms, 0.50), 2),
        "bare_p99_ms": round(bare_p99, 2),
        "p99_ratio": round(get_p99 / bare_p99, 3),
        "clients": clients,
        "requests": {"uploads": uploads_n, "reads": reads_n, "crypto": crypto_n},
        "documents": len(uploads),
        "wrk": by_wrk,
        "workers": workers,
        "soak": soak,
    }


def run(
    uploads_n: int,
    reads_n: int,
    crypto_n: int,
    clients: int,
    wrk_seconds: int,
    soak_seconds: float,
    soak_rate: float,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="ipreg-bench-gateway-") as tmp,
        consortium(Path(tmp), say) as demo,
    ):
        started = time.perf_counter()
        results = measure(
            demo, uploads_n, reads_n, crypto_n, clients, wrk_seconds, soak_seconds, soak_rate, say
        )
        head = httpx.get(f"{demo.gateway_url}/v1/status", timeout=30).json()["headBlock"]
        client_version = httpx.post(
            demo.consortium.chain.rpc_url,
            json={"jsonrpc": "2.0", "id": 1, "method": "web3_clientVersion"},
            timeout=30,
        ).json()["result"]
        say(f"measured in {time.perf_counter() - started:.0f} s")
    import fastapi
    import uvicorn

    return {
        **results,
        "targets": TARGETS,
        "chain": {"client": client_version, "head_block": head},
        "environment": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "uvicorn": uvicorn.__version__,
            "fastapi": fastapi.__version__,
            "server": "one uvicorn process (as `ipreg gateway run`), indexer thread running",
            "load": "one asyncio process (aiohttp), closed loop, keep-alive connections",
            "wrk": wrk_version(),
        },
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    server = commands.add_parser("serve", help="(internal) the gateway process of the benchmark")
    server.add_argument("--data-dir", type=Path, required=True)
    pool = commands.add_parser("serve-workers", help="(internal) `serve --workers N` with the bare routes")
    pool.add_argument("--data-dir", type=Path, required=True)
    pool.add_argument("--workers", type=int, required=True)
    parser.add_argument("--uploads", type=int, default=1500, help="verification uploads, each way")
    parser.add_argument("--reads", type=int, default=3000, help="GET requests, each way")
    parser.add_argument("--crypto", type=int, default=3000, help="hash + signature checks in the bare loop")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--wrk-seconds", type=int, default=10, help="each wrk measurement's duration")
    parser.add_argument(
        "--soak-seconds", type=float, default=600, help="the soak's duration, each way (0: no soak)"
    )
    parser.add_argument("--soak-rate", type=float, default=SOAK_RATE, help="the soak's requests per second")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.data_dir)
        return 0
    if args.command == "serve-workers":
        serve_workers(args.data_dir, args.workers)
        return 0
    results = run(
        args.uploads,
        args.reads,
        args.crypto,
        args.clients,
        args.wrk_seconds,
        args.soak_seconds,
        args.soak_rate,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    keys = ["verify_per_s", "bare_upload_per_s", "verify_ratio", "raw_crypto_per_s", "get_p50_ms"]
    keys += ["get_p99_ms", "bare_p99_ms", "p99_ratio"]
    one = results["wrk"]["one_connection"]
    summary = {k: results[k] for k in keys}
    summary |= {f"wrk_{name}_p50_ms": one[name]["kept_alive"]["p50_ms"] for name in one}
    summary |= {"workers_scaling": results["workers"]["scaling"]}
    if results["soak"]:
        soak = results["soak"]
        for way in ("real", "bare"):
            summary |= {f"soak_{way}_{p}": soak[way][p] for p in ("p50_ms", "p99_ms", "p999_ms")}
        summary |= {"soak_lost": soak["lost"]}
    summary |= {
        f"verify_per_s_{n}_workers": w["verify_per_s"] for n, w in results["workers"]["by_workers"].items()
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
