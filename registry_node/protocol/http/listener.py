"""The listening socket both servers (an office node's API and the gateway) are served on.

It is bound before anything else starts, so a taken port is a clear error at once. It is created as a TCP
socket in name (`proto=IPPROTO_TCP`), not with the default protocol 0: asyncio sets `TCP_NODELAY` on an
accepted connection only when the socket says it is TCP, and the accepted sockets inherit the listener's
`proto`. Without it, a response that leaves in two writes (uvicorn writes the head, then the body) waits for
the client's delayed acknowledgement: a constant 40 ms on every request of a kept-alive connection.
"""

from __future__ import annotations

import errno
import socket

from registry_node.protocol.errors import RegistryError


class ListenerError(RegistryError):
    """The API cannot listen where it was told to; the message says where that is set."""


def bind_listener(host: str, port: int, hint: str, reuse_port: bool = False) -> socket.socket:
    """A TCP socket bound to `host`:`port` (IPv6 when `host` has a colon), ready for uvicorn's `sockets=`;
    `hint` says where the port is set, for the error when it is taken. `reuse_port`: SO_REUSEPORT, so that
    several processes of this user each listen on a socket of their own on the port, and the kernel spreads
    new connections over them."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            raise ListenerError(
                f"port {port} on {host} is already in use: stop what listens there or choose another "
                f"port ({hint})"
            ) from None
        raise ListenerError(f"cannot listen on {host}:{port}: {err.strerror}") from None
    return sock
