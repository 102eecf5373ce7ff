"""Helpers for the experiment tests: `ipreg experiment …` as a user runs it, and output checks."""

from __future__ import annotations

import csv
import json
import os
import subprocess
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
IPREG = PROJECT_ROOT / ".venv" / "bin" / "ipreg"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def ipreg_experiment(*args: str | Path, timeout_s: float = 240) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IPREG_NODE_", "IPREG_GATEWAY_"))}
    env.setdefault("HOME", str(PROJECT_ROOT / ".home"))
    result = subprocess.run(
        [str(IPREG), "experiment", *map(str, args)], capture_output=True, text=True, env=env,
        cwd=PROJECT_ROOT,
        timeout=timeout_s, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def run_dir_of(result: subprocess.CompletedProcess[str]) -> Path:
    """The run's folder: the last line `ipreg experiment run` prints."""
    return Path(result.stdout.strip().splitlines()[-1])


def results_of(run_dir: Path) -> dict[str, Any]:
    return dict(json.loads((run_dir / "results.json").read_text("utf-8")))


def ops_rows(run_dir: Path) -> list[dict[str, str]]:
    with (run_dir / "ops.csv").open(encoding="utf-8") as rows:
        return list(csv.DictReader(rows))


def assert_valid_png(path: Path) -> None:
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC), f"{path.name} is not a PNG"
    assert len(data) > 2000, f"{path.name} is nearly empty"
