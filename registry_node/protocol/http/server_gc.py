"""Garbage collection for the long-running servers: the office node and the gateway.

CPython's full collection walks every tracked object, and a server holds a few hundred thousand from its
start (FastAPI's routes and pydantic models, the contract ABI, WIPO's XML schemas, SQLAlchemy's metadata).
Each full collection stalled the request that triggered it for tens of milliseconds: that was most of the
gateway's p99 latency in `bench/gateway.py`. The objects built at start-up live as long as the process, so
they are frozen out of the collector's walks, and young collections run less often.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000  # allocations between young collections (CPython's default: 700)
OLDER_THRESHOLDS = (20, 100)  # young collections per middle one, middle per full (default: 10, 10)


def settle_startup_heap() -> None:
    """Call once the server is built, just before it serves."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
