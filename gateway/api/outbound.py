"""A thread pool of its own for the work that waits on others: chain reads and the offices' deep links.

Queries of the read model take a millisecond or two; a verification at a block nobody has asked about yet
waits for the chain (its history, its state, the office's keys) and for the office's deep link, and when
the chain is slow or an office does not answer it waits for seconds. On one shared pool, a burst of such
verifications took every thread and every query queued behind them: at the start of a load, and at each
new block, `GET /v1/offices` waited as long as the slowest verification. Routes that reach outside the
gateway (verifications, receipts, the validators, the trust anchor, office health) run here; the read
model's queries keep Starlette's default pool to themselves.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import Request

OUTBOUND_THREADS = 32

P = ParamSpec("P")
T = TypeVar("T")


async def run_outbound(request: Request, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`func(*args, **kwargs)` in a thread of the app's outbound pool (made on first use, in the app's
    event loop)."""
    limiter = getattr(request.app.state, "outbound_threads", None)
    if limiter is None:
        limiter = request.app.state.outbound_threads = CapacityLimiter(OUTBOUND_THREADS)
    return await anyio.to_thread.run_sync(functools.partial(func, *args, **kwargs), limiter=limiter)
