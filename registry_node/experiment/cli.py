"""`ipreg experiment …`: run, sweep, compare and project experiments.

The harness (web3, matplotlib) is imported inside the commands, so `ipreg` itself stays quick to start."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Annotated

import typer

from registry_node.protocol.errors import ConfigError, RegistryError

experiment_app = typer.Typer(
    help="The task force's experiments: workloads, comparisons, faults, reports.", no_args_is_help=True
)
OutOption = Annotated[Path, typer.Option("--out", help="Folder the run's folder is created in.")]
# The harness's own packages: the `experiment` extra, which an office node and the gateway do without.
EXTRA_MODULES = ("yaml", "rich", "matplotlib")


def _absent(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):  # blocked, or half-imported
        return True


@experiment_app.callback()
def _needs_the_extra() -> None:
    """Refuses every experiment command, naming what to install, when the experiment extra is missing."""
    missing = [m for m in EXTRA_MODULES if _absent(m)]
    if missing:
        typer.echo(
            f"error: ipreg experiment needs the experiment extra (missing: {', '.join(missing)}): "
            "pip install 'ip-shared-registry[experiment]', or run make setup",
            err=True,
        )
        raise typer.Exit(2)


def _fail(err: Exception) -> typer.Exit:
    typer.echo(f"error: {err}", err=True)
    return typer.Exit(2)


@experiment_app.command("run")
def run(
    file: Annotated[Path, typer.Argument(help="The experiment (YAML).")], out: OutOption = Path("results")
) -> None:
    """Run one experiment: results.json, ops.csv, plots and report.md in <out>/<name>-<timestamp>/."""
    from rich.console import Console

    from registry_node.experiment.config import load_config
    from registry_node.experiment.runner import run_experiment

    try:
        config = load_config(file)
        run_dir = run_experiment(config, out, Console(stderr=True))
    except RegistryError as err:
        raise _fail(err) from None
    typer.echo(str(run_dir))


@experiment_app.command("sweep")
def sweep(
    file: Annotated[Path, typer.Argument(help="The experiment (YAML).")],
    offices: Annotated[
        str | None, typer.Option(help="Consortium sizes, e.g. 1,2,4,8 (the default, without --chains).")
    ] = None,
    chains: Annotated[
        str | None,
        typer.Option(
            help="Chains instead of sizes: ganache, hardhat, gethN (N validators), e.g. ganache,geth3."
        ),
    ] = None,
    out: OutOption = Path("results"),
) -> None:
    """Run the same workload over several numbers of offices (throughput against offices), or over several
    chains (confirmation latency, reorganisations and gas rate side by side)."""
    from rich.console import Console

    from registry_node.experiment.config import load_config
    from registry_node.experiment.sweep import parse_chains, parse_offices, run_chain_sweep, run_sweep

    try:
        if offices is not None and chains is not None:
            raise ConfigError("--chains", "sweep over offices or over chains, not both")
        config = load_config(file)
        if chains is not None:
            sweep_dir = run_chain_sweep(config, parse_chains(chains, config), out, Console(stderr=True))
        else:
            sweep_dir = run_sweep(config, parse_offices(offices or "1,2,4,8"), out, Console(stderr=True))
    except RegistryError as err:
        raise _fail(err) from None
    typer.echo(str(sweep_dir))


@experiment_app.command("compare")
def compare(
    a: Annotated[Path, typer.Argument(help="A run's folder or results.json.")],
    b: Annotated[Path, typer.Argument(help="Another run's folder or results.json.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Where the comparison goes (default: next to A).")
    ] = None,
) -> None:
    """Print two runs side by side and plot their gas and latency per operation type."""
    from rich.console import Console
    from rich.table import Table

    from registry_node.experiment.compare import comparison_rows, label, load_results, write_comparison

    try:
        ra, rb = load_results(a), load_results(b)
    except RegistryError as err:
        raise _fail(err) from None
    table = Table(title="comparison")
    table.add_column("figure")
    table.add_column(label(ra), justify="right")
    table.add_column(label(rb), justify="right")
    for row in comparison_rows(ra, rb):
        table.add_row(*row)
    Console().print(table)
    base = a if a.is_dir() else a.parent
    target = out or base.parent / f"compare-{ra['name']}-vs-{rb['name']}"
    for path in write_comparison(ra, rb, target):
        typer.echo(str(path))


@experiment_app.command("capacity")
def capacity(
    results: Annotated[Path, typer.Argument(help="A run's results.json (or its folder).")],
    world: Annotated[
        Path | None, typer.Option(help="World profile (default scripts/experiments/world.yaml).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The projection as JSON.")] = False,
) -> None:
    """Project the run's measured gas and bytes per operation onto a world-scale workload and chain."""
    from registry_node.experiment.capacity import load_world, project, render_capacity
    from registry_node.experiment.compare import load_results

    try:
        projection = project(load_results(results), load_world(world))
    except RegistryError as err:
        raise _fail(err) from None
    typer.echo(json.dumps(projection, indent=2) if as_json else render_capacity(projection))
