"""A deployment record: where the consortium's contract lives, written by `ipreg chain deploy` and
`ipreg demo` and read by every office node and the gateway to find it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils.address import is_address, to_checksum_address

from registry_node.protocol.contract import REGISTRY_CONTRACT
from registry_node.protocol.errors import ConfigError


@dataclass(frozen=True)
class Deployment:
    """The contract's chain and address, the founding offices' accounts, and the deployment's block: where a
    gateway starts indexing (a record written by hand may leave the block out)."""

    chain_id: int
    address: str
    offices: dict[str, str] = field(default_factory=dict)  # ST.3 code -> transaction account
    block_number: int | None = None
    block_hash: str | None = None
    tx_hash: str | None = None
    contract: str = REGISTRY_CONTRACT

    def to_json(self) -> dict[str, Any]:
        return {
            "chainId": self.chain_id,
            "contracts": {self.contract: self.address},
            "deployment": {
                "blockNumber": self.block_number,
                "blockHash": self.block_hash,
                "txHash": self.tx_hash,
            },
            "offices": self.offices,
        }


def read_deployment(path: Path) -> Deployment:
    """Reads a deployment.json; every bad value is a ConfigError naming it."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except OSError as err:
        raise ConfigError("deployment", f"cannot read {path}: {err.strerror}") from None
    except ValueError:
        raise ConfigError("deployment", f"{path} is not JSON") from None
    if not isinstance(data, dict):
        raise ConfigError("deployment", f"{path} must hold a JSON object")
    chain_id = data.get("chainId")
    if not isinstance(chain_id, int) or isinstance(chain_id, bool) or chain_id < 1:
        raise ConfigError("deployment.chainId", f"must be a positive integer, got {chain_id!r}")
    address = (data.get("contracts") or {}).get(REGISTRY_CONTRACT)
    if not isinstance(address, str) or not is_address(address):
        raise ConfigError(f"deployment.contracts.{REGISTRY_CONTRACT}", f"not an address: {address!r}")
    offices = data.get("offices") or {}
    if not isinstance(offices, dict):
        raise ConfigError("deployment.offices", "must map office codes to accounts")
    nested = data.get("deployment")  # deploy_consortium writes {"deployment": {"blockNumber": …}}
    block = data.get("blockNumber", nested.get("blockNumber") if isinstance(nested, dict) else None)
    if block is not None and (not isinstance(block, int) or isinstance(block, bool) or block < 0):
        raise ConfigError("deployment.blockNumber", f"must be a block number, got {block!r}")
    offices_ = {str(k): str(v) for k, v in offices.items()}
    return Deployment(chain_id, to_checksum_address(address), offices_, block)
