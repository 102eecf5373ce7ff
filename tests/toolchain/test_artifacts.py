"""The ABI, bytecode and storage layout the node ships equal what the current contract sources compile to."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from pathlib import Path
from types import ModuleType

from registry_node.protocol.contract import load_artifact

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHIPPED = PROJECT_ROOT / "registry_node" / "protocol" / "abi" / "SharedIPRegistry.json"


def load_export_script() -> ModuleType:
    path = PROJECT_ROOT / "scripts" / "export_artifacts.py"
    spec = importlib.util.spec_from_file_location("export_artifacts", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compile_project() -> None:
    env = {
        **os.environ,
        "HOME": os.environ.get("HOME") or str(PROJECT_ROOT / ".home"),
        "SOLCX_BINARY_PATH": str(PROJECT_ROOT / "scripts" / "solc"),
    }
    result = subprocess.run(
        [str(PROJECT_ROOT / ".venv" / "bin" / "brownie"), "compile"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_shipped_artifact_equals_the_current_build() -> None:
    compile_project()
    export = load_export_script()
    rendered = export.render("SharedIPRegistry")
    shipped = SHIPPED.read_text("utf-8")
    if rendered != shipped:
        fresh, old = json.loads(rendered), json.loads(shipped)
        differing = sorted(key for key in fresh.keys() | old.keys() if fresh.get(key) != old.get(key))
        raise AssertionError(
            f"{SHIPPED.relative_to(PROJECT_ROOT)} is stale (differs in {differing}): run `make artifacts`"
        )


def test_the_shipped_artifact_is_the_deployable_contract() -> None:
    shipped = json.loads(SHIPPED.read_text("utf-8"))
    assert shipped["contractName"] == "SharedIPRegistry"
    assert shipped["sourcePath"] == "contracts/SharedIPRegistry.sol"
    assert shipped["bytecode"] and shipped["deployedBytecode"]
    assert shipped["compiler"]["version"].startswith("0.8.28")
    assert any(item["type"] == "constructor" for item in shipped["abi"])


def test_the_shipped_artifact_carries_the_storage_layout_proofs_rely_on() -> None:
    layout = load_artifact().storage
    for mapping, members in {
        "_rights": ["version", "office", "kind", "confidential", "stateDigest"],
        "_anchors": ["office", "count", "blockNumber", "timestamp"],
    }.items():
        struct = layout.mapped_struct(mapping)
        assert list(struct.members) == members
        assert sum(m.size for m in struct.members.values()) <= 32
