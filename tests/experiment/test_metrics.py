"""The one percentile (`registry_node.experiment.metrics.percentile`), which the experiments' figures and the
benchmarks' (bench/gateway.py, bench/reliability.py) share: nearest rank, so it is always a measured value."""

from __future__ import annotations

import pytest

from registry_node.experiment.metrics import latency_summary, percentile


def test_the_percentile_is_the_nearest_rank_of_the_sorted_values() -> None:
    values = [float(v) for v in range(100, 0, -1)]  # 100 .. 1, unsorted on purpose
    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.90) == 90.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile(values, 0.001) == 1.0
    assert values[0] == 100.0  # the caller's list is left as it was


@pytest.mark.parametrize("share", [0.0, 0.5, 0.99, 1.0])
def test_one_value_is_every_percentile_of_itself(share: float) -> None:
    assert percentile([7.5], share) == 7.5


def test_a_percentile_is_always_one_of_the_measured_values() -> None:
    values = [1.0, 2.0, 10.0, 11.0]
    assert percentile(values, 0.5) == 2.0 and percentile(values, 0.51) == 10.0
    assert {percentile(values, s / 100) for s in range(1, 101)} <= set(values)


def test_a_latency_summary_rounds_its_percentiles_and_says_when_nothing_was_measured() -> None:
    assert latency_summary([]) == {"n": 0}
    summary = latency_summary([0.123456, 0.2, 0.3])
    assert summary == {"n": 3, "p50_s": 0.2, "p90_s": 0.3, "p99_s": 0.3, "max_s": 0.3}
