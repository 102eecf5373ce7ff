"""Copy the deployable contract's ABI and bytecode from brownie's build into the registry_node package, with
the storage layout solc gives for the same sources and settings.

Run after `brownie compile` (make artifacts does both). brownie does not ask solc for `storageLayout`, so it
is asked here, through the same compiler bridge (scripts/solc) and with the compiler settings of
brownie-config.yaml; storage proofs take their slots from it. The node and gateway load these files at run
time, so they never need brownie; tests/toolchain/test_artifacts.py fails when they fall behind the sources.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "contracts"
SHIPPED = ROOT / "registry_node" / "protocol" / "abi"
CONTRACTS = ["SharedIPRegistry"]
SOLC_TIMEOUT_S = 300


def compiler_settings() -> dict[str, Any]:
    """solc's standard-JSON settings from brownie-config.yaml, asking only for the storage layout."""
    config = yaml.safe_load((ROOT / "brownie-config.yaml").read_text("utf-8"))["compiler"]
    solc = config["solc"]
    return {
        "evmVersion": config["evm_version"],
        "optimizer": {"enabled": bool(solc["optimizer"]["enabled"]), "runs": int(solc["optimizer"]["runs"])},
        "remappings": list(solc.get("remappings") or []),
        "outputSelection": {"*": {"*": ["storageLayout"]}},
    }


def storage_layout(build: dict[str, Any]) -> dict[str, Any]:
    """solc's `storageLayout` of the built contract (its source's imports are read by the bridge)."""
    source = build["sourcePath"]
    request = {
        "language": "Solidity",
        "sources": {source: {"content": (ROOT / source).read_text("utf-8")}},
        "settings": compiler_settings(),
    }
    solc = ROOT / "scripts" / "solc" / f"solc-v{build['compiler']['version'].split('+')[0]}"
    answer = subprocess.run(
        [str(solc), "--standard-json"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=SOLC_TIMEOUT_S,
        check=True,
    )
    output = json.loads(answer.stdout)
    errors = [e["formattedMessage"] for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise RuntimeError(f"solc refused {source}:\n" + "".join(errors))
    layout: dict[str, Any] = output["contracts"][source][build["contractName"]]["storageLayout"]
    return layout


def shipped_form(build: dict[str, Any]) -> dict[str, Any]:
    return {
        "contractName": build["contractName"],
        "abi": build["abi"],
        "bytecode": build["bytecode"],
        "deployedBytecode": build["deployedBytecode"],
        "compiler": build["compiler"],
        "sourcePath": build["sourcePath"],
        "storageLayout": storage_layout(build),
    }


def render(name: str) -> str:
    build = json.loads((BUILD / f"{name}.json").read_text("utf-8"))
    return json.dumps(shipped_form(build), indent=1, sort_keys=True) + "\n"


def main() -> int:
    for name in CONTRACTS:
        target = SHIPPED / f"{name}.json"
        text = render(name)
        if not target.exists() or target.read_text("utf-8") != text:
            target.write_text(text, "utf-8")
            print(f"updated {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
