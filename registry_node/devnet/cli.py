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
    chain: Annotated[
        str,
        typer.Option(
            help="geth: a Clique network, one validator per office; ganache: one single-process chain."
        ),
    ] = "geth",
    chain_port: Annotated[
        int,
        typer.Option(
            help="The chain's JSON-RPC port: on geth, the first validator's; the other validators' RPC "
            "ports follow it (+1, +2), their p2p ports are 100 above and their authrpc ports 200 above."
        ),
    ] = 8545,
    gateway_port: Annotated[int, typer.Option(help="Port of the gateway and its auditor page.")] = 8000,
    node_ports: Annotated[
        str, typer.Option(help="Ports of the EP, GB, KR and WO office nodes, comma-separated.")
    ] = "8101,8102,8103,8104",
    reset: Annotated[bool, typer.Option(help="Delete the demo folder and start a fresh consortium.")] = False,
    hsm: Annotated[
        bool,
        typer.Option(help="A new demo keeps each office's signing key and account in a SoftHSM2 token."),
    ] = False,
) -> None:
    """A whole consortium on this machine: a validator per office (or one ganache), four office nodes (EP,
    GB, KR and WIPO's International Bureau, WO) and the gateway, seeded once with a realistic history; run
    again, it resumes with its state intact. Ctrl-C stops everything."""
    from registry_node.devnet.demo import GANACHE, GETH, OFFICES, Demo, DemoPorts

    if chain not in (GETH, GANACHE):
        raise fail(ConfigError("--chain", f"must be {GETH} or {GANACHE}, got {chain!r}"))
    try:
        ports = [int(p) for p in node_ports.split(",")]
    except ValueError:
        raise fail(
            ConfigError("--node-ports", f"must be {len(OFFICES)} ports, comma-separated, got {node_ports!r}")
        ) from None
    if len(ports) != len(OFFICES):
        named = ", ".join(OFFICES)
        raise fail(ConfigError("--node-ports", f"must be {len(OFFICES)} ports ({named}), got {len(ports)}"))
    stop = interrupt_event()
    try:
        Demo(
            data_dir,
            DemoPorts(chain_port, gateway_port, tuple(ports), chain),
            typer.echo,
            hsm=hsm,
        ).run(stop, reset=reset)
    except RegistryError as err:
        raise fail(err) from None


# ------------------------------------------------------------ ipreg network: the offices' validators

network_app = typer.Typer(
    help="A Clique proof-of-authority network of go-ethereum validators, one per office.",
    no_args_is_help=True,
)
NetworkDirOption = Annotated[Path, typer.Option("--data-dir", help="The network's folder.")]
NETWORK_PASSWORD_ENV = "IPREG_NETWORK_PASSWORD"


@network_app.command("up")
def network_up(
    offices: Annotated[
        str | None, typer.Option(help="The offices whose validators found the network, e.g. EP,GB,KR.")
    ] = None,
    period: Annotated[int, typer.Option(help="Seconds between blocks (Clique's period).")] = 1,
    data_dir: NetworkDirOption = Path(".network"),
    isolate: Annotated[
        bool,
        typer.Option(
            help="Each validator in a network namespace of its own (needs root), so it can be cut off."
        ),
    ] = False,
    chain_port: Annotated[
        int | None,
        typer.Option(
            help="The first validator's RPC port; the others' RPC, p2p and authrpc ports follow from it."
        ),
    ] = None,
    chain_id: Annotated[int, typer.Option(help="The chain id (and network id).")] = 1515,
    gas_limit: Annotated[int, typer.Option(help="Block gas limit.")] = 100_000_000,
    fund: Annotated[
        list[str] | None,
        typer.Option(help="An account the genesis funds (repeat it), e.g. each office's account."),
    ] = None,
    password_file: Annotated[
        Path | None,
        typer.Option(help=f"File holding the keys' password (else ${NETWORK_PASSWORD_ENV}, else a prompt)."),
    ] = None,
) -> None:
    """Start one geth validator per office (a fresh network, or the one in --data-dir again), each with its
    own encrypted sealing key, folder and ports, peered statically; prints each validator's RPC."""
    from eth_utils.address import is_address

    from registry_node.devnet.network import GethNetwork
    from registry_node.node.cli import read_password

    try:
        if GethNetwork.exists(data_dir):
            password = read_password(NETWORK_PASSWORD_ENV, password_file, "Network password")
            network = GethNetwork.load(data_dir, password, detached=True)
            if offices and offices.split(",") != list(network.specs):
                raise ConfigError("--offices", f"{data_dir} holds the network of {','.join(network.specs)}")
            network.resume()
        else:
            if not offices:
                raise ConfigError("--offices", "name the founding offices, e.g. --offices EP,GB,KR")
            for account in fund or []:
                if not is_address(account):
                    raise ConfigError("--fund", f"not an Ethereum address: {account!r}")
            password = read_password(
                NETWORK_PASSWORD_ENV, password_file, "New network password", confirm=True
            )
            network = GethNetwork(
                data_dir,
                [code.strip() for code in offices.split(",")],
                password=password,
                period_s=period,
                first_rpc_port=chain_port or 8545,
                isolate=isolate,
                chain_id=chain_id,
                gas_limit=gas_limit,
                detached=True,  # the validators run on after this command
            )
            network.start(funded=fund or [])
    except RegistryError as err:
        raise fail(err) from None
    for code, url in network.rpc_urls.items():
        typer.echo(f"{code}  validator {network.specs[code].address}  JSON-RPC {url}")
    typer.echo(
        f"chain {network.chain_id}, a block every {network.period_s} s; deployer {network.deployer.address} "
        f"(keystore {data_dir / 'deployer.json'}). Stop it with `ipreg network down --data-dir {data_dir}`."
    )


@network_app.command("down")
def network_down(data_dir: NetworkDirOption = Path(".network")) -> None:
    """Stop every validator of the network (their chain data stays; `up` starts them again)."""
    from registry_node.devnet.network import GethNetwork

    try:
        GethNetwork.load(data_dir, None).stop()
    except RegistryError as err:
        raise fail(err) from None
    typer.echo(f"network in {data_dir} stopped")


@network_app.command("status")
def network_status(
    data_dir: NetworkDirOption = Path(".network"),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Each validator's head and who sealed it, its peers, whether it seals or syncs, its signers and how
    many of the last 64 blocks it sealed."""
    import json

    from registry_node.devnet.network import GethNetwork
    from registry_node.devnet.network import network_status as statuses

    try:
        nodes = statuses(GethNetwork.load(data_dir, None))
    except RegistryError as err:
        raise fail(err) from None
    if as_json:
        typer.echo(json.dumps({"nodes": [n.to_json() for n in nodes]}, indent=2))
        return
    for n in nodes:
        typer.echo(n.describe())


@network_app.command("anchor")
def network_anchor(
    rpc: Annotated[str, typer.Option(help="Your office's own validator (or any chain node you trust).")] = (
        "http://127.0.0.1:8545"
    ),
    deployment: Annotated[
        Path, typer.Option(help="The deployment record (deployment.json) naming the registry's contract.")
    ] = Path(".demo/deployment.json"),
    out: Annotated[Path, typer.Option(help="Where to write the anchor.")] = Path("anchor.json"),
) -> None:
    """Write the consortium's trust anchor (ipreg/consortium-anchor/1) from the chain: chain id, genesis
    hash, the registry's contract, and each office's validators with the blocks they could seal. Auditors
    check receipts against it (`ipreg verify RECEIPT --anchor anchor.json`)."""
    import json

    from registry_node.protocol.chain import connect
    from registry_node.protocol.consensus.signers import ValidatorHistory
    from registry_node.protocol.deployment import read_deployment

    try:
        record = read_deployment(deployment)
        w3 = connect(rpc)
        if int(w3.eth.chain_id) != record.chain_id:
            raise ConfigError(
                "--rpc", f"the node's chain id is {w3.eth.chain_id}, the deployment's {record.chain_id}"
            )
        anchor = ValidatorHistory(w3, record.address).anchor()
    except RegistryError as err:
        raise fail(err) from None
    out.write_text(json.dumps(anchor.to_json(), indent=2) + "\n", "utf-8")
    offices = ", ".join(sorted({t.office or "?" for t in anchor.validators})) or "no office"
    typer.echo(
        f"anchor of chain {anchor.chain_id} ({anchor.engine}, genesis 0x{anchor.genesis_hash.hex()[:12]}…) "
        f"as of block {anchor.as_of_block}: {len(anchor.validators)} validator term(s) of {offices} -> {out}"
    )


@network_app.command("besu-profile")
def network_besu_profile(
    consortium: Annotated[
        Path,
        typer.Option(
            help="The consortium file: founding offices, and optionally each one's Besu host or enode."
        ),
    ],
    out: Annotated[Path, typer.Option(help="A new or empty folder for the profile.")],
    chain_id: Annotated[int, typer.Option(help="The chain id.")] = 1515,
    period: Annotated[int, typer.Option(help="Seconds between blocks (QBFT's blockperiodseconds).")] = 2,
    request_timeout: Annotated[
        int, typer.Option(help="Seconds before an uncommitted round changes (requesttimeoutseconds).")
    ] = 10,
    gas_limit: Annotated[int, typer.Option(help="Block gas limit.")] = 100_000_000,
    base_port: Annotated[
        int, typer.Option(help="Node i's JSON-RPC port is base+i and its p2p port base+100+i.")
    ] = 8545,
    deployer: Annotated[
        str | None, typer.Option(help="The account that deploys the contracts: allowlisted and funded.")
    ] = None,
) -> None:
    """Write what the consortium deploys to run on Hyperledger Besu with QBFT, one node per office: genesis,
    permissions, static nodes, each node's config and key, and a README. Generated, not run here."""
    from registry_node.devnet.besu_profile import BesuSettings, write_profile

    try:
        settings = BesuSettings(chain_id, period, request_timeout, gas_limit, base_port, deployer)
        nodes = write_profile(consortium, out, settings)
    except RegistryError as err:
        raise fail(err) from None
    for node in nodes:
        typer.echo(f"{node.office}  validator {node.validator}  {node.enode}")
    typer.echo(f"Besu QBFT profile written to {out}; {out / 'README.txt'} says how to start each node.")
