"""read_deployment takes the deployment block from the file deploy_consortium writes, so `ipreg gateway
init --deployment` starts indexing (and reading state) at the registry's first block."""

from __future__ import annotations

import json
from pathlib import Path

from registry_node.protocol.deployment import read_deployment

ADDRESS = "0x5a011F9b1F934245DA3Cd88728f6859D91f48680"


def test_deployment_block_is_read_from_the_deployment_section(tmp_path: Path) -> None:
    path = tmp_path / "deployment.json"
    path.write_text(json.dumps({
        "chainId": 1337,
        "contracts": {"SharedIPRegistry": ADDRESS},
        "deployment": {"blockNumber": 4, "blockHash": "0x" + "00" * 32, "txHash": "0x" + "11" * 32},
        "offices": {},
    }))  # fmt: skip
    assert read_deployment(path).block_number == 4


def test_a_top_level_block_number_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "deployment.json"
    path.write_text(
        json.dumps({"chainId": 1337, "contracts": {"SharedIPRegistry": ADDRESS}, "blockNumber": 7})
    )
    assert read_deployment(path).block_number == 7
