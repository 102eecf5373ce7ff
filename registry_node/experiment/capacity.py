"""Capacity at world scale, on paper: a run's measured gas and bytes per operation type, projected onto a
world-scale workload (a year of filings, changes and status events, plus a back file) and a chain profile
(block gas limit, block time).

Per mode it says: gas and blocks per day needed and the share of the chain's capacity that is; how many
days the back file takes on the capacity left over; chain growth per year; and where the design stops
scaling (how many times the world's workload the chain could carry, and the operations/s that means).

Which measured operation stands for which world flow:
- new patent applications are confidential filings, later published (ST.27: published at 18 months);
  trademark classes and designs are registrations;
- ownership changes and status events are measured one by one;
- the back file is registrations (per-right mode) or anchored registrations (anchors mode).
A flow whose operation the run did not measure falls back to the registration figure and is named.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from registry_node.protocol.errors import ConfigError

SECONDS_PER_DAY = 86_400
DAYS_PER_YEAR = 365
DEFAULT_WORLD = Path(__file__).resolve().parents[2] / "scripts" / "experiments" / "world.yaml"


@dataclass(frozen=True)
class WorldProfile:
    offices: int
    per_year: dict[
        str, float
    ]  # patent_applications, trademark_classes, design_applications, ownership_changes, status_events
    back_file: dict[str, float]  # patents_in_force, trademarks_in_force, ...
    block_gas_limit: int
    block_time_s: float
    peak_factor: float  # busiest hour against the yearly average
    source: str


FLOWS = {  # world flow -> the measured operation kinds that make it, in order
    "patent_applications": ("confidentialFiling", "publication"),
    "trademark_classes": ("registration",),
    "design_applications": ("registration",),
    "ownership_changes": ("ownershipChange",),
    "status_events": ("statusEvent",),
}


def load_world(path: Path | None = None) -> WorldProfile:
    path = path or DEFAULT_WORLD
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(str(path), f"cannot read the world profile: {err}") from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), "must be a YAML mapping")
    return world_from_dict(data)


def world_from_dict(data: dict[str, Any]) -> WorldProfile:
    per_year = _counts(data, "per_year")
    for flow in FLOWS:
        per_year.setdefault(flow, 0.0)
    unknown = set(per_year) - set(FLOWS)
    if unknown:
        raise ConfigError(f"per_year.{sorted(unknown)[0]}", f"unknown flow (known: {', '.join(FLOWS)})")
    chain = data.get("chain")
    if not isinstance(chain, dict):
        raise ConfigError("chain", "must be a mapping {block_gas_limit, block_time_s}")
    gas_limit = _positive(chain, "block_gas_limit", "chain.block_gas_limit")
    block_time = _positive(chain, "block_time_s", "chain.block_time_s")
    offices = _positive(data, "offices", "offices")
    peak = _positive(data, "peak_factor", "peak_factor") if "peak_factor" in data else 1.0
    return WorldProfile(
        offices=int(offices),
        per_year=per_year,
        back_file=_counts(data, "back_file"),
        block_gas_limit=int(gas_limit),
        block_time_s=block_time,
        peak_factor=peak,
        source=str(data.get("source", "")),
    )


def _counts(data: dict[str, Any], key: str) -> dict[str, float]:
    table = data.get(key)
    if not isinstance(table, dict) or not table:
        raise ConfigError(key, "must be a mapping of name: count")
    return {str(name): _positive(table, name, f"{key}.{name}", allow_zero=True) for name in table}


def _positive(data: dict[str, Any], key: str, field: str, allow_zero: bool = False) -> float:
    value = data.get(key)
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or value < 0
        or (value == 0 and not allow_zero)
    ):
        raise ConfigError(
            field, f"must be a {'non-negative' if allow_zero else 'positive'} number, got {value!r}"
        )
    return float(value)


def _measured(figures: dict[str, Any], key: str, kind: str) -> tuple[float | None, str | None]:
    """The mean of `key` (gas or chain_bytes) for `kind`, falling back to registration."""
    table = figures.get(key, {})
    if kind in table:
        return float(table[kind]["mean"]), None
    if "registration" in table:
        return float(table["registration"]["mean"]), f"{kind} not measured: registration's figure used"
    return None, f"{kind} not measured"


def project(results: dict[str, Any], world: WorldProfile) -> dict[str, Any]:
    """The capacity projection of one run's figures (results.json) onto `world`."""
    figures = results["figures"]
    mode = figures.get("mode", results.get("config", {}).get("mode", "per-right"))
    notes: list[str] = []
    gas_year = bytes_year = ops_year = 0.0
    flows: dict[str, Any] = {}
    for flow, kinds in FLOWS.items():
        count = world.per_year.get(flow, 0.0)
        gas_each = bytes_each = 0.0
        for kind in kinds:
            gas, note = _measured(figures, "gas", kind)
            size, _ = _measured(figures, "chain_bytes", kind)
            if gas is None:
                raise ConfigError("results.figures.gas", f"no gas measured for {kind} or registration")
            if note and note not in notes:
                notes.append(note)
            gas_each += gas
            bytes_each += size or 0.0
        flows[flow] = {
            "per_year": count,
            "operations": list(kinds),
            "gas_each": gas_each,
            "bytes_each": bytes_each,
        }
        gas_year += count * gas_each
        bytes_year += count * bytes_each
        ops_year += count * len(kinds)
    capacity_gas_day = world.block_gas_limit * SECONDS_PER_DAY / world.block_time_s
    blocks_available_day = SECONDS_PER_DAY / world.block_time_s
    gas_day = gas_year / DAYS_PER_YEAR
    blocks_day = gas_day / world.block_gas_limit
    share = gas_day / capacity_gas_day
    register_gas, _ = _measured(figures, "gas", "registration")
    register_bytes, _ = _measured(figures, "chain_bytes", "registration")
    back_file_rights = sum(world.back_file.values())
    back_file_gas = back_file_rights * (register_gas or 0.0)
    spare_gas_day = capacity_gas_day * max(0.0, 1.0 - share)
    back_file_days = back_file_gas / spare_gas_day if spare_gas_day > 0 else None
    ops_per_s_avg = ops_year / (DAYS_PER_YEAR * SECONDS_PER_DAY)
    mean_gas = gas_year / ops_year if ops_year else 0.0
    max_ops_per_s = world.block_gas_limit / world.block_time_s / mean_gas if mean_gas else None
    headroom = 1.0 / share if share > 0 else None
    peak_share = share * world.peak_factor
    measured = float(figures.get("throughput_ops_per_s") or 0.0)
    if headroom is None or max_ops_per_s is None:
        verdict = "nothing to carry: the world profile has no operations"
    elif peak_share >= 1:
        verdict = (
            f"does not scale: at the busiest hour the world's load needs {peak_share:.1f}x the chain's "
            f"capacity; {mode} mode stops at {headroom:.2f}x the yearly average"
        )
    else:
        verdict = (
            f"scales to {headroom:.0f}x the world's yearly average load ({headroom / world.peak_factor:.0f}x "
            f"at peak); the chain's ceiling is {max_ops_per_s:.0f} ops/s of this mix"
        )
    deferred = figures.get("gas", {}).get("deferredRegistration")
    if deferred:
        notes.append(
            f"an anchored right pays a per-right registration ({deferred['mean']:,} gas) when it is first "
            "changed; the flows above do not include it"
        )
    if measured and ops_per_s_avg * world.peak_factor > measured:
        notes.append(
            f"this run confirmed {measured:.1f} ops/s on its chain; the world's peak needs "
            f"{ops_per_s_avg * world.peak_factor:.1f} ops/s: the simulator, not the gas, is the limit here"
        )
    return {
        "mode": mode,
        "world_source": world.source,
        "chain_profile": {"block_gas_limit": world.block_gas_limit, "block_time_s": world.block_time_s},
        "flows": flows,
        "operations_per_year": ops_year,
        "operations_per_s_average": round(ops_per_s_avg, 3),
        "operations_per_s_peak": round(ops_per_s_avg * world.peak_factor, 3),
        "gas_per_day": gas_day,
        "blocks_per_day_needed": blocks_day,
        "blocks_per_day_available": blocks_available_day,
        "capacity_share": share,
        "capacity_share_peak": peak_share,
        "back_file_rights": back_file_rights,
        "back_file_gas": back_file_gas,
        "back_file_days": back_file_days,
        "back_file_bytes": back_file_rights * (register_bytes or 0.0),
        "chain_growth_bytes_per_year": bytes_year,
        "state_growth_bytes_per_year": (
            world.per_year["patent_applications"]
            + world.per_year["trademark_classes"]
            + world.per_year["design_applications"]
        )
        * 32
        if mode == "per-right"
        else 0.0,
        "max_ops_per_s": max_ops_per_s,
        "headroom": headroom,
        "verdict": verdict,
        "notes": notes,
    }


def _si(value: float, unit: str = "") -> str:
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.2f} {prefix}{unit}"
    return f"{value:.1f} {unit}".rstrip()


def render_capacity(projection: dict[str, Any]) -> str:
    """The projection as a Markdown section."""
    p = projection
    days = "never (no spare capacity)" if p["back_file_days"] is None else f"{p['back_file_days']:.1f}"
    lines = [
        f"### Capacity at world scale ({p['mode']} mode)",
        "",
        f"World workload: {_si(p['operations_per_year'])} operations a year "
        f"({p['operations_per_s_average']} ops/s on average, {p['operations_per_s_peak']} at peak). "
        f"Chain: {p['chain_profile']['block_gas_limit']:,} gas per block, one block every "
        f"{p['chain_profile']['block_time_s']:g} s. Source: {p['world_source']}",
        "",
        "| flow | per year | operations | gas each | bytes each |",
        "| --- | ---: | --- | ---: | ---: |",
        *(
            f"| {name} | {_si(f['per_year'])} | {' + '.join(f['operations'])} | {f['gas_each']:,.0f} | "
            f"{f['bytes_each']:,.0f} |"
            for name, f in p["flows"].items()
        ),
        "",
        "| figure | value |",
        "| --- | ---: |",
        f"| gas per day | {_si(p['gas_per_day'])} |",
        f"| blocks per day needed / available | {p['blocks_per_day_needed']:,.0f} / "
        f"{p['blocks_per_day_available']:,.0f} |",
        f"| share of chain capacity (average / peak) | {p['capacity_share']:.2%} / "
        f"{p['capacity_share_peak']:.2%} |",
        f"| back file: rights, gas | {_si(p['back_file_rights'])}, {_si(p['back_file_gas'])} |",
        f"| days to load the back file on the spare capacity | {days} |",
        f"| chain growth per year (calldata + logs) | {_si(p['chain_growth_bytes_per_year'], 'B')} |",
        f"| back file size on chain | {_si(p['back_file_bytes'], 'B')} |",
        f"| state growth per year (one slot per new right) | {_si(p['state_growth_bytes_per_year'], 'B')} |",
        f"| ceiling of this mix | {p['max_ops_per_s']:,.0f} ops/s |"
        if p["max_ops_per_s"]
        else "| ceiling | n/a |",
        "",
        f"**Where it stops scaling:** {p['verdict']}.",
        *(f"- {note}" for note in p["notes"]),
        "",
    ]
    return "\n".join(lines)
