"""A run's outputs: results.json, ops.csv (one row per operation), PNG plots and report.md embedding them."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from registry_node.experiment.capacity import load_world, project, render_capacity
from registry_node.experiment.observations import CONFIRMED, OpRecord
from registry_node.experiment.refusals import render_refusals
from registry_node.protocol.errors import RegistryError

PLOTS = {
    "throughput": "throughput.png",
    "latency_cdf": "latency_cdf.png",
    "gas": "gas_per_operation.png",
}


def write_report(run_dir: Path, results: dict[str, Any], records: list[OpRecord]) -> None:
    write_ops_csv(run_dir / "ops.csv", records)
    plot_throughput(run_dir / PLOTS["throughput"], results)
    plot_latency_cdf(run_dir / PLOTS["latency_cdf"], records)
    plot_gas({results["figures"]["mode"]: results["figures"]["gas"]}, run_dir / PLOTS["gas"])
    try:
        results["capacity"] = project(results, load_world())
    except RegistryError as err:
        results["capacity"] = {"error": str(err)}
    (run_dir / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n", "utf-8")
    (run_dir / "report.md").write_text(render_report(results), "utf-8")


def write_ops_csv(path: Path, records: list[OpRecord]) -> None:
    rows = [r.row() for r in records]
    fields = list(OpRecord.__dataclass_fields__) if not rows else list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def plot_throughput(path: Path, results: dict[str, Any]) -> None:
    timeline = results["figures"]["throughput_timeline"]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.step(range(len(timeline)), timeline, where="post", label="confirmed operations/s")
    for fault in results.get("faults", []):
        ax.axvline(fault["at_s"], color="red", linestyle="--", linewidth=1)
        ax.annotate(
            f"{fault['kind']} {fault['target']}",
            (fault["at_s"], max(timeline or [1]) * 0.9),
            rotation=90,
            fontsize=7,
            color="red",
            ha="right",
        )
    ax.set_xlabel("seconds since start")
    ax.set_ylabel("operations confirmed per second")
    ax.set_title(f"{results['name']}: throughput over time")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_latency_cdf(path: Path, records: list[OpRecord]) -> None:
    fig, ax = plt.subplots(figsize=(8, 4))
    kinds = sorted({r.op.kind for r in records})
    for kind in kinds:
        values = sorted(
            r.latency_s
            for r in records
            if r.op.kind == kind and r.outcome == CONFIRMED and r.latency_s is not None
        )
        if values:
            ax.step(
                values,
                [(i + 1) / len(values) for i in range(len(values))],
                where="post",
                label=f"{kind} (n={len(values)})",
            )
    ax.set_xlabel("seconds from submission to confirmation (verification: to the verdict)")
    ax.set_ylabel("share of operations")
    ax.set_title("latency CDF per operation type")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_gas(gas_by_mode: dict[str, dict[str, Any]], path: Path) -> None:
    """Mean gas per operation type, one bar group per type and one bar per mode (or run)."""
    kinds = sorted({kind for gas in gas_by_mode.values() for kind in gas})
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / max(1, len(gas_by_mode))
    for i, (label, gas) in enumerate(gas_by_mode.items()):
        xs = [k + i * width for k in range(len(kinds))]
        ax.bar(xs, [gas.get(kind, {}).get("mean", 0) for kind in kinds], width, label=label)
    ax.set_xticks(
        [k + width * (len(gas_by_mode) - 1) / 2 for k in range(len(kinds))], kinds, rotation=20, fontsize=8
    )
    ax.set_ylabel("gas per operation (mean, batches shared)")
    ax.set_title("gas per operation by mode")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def render_report(results: dict[str, Any]) -> str:
    f = results["figures"]
    config = results["config"]
    checks = results["checks"]
    lines = [
        f"# Experiment {results['name']}",
        "",
        f"Started {results['started']}; {config['offices']} offices{_bureau(f)}, {config['mode']} mode, "
        f"chain {_chain(config['chain'])}, gateway {'on' if config['gateway'] else 'off'}, "
        f"seed {config['seed']}"
        + (
            " — **interrupted (Ctrl-C): partial results; changes still in a stopped node's outbox count "
            "as missing**"
            if results["interrupted"]
            else ""
        )
        + ".",
        "",
        "## Checks",
        "",
        f"- exactly once (every accepted operation on chain exactly once): **{results['exactly_once']}** "
        f"({_check_detail(checks['exactly_once'])})",
        f"- gateway index equals chain state: **{results['index_matches_chain']}** "
        f"({_check_detail(checks['index_matches_chain'])})",
        "",
        *render_refusals(results["refusals"]),
        "## Figures",
        "",
        "| figure | value |",
        "| --- | ---: |",
        f"| operations (all outcomes) | {f['operations']} ({_outcomes(f['outcomes'])}) |",
        f"| operations confirmed on chain (ops_confirmed) | {f['ops_confirmed']} |",
        f"| throughput, confirmed | {f['throughput_ops_per_s']} ops/s |",
        f"| latency, all writes p50 / p90 / p99 / max | {_latency(f['latency_all_writes'])} |",
        f"| verifications answered / requested, rate | {f['verification']['answered']} / "
        f"{f['verification']['requested']}, {f['verification']['per_s']} /s |",
        f"| verdicts | {_outcomes(f['verification']['verdicts']) or 'none'} |",
        "",
        "### Latency per operation type (submission to confirmation)",
        "",
        "| operation | n | p50 s | p90 s | p99 s | max s |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        *(
            f"| {kind} | {s['n']} | {s.get('p50_s', '')} | {s.get('p90_s', '')} | {s.get('p99_s', '')} | "
            f"{s.get('max_s', '')} |"
            for kind, s in f["latency"].items()
        ),
        "",
        f"![throughput over time]({PLOTS['throughput']})",
        "",
        f"![latency CDF per operation type]({PLOTS['latency_cdf']})",
        "",
        "### Gas and bytes per operation type",
        "",
        "| operation | n | gas mean | gas min | gas max | bytes (calldata + logs) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        *(
            f"| {kind} | {g['n']} | {g['mean']:,} | {g['min']:,} | {g['max']:,} | "
            f"{f['chain_bytes'].get(kind, {}).get('mean', '')} |"
            for kind, g in f["gas"].items()
        ),
        "",
        f"![gas per operation by mode]({PLOTS['gas']})",
        "",
        "### Chain growth",
        "",
        "| figure | value |",
        "| --- | ---: |",
        *(
            f"| {k.replace('_', ' ')} | {v if v is not None else 'not told by this backend'} |"
            for k, v in f["chain_growth"].items()
        ),
        "",
        *render_chain_figures(f),
        "### Per-office load",
        "",
        "| office | operations | confirmed | p50 latency s | outcomes |",
        "| --- | ---: | ---: | ---: | --- |",
        *(
            f"| {code} | {o['operations']} | {o['confirmed']} | {o['latency_p50_s'] or ''} | "
            f"{_outcomes(o['outcomes'])} |"
            for code, o in f["per_office"].items()
        ),
        "",
        "## Faults",
        "",
        *(
            [
                f"- {x['kind']} {x['target']} at {x['at_s']} s, back at {x['recovered_s']} s: {x['note']}"
                for x in results["faults"]
            ]
            or ["none injected"]
        ),
        "",
        "## Capacity",
        "",
        render_capacity(results["capacity"])
        if "error" not in results.get("capacity", {"error": 1})
        else f"not projected: {results.get('capacity', {}).get('error')}",
        "",
        "Outputs: `results.json` (everything above), `ops.csv` (one row per operation), the PNG plots.",
        f"Environment: {results['environment'].get('system')}, {results['environment'].get('cpus')} CPUs, "
        f"chain client {results['environment'].get('chain_client')}; confirmation times are observed by "
        f"polling the nodes' outboxes every {results['environment'].get('confirmation_poll_s')} s.",
        "",
    ]
    return "\n".join(lines)


def render_chain_figures(f: dict[str, Any]) -> list[str]:
    """The chain underneath: confirmation latency to one block and to the confirmation depth, the
    reorganisations seen, the gas rate against the blocks' capacity (missing in older results)."""
    if "confirmation" not in f:
        return []
    confirmation, reorgs, rate = f["confirmation"], f["reorgs"], f["gas_rate"]
    depth = confirmation["depth_blocks"]
    deepest = f", the deepest replaced {reorgs['deepest']} blocks" if reorgs["count"] else ""
    limit = (
        f"{rate['limit_gas_per_s']:,} gas/s ({rate['block_gas_limit']:,} gas every {rate['period_s']} s)"
        if rate["limit_gas_per_s"]
        else "no fixed bound (a block per transaction)"
    )
    used = f"{rate['gas_per_s']:,} gas/s" if rate["gas_per_s"] is not None else "not read"
    share = f" ({100 * rate['share_of_limit']:.2f} % of it)" if rate["share_of_limit"] is not None else ""
    return [
        "### The chain underneath",
        "",
        f"The head watched every {confirmation['head_poll_s']} s on one chain node (times exact to a poll); "
        f"the confirmation depth is {depth} block{'s' if depth != 1 else ''}, the block itself included "
        "(a majority of the validators sealed on it; 1 on a single-process chain).",
        "",
        "| figure | n | p50 s | p95 s | max s |",
        "| --- | ---: | ---: | ---: | ---: |",
        _spread_row("submission to its transaction's block", confirmation["one_block"]),
        _spread_row(f"submission to that block at depth {depth}", confirmation["majority"]),
        "",
        "| figure | value |",
        "| --- | ---: |",
        f"| reorganisations seen | {reorgs['count']}{deepest} |",
        f"| gas used by the run's blocks per second | {used}{share} |",
        f"| the blocks' gas limit per second | {limit} |",
        "",
    ]


def _spread_row(name: str, s: dict[str, Any]) -> str:
    if not s.get("n"):
        return f"| {name} | 0 | | | |"
    return f"| {name} | {s['n']} | {s['p50_s']} | {s['p95_s']} | {s['max_s']} |"


def _chain(chain: dict[str, Any]) -> str:
    if chain["kind"] == "geth":
        isolated = ", isolated" if chain.get("isolate") else ""
        return f"geth ({chain['validators']} Clique validators, {chain['period_s']} s period{isolated})"
    return str(chain["kind"])


def _check_detail(check: dict[str, Any]) -> str:
    shown = {k: v for k, v in check.items() if k not in ("verdict", "examples", "gateway_status")}
    text = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in shown.items())
    if check.get("examples"):
        text += "; e.g. " + "; ".join(check["examples"][:3])
    return text


def _outcomes(counts: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def _latency(s: dict[str, Any]) -> str:
    if not s.get("n"):
        return "none confirmed"
    return f"{s['p50_s']} / {s['p90_s']} / {s['p99_s']} / {s['max_s']} s"


def _bureau(figures: dict[str, Any]) -> str:
    """The International Bureau joins a run whose workload designates offices (config.office_codes)."""
    return " and the International Bureau (WO)" if "WO" in figures.get("per_office", {}) else ""
