"""The gateway scaled out, as a consortium runs it: one `ipreg gateway index` writing a PostgreSQL read model,
and `ipreg gateway serve --workers 2` answering from it, against real office nodes on a ganache chain.

Which worker answers a request is the kernel's choice (SO_REUSEPORT spreads new connections over the
workers' sockets); the test learns it afterwards, from which worker process holds the server's end of the
connection the answer came on.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from registry_node.devnet.chains import GanacheChain
from registry_node.devnet.consortium import IPREG, Founder, LocalConsortium
from registry_node.devnet.ganache import free_port
from registry_node.devnet.postgres import LocalPostgres
from registry_node.devnet.processes import ChildProcess
from tests.support.keys import FAST_SCRYPT_N
from tests.support.records import patent_right

SERIALS = itertools.count(1)
WORKERS = 2
CAUGHT_UP_S = 120.0


@dataclass
class Scaled:
    consortium: LocalConsortium
    indexer: ChildProcess
    url: str
    rights: list[str]
    database_url: str

    @property
    def serve(self) -> psutil.Process:
        assert self.consortium.gateway is not None
        return psutil.Process(self.consortium.gateway.process.pid)

    def workers(self) -> list[psutil.Process]:
        return self.serve.children()

    def gateway_args(self) -> list[str]:
        assert self.consortium.gateway_dir is not None
        return ["--data-dir", str(self.consortium.gateway_dir)]


def wait_until(condition: Any, what: str, timeout_s: float = CAUGHT_UP_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {timeout_s:.0f} s")
        time.sleep(0.2)


def caught_up(url: str, rights: list[str]) -> bool:
    """Every right indexed, and its record learned (owners) from the office's deep link."""
    with contextlib.suppress(httpx.HTTPError):
        for right_id in rights:
            answer = httpx.get(f"{url}/v1/rights/{right_id}", timeout=5)
            if answer.status_code != 200 or not answer.json()["owners"]:
                return False
        return True
    return False


@pytest.fixture(scope="module")
def scaled(postgres: LocalPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scaled]:
    folder = tmp_path_factory.mktemp("scaled")
    database_url = postgres.create_database()
    consortium = LocalConsortium(
        folder,
        GanacheChain(folder / "chain"),
        gateway_port=free_port(),
        env={"IPREG_GATEWAY_DATABASE_URL": database_url},
        gateway_program=(str(IPREG), "gateway", "serve", "--workers", str(WORKERS)),
        key_scrypt_n=FAST_SCRYPT_N,
    )
    indexer: ChildProcess | None = None
    try:
        consortium.create([Founder("EP", "European Patent Office", free_port()),
                           Founder("GB", "UK IPO", free_port())])  # fmt: skip
        consortium.start()
        assert consortium.gateway_dir is not None
        indexer = ChildProcess(
            "gateway indexer",
            ["gateway", "index", "--data-dir", str(consortium.gateway_dir)],
            folder / "logs" / "gateway-index.log",
            consortium.env(),
        )
        rights = []
        for code in ("EP", "GB"):
            with consortium.offices[code].client() as client:
                for _ in range(2):
                    right = patent_right(f"{code}:PAT:{code}2026{next(SERIALS):07d}")
                    client.register(right)
                    rights.append(right["rightId"])
                client.wait_for_outbox(120)
        url = consortium.gateway_url
        wait_until(lambda: caught_up(url, rights), "the indexer did not index and enrich every right")
        yield Scaled(consortium, indexer, url, rights, database_url)
    finally:
        if indexer is not None:
            indexer.stop()
        consortium.stop()


@dataclass(frozen=True)
class Answer:
    worker: int  # the pid of the worker that answered
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def ask(url: str, path: str, workers: list[psutil.Process]) -> Answer:
    """A GET on a new connection, and which of `workers` answered it (the one holding the connection's
    server end while it is still open)."""
    target = urlsplit(url)
    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        body = answer.read()
        client_port = connection.sock.getsockname()[1]
        holder = next(
            (
                w.pid
                for w in workers
                for c in w.connections(kind="tcp")
                if c.raddr and c.raddr.port == client_port and c.laddr.port == target.port
            ),
            0,
        )
        return Answer(holder, answer.status, body)
    finally:
        connection.close()


def from_each_worker(
    url: str, path: str, workers: list[psutil.Process], tries: int = 60
) -> dict[int, Answer]:
    """One answer to `path` from every worker, asking on new connections until each has answered."""
    answers: dict[int, Answer] = {}
    for _ in range(tries):
        answer = ask(url, path, workers)
        answers.setdefault(answer.worker, answer)
        if {w.pid for w in workers} <= set(answers):
            return answers
    pytest.fail(
        f"{tries} new connections reached only workers {sorted(answers)} of {[w.pid for w in workers]}"
    )


def fresh_get(url: str) -> httpx.Response:
    """A GET on a new connection (the kernel picks the worker that takes it)."""
    with httpx.Client(timeout=30) as client:
        return client.get(url)


def test_serve_runs_the_workers_it_was_asked_for(scaled: Scaled) -> None:
    assert len(scaled.workers()) == WORKERS


def test_verdicts_and_receipts_are_the_same_whichever_worker_answers(scaled: Scaled) -> None:
    right_id = scaled.rights[0]
    block = httpx.get(f"{scaled.url}/v1/rights/{right_id}", timeout=30).json()["updatedBlock"]
    workers = scaled.workers()
    verdicts = from_each_worker(scaled.url, f"/v1/rights/{right_id}/verification?block={block}", workers)
    receipts = from_each_worker(scaled.url, f"/v1/rights/{right_id}/receipt?block={block}", workers)
    assert all(a.status == 200 for a in [*verdicts.values(), *receipts.values()])
    first_verdict, second_verdict = (a.json() for a in verdicts.values())
    first_receipt, second_receipt = (a.json() for a in receipts.values())
    assert first_verdict["verdict"] == "authentic-current"
    assert first_verdict == second_verdict  # the gateway's signature included: one key, shared
    issued = {"issuedAt", "gatewaySignature"}
    assert {k: v for k, v in first_receipt.items() if k not in issued} == {
        k: v for k, v in second_receipt.items() if k not in issued
    }
    assert first_receipt["gatewaySignature"]["keyId"] == second_receipt["gatewaySignature"]["keyId"]


def test_a_killed_worker_loses_no_request_another_could_answer(scaled: Scaled) -> None:
    """Four clients ask on new connections while one worker is killed (SIGKILL): only requests that worker
    had already taken may fail, and the pool starts another worker."""
    victim = scaled.workers()[0]
    results: list[tuple[float, bool]] = []
    killed_at: list[float] = []
    lock = threading.Lock()

    def client() -> None:
        for _ in range(60):
            started = time.monotonic()
            try:
                answered = fresh_get(f"{scaled.url}/v1/offices").status_code == 200
            except httpx.HTTPError:
                answered = False
            with lock:
                results.append((started, answered))

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    wait_until(lambda: len(results) >= 40, "the clients did not get going", 60)
    killed_at.append(time.monotonic())
    victim.kill()
    for thread in threads:
        thread.join()
    failed = [started for started, answered in results if not answered]
    assert len(results) == 240 and len(failed) <= 4, failed  # at most one in flight per client
    assert all(started < killed_at[0] for started in failed), "a request after the kill was lost"
    wait_until(lambda: len(scaled.workers()) == WORKERS, "the pool did not replace the killed worker", 60)
    assert victim.pid not in {w.pid for w in scaled.workers()}
    assert fresh_get(f"{scaled.url}/v1/rights/{scaled.rights[1]}").status_code == 200
    log = (scaled.consortium.folder / "logs" / "gateway.log").read_text("utf-8")
    # the new worker verified the indexed rights into its cache before it listened
    assert f"{len(scaled.rights)} rights verified (0 failed)" in log, log[-2000:]


def test_a_second_indexer_is_refused(scaled: Scaled) -> None:
    second = subprocess.run(
        [str(IPREG), "gateway", "index", *scaled.gateway_args()],
        env=scaled.consortium.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 1, second.stdout + second.stderr
    assert "another indexer already writes this read model" in second.stderr
    assert scaled.indexer.running  # the first one goes on


def test_metrics_add_up_every_workers_counts_and_parse_as_prometheus_text(scaled: Scaled) -> None:
    right_id = scaled.rights[2]
    answered = from_each_worker(scaled.url, f"/v1/rights/{right_id}/verification", scaled.workers())
    assert all(a.status == 200 for a in answered.values())
    answer = fresh_get(f"{scaled.url}/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    families = {family.name: family for family in text_string_to_metric_families(answer.text)}
    verdicts = {
        sample.labels["verdict"]: sample.value
        for sample in families["ipreg_gateway_verdicts"].samples
        if sample.name.endswith("_total") and sample.labels["subject"] == "right"
    }
    assert verdicts["authentic-current"] >= WORKERS  # one from each worker, added up
    requests = families["ipreg_gateway_requests"].samples
    assert any(s.labels["route"] == "/v1/offices" and s.labels["status"] == "200" for s in requests)
    assert families["ipreg_gateway_request_seconds"].type == "histogram"
    (lag,) = families["ipreg_gateway_indexer_lag_blocks"].samples
    assert lag.value >= 0


def test_each_worker_keeps_its_own_rate_limit(scaled: Scaled, tmp_path: Path) -> None:
    """The documented bound: each worker counts its own clients, so a client gets at most `workers` times the
    per-client rate. A second `serve` on the same read model, at 4 requests/s per client (bursts of 8), is
    asked 40 times on new connections: the workers together answer more than one bucket could have in that
    time, and none answers more than its own bucket allows."""
    rate, burst, asked = 4.0, 8.0, 40
    port = free_port()
    env = scaled.consortium.env() | {
        "IPREG_GATEWAY_LISTEN_PORT": str(port),
        "IPREG_GATEWAY_RATE_LIMIT_PER_S": str(rate),
    }
    strict = ChildProcess(
        "strict gateway",
        ["gateway", "serve", "--workers", str(WORKERS), *scaled.gateway_args()],
        tmp_path / "strict.log",
        env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        strict.wait_ready(f"{url}/openapi.json")  # one token of one worker spent here
        workers = psutil.Process(strict.process.pid).children()
        assert len(workers) == WORKERS
        started = time.monotonic()
        answers = [ask(url, "/v1/offices", workers) for _ in range(asked)]
        took = time.monotonic() - started
    finally:
        strict.stop()
    assert {a.status for a in answers} <= {200, 429} and all(a.worker for a in answers)
    answered = {w.pid: sum(1 for a in answers if a.worker == w.pid and a.status == 200) for w in workers}
    assert all(n <= burst + rate * took + 1 for n in answered.values()), (answered, took)
    assert sum(answered.values()) > burst + rate * took + 1, (answered, took)  # more than one bucket
