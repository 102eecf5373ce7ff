"""`ipreg gateway …` (set up and run a gateway) and `ipreg verify` (re-check a receipt, offline or against a
chain node the auditor trusts)."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from registry_node.protocol.errors import ConfigError, RegistryError
from registry_node.protocol.http.server_gc import settle_startup_heap

if TYPE_CHECKING:
    from fastapi import FastAPI

    from gateway.settings import GatewaySettings
    from gateway.verify.signer import GatewaySigner

gateway_app = typer.Typer(
    help="Set up and run the gateway: indexer, query API, verification.", no_args_is_help=True
)

DataDirOption = Annotated[Path, typer.Option(help="The gateway's folder (gateway.toml, key, index).")]
PasswordFileOption = Annotated[
    Path | None,
    typer.Option(
        help="File holding the gateway key's password (else $IPREG_GATEWAY_PASSWORD, else a prompt)."
    ),
]


def _fail(err: Exception) -> typer.Exit:
    typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _password(password_file: Path | None, confirm: bool = False) -> str:
    from gateway.settings import PASSWORD_ENV

    if password_file is not None:
        try:
            return password_file.read_text("utf-8").rstrip("\n")
        except OSError as err:
            raise ConfigError("--password-file", f"cannot read {password_file}: {err.strerror}") from None
    import os

    value = os.environ.get(PASSWORD_ENV)
    if value:
        return value
    return str(typer.prompt("Gateway key password", hide_input=True, confirmation_prompt=confirm))


@gateway_app.command("init")
def gateway_init(
    data_dir: DataDirOption,
    rpc: Annotated[str, typer.Option(help="JSON-RPC URL of a chain node.")] = "http://127.0.0.1:8545",
    rpc_fallback: Annotated[
        list[str] | None, typer.Option(help="Another chain node, used while --rpc is down (repeat it).")
    ] = None,
    deployment: Annotated[
        Path | None, typer.Option(help="The consortium's deployment.json (contract address and chain id).")
    ] = None,
    database_url: Annotated[
        str, typer.Option(help="SQLAlchemy URL of the read model (default: SQLite in the folder).")
    ] = "",
    listen_host: Annotated[str, typer.Option(help="Address the API listens on.")] = "127.0.0.1",
    listen_port: Annotated[int, typer.Option(help="Port the API listens on.")] = 8000,
    confirmations: Annotated[
        str,
        typer.Option(
            help='Index up to this many blocks behind the head, or "majority": the newest block that a '
            "majority of the validators have sealed or built on."
        ),
    ] = "majority",
    password_file: PasswordFileOption = None,
    allow_private_deep_links: Annotated[
        bool,
        typer.Option(
            "--allow-private-deep-links",
            help="Let deep-link fetches reach loopback and private addresses (deep_links_allow_private): "
            "only for a consortium on one machine or one private network.",
        ),
    ] = False,
) -> None:
    """Create a gateway: gateway.toml and the gateway's own signing key (encrypted), which signs verdicts."""
    from gateway.settings import GatewaySettings, settings_toml
    from gateway.verify.signer import GatewaySigner
    from registry_node.protocol.deployment import read_deployment

    try:
        found = read_deployment(deployment) if deployment else None
        settings = GatewaySettings(
            data_dir=data_dir.resolve(),
            rpc_url=rpc,
            rpc_urls=tuple(rpc_fallback or ()),
            contract_address=found.address if found else None,
            chain_id=found.chain_id if found else None,
            start_block=found.block_number if found and found.block_number else 0,
            database_url=database_url,
            listen_host=listen_host,
            listen_port=listen_port,
            confirmations=confirmations if confirmations == "majority" else _blocks(confirmations),
            deep_links_allow_private=allow_private_deep_links,
        )
        if settings.settings_path.exists():
            raise ConfigError(str(settings.settings_path), "a gateway already lives here")
        password = _password(password_file, confirm=True)
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        signer = GatewaySigner.open(settings.signing_key, password)
        settings.settings_path.write_text(settings_toml(settings), "utf-8")
    except RegistryError as err:
        raise _fail(err) from None
    typer.echo(f"gateway created in {settings.data_dir}")
    typer.echo(f"  signing key  ed25519, key id {signer.key.key_id.hex()}")
    typer.echo(f"  settings     {settings.settings_path}")


def _blocks(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ConfigError(
            "--confirmations", f'must be a number of blocks or "majority", got {value!r}'
        ) from None


@gateway_app.command("run")
def gateway_run(data_dir: DataDirOption, password_file: PasswordFileOption = None) -> None:
    """Run the whole gateway in one process: the indexer follows the chain, the API answers queries and
    verifications (the demo's way, and the embedded SQLite default's)."""
    run_gateway(data_dir, password_file)


@gateway_app.command("index")
def gateway_index(data_dir: DataDirOption) -> None:
    """Follow the chain into the read model, and nothing else: the one writer of a consortium gateway's
    database (a second one is refused). `ipreg gateway serve` answers from what it writes."""
    from gateway.app_factory import build_indexer
    from gateway.read_model.db import open_database
    from gateway.read_model.indexer_lock import sole_indexer

    _log_to_stderr()
    settings = _settings(data_dir)
    try:
        engine = open_database(settings.database_url)
        with sole_indexer(engine):
            indexer = build_indexer(settings, engine)
            stopping = threading.Event()
            _stop_on_signals(stopping.set)
            typer.echo(f"gateway indexer following {settings.rpc_url} into the read model; Ctrl-C to stop")
            indexer.run(stopping)
    except RegistryError as err:
        raise _fail(err) from None
    typer.echo("gateway indexer stopped")


@gateway_app.command("serve")
def gateway_serve(
    data_dir: DataDirOption,
    workers: Annotated[
        int,
        typer.Option(min=1, max=64, help="API worker processes, each listening on the port (SO_REUSEPORT)."),
    ] = 2,
    password_file: PasswordFileOption = None,
) -> None:
    """Answer queries and verifications with N stateless API worker processes on one port; the
    read model is written by `ipreg gateway index` (on PostgreSQL, any number of `serve` on any number of
    machines read one database)."""
    serve_gateway(data_dir, workers, password_file)


def serve_gateway(
    data_dir: Path,
    workers: int,
    password_file: Path | None = None,
    extend: Callable[[FastAPI], None] | None = None,
) -> None:
    """Serves the gateway of `data_dir` with `workers` API processes until SIGINT or SIGTERM. `extend` adds
    to each worker's app (the benchmark's bare endpoints)."""
    import os
    import shutil

    from gateway.workers import MULTIPROCESS_ENV

    _log_to_stderr()
    settings = _settings(data_dir)
    listener = _listen(settings, reuse_port=True)  # the port reserved: each worker listens on its own
    # Before prometheus-client is imported: every worker then writes its counts where a scrape finds them.
    metrics_dir = settings.data_dir / f"metrics-{os.getpid()}"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(mode=0o700, parents=True)
    already = "prometheus_client" in sys.modules  # then its value class ignores the folder: say so
    os.environ[MULTIPROCESS_ENV] = str(metrics_dir)
    from prometheus_client import multiprocess

    from gateway.app_factory import build_api
    from gateway.read_model.db import open_database
    from gateway.warm_up import warm_up
    from gateway.workers import WorkerPool

    try:
        if already:
            raise _fail(RuntimeError("prometheus_client was imported before its multiprocess folder was set"))
        try:
            signer = _signer(settings, password_file)  # once; every worker inherits it
            open_database(settings.database_url).dispose()  # migrated once here, no connection forked
        except RegistryError as err:
            raise _fail(err) from None
        typer.echo(
            f"gateway serving on {settings.local_url} with {workers} workers (auditor page at /, API at /v1, "
            "metrics at /metrics); Ctrl-C to stop"
        )

        def make_app() -> FastAPI:
            """A worker's app, warmed up: the worker listens only once this returns."""
            app = build_api(settings, signer)
            if extend is not None:
                extend(app)
            warm_up(app.state.services)
            settle_startup_heap()
            return app

        pool = WorkerPool(
            lambda: _listen(settings, reuse_port=True),
            workers,
            make_app,
            _serve,
            on_exit=multiprocess.mark_process_dead,
        )
        status = pool.run()
    finally:
        with contextlib.suppress(OSError):
            listener.close()
        shutil.rmtree(metrics_dir, ignore_errors=True)
    typer.echo("gateway stopped")
    if status:
        raise typer.Exit(code=status)


def _signer(settings: GatewaySettings, password_file: Path | None) -> GatewaySigner:
    """The gateway's signing key, its password from the settings, else `password_file`, else a prompt."""
    from gateway.verify.signer import GatewaySigner

    password = settings.signing_key_password() or _password(password_file)
    return GatewaySigner.open(settings.signing_key, password)


def _log_to_stderr() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _settings(data_dir: Path) -> GatewaySettings:
    from gateway.settings import SETTINGS_FILE, load_settings

    try:
        settings = load_settings(data_dir / SETTINGS_FILE)
        settings.require_contract()
    except RegistryError as err:
        raise _fail(err) from None
    return settings


def _listen(settings: GatewaySettings, reuse_port: bool = False) -> socket.socket:
    from registry_node.protocol.http.listener import bind_listener

    try:
        return bind_listener(
            settings.listen_host,
            settings.listen_port,
            "listen_port in gateway.toml, or IPREG_GATEWAY_LISTEN_PORT",
            reuse_port,
        )
    except RegistryError as err:
        raise _fail(err) from None


def _stop_on_signals(stop: Callable[[], None]) -> None:
    def handler(signum: int, frame: Any) -> None:
        stop()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, handler)


def _serve(app: FastAPI, listener: socket.socket) -> None:
    """Serves `app` on the bound `listener` until SIGINT or SIGTERM (uvicorn's own handlers)."""
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(app, log_level="info", server_header=False, timeout_graceful_shutdown=10)
    )
    server.run(sockets=[listener])


def run_gateway(
    data_dir: Path, password_file: Path | None = None, extend: Callable[[FastAPI], None] | None = None
) -> None:
    """Serves the gateway of `data_dir` (API and indexer in one process) until SIGINT or SIGTERM. `extend`
    adds to the app before it is served (the benchmark mounts its bare endpoints beside the real ones,
    behind the same middleware)."""
    import uvicorn

    from gateway.app_factory import build
    from gateway.read_model.db import open_database
    from gateway.read_model.indexer_lock import sole_indexer
    from gateway.warm_up import warm_up

    _log_to_stderr()
    settings = _settings(data_dir)
    listener = _listen(settings)
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(listener.close)
        try:
            signer = _signer(settings, password_file)
            engine = open_database(settings.database_url)
            cleanup.enter_context(sole_indexer(engine))
            app, indexer = build(settings, signer, engine)
            if extend is not None:
                extend(app)
        except RegistryError as err:
            raise _fail(err) from None
        server = uvicorn.Server(
            uvicorn.Config(app, log_level="info", server_header=False, timeout_graceful_shutdown=10)
        )
        stopping = threading.Event()

        def stop() -> None:
            server.should_exit = True
            stopping.set()

        _stop_on_signals(stop)
        thread = threading.Thread(target=indexer.run, args=(stopping,), name="indexer", daemon=True)
        thread.start()
        warm_up(app.state.services)  # requests wait in the listener's backlog meanwhile
        typer.echo(f"gateway serving on {settings.local_url} (auditor page at /, API at /v1); Ctrl-C to stop")
        settle_startup_heap()
        try:
            server.run(sockets=[listener])
        finally:
            stopping.set()
            thread.join(timeout=30)
    typer.echo("gateway stopped")


UNBOUND_EXIT = 3  # `ipreg verify`: consistent, but checked against no anchor and no node


def verify(
    receipt: Annotated[Path, typer.Argument(help="A receipt saved from GET /v1/rights/{id}/receipt.")],
    anchor: Annotated[
        Path | None,
        typer.Option(
            help="The consortium's trust anchor (ipreg/consortium-anchor/1), taken from the offices "
            "themselves: the receipt's seals must be its validators'."
        ),
    ] = None,
    rpc: Annotated[
        str | None, typer.Option(help="Also check against this chain node (one the auditor trusts).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print every check as JSON.")] = False,
) -> None:
    """Re-check a receipt with the judge of the gateway's verdicts: record hash, office signature, the
    office key and the right's state proven from the block's state root, the Merkle proof when anchored.
    With --anchor, the block's seals against the consortium's validators; with --rpc, against that node too,
    and whether the version still stands. Exits 0 when verified, 1 when rejected, 3 when the receipt is
    consistent but neither --anchor nor --rpc bound it to a consortium."""
    from gateway.verify.receipt_evidence import check_receipt
    from registry_node.protocol.consensus.anchor import AnchorFormatError, ConsortiumAnchor

    try:
        receipt_json = json.loads(receipt.read_text("utf-8"))
    except (OSError, ValueError) as err:
        raise _fail(ConfigError(str(receipt), f"cannot read the receipt: {err}")) from None
    trust = None
    if anchor is not None:
        try:
            trust = ConsortiumAnchor.from_json(json.loads(anchor.read_text("utf-8")))
        except (OSError, ValueError) as err:
            raise _fail(ConfigError("--anchor", f"cannot read {anchor}: {err}")) from None
        except AnchorFormatError as err:
            raise _fail(ConfigError("--anchor", str(err))) from None
    result = check_receipt(receipt_json, rpc, anchor=trust)
    typer.echo(json.dumps(result.to_json(), indent=2) if as_json else result.report())
    raise typer.Exit(code=0 if result.ok else UNBOUND_EXIT if result.consistent else 1)
