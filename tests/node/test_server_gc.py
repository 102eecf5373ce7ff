"""The servers' garbage-collection settings (their effect on latency is measured by bench/gateway.py)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import gc
from registry_node.protocol.http.server_gc import YOUNG_THRESHOLD, settle_startup_heap
built_at_start = [{"n": i} for i in range(1000)]
settle_startup_heap()
assert gc.get_freeze_count() >= len(built_at_start), gc.get_freeze_count()
assert gc.get_threshold()[0] == YOUNG_THRESHOLD
assert gc.isenabled()
cycle = []
cycle.append(cycle)
del cycle
assert gc.collect() >= 1  # garbage made after start-up is still collected
print("ok")
"""


def test_start_up_objects_are_frozen_and_later_garbage_is_still_collected() -> None:
    # in a child process: freezing and thresholds are process-wide
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
