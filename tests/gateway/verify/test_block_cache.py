"""The per-block cache of chain reads: a miss is read once however many threads ask at the same moment,
an error reaches every waiter and is not kept, and the cache-only view never waits."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from gateway.verify.chain_reads import BlockCache, NotCached


def test_a_miss_asked_by_many_threads_at_once_is_read_from_the_chain_once() -> None:
    cache = BlockCache()
    asked = threading.Event()
    release = threading.Event()
    reads: list[int] = []

    def read() -> str:
        reads.append(1)
        asked.set()
        release.wait(10)
        return "state at block 7"

    with ThreadPoolExecutor(16) as pool:
        first = pool.submit(cache.get, (7, "rightOf", b"r"), read)
        asked.wait(10)  # the first reader is at the chain
        others = [pool.submit(cache.get, (7, "rightOf", b"r"), read) for _ in range(15)]
        release.set()
        answers = [first.result(10)] + [o.result(10) for o in others]
    assert answers == ["state at block 7"] * 16 and len(reads) == 1
    assert cache.get((7, "rightOf", b"r"), read) == "state at block 7" and len(reads) == 1


def test_a_failed_read_reaches_every_waiter_and_the_next_ask_tries_again() -> None:
    cache = BlockCache()
    asked, release = threading.Event(), threading.Event()

    def failing() -> str:
        asked.set()
        release.wait(10)
        raise ConnectionError("the chain did not answer")

    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(cache.get, (8, "office", "EP"), failing)
        asked.wait(10)
        waiter = pool.submit(cache.get, (8, "office", "EP"), failing)
        release.set()
        for future in (first, waiter):
            with pytest.raises(ConnectionError):
                future.result(10)
    assert cache.get((8, "office", "EP"), lambda: "read again") == "read again"


def test_the_cache_only_view_answers_what_is_held_and_never_waits_for_a_read_in_flight() -> None:
    cache = BlockCache()
    cache.get((9, "block"), lambda: "block 9")
    asked, release = threading.Event(), threading.Event()

    def slow() -> str:
        asked.set()
        release.wait(10)
        return "late"

    def not_cached() -> str:
        raise NotCached("a chain read")

    with ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(cache.get, (9, "history", b"r"), slow)
        asked.wait(10)
        assert cache.held((9, "block"), not_cached) == "block 9"
        with pytest.raises(NotCached):  # at once: it does not wait for the read in flight
            cache.held((9, "history", b"r"), not_cached)
        release.set()
        assert in_flight.result(10) == "late"
