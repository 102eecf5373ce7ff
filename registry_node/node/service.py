"""An office node assembled from its settings: set-up, publishing its signing key and naming its chain
validator, and the running service.

The running node is one process: the API (uvicorn, in the main thread, so it owns Ctrl-C and SIGTERM) and
the outbox worker (a thread with its own chain connection). Both stop cleanly on either signal; what was
accepted is already on disk, so stopping loses nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from eth_utils.address import is_address, to_checksum_address
from web3 import Web3
from web3.contract import Contract

from registry_node.node.api import create_app
from registry_node.node.office import Office
from registry_node.node.onchain import ContractChainView
from registry_node.node.outbox import OutboxWorker
from registry_node.node.settings import PKCS11_PIN_ENV, KeyLocation, NodeSettings, settings_toml
from registry_node.node.store import Store
from registry_node.node.transactor import Transactor
from registry_node.node.validators import ValidatorFollower
from registry_node.protocol.chain import ChainError, ConfirmationDepth, connect, web3_for
from registry_node.protocol.contract import load_artifact, office_bytes
from registry_node.protocol.errors import ConfigError, RegistryError
from registry_node.protocol.http.server_gc import settle_startup_heap
from registry_node.protocol.keys import (
    DocumentSigner,
    SigningAlgorithm,
    create_account_keystore,
    generate_signing_key,
    load_account,
    load_signing_key,
)
from registry_node.protocol.keys.account import TransactionSigner
from registry_node.protocol.keys.pkcs11 import (
    TokenAccess,
    TokenUri,
    check_label_free,
    create_account_in_token,
    create_signing_key_in_token,
    open_account,
    open_signing_key,
)

log = logging.getLogger(__name__)

TOKEN_BYTES = 32
WORKER_RESTART_S = 1.0
NO_OFFICE = b"\0\0"


class NodeError(RegistryError):
    """The node cannot be set up or started as asked; the message says why and what to do."""


# ------------------------------------------------------------ set-up


def new_operator_token() -> str:
    """A fresh operator token; only its SHA-256 is ever stored."""
    return secrets.token_urlsafe(TOKEN_BYTES)


@dataclass(frozen=True)
class PublishedKey:
    """A new document-signing key: what the office publishes on chain for it."""

    algorithm: SigningAlgorithm
    key_id: bytes
    public_key: bytes


@dataclass(frozen=True)
class InitializedNode:
    settings: NodeSettings
    address: str
    signing_key: PublishedKey


def check_new_node(settings: NodeSettings) -> None:
    """Refuses a folder that already holds a node (or its key files), before anyone is asked for a
    password. Keys in a token are checked by `init_node`, once it has the PIN."""
    files = (settings.account_keystore, settings.signing_key)
    for existing in (settings.settings_path, *(f for f in files if isinstance(f, Path))):
        if existing.exists():
            raise NodeError(
                f"{existing} already exists: {settings.data_dir} holds a node; refusing to overwrite it "
                "(its keys would be lost)"
            )


def token_access(
    settings: NodeSettings, uri: TokenUri, password: str, environ: Mapping[str, str] | None = None
) -> TokenAccess:
    """How the node opens the token of `uri`: the URI's module-path or `pkcs11_module`, and the PIN from
    the URI's pin-source, else IPREG_NODE_PKCS11_PIN, else the node password."""
    environ = os.environ if environ is None else environ
    pin = environ.get(PKCS11_PIN_ENV) or password
    return TokenAccess.resolve(uri, settings.pkcs11_module or None, pin, "pkcs11_module")


def init_node(
    settings: NodeSettings, password: str, algorithm: SigningAlgorithm, scrypt_n: int | None = None
) -> InitializedNode:
    """Creates the node's keys (encrypted files, or keys in a PKCS#11 token) and its node.toml; refuses a
    folder that already holds a node, and a token label already in use, before making anything.

    `scrypt_n` is scrypt's N for key files: None keeps 2**18 (a second per open), as an office must."""
    check_new_node(settings)
    if not password:
        raise NodeError("the node password must not be empty")
    for location in (settings.account_keystore, settings.signing_key):
        if isinstance(location, TokenUri):
            check_label_free(location, token_access(settings, location, password))
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    address = create_account(settings, settings.account_keystore, password, scrypt_n)
    key = create_signing_key(settings, settings.signing_key, password, algorithm, scrypt_n)
    with settings.settings_path.open("x", encoding="utf-8") as out:
        out.write(settings_toml(settings))
        out.flush()
        os.fsync(out.fileno())
    return InitializedNode(settings, address, key)


def create_account(
    settings: NodeSettings, location: KeyLocation, password: str, scrypt_n: int | None = None
) -> str:
    """A new transaction account at `location` (a keystore file, or a secp256k1 key in a token)."""
    if isinstance(location, TokenUri):
        return create_account_in_token(location, token_access(settings, location, password))
    return create_account_keystore(location, password, scrypt_n)


def create_signing_key(
    settings: NodeSettings,
    location: KeyLocation,
    password: str,
    algorithm: SigningAlgorithm,
    scrypt_n: int | None = None,
) -> PublishedKey:
    """A new document-signing key at `location` (an encrypted file, or a key pair in a token)."""
    if isinstance(location, TokenUri):
        made = create_signing_key_in_token(location, token_access(settings, location, password), algorithm)
        return PublishedKey(made.algorithm, made.key_id, made.public_key)
    info = generate_signing_key(location, password, algorithm, scrypt_n=scrypt_n)
    return PublishedKey(info.algorithm, info.key_id, info.public_key)


def open_document_signer(settings: NodeSettings, location: KeyLocation, password: str) -> DocumentSigner:
    if isinstance(location, TokenUri):
        return open_signing_key(location, token_access(settings, location, password))
    return load_signing_key(location, password)


# ------------------------------------------------------------ keys and chain


@dataclass(frozen=True)
class NodeKeys:
    account: TransactionSigner = field(repr=False)
    signing_key: DocumentSigner = field(repr=False)


def load_keys(settings: NodeSettings, password: str) -> NodeKeys:
    """Opens the node's two keys, from their files or their token."""
    location = settings.account_keystore
    account: TransactionSigner
    if isinstance(location, TokenUri):
        account = open_account(location, token_access(settings, location, password))
    else:
        account = load_account(location, password)
    return NodeKeys(account, open_document_signer(settings, settings.signing_key, password))


def registry_contract(settings: NodeSettings, w3: Web3) -> Contract:
    address = to_checksum_address(settings.require_contract())
    return w3.eth.contract(address=address, abi=load_artifact().abi)


def check_chain(settings: NodeSettings, w3: Web3, account: TransactionSigner) -> Contract:
    """The registry contract, once the chain is the configured one and the account speaks for the office."""
    contract = registry_contract(settings, w3)
    chain_id = w3.eth.chain_id
    if settings.chain_id is not None and chain_id != settings.chain_id:
        raise ConfigError(
            "chain_id", f"the chain at {settings.rpc_url} has id {chain_id}, not {settings.chain_id}"
        )
    if not w3.eth.get_code(contract.address):
        raise ConfigError(
            "contract_address", f"no contract at {contract.address} on the chain at {settings.rpc_url}"
        )
    code, _ = contract.functions.officeOf(account.address).call()
    if bytes(code) != office_bytes(settings.office_code):
        holder = "no office" if bytes(code) == NO_OFFICE else f"office {bytes(code).decode('ascii')}"
        raise NodeError(
            f"this node's account {account.address} is the account of {holder} on chain, not of "
            f"{settings.office_code}: the consortium must list it as {settings.office_code}'s account"
        )
    return contract


@dataclass(frozen=True)
class KeyRegistration:
    key_id: bytes
    already_registered: bool
    block_number: int | None


def register_signing_key(settings: NodeSettings, keys: NodeKeys, w3: Web3) -> KeyRegistration:
    """Publishes the node's signing key in OfficeRegistry (addSigningKey); a key already there is left."""
    contract = check_chain(settings, w3, keys.account)
    key = keys.signing_key
    published = contract.functions.signingKeys(office_bytes(settings.office_code)).call()
    if any(bytes(entry[0]) == key.key_id for entry in published):
        return KeyRegistration(key.key_id, True, None)
    transactor = Transactor(w3, keys.account, load_artifact().abi)
    call = contract.functions.addSigningKey(key.key_id, key.algorithm.chain_value, key.public_key_bytes)
    receipt = transactor.send(call)
    return KeyRegistration(key.key_id, False, receipt["blockNumber"])


@dataclass(frozen=True)
class ValidatorRegistration:
    validator: str
    already_set: bool
    block_number: int | None


def set_validator(settings: NodeSettings, keys: NodeKeys, w3: Web3, address: str) -> ValidatorRegistration:
    """Names `address` as the office's chain validator in OfficeRegistry (setValidator); an office whose
    validator it already is is left as it is.

    The address is the validator's sealing key, a key of its own with no funds and no rights: the contract
    refuses any office's transaction account, another office's validator, and a suspended office."""
    if not is_address(address):
        raise NodeError(f"validator address {address!r}: not an Ethereum address (0x and 40 hex digits)")
    validator = to_checksum_address(address)
    contract = check_chain(settings, w3, keys.account)
    holder, _status = contract.functions.validatorOf(validator).call()
    if bytes(holder) == office_bytes(settings.office_code):
        return ValidatorRegistration(validator, True, None)
    transactor = Transactor(w3, keys.account, load_artifact().abi)
    receipt = transactor.send(contract.functions.setValidator(validator))
    return ValidatorRegistration(validator, False, receipt["blockNumber"])


# ------------------------------------------------------------ the running node


class NodeService:
    """The API and the outbox worker of one office, over one store."""

    def __init__(self, settings: NodeSettings, keys: NodeKeys) -> None:
        self.settings = settings
        self.keys = keys
        self.store = Store(settings.store_path)
        self.office = Office(settings.office_code, self.store, keys.signing_key)
        contract = registry_contract(settings, web3_for(settings.chain_urls))
        self.app = create_app(settings, self.office, self.store, ContractChainView(contract))
        worker_w3 = web3_for(settings.chain_urls)  # its own connection: it runs in its own thread
        self.worker = OutboxWorker(
            self.store,
            worker_w3,
            registry_contract(settings, worker_w3),
            keys.account,
            confirmations=ConfirmationDepth(settings.confirmations),
        )
        own_validator = web3_for(settings.rpc_url)  # votes go to the office's own validator only
        self.follower = ValidatorFollower(
            registry_contract(settings, web3_for(settings.chain_urls)), own_validator
        )
        self._stopping = threading.Event()

    def check_chain(self) -> str | None:
        """Checks the chain now; a chain that does not answer is only a warning (the outbox waits for it).
        Returns that warning, or None."""
        try:
            w3 = connect(self.settings.chain_urls, timeout_s=5)
        except ChainError as err:
            return f"{err}; changes are accepted and queued until it answers"
        check_chain(self.settings, w3, self.keys.account)
        return None

    def serve(self, listener: socket.socket) -> None:
        """Serves until Ctrl-C or SIGTERM, then stops the API and the worker."""
        server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                log_level="info",
                server_header=False,
                timeout_graceful_shutdown=10,
            )
        )

        def stop(signum: int, frame: Any) -> None:
            server.should_exit = True
            self._stopping.set()

        # uvicorn puts these back when it stops, and re-raises the signal it caught: it then lands here.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, stop)
        worker = threading.Thread(target=self._run_worker, name="outbox-worker", daemon=True)
        worker.start()
        threading.Thread(target=self.follower.run, name="validator-follower", daemon=True).start()
        settle_startup_heap()
        try:
            server.run(sockets=[listener])
        finally:
            self._stopping.set()
            self.follower.stop()
            self.worker.stop()
            worker.join(timeout=30)
            with contextlib.suppress(OSError):
                listener.close()

    def _run_worker(self) -> None:
        """The worker's loop, restarted after an unexpected error so one bad answer cannot stop the node."""
        while not self._stopping.is_set():
            try:
                self.worker.run()
            except Exception:
                log.exception("outbox worker failed; restarting in %.0f s", WORKER_RESTART_S)
                self._stopping.wait(WORKER_RESTART_S)
            else:
                return
