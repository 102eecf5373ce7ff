"""The compiled contract shipped inside the package, so the node and the gateway run on web3.py alone.

`scripts/export_artifacts.py` writes `registry_node/protocol/abi/<Name>.json` from brownie's build (ABI,
bytecode, compiler) and from solc's `storageLayout` of the same sources and settings;
tests/toolchain/test_artifacts.py keeps the file equal to a fresh build.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from registry_node.protocol.contract.storage import StorageLayout

REGISTRY_CONTRACT = "SharedIPRegistry"


@dataclass(frozen=True)
class ContractArtifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    compiler: dict[str, Any]
    storage: StorageLayout


def load_artifact(name: str = REGISTRY_CONTRACT) -> ContractArtifact:
    data = json.loads(
        resources.files("registry_node.protocol.abi").joinpath(f"{name}.json").read_text("utf-8")
    )
    return ContractArtifact(
        name=data["contractName"],
        abi=data["abi"],
        bytecode=data["bytecode"],
        deployed_bytecode=data["deployedBytecode"],
        compiler=data["compiler"],
        storage=StorageLayout(data["storageLayout"]),
    )


@cache
def registry_storage() -> StorageLayout:
    """The registry's storage layout, read once: proofs ask for it on every slot they derive."""
    return load_artifact(REGISTRY_CONTRACT).storage
