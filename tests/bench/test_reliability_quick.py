"""The bounded reliability suite (`bench/reliability.py --quick`): a real consortium under load, killed
nodes, a stopped chain, a restarted gateway and a full disk, then a consortium on three geth validators with
one partitioned and two stopped, with nothing lost and no server error."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 1200  # about 5 min on ganache and 3 on three geth validators, on two shared cores


def test_the_quick_reliability_suite_loses_nothing_and_answers_no_server_error(tmp_path: Path) -> None:
    out = tmp_path / "reliability.json"
    result = subprocess.run(
        [
            str(PROJECT_ROOT / ".venv" / "bin" / "python"),
            "bench/reliability.py",
            "--quick",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=TIMEOUT_S,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert out.exists(), result.stderr[-3000:]
    figures = json.loads(out.read_text("utf-8"))
    failures = {name: case["failures"] for name, case in figures["cases"].items() if not case["passed"]}
    assert result.returncode == 0, (failures, result.stderr[-3000:])
    assert figures["lost"] == figures["duplicated"] == figures["server_errors"] == 0
    assert figures["faults_injected"] > 0 and figures["requests"] > 0
