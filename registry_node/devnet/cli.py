"""`ipreg demo`: a whole consortium on this machine, for trying the registry out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from registry_node.node.cli import fail, interrupt_event
from registry_node.protocol.errors import ConfigError, RegistryError


def demo(
    data_dir: Annotated[Path, typer.Option(help="Where the demo keeps its chain, nodes and gateway.")] = Path(
        ".demo"
    ),
    chain_port: Annotated[int, typer.Option(help="Port of the local chain's JSON-RPC.")] = 8545,
    gateway_port: Annotated[int, typer.Option(help="Port of the gateway and its auditor page.")] = 8000,
    node_ports: Annotated[
        str, typer.Option(help="Ports of the EP, GB and KR office nodes, comma-separated.")
    ] = "8101,8102,8103",
    reset: Annotated[bool, typer.Option(help="Delete the demo folder and start a fresh consortium.")] = False,
) -> None:
    """A whole consortium on this machine: a chain, three office nodes and the gateway, seeded once with a
    realistic history; run again, it resumes with its state intact. Ctrl-C stops everything."""
    from registry_node.devnet.demo import Demo, DemoPorts

    try:
        ports = [int(p) for p in node_ports.split(",")]
    except ValueError:
        raise fail(
            ConfigError("--node-ports", f"must be three ports, comma-separated, got {node_ports!r}")
        ) from None
    if len(ports) != 3:
        raise fail(ConfigError("--node-ports", f"must be three ports (EP, GB, KR), got {len(ports)}"))
    stop = interrupt_event()
    try:
        Demo(data_dir, DemoPorts(chain_port, gateway_port, (ports[0], ports[1], ports[2])), typer.echo).run(
            stop, reset=reset
        )
    except RegistryError as err:
        raise fail(err) from None
