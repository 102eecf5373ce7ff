"""`ipreg`: the command line of the Shared IP Registry, composed from each part's own subcommands.

The chain, key and server stacks are imported inside the commands that use them, so that the commands
scripts call often (`ipreg node register`, `outbox`, ...) start in a fraction of a second.
"""

from __future__ import annotations

import typer

from gateway.cli import gateway_app
from gateway.cli import verify as verify_receipt
from registry_node.devnet.cli import demo, network_app
from registry_node.experiment.cli import experiment_app
from registry_node.node.cli import chain_app, node_app

app = typer.Typer(help="Shared IP Registry: offices, chain and auditors' tools.", no_args_is_help=True)
app.add_typer(chain_app, name="chain")
app.add_typer(network_app, name="network")
app.add_typer(node_app, name="node")
app.add_typer(gateway_app, name="gateway")
app.command("verify")(verify_receipt)
app.add_typer(experiment_app, name="experiment")
app.command()(demo)
