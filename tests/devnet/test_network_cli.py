"""`ipreg network up | status | down`, as an operator types them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

from registry_node.devnet.geth import free_validator_base
from registry_node.devnet.processes import IPREG


def ipreg(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(IPREG), "network", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "IPREG_NETWORK_PASSWORD": "a network password", **env},
        check=False,
    )


def test_up_status_and_down_run_a_two_office_network(tmp_path: Path) -> None:
    folder = tmp_path / "network"
    base = free_validator_base(2)
    up = ipreg("up", "--offices", "EP,GB", "--data-dir", str(folder), "--chain-port", str(base))
    try:
        assert up.returncode == 0, up.stderr
        assert "EP  validator 0x" in up.stdout and f"http://127.0.0.1:{base + 1}" in up.stdout
        status = json.loads(ipreg("status", "--data-dir", str(folder), "--json").stdout)
        nodes = {node["office"]: node for node in status["nodes"]}
        assert set(nodes) == {"EP", "GB"}
        for node in nodes.values():
            assert set(node) >= {"office", "rpc", "pid", "head_number", "head_hash", "peers", "signers",
                                 "sealed_recent", "head_sealer", "head_in_turn", "sealing",
                                 "syncing"}  # fmt: skip
            assert node["pid"] and node["peers"] == 1 and len(node["signers"]) == 2
            assert node["sealing"] is True and node["syncing"] is False
            assert node["head_number"] == 0 or node["head_sealer"] in {"EP", "GB"}
        assert nodes["EP"]["rpc"] == f"http://127.0.0.1:{base}"
        text = ipreg("status", "--data-dir", str(folder)).stdout
        assert text.count("  sealing  ") == 2 and " sealed by " in text, text
        assert (folder / "deployer.json").stat().st_mode & 0o077 == 0
    finally:
        down = ipreg("down", "--data-dir", str(folder))
    assert down.returncode == 0, down.stderr
    after = json.loads(ipreg("status", "--data-dir", str(folder), "--json").stdout)
    assert all(node["pid"] is None and node["error"] for node in after["nodes"])


def test_a_taken_port_is_named_and_no_network_is_made(tmp_path: Path) -> None:
    base = free_validator_base(2)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", base + 100))  # the first validator's p2p port
        taken.listen()
        up = ipreg("up", "--offices", "EP,GB", "--data-dir", str(tmp_path / "n"), "--chain-port", str(base))
    assert up.returncode == 1
    assert f"port {base + 100} on 127.0.0.1 is already in use" in up.stderr
    assert not (tmp_path / "n").exists()


def test_a_missing_geth_says_how_to_get_it(tmp_path: Path) -> None:
    up = ipreg(
        "up", "--offices", "EP", "--data-dir", str(tmp_path / "n"), IPREG_GETH=str(tmp_path / "no-geth")
    )
    assert up.returncode == 1
    assert "geth not found" in up.stderr and "make setup" in up.stderr


def test_a_bad_office_code_is_refused_naming_the_option(tmp_path: Path) -> None:
    up = ipreg("up", "--offices", "EP,gb", "--data-dir", str(tmp_path / "n"))
    assert up.returncode == 1 and "--offices" in up.stderr and "'gb'" in up.stderr
