"""The Slither gate of `make lint`: a High or Medium finding without a written reason fails it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECK = ROOT / "scripts" / "slither_check.py"
TRIAGE = ROOT / "contracts" / "slither-triage.json"


def test_every_triaged_finding_has_a_reason() -> None:
    findings = json.loads(TRIAGE.read_text("utf-8"))["findings"]
    assert findings and all(len(f["reason"]) > 40 for f in findings)


def test_a_medium_finding_left_without_a_reason_fails_the_gate(tmp_path: Path) -> None:
    triage = json.loads(TRIAGE.read_text("utf-8"))
    dropped = triage["findings"].pop()
    partial = tmp_path / "triage.json"
    partial.write_text(json.dumps(triage), "utf-8")
    result = subprocess.run(
        [sys.executable, str(CHECK), str(partial)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"UNTRIAGED Medium {dropped['check']}" in result.stdout
