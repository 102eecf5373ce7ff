"""`ipreg`: the command line of the Shared IP Registry."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer
from eth_account import Account
from eth_account.signers.local import LocalAccount

from registry_node.artifacts import load_artifact
from registry_node.chain import Transactor, connect
from registry_node.consortium import ConsortiumConfig, FoundingOffice, deploy_consortium, load_consortium
from registry_node.devchain import Ganache
from registry_node.errors import RegistryError

app = typer.Typer(help="Shared IP Registry: offices, chain and auditors' tools.", no_args_is_help=True)
chain_app = typer.Typer(help="Deploy and run the consortium's contracts.", no_args_is_help=True)
app.add_typer(chain_app, name="chain")

DEMO_OFFICES = [
    ("EP", "European Patent Office", 8101),
    ("GB", "UK Intellectual Property Office", 8102),
    ("KR", "Korean Intellectual Property Office", 8103),
]


def _fail(err: Exception) -> typer.Exit:
    typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _read_password(env_var: str, password_file: Path | None, prompt: str) -> str:
    """A password from a file, an environment variable or a prompt; never from the command line."""
    if password_file is not None:
        return password_file.read_text("utf-8").rstrip("\n")
    if env_var in os.environ:
        return os.environ[env_var]
    return str(typer.prompt(prompt, hide_input=True))


@chain_app.command("deploy")
def chain_deploy(
    consortium: Annotated[
        Path, typer.Option(help="Consortium file (TOML): founding offices and governance.")
    ],
    keystore: Annotated[Path, typer.Option(help="Encrypted keystore (JSON) of the deploying account.")],
    rpc: Annotated[str, typer.Option(help="JSON-RPC URL of a chain node.")] = "http://127.0.0.1:8545",
    password_file: Annotated[
        Path | None, typer.Option(help="File holding the keystore password (else $IPREG_DEPLOYER_PASSWORD).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Where to write the deployment record (JSON).")] = Path(
        "deployment.json"
    ),
) -> None:
    """Deploy the registry with the consortium's founding offices to any JSON-RPC chain."""
    try:
        if not out.parent.is_dir():
            raise RegistryError(f"--out: folder {out.parent} does not exist (the record must not be lost)")
        config = load_consortium(consortium)
        password = _read_password("IPREG_DEPLOYER_PASSWORD", password_file, "Keystore password")
        try:
            key = Account.decrypt(json.loads(keystore.read_text("utf-8")), password)
        except (OSError, ValueError) as err:
            raise RegistryError(f"keystore {keystore}: cannot decrypt ({type(err).__name__})") from None
        w3 = connect(rpc)
        transactor = Transactor(w3, Account.from_key(key), load_artifact().abi)
        deployment = deploy_consortium(transactor, config)
    except RegistryError as err:
        raise _fail(err) from None
    typer.echo(f"SharedIPRegistry deployed at {deployment.address} on chain {deployment.chain_id}")
    out.write_text(json.dumps(deployment.to_json(), indent=2) + "\n", "utf-8")
    typer.echo(f"deployment record written to {out}")


@app.command()
def demo(
    data_dir: Annotated[Path, typer.Option(help="Where the demo keeps its chain and records.")] = Path(
        ".demo"
    ),
    chain_port: Annotated[int, typer.Option(help="Port of the local chain's JSON-RPC.")] = 8545,
) -> None:
    """Start a fresh local chain, deploy the registry with three founding offices, and keep it running."""
    chain_dir = data_dir / "chain"
    if chain_dir.exists():
        shutil.rmtree(chain_dir)
    deployer: LocalAccount = Account.create()
    office_accounts: dict[str, LocalAccount] = {code: Account.create() for code, _, _ in DEMO_OFFICES}
    config = ConsortiumConfig(
        [
            FoundingOffice(code, name, office_accounts[code].address, f"http://127.0.0.1:{port}")
            for code, name, port in DEMO_OFFICES
        ]
    )
    keys = ["0x" + account.key.hex() for account in [deployer, *office_accounts.values()]]
    chain = Ganache(data_dir=chain_dir, port=chain_port, funded_accounts=keys)
    try:
        chain.start()
    except RegistryError as err:
        raise _fail(err) from None
    try:
        typer.echo(f"local chain (ganache) running at {chain.rpc_url}, data in {chain_dir}")
        transactor = Transactor(connect(chain.rpc_url), deployer, load_artifact().abi)
        deployment = deploy_consortium(transactor, config)
        (data_dir / "deployment.json").write_text(json.dumps(deployment.to_json(), indent=2) + "\n", "utf-8")
        typer.echo(
            f"SharedIPRegistry deployed at {deployment.address} (chain id {deployment.chain_id}, "
            f"block {deployment.block_number})"
        )
        typer.echo("founding offices:")
        for office in config.offices:
            typer.echo(f"  {office.code}  {office.account}  {office.name}  {office.endpoint}")
        typer.echo(f"deployment record: {data_dir / 'deployment.json'}")
        stop = _interrupt_event()
        typer.echo("Press Ctrl-C to stop the chain.")
        stop.wait()
    except RegistryError as err:
        raise _fail(err) from None
    finally:
        chain.stop()
        typer.echo("chain stopped")


def _interrupt_event() -> threading.Event:
    """An event set by Ctrl-C or SIGTERM; installed before the prompt says Ctrl-C works."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop
