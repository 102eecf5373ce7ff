"""Running a verification on the event loop, but only while it needs no I/O.

A verification whose chain reads are all in the per-block cache is a millisecond or so of CPU; handing it to
a worker thread and back costs about as much again on a busy server. So the API first runs it on the event
loop inside `nonblocking()`: every place that would wait on something outside the process (a chain read,
a deep-link fetch, an index query) calls `may_block()` first, which raises `WouldBlock` there, and the API
then runs the same verification again in a worker thread. The checks and the verdict are the same either
way; only where the CPU work runs differs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_NONBLOCKING: ContextVar[bool] = ContextVar("ipreg_gateway_nonblocking", default=False)


class WouldBlock(Exception):
    """Work inside `nonblocking()` reached I/O; `what` names it. Not an error: run the work in a thread."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} would block")
        self.what = what


@contextmanager
def nonblocking() -> Iterator[None]:
    """Within this block (in this thread or task only), `may_block()` raises WouldBlock."""
    token = _NONBLOCKING.set(True)
    try:
        yield
    finally:
        _NONBLOCKING.reset(token)


def may_block(what: str) -> None:
    """Call before I/O: raises WouldBlock inside `nonblocking()`, does nothing elsewhere."""
    if _NONBLOCKING.get():
        raise WouldBlock(what)
