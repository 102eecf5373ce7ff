"""The listening socket both servers are served on: every accepted connection answers without Nagle's delay,
over IPv4 and IPv6, and a taken port is named with where it is set."""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from fastapi import FastAPI

from registry_node.devnet.ganache import free_port
from registry_node.protocol.http.listener import ListenerError, bind_listener

STARTUP_TIMEOUT_S = 60.0


def small_app() -> FastAPI:
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {"answer": "pong"}

    return app


@contextmanager
def serving(host: str) -> Iterator[tuple[uvicorn.Server, int]]:
    """uvicorn on a `bind_listener` socket, as `ipreg node run` and `ipreg gateway run` serve."""
    port = free_port()
    listener = bind_listener(host, port, "the test's port")
    server = uvicorn.Server(uvicorn.Config(small_app(), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        for _ in range(int(STARTUP_TIMEOUT_S * 20)):
            if server.started or not thread.is_alive():
                break
            threading.Event().wait(0.05)
        assert server.started, "uvicorn did not start"
        yield server, port
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


def accepted_sockets(server: uvicorn.Server) -> list[socket.socket]:
    return [
        connection.transport.get_extra_info("socket")  # type: ignore[union-attr]
        for connection in server.server_state.connections
    ]


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_a_kept_alive_connection_is_served_with_tcp_nodelay(host: str) -> None:
    with serving(host) as (server, port):
        client = http.client.HTTPConnection(host, port, timeout=30)
        try:
            for _ in range(3):  # one connection, kept alive across the requests
                client.request("GET", "/ping")
                answer = client.getresponse()
                assert answer.status == 200 and answer.read() == b'{"answer":"pong"}'
                assert answer.getheader("connection") != "close"
            served = accepted_sockets(server)
            assert len(served) == 1
            assert served[0].family == (socket.AF_INET6 if ":" in host else socket.AF_INET)
            assert served[0].getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        finally:
            client.close()


def test_a_taken_port_is_named_with_where_it_is_set() -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        with pytest.raises(ListenerError) as caught:
            bind_listener("127.0.0.1", port, "listen_port in gateway.toml")
    assert str(caught.value) == (
        f"port {port} on 127.0.0.1 is already in use: stop what listens there or choose another port "
        "(listen_port in gateway.toml)"
    )
