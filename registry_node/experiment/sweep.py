"""The same experiment over several consortium sizes: one run per size, then throughput against offices."""

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
from registry_node.experiment.config import OFFICE_CODES, ExperimentConfig
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
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    sweep_dir = (out_dir / f"{config.name}-sweep-{stamp}").resolve()
    sweep_dir.mkdir(parents=True, exist_ok=True)
    runs: list[dict[str, Any]] = []
    for size in sizes:
        codes = OFFICE_CODES[:size]
        faults = tuple(
            dataclasses.replace(f, office=f.office if f.office in codes else codes[-1])
            if f.kind == "kill_node"
            else f
            for f in config.faults
        )
        sized = dataclasses.replace(config, name=f"{config.name}-o{size}", offices=size, faults=faults)
        run_dir = run_experiment(sized, sweep_dir, console)
        results = load_results(run_dir)
        runs.append(
            {
                "offices": size,
                "run_dir": run_dir.name,
                "throughput_ops_per_s": results["figures"]["throughput_ops_per_s"],
                "ops_confirmed": results["ops_confirmed"],
                "latency_p50_s": results["figures"]["latency_all_writes"].get("p50_s"),
                "exactly_once": results["exactly_once"],
                "index_matches_chain": results["index_matches_chain"],
            }
        )
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
