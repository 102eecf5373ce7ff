"""The compiled contract shipped inside the package, so the node runs on web3.py without brownie.

`scripts/export_artifacts.py` writes `abi/<Name>.json` from brownie's build; a test keeps the two equal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

REGISTRY_CONTRACT = "SharedIPRegistry"


@dataclass(frozen=True)
class ContractArtifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    compiler: dict[str, Any]


def load_artifact(name: str = REGISTRY_CONTRACT) -> ContractArtifact:
    data = json.loads(resources.files("registry_node.abi").joinpath(f"{name}.json").read_text("utf-8"))
    return ContractArtifact(
        name=data["contractName"],
        abi=data["abi"],
        bytecode=data["bytecode"],
        deployed_bytecode=data["deployedBytecode"],
        compiler=data["compiler"],
    )
