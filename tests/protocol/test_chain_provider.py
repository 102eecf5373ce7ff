"""The chain connection's provider, against a JSON-RPC server that counts what it is asked."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from registry_node.protocol.chain import web3_for

CHAIN_ID = 0x539
ADDRESS = "0x" + "11" * 20


class CountingNode(ThreadingHTTPServer):
    asked: Counter[str]


class Handler(BaseHTTPRequestHandler):
    server: CountingNode

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.asked[request["method"]] += 1
        results: dict[str, Any] = {"eth_chainId": hex(CHAIN_ID), "eth_call": "0x", "eth_blockNumber": "0x10"}
        answer = {"jsonrpc": "2.0", "id": request["id"], "result": results[request["method"]]}
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def node() -> Iterator[CountingNode]:
    server = CountingNode(("127.0.0.1", 0), Handler)
    server.asked = Counter()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_chain_id_is_asked_once_not_before_every_contract_read(node: CountingNode) -> None:
    w3 = web3_for(f"http://127.0.0.1:{node.server_address[1]}")
    for _ in range(5):
        w3.eth.call({"to": ADDRESS, "data": "0x"})  # type: ignore[typeddict-item]
    assert w3.eth.chain_id == CHAIN_ID
    assert node.asked["eth_call"] == 5
    assert node.asked["eth_chainId"] == 1  # web3 validates every eth_call against it: once, then remembered
