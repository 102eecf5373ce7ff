"""A new API process warms up before it takes its first request.

A fresh gateway process has no database connection open and an empty per-block chain-read cache. Under
the soak's open-loop load that cost a second at the start: the first requests each opened a PostgreSQL
connection of the pool (a new server process and a SCRAM exchange each) and read the chain for the trust
anchor, the offices' standing and keys and each right asked about, all at once, so every request of the
first second or two waited behind them (p99 1.1 s in the first ten seconds, 7 ms after; profiled with
py-spy). So before a worker listens (`serve`), or before the single process answers (`run`), it:

  - opens every connection its database pool keeps, side by side, and puts them back in the pool;
  - asks the read model what its routes ask (the indexer's status, the offices, a page of rights);
  - verifies the WARM_RIGHTS rights changed last, which reads the trust anchor, every office's standing and
    keys at the block verdicts are judged at, and those rights' state, into the per-block cache.

The warm-up is bounded by `budget_s` and never fails the start: a chain or an office that does not answer
leaves the rest of the cache to fill on demand, as before. A right not among the warmed ones still costs its
first verification's chain reads at each new block.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from gateway.read_model.queries import RightFilter
from gateway.services import Services

log = logging.getLogger(__name__)

WARM_RIGHTS = 64
BUDGET_S = 15.0
THREADS = 4  # side by side, as the first requests would be, without flooding the chain node


@dataclass(frozen=True)
class WarmUp:
    """What the warm-up did: in how long, how many connections it opened, how many rights it set out to
    verify and how many of them could not be (their office unreachable, the chain down: then only the
    first is tried), and whether it finished within its budget."""

    seconds: float
    connections: int
    rights: int
    failed: int
    finished: bool


def warm_up(services: Services, rights: int = WARM_RIGHTS, budget_s: float = BUDGET_S) -> WarmUp:
    started = time.monotonic()
    deadline = started + budget_s
    executor = ThreadPoolExecutor(THREADS, thread_name_prefix="gateway-warm-up")
    opened: list[Connection] = []
    verified: list[Future[Any]] = []
    finished = False
    try:
        size = _pool_size(services)
        connecting = [executor.submit(services.engine.connect) for _ in range(size)]
        done, _ = wait(connecting, timeout=budget_s)
        opened = [f.result() for f in done if f.exception() is None]
        for connection in opened:
            connection.close()  # back to the pool, open
        index = services.index
        index.status(0)
        index.offices()
        index.rights(RightFilter(), 100)
        ids = index.recently_changed(rights)
        verifier = services.verifier
        if ids:  # one first: when it cannot be verified (the chain down), the others are not tried
            verified = [executor.submit(verifier.verify_right, ids[0])]
            wait(verified, timeout=max(0.0, deadline - time.monotonic()))
            if verified[0].done() and verified[0].exception() is None:
                verified += [executor.submit(verifier.verify_right, right_id) for right_id in ids[1:]]
        done, pending = wait(verified, timeout=max(0.0, deadline - time.monotonic()))
        finished = not pending
    except Exception as err:  # the gateway starts anyway; the cache fills on demand
        log.warning("gateway warm-up stopped early: %s: %s", type(err).__name__, err)
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
    failed = sum(1 for f in verified if f.done() and not f.cancelled() and f.exception() is not None)
    result = WarmUp(round(time.monotonic() - started, 3), len(opened), len(verified), failed, finished)
    log.info(
        "gateway warmed up in %.2f s: %d database connections, %d rights verified (%d failed)%s",
        result.seconds, result.connections, result.rights, result.failed,
        "" if finished else f", stopped at its budget of {budget_s:.0f} s",
    )  # fmt: skip
    return result


def _pool_size(services: Services) -> int:
    """How many connections the read model's pool keeps open (1 for a pool that keeps none)."""
    size = getattr(services.engine.pool, "size", None)
    return max(1, int(size())) if callable(size) else 1
