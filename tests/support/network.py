"""Waiting on a real network: a check polled until it holds, and every validator on one head."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from registry_node.devnet.network import GethNetwork, network_status

WAIT_S = 90.0


def eventually(check: Callable[[], Any], what: str, timeout_s: float = WAIT_S) -> Any:
    """`check()`'s first truthy answer; fails naming `what` if none comes within `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.5)
    pytest.fail(f"{what}: not within {timeout_s:.0f} s (last: {last!r})")


def same_head_everywhere(network: GethNetwork) -> bool:
    """Whether every validator reports the same head block (asked twice: blocks come every second)."""
    for _ in range(4):
        statuses = network_status(network)
        if all(s.head_number is not None for s in statuses):
            numbers = {s.head_number for s in statuses}
            if len(numbers) == 1 and len({s.head_hash for s in statuses}) == 1:
                return True
        time.sleep(0.2)
    return False
