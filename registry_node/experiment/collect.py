"""Reading what a run left behind: the chain's blocks, receipts and events, the rights' on-chain state,
and the gateway's index, page by page. The checks and metrics work on what is read here."""

from __future__ import annotations

import contextlib
import time
from typing import Any
from urllib.parse import quote

import httpx
from web3 import Web3
from web3.contract import Contract

from registry_node.experiment.observations import ChainEvent, ChainFacts
from registry_node.protocol.chain import rpc_batch
from registry_node.protocol.contract import office_code

RIGHT_EVENTS = ("RightRegistered", "OwnershipChanged", "LegalStatusChanged", "RightPublished", "Designated")
BATCH = 100


def collect_chain_facts(
    w3: Web3, contract: Contract, first_block: int, state_bytes: int | None
) -> ChainFacts:
    """Every block after the deployment: hashes, sizes, gas used and limit, transactions, gas by
    transaction, log bytes, and the registry's events."""
    last = int(w3.eth.block_number)
    facts = ChainFacts(first_block=first_block, last_block=last, state_bytes=state_bytes)
    tx_hashes: list[str] = []
    numbers = list(range(first_block, last + 1))
    for start in range(0, len(numbers), BATCH):
        calls: list[tuple[str, list[Any]]] = [
            ("eth_getBlockByNumber", [hex(n), True]) for n in numbers[start : start + BATCH]
        ]
        for answer in rpc_batch(w3, calls):
            block = answer.result or {}
            facts.block_bytes += int(block.get("size", "0x0"), 16)
            if "hash" in block:
                facts.block_hashes[int(block["number"], 16)] = str(block["hash"]).lower()
                facts.gas_used += int(block.get("gasUsed", "0x0"), 16)
                facts.gas_limit = int(block.get("gasLimit", "0x0"), 16)
            for tx in block.get("transactions", []):
                tx_hash = str(tx["hash"]).lower()
                tx_hashes.append(tx_hash)
                facts.bytes_by_tx[tx_hash] = (len(tx.get("input", "0x")) - 2) // 2
    facts.transactions = len(tx_hashes)
    for start in range(0, len(tx_hashes), BATCH):
        calls = [("eth_getTransactionReceipt", [h]) for h in tx_hashes[start : start + BATCH]]
        for tx_hash, answer in zip(tx_hashes[start : start + BATCH], rpc_batch(w3, calls), strict=True):
            receipt = answer.result or {}
            facts.gas_by_tx[tx_hash.lower()] = int(receipt.get("gasUsed", "0x0"), 16)
            if receipt.get("blockNumber"):
                facts.block_by_tx[tx_hash.lower()] = int(receipt["blockNumber"], 16)
            for log in receipt.get("logs", []):
                size = (len(log.get("data", "0x")) - 2) // 2 + 32 * len(log.get("topics", []))
                facts.log_bytes += size
                facts.bytes_by_tx[tx_hash.lower()] = facts.bytes_by_tx.get(tx_hash.lower(), 0) + size
    for name in (*RIGHT_EVENTS, "RootAnchored"):
        for log in contract.events[name]().get_logs(from_block=first_block, to_block=last):
            args = log["args"]
            if name == "RootAnchored":
                key, version, record_hash = args["root"], int(args["count"]), b""
            elif name == "RightRegistered":
                key, version, record_hash = args["rightId"], 1, args["state"]["recordHash"]
            else:
                key, version, record_hash = args["rightId"], int(args["version"]), args["recordHash"]
            facts.events.append(
                ChainEvent(
                    name,
                    "0x" + bytes(key).hex(),
                    version,
                    "0x" + bytes(record_hash).hex() if record_hash else "",
                    int(log["blockNumber"]),
                    log["transactionHash"].to_0x_hex().lower(),
                    int(log["logIndex"]),
                )
            )
    facts.events.sort(key=lambda e: (e.block_number, e.log_index))
    return facts


def read_chain_rights(contract: Contract, keys: list[str]) -> dict[str, dict[str, Any]]:
    """rightOf for each chain right id: {version, office, kind, confidential, stateDigest}."""
    rights = {}
    for key in keys:
        version, office, kind, confidential, digest = contract.functions.rightOf(
            bytes.fromhex(key[2:])
        ).call()
        rights[key] = {
            "version": int(version),
            "office": office_code(office),
            "kind": int(kind),
            "confidential": bool(confidential),
            "stateDigest": "0x" + bytes(digest).hex(),
        }
    return rights


def wait_gateway_caught_up(gateway_url: str, block: int, timeout_s: float) -> dict[str, Any]:
    """Waits until the gateway has indexed `block`; returns its last /v1/status answer."""
    deadline = time.monotonic() + timeout_s
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, ValueError):
            status = httpx.get(f"{gateway_url}/v1/status", timeout=5).json()
            if int(status.get("indexedBlock") or 0) >= block:
                return status
        time.sleep(0.3)
    return status


def read_gateway_index(gateway_url: str, page_size: int = 100) -> tuple[int, list[dict[str, Any]]]:
    """Every right the gateway lists (GET /v1/rights, following `next`), and the count it announced."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    count = 0
    with httpx.Client(base_url=gateway_url, timeout=30) as http:
        while True:
            params: dict[str, Any] = {"limit": page_size}
            if cursor:
                params["cursor"] = cursor
            answer = http.get("/v1/rights", params=params)
            answer.raise_for_status()
            page = answer.json()
            count = int(page["count"])
            items += page["items"]
            cursor = page.get("next")
            if not cursor:
                return count, items


def verify_on_gateway(http: httpx.Client, right_id: str) -> tuple[int, str | None]:
    """GET /v1/rights/{id}/verification: the HTTP status and the verdict."""
    answer = http.get(f"/v1/rights/{quote(right_id, safe=':')}/verification")
    verdict = None
    with contextlib.suppress(ValueError):
        body = answer.json()
        if isinstance(body, dict):
            verdict = body.get("verdict")
    return answer.status_code, verdict if isinstance(verdict, str) else None
