"""Runs Slither over contracts/ through the project's compiler bridge and fails on any High or Medium
finding that contracts/slither-triage.json does not list with a reason.

Usage: .venv/bin/python scripts/slither_check.py [TRIAGE.json]   (run by `make lint`)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRIAGE = ROOT / "contracts" / "slither-triage.json"
GATED = ("High", "Medium")


def run_slither() -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "slither.json"
        command = [
            str(Path(sys.executable).with_name("slither")), "contracts",
            "--solc-standard-json", "--solc", str(ROOT / "scripts" / "solc" / "solc-v0.8.28"),
            "--solc-remaps", "@openzeppelin=node_modules/@openzeppelin",
            "--filter-paths", "node_modules", "--json", str(out),
        ]  # fmt: skip
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        if not out.exists():
            raise SystemExit(f"slither did not run:\n{result.stderr[-3000:]}")
        report = json.loads(out.read_text("utf-8"))
    if not report.get("success"):
        raise SystemExit(f"slither failed: {report.get('error')}")
    return list(report.get("results", {}).get("detectors", []))


def main(argv: list[str]) -> int:
    triage = Path(argv[0]) if argv else TRIAGE
    triaged = {(f["check"], f["element"]) for f in json.loads(triage.read_text("utf-8"))["findings"]}
    findings = run_slither()
    untriaged = []
    for finding in findings:
        element = finding["elements"][0]["name"] if finding.get("elements") else ""
        if finding["impact"] in GATED and (finding["check"], element) not in triaged:
            untriaged.append(finding)
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding["impact"]] = counts.get(finding["impact"], 0) + 1
    print(f"slither: {len(findings)} findings {counts}; {len(triaged)} triaged in {triage}")
    for finding in untriaged:
        print(f"UNTRIAGED {finding['impact']} {finding['check']}: {finding['description'].strip()}")
    return 1 if untriaged else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
