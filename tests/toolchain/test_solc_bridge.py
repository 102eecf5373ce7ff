"""The native-solc command-line bridge over solc-js, as brownie and py-solc-x use it."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SOLC_DIR = PROJECT_ROOT / "scripts" / "solc"
SOLC = SOLC_DIR / "solc-v0.8.28"
BROWNIE = PROJECT_ROOT / ".venv" / "bin" / "brownie"
TIMEOUT_S = 180.0
SOLCJS_CLI_TRUNCATION = 64 * 1024
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def solc(*args: str, stdin: str = "", cwd: Path = PROJECT_ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SOLC), *args], input=stdin, capture_output=True, text=True, cwd=cwd, timeout=TIMEOUT_S
    )


def standard_json(sources: dict[str, Any], **settings: Any) -> str:
    return json.dumps({"language": "Solidity", "sources": sources, "settings": settings})


def test_version_reports_the_native_compiler_form() -> None:
    result = solc("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "solc, the solidity compiler commandline interface",
        "Version: 0.8.28+commit.7893614a.Linux.g++",
    ]


def test_malformed_json_input_gets_a_json_error_like_native_solc() -> None:
    result = solc("--standard-json", stdin="{ this is not json")
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert isinstance(output, dict)
    (error,) = output["errors"]
    assert error["severity"] == "error"
    assert error["type"] == "JSONError"
    assert "not valid JSON" in error["message"]


def test_a_compile_error_comes_back_as_json_errors() -> None:
    source = "// SPDX-License-Identifier: MIT\npragma solidity 0.8.28;\ncontract Broken { uint x = ; }\n"
    result = solc("--standard-json", stdin=standard_json({"Broken.sol": {"content": source}}))
    assert result.returncode == 0, result.stderr
    errors = json.loads(result.stdout)["errors"]
    assert [e["type"] for e in errors if e["severity"] == "error"] == ["ParserError"]
    assert "Broken.sol" in errors[0]["formattedMessage"]


def test_the_project_compiles_to_json_beyond_the_solcjs_truncation_size() -> None:
    entry = "contracts/SharedIPRegistry.sol"
    request = standard_json(
        {entry: {"content": (PROJECT_ROOT / entry).read_text("utf-8")}},
        remappings=["@openzeppelin=node_modules/@openzeppelin"],
        optimizer={"enabled": True, "runs": 200},
        evmVersion="london",
        outputSelection={"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
    )
    result = solc("--standard-json", stdin=request, cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.encode()) > SOLCJS_CLI_TRUNCATION
    output = json.loads(result.stdout)
    assert [e for e in output.get("errors", []) if e["severity"] == "error"] == []
    # imports were read through the bridge's callback, OpenZeppelin through the remapping
    assert "node_modules/@openzeppelin/contracts/utils/cryptography/MerkleProof.sol" in output["sources"]
    registry = output["contracts"][entry]["SharedIPRegistry"]
    assert re.fullmatch(r"[0-9a-f]+", registry["evm"]["bytecode"]["object"])
    assert len(registry["evm"]["bytecode"]["object"]) > 10_000
    assert any(item.get("name") == "anchor" for item in registry["abi"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bin", "Broken.sol"], "unsupported option --bin"),
        (["--optimize", "--standard-json"], "unsupported option --optimize"),
        ([], "no mode given"),
        (["--base-path"], "option --base-path needs a value"),
    ],
    ids=["--bin", "--optimize", "no mode", "option without value"],
)
def test_unsupported_or_incomplete_options_exit_non_zero_with_a_message(
    args: list[str], message: str
) -> None:
    result = solc(*args)
    assert result.returncode != 0
    assert message in result.stderr
    assert result.stdout == ""


def test_brownie_reports_a_contract_error_as_its_normal_compiler_error(tmp_path: Path) -> None:
    project = tmp_path / "broken-project"
    (project / "contracts").mkdir(parents=True)
    (project / "brownie-config.yaml").write_text("compiler:\n  solc:\n    version: 0.8.28\n", "utf-8")
    (project / "contracts" / "Broken.sol").write_text(
        "// SPDX-License-Identifier: MIT\n"
        "pragma solidity 0.8.28;\n"
        "\n"
        "contract Broken {\n"
        "    function f() public pure returns (uint256) { return ; }\n"
        "    uint256 x = ;\n"
        "}\n",
        "utf-8",
    )
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "SOLCX_BINARY_PATH": str(SOLC_DIR)}
    result = subprocess.run(
        [str(BROWNIE), "compile"], capture_output=True, text=True, cwd=project, env=env, timeout=TIMEOUT_S
    )
    output = ANSI.sub("", result.stdout + result.stderr)
    assert result.returncode != 0, output
    assert "CompilerError" in output
    assert "ParserError: Expected primary expression." in output
    assert "contracts/Broken.sol" in output
    assert "JSONDecodeError" not in output
    assert "Expecting value" not in output
