"""The figures of a run, computed from its operation records and what the chain holds."""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
from collections import Counter, defaultdict
from typing import Any

from registry_node.devnet.ganache import PROJECT_ROOT
from registry_node.experiment.config import ExperimentConfig
from registry_node.experiment.heads import POLL_S as HEAD_POLL_S
from registry_node.experiment.heads import HeadLog
from registry_node.experiment.observations import CONFIRMED, ChainFacts, OpRecord

WRITE_KINDS = (
    "registration",
    "ownershipChange",
    "statusEvent",
    "confidentialFiling",
    "publication",
    "designation",
    "decision",
)


def machine() -> dict[str, Any]:
    """The machine and code a run was measured on, for its results file: results from another machine or
    another commit are not comparable."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "machine": platform.machine(),
        "system": platform.platform(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "git_commit": commit or None,
    }


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..1) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def spread(values: list[float]) -> dict[str, Any]:
    """n, p50, p95 and max of a list of seconds."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50_s": round(percentile(values, 0.50), 3),
        "p95_s": round(percentile(values, 0.95), 3),
        "max_s": round(max(values), 3),
    }


def latency_summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50_s": round(percentile(values, 0.50), 4),
        "p90_s": round(percentile(values, 0.90), 4),
        "p99_s": round(percentile(values, 0.99), 4),
        "max_s": round(max(values), 4),
    }


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def compute_figures(
    config: ExperimentConfig,
    records: list[OpRecord],
    facts: ChainFacts | None,
    wall_s: float,
    deferred_gas: list[float] | None = None,
    heads: HeadLog | None = None,
) -> dict[str, Any]:
    """`heads`: the chain's head as watched during the run (for the chain figures). `deferred_gas`: per
    outbox entry that no operation stands for — in anchors mode, the per-right registration an anchored
    right gets when it is first changed (its `deferredRegistration` gas)."""
    writes = [r for r in records if r.op.kind in WRITE_KINDS]
    confirmed = [r for r in writes if r.outcome == CONFIRMED]
    verifications = [r for r in records if r.op.kind == "verification"]
    submitted = [r.submitted_s for r in writes if r.submitted_s is not None]
    done = [r.confirmed_s for r in confirmed if r.confirmed_s is not None]
    span = (max(done) - min(submitted)) if done and submitted else 0.0
    by_kind: dict[str, list[OpRecord]] = defaultdict(list)
    for record in records:
        by_kind[record.op.kind].append(record)
    latency = {
        kind: latency_summary([r.latency_s for r in rs if r.outcome == CONFIRMED and r.latency_s is not None])
        for kind, rs in sorted(by_kind.items())
    }
    gas = {}
    chain_bytes = {}
    for kind, rs in sorted(by_kind.items()):
        gases = [r.gas for r in rs if r.gas is not None]
        if gases:
            gas[kind] = {
                "n": len(gases),
                "mean": round(sum(gases) / len(gases)),
                "min": round(min(gases)),
                "max": round(max(gases)),
            }
        sizes = [r.chain_bytes for r in rs if r.chain_bytes is not None]
        if sizes:
            chain_bytes[kind] = {"n": len(sizes), "mean": round(sum(sizes) / len(sizes), 1)}
    if deferred_gas:
        gas["deferredRegistration"] = {
            "n": len(deferred_gas), "mean": round(sum(deferred_gas) / len(deferred_gas)),
            "min": round(min(deferred_gas)), "max": round(max(deferred_gas)),
        }  # fmt: skip
    per_office: dict[str, dict[str, Any]] = {}
    for code in config.office_codes:
        mine = [r for r in writes if r.op.office == code]
        lat = [r.latency_s for r in mine if r.outcome == CONFIRMED and r.latency_s is not None]
        per_office[code] = {
            "operations": len(mine),
            "outcomes": dict(Counter(r.outcome for r in mine)),
            "confirmed": sum(1 for r in mine if r.outcome == CONFIRMED),
            "latency_p50_s": round(percentile(lat, 0.5), 4) if lat else None,
        }
    timeline = Counter(int(r.confirmed_s) for r in confirmed if r.confirmed_s is not None)
    seconds = range(0, (max(timeline) + 1) if timeline else 0)
    growth: dict[str, Any] = {}
    if facts is not None:
        growth = {
            "blocks": facts.blocks,
            "transactions": facts.transactions,
            "block_bytes": facts.block_bytes,
            "log_bytes": facts.log_bytes,
            "state_bytes": facts.state_bytes,
            "log_bytes_per_confirmed_op": round(facts.log_bytes / len(confirmed), 1) if confirmed else None,
            "block_bytes_per_confirmed_op": round(facts.block_bytes / len(confirmed), 1)
            if confirmed
            else None,
            "ops_per_block": round(len(confirmed) / facts.blocks, 2) if facts.blocks else None,
            "gas_total": sum(facts.gas_by_tx.values()),
        }
    verdicts = Counter(r.verdict or "none" for r in verifications if r.outcome == CONFIRMED)
    return {
        "mode": config.mode,
        "offices": config.offices,
        "wall_s": round(wall_s, 3),
        "operations": len(records),
        "outcomes": dict(Counter(r.outcome for r in records)),
        "ops_confirmed": len(confirmed),
        "throughput_ops_per_s": round(len(confirmed) / span, 3) if span > 0 else 0.0,
        "throughput_timeline": [timeline.get(s, 0) for s in seconds],
        "latency": latency,
        "latency_all_writes": latency_summary([r.latency_s for r in confirmed if r.latency_s is not None]),
        "gas": gas,
        "chain_bytes": chain_bytes,
        "chain_growth": growth,
        "verification": {
            "requested": len(verifications),
            "answered": sum(1 for r in verifications if r.outcome == CONFIRMED),
            "per_s": round(len(verifications) / wall_s, 3) if wall_s > 0 else 0.0,
            "verdicts": dict(verdicts),
        },
        "per_office": per_office,
        **chain_figures(config, confirmed, facts, heads, wall_s),
    }


def chain_figures(
    config: ExperimentConfig,
    confirmed: list[OpRecord],
    facts: ChainFacts | None,
    heads: HeadLog | None,
    wall_s: float,
) -> dict[str, Any]:
    """What the chain did underneath the run, the same way for every backend: how long a confirmed write
    took from its submission to its transaction's block being seen, and to that block being `depth` deep
    (a majority of validators sealed on it: `majority_depth`); the reorganisations seen, and the deepest;
    the gas the run's blocks used per second against what the blocks could hold per second (gasLimit /
    period; a chain that mines a block per transaction has no period, so no such bound)."""
    one_block: list[float] = []
    at_depth: list[float] = []
    if facts is not None and heads is not None:
        for record in confirmed:
            number = facts.block_by_tx.get(record.tx_hash or "")
            block_hash = facts.block_hashes.get(number) if number is not None else None
            if block_hash is None or record.submitted_s is None:
                continue
            if block_hash in heads.first_seen:
                one_block.append(heads.first_seen[block_hash] - record.submitted_s)
            if block_hash in heads.at_depth:
                at_depth.append(heads.at_depth[block_hash] - record.submitted_s)
    period = config.chain.period_s if config.chain.kind == "geth" else None
    gas_used = facts.gas_used if facts is not None else None
    gas_limit = facts.gas_limit if facts is not None else None
    gas_per_s = gas_used / wall_s if gas_used is not None and wall_s > 0 else None
    limit_per_s = gas_limit / period if gas_limit and period else None
    reorgs = heads.reorgs if heads is not None else []
    return {
        "confirmation": {
            "depth_blocks": heads.depth if heads is not None else None,
            "one_block": spread(one_block),
            "majority": spread(at_depth),
            "head_poll_s": HEAD_POLL_S,
        },
        "reorgs": {
            "count": len(reorgs),
            "deepest": max((r.depth for r in reorgs), default=0),
            "seen": [r.to_json() for r in reorgs[:50]],
            "watched": heads is not None,
        },
        "gas_rate": {
            "gas_used": gas_used,
            "gas_per_s": round(gas_per_s) if gas_per_s is not None else None,
            "block_gas_limit": gas_limit,
            "period_s": period,
            "limit_gas_per_s": round(limit_per_s) if limit_per_s is not None else None,
            "share_of_limit": round(gas_per_s / limit_per_s, 5) if gas_per_s and limit_per_s else None,
        },
    }
