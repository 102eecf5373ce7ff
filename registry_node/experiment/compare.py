"""Two runs side by side: a table of their figures and plots of gas and latency per operation type."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from registry_node.experiment.report import plot_gas
from registry_node.protocol.errors import ConfigError


def load_results(path: Path) -> dict[str, Any]:
    """A run's results.json, given the file or its run folder."""
    file = path / "results.json" if path.is_dir() else path
    try:
        data = json.loads(file.read_text("utf-8"))
    except (OSError, ValueError) as err:
        raise ConfigError(str(path), f"not a run's results.json: {err}") from None
    if not isinstance(data, dict) or "figures" not in data:
        raise ConfigError(str(path), "not a run's results.json (no figures)")
    return data


def label(results: dict[str, Any]) -> str:
    f = results["figures"]
    return f"{results['name']} ({f['mode']}, {f['offices']} offices)"


def comparison_rows(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(figure, run A, run B) rows, the same figures for both runs."""
    fa, fb = a["figures"], b["figures"]
    rows = [
        ("exactly once", a["exactly_once"], b["exactly_once"]),
        ("index matches chain", a["index_matches_chain"], b["index_matches_chain"]),
        ("chain", a["config"]["chain"]["kind"], b["config"]["chain"]["kind"]),
        ("operations confirmed", str(fa["ops_confirmed"]), str(fb["ops_confirmed"])),
        ("throughput ops/s", str(fa["throughput_ops_per_s"]), str(fb["throughput_ops_per_s"])),
        (
            "latency p50 s (writes)",
            str(fa["latency_all_writes"].get("p50_s", "")),
            str(fb["latency_all_writes"].get("p50_s", "")),
        ),
        (
            "latency p99 s (writes)",
            str(fa["latency_all_writes"].get("p99_s", "")),
            str(fb["latency_all_writes"].get("p99_s", "")),
        ),
    ]
    for name, key, spread, figure in (
        ("to block p50 s", "confirmation", "one_block", "p50_s"),
        ("to block p95 s", "confirmation", "one_block", "p95_s"),
        ("to majority depth p50 s", "confirmation", "majority", "p50_s"),
        ("to majority depth p95 s", "confirmation", "majority", "p95_s"),
    ):
        rows.append((name, _chain_figure(fa, key, spread, figure), _chain_figure(fb, key, spread, figure)))
    rows.append(("reorganisations (deepest)", _reorgs(fa), _reorgs(fb)))
    rows.append(("gas used per s", _chain_figure(fa, "gas_rate", None, "gas_per_s"),
                 _chain_figure(fb, "gas_rate", None, "gas_per_s")))  # fmt: skip
    for kind in sorted(set(fa["gas"]) | set(fb["gas"])):
        rows.append((f"gas {kind}", _mean(fa["gas"], kind), _mean(fb["gas"], kind)))
    for kind in sorted(set(fa.get("chain_bytes", {})) | set(fb.get("chain_bytes", {}))):
        rows.append((f"bytes {kind}", _mean(fa["chain_bytes"], kind), _mean(fb["chain_bytes"], kind)))
    for key in ("blocks", "log_bytes", "block_bytes", "state_bytes"):
        rows.append(
            (
                f"chain {key.replace('_', ' ')}",
                str(fa["chain_growth"].get(key, "")),
                str(fb["chain_growth"].get(key, "")),
            )
        )
    return rows


def _chain_figure(figures: dict[str, Any], key: str, spread: str | None, figure: str) -> str:
    """A figure of the chain underneath; "-" for results written before it was measured."""
    table = figures.get(key, {})
    if spread is not None:
        table = table.get(spread, {})
    value = table.get(figure)
    return "-" if value is None else str(value)


def _reorgs(figures: dict[str, Any]) -> str:
    reorgs = figures.get("reorgs")
    return f"{reorgs['count']} ({reorgs['deepest']})" if reorgs else "-"


def _mean(table: dict[str, Any], kind: str) -> str:
    return f"{table[kind]['mean']:,}" if kind in table else "-"


def write_comparison(a: dict[str, Any], b: dict[str, Any], out: Path) -> list[Path]:
    """comparison.md and two PNGs in `out`; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    la, lb = label(a), label(b)
    if la == lb:
        la, lb = f"A: {la}", f"B: {lb}"
    gas_png = out / "gas_per_operation.png"
    plot_gas({la: a["figures"]["gas"], lb: b["figures"]["gas"]}, gas_png)
    latency_png = out / "latency_p50.png"
    kinds = sorted(set(a["figures"]["latency"]) | set(b["figures"]["latency"]))
    fig, ax = plt.subplots(figsize=(8, 4))
    for i, (name, results) in enumerate(((la, a), (lb, b))):
        values = [results["figures"]["latency"].get(k, {}).get("p50_s", 0) for k in kinds]
        ax.bar([k + i * 0.4 for k in range(len(kinds))], values, 0.4, label=name)
    ax.set_xticks([k + 0.2 for k in range(len(kinds))], kinds, rotation=20, fontsize=8)
    ax.set_ylabel("p50 latency, s")
    ax.set_title("latency p50 per operation type")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(latency_png, dpi=100)
    plt.close(fig)
    lines = [f"# {la} vs {lb}", "", f"| figure | {la} | {lb} |", "| --- | ---: | ---: |"]
    lines += [f"| {name} | {x} | {y} |" for name, x, y in comparison_rows(a, b)]
    lines += ["", f"![gas per operation]({gas_png.name})", "", f"![latency p50]({latency_png.name})", ""]
    md = out / "comparison.md"
    md.write_text("\n".join(lines), "utf-8")
    return [md, gas_png, latency_png]
