"""Copy the deployable contract's ABI and bytecode from brownie's build into the registry_node package.

Run after `brownie compile` (make artifacts does both). The node and gateway load these files at run time,
so they never need brownie; tests/toolchain/test_artifacts.py fails when they fall behind the sources.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "contracts"
SHIPPED = ROOT / "registry_node" / "protocol" / "abi"
CONTRACTS = ["SharedIPRegistry"]


def shipped_form(build: dict[str, Any]) -> dict[str, Any]:
    return {
        "contractName": build["contractName"],
        "abi": build["abi"],
        "bytecode": build["bytecode"],
        "deployedBytecode": build["deployedBytecode"],
        "compiler": build["compiler"],
        "sourcePath": build["sourcePath"],
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
