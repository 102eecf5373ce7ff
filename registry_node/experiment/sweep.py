"""The same experiment over several consortium sizes (one run per size, then throughput against offices), or
over several chains (one run per chain: ganache, hardhat, geth networks of N validators, then confirmation
latency, reorganisations and gas rate side by side)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from rich.console import Console

from registry_node.experiment.compare import load_results
from registry_node.experiment.config import (
    GETH_GAS_LIMIT,
    OFFICE_CODES,
    ChainConfig,
    ExperimentConfig,
    check_fault_target,
)
from registry_node.experiment.runner import run_experiment
from registry_node.protocol.errors import ConfigError


def parse_offices(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError("--offices", f"must be a comma-separated list of numbers, got {text!r}") from None
    if not sizes or any(not 1 <= n <= len(OFFICE_CODES) for n in sizes):
        raise ConfigError("--offices", f"each size must be from 1 to {len(OFFICE_CODES)}, got {text!r}")
    return sizes


def run_sweep(
    config: ExperimentConfig, sizes: list[int], out_dir: Path, console: Console | None = None
) -> Path:
    """Runs `config` once per size under `<out>/<name>-sweep-<stamp>/`; writes sweep.json, the throughput
    plot and sweep.md there. Faults naming an office the smaller runs lack go to their last office."""
    sweep_dir = _sweep_dir(config, out_dir)
    variants = []
    for size in sizes:
        codes = OFFICE_CODES[:size]
        faults = tuple(
            dataclasses.replace(f, office=f.office if f.office in codes else codes[-1])
            if f.kind == "kill_node"
            else f
            for f in config.faults
        )
        variants.append(
            dataclasses.replace(config, name=f"{config.name}-o{size}", offices=size, faults=faults)
        )
    runs = _run_each(variants, sweep_dir, console)
    (sweep_dir / "sweep.json").write_text(json.dumps({"name": config.name, "runs": runs}, indent=2) + "\n")
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([r["offices"] for r in runs], [r["throughput_ops_per_s"] for r in runs], marker="o")
    ax.set_xlabel("offices (node processes)")
    ax.set_ylabel("operations confirmed per second")
    ax.set_title(f"{config.name}: throughput against offices")
    ax.set_xticks([r["offices"] for r in runs])
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(sweep_dir / "throughput_vs_offices.png", dpi=100)
    plt.close(fig)
    lines = [
        f"# Sweep {config.name}",
        "",
        "| offices | ops/s | confirmed | p50 s | exactly once | index | run |",
        "| ---: | ---: | ---: | ---: | --- | --- | --- |",
    ]
    lines += [
        f"| {r['offices']} | {r['throughput_ops_per_s']} | {r['ops_confirmed']} | {r['latency_p50_s']} | "
        f"{r['exactly_once']} | {r['index_matches_chain']} | [{r['run_dir']}]({r['run_dir']}/report.md) |"
        for r in runs
    ]
    lines += ["", "![throughput against offices](throughput_vs_offices.png)", ""]
    (sweep_dir / "sweep.md").write_text("\n".join(lines), "utf-8")
    return sweep_dir


CHAIN_PLOT = "chains.png"


def parse_chains(text: str, config: ExperimentConfig) -> list[ChainConfig]:
    """`ganache`, `hardhat` and `gethN` (a Clique network of the first N offices' validators; its period,
    isolation and gas limit from the file's geth settings, else 1 s, none and the default), comma-separated.
    Each is checked against the file's offices and faults as the file's own chain would be."""
    chains: list[ChainConfig] = []
    base = config.chain if config.chain.kind == "geth" else None
    for part in (p.strip() for p in text.split(",") if p.strip()):
        if part in ("ganache", "hardhat"):
            chain = ChainConfig(kind="ganache" if part == "ganache" else "hardhat")
        elif part.startswith("geth") and part[4:].isdigit() and 1 <= int(part[4:]) <= config.offices:
            chain = ChainConfig(
                kind="geth",
                block_gas_limit=base.block_gas_limit if base else GETH_GAS_LIMIT,
                validators=int(part[4:]),
                period_s=base.period_s if base else 1,
                isolate=base.isolate if base else False,
            )
        else:
            raise ConfigError(
                "--chains",
                f"each chain is ganache, hardhat or gethN with N from 1 to the file's {config.offices} "
                f"offices, got {part!r}",
            )
        for i, fault in enumerate(config.faults):
            if fault.office is not None:
                check_fault_target(fault.kind, fault.office, config.office_codes, chain, f"faults[{i}]")
            if fault.kind == "restart_chain" and not chain.keeps_data:
                raise ConfigError(f"faults[{i}].kind", f"restart_chain cannot restart {part}")
        chains.append(chain)
    if not chains:
        raise ConfigError("--chains", "name at least one chain, e.g. ganache,hardhat,geth3")
    return chains


def chain_label(chain: ChainConfig) -> str:
    return f"geth{chain.validators}" if chain.kind == "geth" else chain.kind


def run_chain_sweep(
    config: ExperimentConfig, chains: list[ChainConfig], out_dir: Path, console: Console | None = None
) -> Path:
    """Runs `config` once per chain under `<out>/<name>-sweep-<stamp>/`; writes sweep.json, sweep.md and
    the chains plot (confirmation latency to one block and to the confirmation depth, and gas rate)."""
    sweep_dir = _sweep_dir(config, out_dir)
    variants = [
        dataclasses.replace(config, name=f"{config.name}-{chain_label(chain)}", chain=chain)
        for chain in chains
    ]
    runs = _run_each(variants, sweep_dir, console)
    (sweep_dir / "sweep.json").write_text(json.dumps({"name": config.name, "runs": runs}, indent=2) + "\n")
    plot_chains(runs, sweep_dir / CHAIN_PLOT, config.name)
    (sweep_dir / "sweep.md").write_text(render_chain_sweep(config, runs), "utf-8")
    return sweep_dir


def render_chain_sweep(config: ExperimentConfig, runs: list[dict[str, Any]]) -> str:
    lines = [
        f"# Sweep {config.name}: the same workload on each chain",
        "",
        f"{config.offices} offices, {config.workload.operations or config.workload.duration_s} "
        f"{'operations' if config.workload.operations else 's'}, {config.load.describe}, {config.mode}, "
        f"seed {config.seed}. Latency to the block and to the confirmation depth is measured from each "
        "write's submission to the moment a watched chain node's head showed it (polled every 0.2 s); "
        "the nodes' own latency is submission to the outbox showing it confirmed (polled every 0.1 s).",
        "",
        "| chain | exactly once | index | confirmed | ops/s | to block p50 / p95 s | depth | to depth p50 / "
        "p95 s | node latency p50 / p99 s | reorgs (deepest) | gas/s used | gas/s limit | run |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in runs:
        limit = f"{r['limit_gas_per_s']:,}" if r["limit_gas_per_s"] else "no period"
        lines.append(
            f"| {r['chain']} | {r['exactly_once']} | {r['index_matches_chain']} | {r['ops_confirmed']} | "
            f"{r['throughput_ops_per_s']} | {r['to_block_p50_s']} / {r['to_block_p95_s']} | "
            f"{r['depth_blocks']} | {r['to_depth_p50_s']} / {r['to_depth_p95_s']} | "
            f"{r['latency_p50_s']} / {r['latency_p99_s']} | {r['reorgs']} ({r['deepest_reorg']}) | "
            f"{r['gas_per_s']:,} | {limit} | [{r['run_dir']}]({r['run_dir']}/report.md) |"
        )
    lines += ["", f"![confirmation latency and gas rate per chain]({CHAIN_PLOT})", ""]
    return "\n".join(lines)


def plot_chains(runs: list[dict[str, Any]], path: Path, name: str) -> None:
    """Left: p50 and p95 seconds to the block and to the confirmation depth, per chain. Right: gas used
    per second."""
    fig, (latency, gas) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [3, 2]})
    series = (
        ("to block p50", "to_block_p50_s"),
        ("to block p95", "to_block_p95_s"),
        ("to depth p50", "to_depth_p50_s"),
        ("to depth p95", "to_depth_p95_s"),
    )
    width = 0.8 / len(series)
    for i, (label, key) in enumerate(series):
        xs = [k + i * width for k in range(len(runs))]
        latency.bar(xs, [r[key] or 0 for r in runs], width, label=label)
    centres = [k + width * (len(series) - 1) / 2 for k in range(len(runs))]
    latency.set_xticks(centres, [f"{r['chain']}\n(depth {r['depth_blocks']})" for r in runs], fontsize=8)
    latency.set_ylabel("seconds from submission")
    latency.set_title(f"{name}: confirmation latency")
    latency.legend(fontsize=8)
    latency.grid(alpha=0.3, axis="y")
    gas.bar(range(len(runs)), [r["gas_per_s"] or 0 for r in runs], 0.6)
    gas.set_xticks(range(len(runs)), [r["chain"] for r in runs], fontsize=8)
    gas.set_ylabel("gas used by the run's blocks per second")
    gas.set_title("gas rate")
    gas.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _sweep_dir(config: ExperimentConfig, out_dir: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    sweep_dir = (out_dir / f"{config.name}-sweep-{stamp}").resolve()
    sweep_dir.mkdir(parents=True, exist_ok=True)
    return sweep_dir


def _run_each(
    variants: list[ExperimentConfig], sweep_dir: Path, console: Console | None
) -> list[dict[str, Any]]:
    """Runs each variant in turn; one summary row per run."""
    runs: list[dict[str, Any]] = []
    for variant in variants:
        run_dir = run_experiment(variant, sweep_dir, console)
        results = load_results(run_dir)
        f = results["figures"]
        confirmation = f.get("confirmation", {})
        rate = f.get("gas_rate", {})
        runs.append(
            {
                "offices": variant.offices,
                "chain": chain_label(variant.chain),
                "run_dir": run_dir.name,
                "throughput_ops_per_s": f["throughput_ops_per_s"],
                "ops_confirmed": results["ops_confirmed"],
                "latency_p50_s": f["latency_all_writes"].get("p50_s"),
                "latency_p99_s": f["latency_all_writes"].get("p99_s"),
                "depth_blocks": confirmation.get("depth_blocks"),
                "to_block_p50_s": confirmation.get("one_block", {}).get("p50_s"),
                "to_block_p95_s": confirmation.get("one_block", {}).get("p95_s"),
                "to_depth_p50_s": confirmation.get("majority", {}).get("p50_s"),
                "to_depth_p95_s": confirmation.get("majority", {}).get("p95_s"),
                "reorgs": f.get("reorgs", {}).get("count"),
                "deepest_reorg": f.get("reorgs", {}).get("deepest"),
                "gas_per_s": rate.get("gas_per_s"),
                "limit_gas_per_s": rate.get("limit_gas_per_s"),
                "exactly_once": results["exactly_once"],
                "index_matches_chain": results["index_matches_chain"],
            }
        )
    return runs
