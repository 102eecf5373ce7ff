"""`ipreg node` and `ipreg chain`: an office's node and the consortium's contracts, from the command line.

The chain, key and server stacks are imported inside the commands that use them, so that the commands
scripts call often (`ipreg node register`, `outbox`, ...) start in a fraction of a second. One concern, the
operator's command line, in one module: the commands share their options and their error output.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from registry_node.node.client import TOKEN_ENV, NodeClient, ProblemError
from registry_node.node.settings import (
    DEFAULT_LISTEN_HOST,
    DEFAULT_LISTEN_PORT,
    DEFAULT_RPC_URL,
    PASSWORD_ENV,
    SETTINGS_FILE,
    NodeSettings,
    load_settings,
    token_digest,
)
from registry_node.node.store import OutboxState
from registry_node.protocol.errors import ConfigError, RegistryError

chain_app = typer.Typer(help="Deploy and run the consortium's contracts.", no_args_is_help=True)
node_app = typer.Typer(
    help="Set up and run an office's node; record changes through it.", no_args_is_help=True
)


def fail(err: Exception) -> typer.Exit:
    typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def read_password(env_var: str, password_file: Path | None, prompt: str, confirm: bool = False) -> str:
    """A password from a file, an environment variable or a prompt; never from the command line."""
    if password_file is not None:
        try:
            return password_file.read_text("utf-8").rstrip("\n")
        except OSError as err:
            raise RegistryError(f"--password-file {password_file}: cannot read: {err.strerror}") from None
    if env_var in os.environ:
        return os.environ[env_var]
    return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm))


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
    from eth_account import Account

    from registry_node.node.consortium import deploy_consortium, load_consortium
    from registry_node.node.transactor import Transactor
    from registry_node.protocol.chain import connect
    from registry_node.protocol.contract import load_artifact

    try:
        if not out.parent.is_dir():
            raise RegistryError(f"--out: folder {out.parent} does not exist (the record must not be lost)")
        config = load_consortium(consortium)
        password = read_password("IPREG_DEPLOYER_PASSWORD", password_file, "Keystore password")
        try:
            key = Account.decrypt(json.loads(keystore.read_text("utf-8")), password)
        except (OSError, ValueError) as err:
            raise RegistryError(f"keystore {keystore}: cannot decrypt ({type(err).__name__})") from None
        w3 = connect(rpc)
        transactor = Transactor(w3, Account.from_key(key), load_artifact().abi)
        deployment = deploy_consortium(transactor, config)
    except RegistryError as err:
        raise fail(err) from None
    typer.echo(f"SharedIPRegistry deployed at {deployment.address} on chain {deployment.chain_id}")
    out.write_text(json.dumps(deployment.to_json(), indent=2) + "\n", "utf-8")
    typer.echo(f"deployment record written to {out}")


def interrupt_event() -> threading.Event:
    """An event set by Ctrl-C or SIGTERM; installed before the prompt says Ctrl-C works."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop


# ------------------------------------------------------------ ipreg node: set-up and running

DataDirOption = Annotated[Path, typer.Option(help="The node's folder (node.toml, keys, store).")]
PasswordFileOption = Annotated[
    Path | None, typer.Option(help=f"File holding the node password (else ${PASSWORD_ENV}, else a prompt).")
]


class Algorithm(StrEnum):
    """`registry_node.protocol.keys.SigningAlgorithm`'s values, without importing the key stack to list
    them."""

    ED25519 = "ed25519"
    ECDSA_P256 = "ecdsa-p256"


# init's options, by the setting each one sets, so a bad value is reported under the option's name
INIT_OPTIONS = {
    "office_code": "--office",
    "office_name": "--name",
    "rpc_url": "--rpc",
    "listen_host": "--listen-host",
    "listen_port": "--listen-port",
    "public_url": "--public-url",
    "pkcs11_module": "--pkcs11-module",
    "signing_key": "--pkcs11",
    "account_keystore": "--pkcs11",
}


def _node_settings(data_dir: Path) -> NodeSettings:
    return load_settings(data_dir / SETTINGS_FILE)


@node_app.command("init")
def node_init(
    office: Annotated[str, typer.Option(help="The office's WIPO ST.3 code, e.g. EP.")],
    name: Annotated[str, typer.Option(help="The office's name.")],
    data_dir: DataDirOption,
    algorithm: Annotated[Algorithm, typer.Option(help="Document-signing key algorithm.")] = Algorithm.ED25519,
    rpc: Annotated[str, typer.Option(help="JSON-RPC URL of a chain node.")] = DEFAULT_RPC_URL,
    deployment: Annotated[
        Path | None, typer.Option(help="The consortium's deployment.json (contract address and chain id).")
    ] = None,
    listen_host: Annotated[str, typer.Option(help="Address the API listens on.")] = DEFAULT_LISTEN_HOST,
    listen_port: Annotated[int, typer.Option(help="Port the API listens on.")] = DEFAULT_LISTEN_PORT,
    public_url: Annotated[
        str | None, typer.Option(help="Base URL of the public deep links (default: the listen address).")
    ] = None,
    password_file: PasswordFileOption = None,
    pkcs11: Annotated[
        str | None,
        typer.Option(
            help="Make the keys in this PKCS#11 token (an RFC 7512 URI, e.g. 'pkcs11:token=EP'): objects "
            "'signing-key' and 'account'. The PIN: the URI's pin-source, else $IPREG_NODE_PKCS11_PIN, else "
            "the node password."
        ),
    ] = None,
    pkcs11_module: Annotated[
        str | None, typer.Option(help="The token's PKCS#11 library (e.g. /usr/lib/softhsm/libsofthsm2.so).")
    ] = None,
    account_in_keystore: Annotated[
        bool,
        typer.Option(help="With --pkcs11: keep the transaction account in a keystore file."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Create a node: its account and signing key (encrypted files, or in a PKCS#11 token), node.toml, and
    an operator token shown once."""
    from registry_node.node.service import check_new_node, init_node, new_operator_token
    from registry_node.protocol.deployment import read_deployment
    from registry_node.protocol.keys import SigningAlgorithm

    token = new_operator_token()
    try:
        found = read_deployment(deployment) if deployment else None
        key_locations = _token_key_locations(pkcs11, account_in_keystore)
        try:
            settings = NodeSettings(
                office_code=office,
                office_name=name,
                data_dir=data_dir.resolve(),
                operator_token_sha256=token_digest(token),
                rpc_url=rpc,
                contract_address=found.address if found else None,
                chain_id=found.chain_id if found else None,
                listen_host=listen_host,
                listen_port=listen_port,
                public_url=public_url or "",
                pkcs11_module=pkcs11_module or "",
                **key_locations,
            )
        except ConfigError as err:
            raise ConfigError(INIT_OPTIONS.get(err.field, err.field), err.reason) from None
        check_new_node(settings)
        password = read_password(PASSWORD_ENV, password_file, "New node password", confirm=True)
        node = init_node(settings, password, SigningAlgorithm(algorithm.value))
    except RegistryError as err:
        raise fail(err) from None
    listed = found.offices.get(settings.office_code) if found else None
    warning = None
    if listed is not None and listed.lower() != node.address.lower():
        warning = (
            f"the deployment lists {listed} as {settings.office_code}'s account, not this node's "
            f"{node.address}: the office must rotate its account to it before the node can write"
        )
    if as_json:
        result = {
            "office": settings.office_code,
            "dataDir": str(settings.data_dir),
            "settings": str(settings.settings_path),
            "account": node.address,
            "signingKey": {
                "keyId": node.signing_key.key_id.hex(),
                "algorithm": node.signing_key.algorithm.value,
            },
            "operatorToken": token,
            "warning": warning,
        }
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(f"node {settings.office_code} created in {settings.data_dir}")
    typer.echo(f"  transaction account  {node.address}")
    typer.echo(
        f"  signing key          {node.signing_key.algorithm.value}, key id {node.signing_key.key_id.hex()}"
    )
    typer.echo(f"  settings             {settings.settings_path}")
    if warning:
        typer.secho(f"warning: {warning}", fg=typer.colors.YELLOW, err=True)
    typer.echo("operator token (shown only now; the node keeps its SHA-256; give it to clients as "
               f"${TOKEN_ENV}):")  # fmt: skip
    typer.echo(f"  {token}")
    typer.echo("next: have the consortium list the account as the office's, set contract_address in "
               "node.toml, then `ipreg node register-keys` and `ipreg node run`.")  # fmt: skip


def _token_key_locations(uri: str | None, account_in_keystore: bool) -> dict[str, Any]:
    """node.toml's key locations for `--pkcs11 URI`: both keys in the token, or the account in a file."""
    if uri is None:
        if account_in_keystore:
            raise ConfigError("--account-in-keystore", "only means something with --pkcs11")
        return {}
    from registry_node.protocol.keys.pkcs11 import TokenUri

    body, separator, query = uri.partition("?")
    if "object=" not in body:
        body += ";object=signing-key"
    parsed = TokenUri.parse(body + separator + query, "--pkcs11")
    locations: dict[str, Any] = {"signing_key": parsed.with_object("signing-key")}
    if not account_in_keystore:
        locations["account_keystore"] = parsed.with_object("account")
    return locations


@node_app.command("register-keys")
def node_register_keys(data_dir: DataDirOption, password_file: PasswordFileOption = None) -> None:
    """Publish the node's document-signing key in OfficeRegistry, signed by the office's account."""
    from registry_node.node.service import load_keys, register_signing_key
    from registry_node.protocol.chain import connect

    try:
        settings = _node_settings(data_dir)
        settings.require_contract()
        keys = load_keys(settings, read_password(PASSWORD_ENV, password_file, "Node password"))
        registration = register_signing_key(settings, keys, connect(settings.chain_urls))
    except RegistryError as err:
        raise fail(err) from None
    key_id = registration.key_id.hex()
    if registration.already_registered:
        typer.echo(f"signing key {key_id} of {settings.office_code} is already registered")
    else:
        typer.echo(
            f"signing key {key_id} registered for {settings.office_code} in block {registration.block_number}"
        )


@node_app.command("set-validator")
def node_set_validator(
    address: Annotated[
        str, typer.Argument(help="The address the office's chain validator seals blocks with (0x...).")
    ],
    data_dir: DataDirOption,
    password_file: PasswordFileOption = None,
) -> None:
    """Name the office's chain validator in OfficeRegistry, signed by the office's account.

    The validator seals with a key of its own, with no funds and no rights: never the node's account."""
    from registry_node.node.service import load_keys, set_validator
    from registry_node.protocol.chain import connect

    try:
        settings = _node_settings(data_dir)
        settings.require_contract()
        keys = load_keys(settings, read_password(PASSWORD_ENV, password_file, "Node password"))
        registration = set_validator(settings, keys, connect(settings.rpc_url), address)
    except RegistryError as err:
        raise fail(err) from None
    if registration.already_set:
        typer.echo(f"{registration.validator} is already the validator of {settings.office_code}")
    else:
        typer.echo(
            f"{registration.validator} named the validator of {settings.office_code} "
            f"in block {registration.block_number}"
        )


@node_app.command("rotate-key")
def node_rotate_key(
    data_dir: DataDirOption,
    keep_previous: Annotated[
        bool, typer.Option(help="Leave the previous key valid (default: revoke it in the same step).")
    ] = False,
    password_file: PasswordFileOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Make a new signing key, publish it, revoke the previous one and point node.toml at the new key.

    Run it while the node is stopped. Records signed before the revocation stay verifiable."""
    from registry_node.node.key_rotation import rotate_signing_key
    from registry_node.protocol.chain import connect

    try:
        settings = _node_settings(data_dir)
        settings.require_contract()
        password = read_password(PASSWORD_ENV, password_file, "Node password")
        rotation = rotate_signing_key(
            settings, password, connect(settings.chain_urls), revoke_previous=not keep_previous
        )
    except RegistryError as err:
        raise fail(err) from None
    result = {
        "office": settings.office_code,
        "previousKeyId": rotation.previous_key_id.hex(),
        "keyId": rotation.key_id.hex(),
        "keyFile": str(rotation.key_file),
        "addedAtBlock": rotation.added_block,
        "previousRevokedAtBlock": rotation.revoked_block,
    }
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(
        f"signing key {result['keyId']} of {settings.office_code} published in block {rotation.added_block}"
    )
    if rotation.revoked_block is not None:
        typer.echo(f"previous key {result['previousKeyId']} revoked in block {rotation.revoked_block}")
    typer.echo(f"node.toml now names {rotation.key_file}; start the node again to sign with it")


@node_app.command("rekey")
def node_rekey(
    data_dir: DataDirOption,
    new_password_file: Annotated[
        Path | None, typer.Option(help="File holding a new password for both of the node's keys.")
    ] = None,
    change_password: Annotated[
        bool, typer.Option(help="Ask for a new password for both keys (unless --new-password-file gives it).")
    ] = False,
    password_file: PasswordFileOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Re-encrypt the node's signing key with scrypt (N=2^18, r=8, p=1), and both keys under a new password.

    The key stays the same: its id, its public key on chain and its signatures do not change. A key already on
    scrypt is left as it is unless the password changes."""
    from registry_node.node.rekey import rekey_node

    try:
        settings = _node_settings(data_dir)
        password = read_password(PASSWORD_ENV, password_file, "Node password")
        new_password = None
        if new_password_file is not None:
            try:
                new_password = new_password_file.read_text("utf-8").rstrip("\n")
            except OSError as err:
                raise RegistryError(
                    f"--new-password-file {new_password_file}: cannot read: {err.strerror}"
                ) from None
        elif change_password:
            new_password = str(typer.prompt("New node password", hide_input=True, confirmation_prompt=True))
        if new_password is not None and not new_password:
            raise RegistryError("the new password must not be empty")
        rekey = rekey_node(settings, password, new_password)
    except RegistryError as err:
        raise fail(err) from None
    if as_json:
        result = {
            "signingKey": rekey.signing_key.to_json(),
            "account": rekey.account.to_json() if rekey.account else None,
        }
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(rekey.signing_key.message())
    if rekey.account is not None:
        typer.echo(rekey.account.message())
    else:
        typer.echo(f"{settings.account_keystore}: the account is in a PKCS#11 token; nothing to re-encrypt")


@node_app.command("run")
def node_run(data_dir: DataDirOption, password_file: PasswordFileOption = None) -> None:
    """Run the node: its API and the outbox worker that takes accepted changes to the chain."""
    from registry_node.node.service import NodeService, load_keys
    from registry_node.protocol.http.listener import bind_listener

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = _node_settings(data_dir)
        settings.require_contract()
        listener = bind_listener(
            settings.listen_host, settings.listen_port, "listen_port in node.toml, or IPREG_NODE_LISTEN_PORT"
        )
    except RegistryError as err:
        raise fail(err) from None
    try:
        keys = load_keys(settings, read_password(PASSWORD_ENV, password_file, "Node password"))
        service = NodeService(settings, keys)
        warning = service.check_chain()
    except RegistryError as err:
        listener.close()
        raise fail(err) from None
    if warning:
        typer.secho(f"warning: {warning}", fg=typer.colors.YELLOW, err=True)
    typer.echo(
        f"node {settings.office_code} ({keys.account.address}) serving on {settings.local_url}; "
        f"deep links at {settings.public_url}/v1/documents/...; Ctrl-C to stop"
    )
    service.serve(listener)
    typer.echo("node stopped")


# ------------------------------------------------------------ ipreg node: the API from scripts

NodeOption = Annotated[
    str | None,
    typer.Option(
        "--node",
        envvar="IPREG_NODE_URL",
        help="The node's API (default: from --data-dir's node.toml, else http://127.0.0.1:8101).",
    ),
]
ClientDataDirOption = Annotated[Path | None, typer.Option(help="A node's folder, to find its API address.")]
RightIdArgument = Annotated[str, typer.Argument(help="The right, e.g. EP:PAT:EP20190012345.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the node's answer as JSON.")]
ExpectedVersionOption = Annotated[
    int, typer.Option(help="The right's current version, which this supersedes.")
]


def _client(node: str | None, data_dir: Path | None) -> NodeClient:
    if node is None:
        node = _node_settings(data_dir).local_url if data_dir else f"http://127.0.0.1:{DEFAULT_LISTEN_PORT}"
    return NodeClient(node, os.environ.get(TOKEN_ENV))


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except OSError as err:
        raise RegistryError(f"{path}: cannot read: {err.strerror}") from None
    except ValueError as err:
        raise RegistryError(f"{path}: not valid JSON: {err}") from None


def _refused(err: RegistryError, as_json: bool) -> NoReturn:
    """Prints why the node (or the client) refused, and exits 1."""
    if isinstance(err, ProblemError):
        if as_json:
            typer.echo(json.dumps(err.problem, indent=2))
        typer.secho(f"error: {err} (HTTP {err.status})", fg=typer.colors.RED, err=True)
        for field, reason in err.field_errors:
            typer.secho(f"  {field}: {reason}", err=True)
        raise typer.Exit(code=1)
    raise fail(err)


def _send_change(
    node: str | None, data_dir: Path | None, as_json: bool, call: Callable[[NodeClient], dict[str, Any]]
) -> None:
    """Sends one change to the running node and shows its acceptance, or the refusal (exit 1)."""
    try:
        with _client(node, data_dir) as client:
            answer = call(client)
    except RegistryError as err:
        _refused(err, as_json)
    _show_accepted(answer, as_json)


def _show_accepted(answer: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(answer, indent=2))
    else:
        typer.echo(
            f"accepted {answer['rightId']} version {answer['version']}: outbox entry {answer['outboxId']} "
            f"({answer['status']}), /v1/outbox/{answer['outboxId']}"
        )


@node_app.command("register")
def node_register(
    file: Annotated[Path, typer.Argument(help="The right (JSON, ST.96 names).")],
    confidential: Annotated[bool, typer.Option(help="Keep the record unpublished until `publish`.")] = False,
    node: NodeOption = None,
    data_dir: ClientDataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a right of the node's office."""
    _send_change(node, data_dir, as_json, lambda client: client.register(_read_json(file), confidential))


# `transfer` was this command's first name: scripts that use it keep working, the help shows one name.
@node_app.command("ownership-change")
@node_app.command("transfer", hidden=True)
def node_ownership_change(
    right_id: RightIdArgument,
    file: Annotated[Path, typer.Argument(help="The ownership change (JSON).")],
    expected_version: ExpectedVersionOption,
    node: NodeOption = None,
    data_dir: ClientDataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record an ownership change (assignment, licence, security interest, ...)."""
    _send_change(
        node,
        data_dir,
        as_json,
        lambda client: client.record_ownership_change(right_id, expected_version, _read_json(file)),
    )


@node_app.command("status")
def node_status(
    right_id: RightIdArgument,
    file: Annotated[Path, typer.Argument(help="The legal-status event (JSON).")],
    expected_version: ExpectedVersionOption,
    node: NodeOption = None,
    data_dir: ClientDataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a legal-status event."""
    _send_change(
        node,
        data_dir,
        as_json,
        lambda client: client.record_status(right_id, expected_version, _read_json(file)),
    )


@node_app.command("publish")
def node_publish(
    right_id: Annotated[str, typer.Argument(help="The confidential right to publish.")],
    expected_version: ExpectedVersionOption,
    node: NodeOption = None,
    data_dir: ClientDataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Publish a confidential right."""
    _send_change(node, data_dir, as_json, lambda client: client.publish(right_id, expected_version))


@node_app.command("designate")
def node_designate(
    right_id: Annotated[str, typer.Argument(help="The international registration (WO:TM:… or WO:DES:…).")],
    file: Annotated[
        Path,
        typer.Argument(
            help="The designation (JSON: designatedOfficeCode, designationCategory, designationDate)."
        ),
    ],
    expected_version: ExpectedVersionOption,
    node: NodeOption = None,
    data_dir: ClientDataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Designate an office on an international registration (the International Bureau's node only)."""
    _send_change(
        node, data_dir, as_json, lambda client: client.designate(right_id, expected_version, _read_json(file))
    )


@node_app.command("decide")
def node_decide(
    designation_id: Annotated[str, typer.Argument(help="The designation, e.g. WO:TM:1234567@GB.")],
    file: Annotated[
        Path,
        typer.Argument(
            help="The decision (JSON: decisionCategory, scopeCategory, "
            "classificationBag, decisionDate, standard, status, ...)."
        ),
    ],
    expected_version: Annotated[
        int, typer.Option(help="The designation's current version at this office: 0 for its first decision.")
    ],
    node: NodeOption = None,
    data_dir: ClientDataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record this office's decision on its designation by an international registration."""
    _send_change(
        node,
        data_dir,
        as_json,
        lambda client: client.record_decision(designation_id, expected_version, _read_json(file)),
    )


@node_app.command("import-transaction")
def node_import_transaction(
    file: Annotated[Path, typer.Argument(help="A WIPO ST.96 Madrid or Hague transaction (XML).")],
    node: NodeOption = None,
    data_dir: ClientDataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import a Madrid or Hague transaction: each item is recorded, or refused alone with the reason."""
    try:
        with _client(node, data_dir) as client:
            answer = client.import_transaction(str(file), file.read_bytes())
    except (RegistryError, OSError) as err:
        _refused(RegistryError(str(err)) if isinstance(err, OSError) else err, as_json)
    if as_json:
        typer.echo(json.dumps(answer, indent=2))
    else:
        typer.echo(f"{answer['name']}: {answer['root']} ({answer['standard']})")
        for item in answer["items"]:
            if item.get("alreadyRecorded"):
                typer.echo(f"  {item['index']}: {item['item']} {item['rightId']}: already recorded")
            elif item["accepted"]:
                versions = ", ".join(
                    f"version {c['version']} (outbox {c['outboxId']})" for c in item["changes"]
                )
                typer.echo(f"  {item['index']}: {item['item']} {item['rightId']}: accepted, {versions}")
            else:
                error = item["error"]
                typer.secho(
                    f"  {item['index']}: {item['item']} {item['rightId']}: refused: {error['field']}: "
                    f"{error['reason']}",
                    err=True,
                )
    if answer["refused"]:
        raise typer.Exit(code=1)


IMPORT_REQUEST_BYTES = 512 * 1024  # files per request stay well under the node's default body limit


@node_app.command("import")
def node_import(
    files: Annotated[list[Path], typer.Argument(help="WIPO ST.96 XML files (patents, trademarks, designs).")],
    anchor: Annotated[
        bool,
        typer.Option(
            "--anchor",
            help="Anchor the records under Merkle roots (one transaction per batch) instead of giving "
            "each right its own state on chain; a right gets it when first changed.",
        ),
    ] = False,
    node: NodeOption = None,
    data_dir: ClientDataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import ST.96 files: each registers (or anchors) its right, or is refused alone with the reason."""
    mode = "anchor" if anchor else "register"
    outcomes: list[dict[str, Any]] = []
    anchors: list[dict[str, Any]] = []
    try:
        with _client(node, data_dir) as client:

            def send(batch: list[tuple[str, bytes]]) -> None:
                answer = client.import_st96(batch, mode)
                outcomes.extend(answer["items"])
                anchors.extend(answer.get("anchors", []))

            batch: list[tuple[str, bytes]] = []
            size = 0
            for path in files:
                data = path.read_bytes()
                if batch and size + len(data) * 4 // 3 > IMPORT_REQUEST_BYTES:
                    send(batch)
                    batch, size = [], 0
                batch.append((str(path), data))
                size += len(data) * 4 // 3
            if batch:
                send(batch)
    except (RegistryError, OSError) as err:
        _refused(RegistryError(str(err)) if isinstance(err, OSError) else err, as_json)
    refused = [o for o in outcomes if not o["accepted"]]
    if as_json:
        typer.echo(json.dumps({"accepted": len(outcomes) - len(refused), "refused": len(refused),
                               "items": outcomes, "anchors": anchors}, indent=2))  # fmt: skip
    else:
        for outcome in outcomes:
            if outcome["accepted"]:
                note = "" if outcome.get("validated") else f" ({outcome.get('validationNote')})"
                typer.echo(
                    f"{outcome['name']}: {outcome['rightId']} accepted, outbox {outcome['outboxId']}{note}"
                )
            else:
                error = outcome["error"]
                typer.secho(f"{outcome['name']}: refused: {error['field']}: {error['reason']}", err=True)
        for queued in anchors:
            typer.echo(f"anchor {queued['root']}: {queued['count']} records, outbox {queued['outboxId']}")
    if refused:
        raise typer.Exit(code=1)


@node_app.command("show")
def node_show(
    right_id: RightIdArgument,
    node: NodeOption = None,
    data_dir: ClientDataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a right: the node's latest version and whether the chain holds it."""
    try:
        with _client(node, data_dir) as client:
            answer = client.right(right_id)
    except RegistryError as err:
        _refused(err, as_json)
    if as_json:
        typer.echo(json.dumps(answer, indent=2))
        return
    on_chain = answer.get("onChain")
    chain = (
        f"on chain: version {on_chain['version']}, {'matches' if on_chain['matchesLocal'] else 'behind'}"
        if on_chain
        else f"on chain: unknown ({answer.get('onChainError')})"
    )
    kind = "confidential" if answer["confidential"] else "public"
    typer.echo(f"{answer['rightId']} version {answer['version']} ({answer['changeKind']}, {kind}); {chain}")
    if answer.get("documentUrl"):
        typer.echo(f"  document: {answer['documentUrl']}")


@node_app.command("outbox")
def node_outbox(
    state: Annotated[OutboxState | None, typer.Option(help="Only entries in this state.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many entries (up to 500).")] = 100,
    offset: Annotated[int, typer.Option(help="Skip this many entries.")] = 0,
    wait: Annotated[bool, typer.Option(help="First wait until no entry is pending or sent.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds --wait waits at most.")] = 120.0,
    node: NodeOption = None,
    data_dir: ClientDataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the outbox: each accepted change and where it stands on its way to the chain."""
    try:
        with _client(node, data_dir) as client:
            if wait:
                try:
                    client.wait_for_outbox(timeout)
                except TimeoutError as err:
                    raise RegistryError(str(err)) from None
            page = client.outbox(state.value if state else None, limit, offset)
    except RegistryError as err:
        _refused(err, as_json)
    if as_json:
        typer.echo(json.dumps(page, indent=2))
        return
    for item in page["items"]:
        where = item["txHash"] or "-"
        problem = f"  {item['error']}" if item["error"] else ""
        typer.echo(
            f"{item['id']:>6}  {item['state']:<9}  {item['rightId']}  v{item['version']}  "
            f"{item['action']}  {where}{problem}"
        )
    if page["nextOffset"] is not None:
        typer.echo(f"(more: --offset {page['nextOffset']})")
