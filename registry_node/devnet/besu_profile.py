"""The production profile: what a consortium deploys to run the registry on Hyperledger Besu with QBFT, one
node per office, written from the consortium file by `ipreg network besu-profile`.

Besu does not run on these machines, so the profile is generated and checked by decoding what it wrote
(the genesis extraData through `protocol.consensus.qbft`), never started here. In the folder:

    genesis.json              QBFT (block period, epoch, round timeout), London rules and nothing later,
                              zero base fee, the founding validators in extraData, the offices' transaction
                              accounts (and the deployer) funded
    permissions_config.toml   Besu's local permissioning: nodes-allowlist (every node's enode) and
                              accounts-allowlist (who may send transactions: the offices, the deployer);
                              Besu 25.x removed its on-chain permissioning, and our contracts decide who may
                              write what anyway
    static-nodes.json         every node's enode: the nodes peer with each other, no discovery
    <CODE>/config.toml        one Besu node per office: its ports, the files above, archive state
    <CODE>/key                its node key (0600), which is also its validator key: QBFT seals with it
    README.txt                what each file is and the command that starts each node

In QBFT the node key is the validator key, so each office's validator is the address of its node's key.
An office that keeps its own key gives only its public side, in the consortium file, and gets no key file:

    [[offices]]
    code = "EP"
    …                                  # as `registry_node.node.consortium` reads it
    host = "192.0.2.10"                # optional: the IP its node is reached at (default 127.0.0.1)
    enode = "enode://<128 hex>@192.0.2.10:30303"   # optional: its own node's public key, IP and p2p port

Node i (in the file's order) listens for JSON-RPC on base+i and for p2p on base+100+i, as the geth network
numbers its validators, so that the whole consortium can be tried on one machine; an office's `enode`
names its own p2p port.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_keys.datatypes import PrivateKey, PublicKey
from eth_utils.address import is_address

from registry_node.devnet.geth import DEFAULT_CHAIN_ID, DEFAULT_GAS_LIMIT, P2P_OFFSET
from registry_node.devnet.network import GENESIS_BALANCE_WEI
from registry_node.node.consortium import ConsortiumConfig, load_consortium
from registry_node.protocol.consensus.qbft import QBFT_MIX_HASH, genesis_extra
from registry_node.protocol.errors import ConfigError

DEFAULT_PERIOD_S = 2  # blockperiodseconds: the offices' nodes are far apart, a round has four message hops
DEFAULT_REQUEST_TIMEOUT_S = 10  # requesttimeoutseconds: a round that has not committed by then changes
DEFAULT_BASE_PORT = 8545
EPOCH_LENGTH = 30_000  # blocks after which pending validator votes are dropped
RPC_APIS = ("ETH", "NET", "WEB3", "QBFT")
# Forks up to London, all at genesis; nothing later (no shanghaiTime), as on the geth network.
LONDON_FORKS = (
    "homesteadBlock", "eip150Block", "eip158Block", "byzantiumBlock", "constantinopleBlock",
    "petersburgBlock", "istanbulBlock", "muirGlacierBlock", "berlinBlock", "londonBlock",
)  # fmt: skip
GENESIS_FILE = "genesis.json"
PERMISSIONS_FILE = "permissions_config.toml"
STATIC_NODES_FILE = "static-nodes.json"
README_FILE = "README.txt"
ENODE = re.compile(r"^enode://([0-9a-f]{128})@(\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d{1,5})\Z")
SECP256K1_P = 2**256 - 2**32 - 977


@dataclass(frozen=True)
class BesuSettings:
    """The chain-wide choices of the profile (the command's options)."""

    chain_id: int = DEFAULT_CHAIN_ID
    period_s: int = DEFAULT_PERIOD_S
    request_timeout_s: int = DEFAULT_REQUEST_TIMEOUT_S
    gas_limit: int = DEFAULT_GAS_LIMIT
    base_port: int = DEFAULT_BASE_PORT
    deployer: str | None = None  # the account that deploys the contracts: allowlisted and funded

    def __post_init__(self) -> None:
        if self.chain_id < 1:
            raise ConfigError("--chain-id", f"must be positive, got {self.chain_id}")
        if self.period_s < 1:
            raise ConfigError("--period", f"must be at least 1 second, got {self.period_s}")
        if self.request_timeout_s < 1:
            raise ConfigError("--request-timeout", f"must be at least 1 second, got {self.request_timeout_s}")
        if self.gas_limit < 21_000:
            raise ConfigError("--gas-limit", f"must be at least 21000 (one transfer), got {self.gas_limit}")
        if not 1024 <= self.base_port <= 65535 - P2P_OFFSET:
            raise ConfigError(
                "--base-port", f"must be from 1024 to {65535 - P2P_OFFSET}, got {self.base_port}"
            )
        if self.deployer is not None and not is_address(self.deployer):
            raise ConfigError("--deployer", f"not an Ethereum address: {self.deployer!r}")


@dataclass(frozen=True)
class BesuNode:
    """One office's Besu node: its identity (the validator), where it is reached, and its key if made here."""

    office: str
    validator: str  # 0x lower-case: the address of its node key
    public_key: str  # 128 hex digits: the enode id
    host: str
    p2p_port: int
    rpc_port: int
    private_key: bytes | None  # None when the office brought its own (`enode`)

    @property
    def enode(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"enode://{self.public_key}@{host}:{self.p2p_port}"


def write_profile(consortium: Path, out: Path, settings: BesuSettings) -> list[BesuNode]:
    """Writes the profile of `consortium` into `out` (new or empty) and returns its nodes. Everything is
    checked and made before the first file is written, so a bad input leaves no half profile."""
    config = load_consortium(consortium)
    nodes = besu_nodes(config, _raw_offices(consortium), settings.base_port)
    accounts = [office.account.lower() for office in config.offices]
    if settings.deployer is not None and settings.deployer.lower() not in accounts:
        accounts.append(settings.deployer.lower())
    files = {
        GENESIS_FILE: json.dumps(besu_genesis(nodes, accounts, settings), indent=2) + "\n",
        PERMISSIONS_FILE: permissions_toml(nodes, accounts),
        STATIC_NODES_FILE: json.dumps([node.enode for node in nodes], indent=2) + "\n",
        README_FILE: readme(nodes, settings),
        **{f"{node.office}/config.toml": node_config_toml(node) for node in nodes},
    }
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError("--out", f"{out} exists and is not an empty folder: the profile needs a new one")
    try:
        for name, text in files.items():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            (out / name).write_text(text, "utf-8")
        for node in nodes:
            if node.private_key is not None:
                _write_secret(out / node.office / "key", "0x" + node.private_key.hex() + "\n")
    except OSError as err:
        raise ConfigError("--out", f"cannot write the profile into {out}: {err.strerror}") from None
    return nodes


def besu_nodes(
    config: ConsortiumConfig, raw_offices: Sequence[Mapping[str, Any]], base_port: int
) -> list[BesuNode]:
    """A node per founding office, in the consortium's order: from its `enode` if it gave one, else with a
    key made here; ConfigError naming the office's field for a bad host or enode, or two nodes alike."""
    if len(config.offices) > P2P_OFFSET:
        raise ConfigError("offices", f"at most {P2P_OFFSET} founding offices get ports from one base port")
    if base_port + P2P_OFFSET + len(config.offices) - 1 > 65535:
        raise ConfigError("--base-port", f"{base_port} leaves no room for {len(config.offices)} nodes' ports")
    nodes: list[BesuNode] = []
    for i, office in enumerate(config.offices):
        where = f"offices[{i}]"
        raw = raw_offices[i]
        rpc_port = base_port + i
        if raw.get("enode") is not None:
            if raw.get("host") is not None:
                raise ConfigError(f"{where}.host", "give either host or enode (the enode names the host)")
            public_key, host, p2p_port = _parse_enode(raw["enode"], f"{where}.enode")
            private_key = None
        else:
            host = _parse_host(raw.get("host", "127.0.0.1"), f"{where}.host")
            private_key = secrets.token_bytes(32)
            public_key = PrivateKey(private_key).public_key.to_bytes().hex()
            p2p_port = base_port + P2P_OFFSET + i
        validator = str(PublicKey(bytes.fromhex(public_key)).to_address()).lower()
        node = BesuNode(office.code, validator, public_key, host, p2p_port, rpc_port, private_key)
        for other in nodes:
            if other.public_key == node.public_key:
                raise ConfigError(f"{where}.enode", f"the same node key as {other.office}'s")
            if (other.host, other.p2p_port) == (node.host, node.p2p_port):
                raise ConfigError(f"{where}.enode", f"{host}:{p2p_port} is already {other.office}'s node")
        nodes.append(node)
    return nodes


def besu_genesis(nodes: Sequence[BesuNode], funded: Sequence[str], settings: BesuSettings) -> dict[str, Any]:
    """Besu's genesis for a QBFT chain of `nodes`' validators under London rules, with no base fee: gas is
    free on a permissioned chain, and the accounts allowlist, not a price, decides who may send."""
    return {
        "config": {
            "chainId": settings.chain_id,
            **dict.fromkeys(LONDON_FORKS, 0),
            "zeroBaseFee": True,
            "qbft": {
                "blockperiodseconds": settings.period_s,
                "epochlength": EPOCH_LENGTH,
                "requesttimeoutseconds": settings.request_timeout_s,
            },
        },
        "nonce": "0x0",
        "timestamp": "0x0",
        "extraData": "0x" + genesis_extra([node.validator for node in nodes]).hex(),
        "gasLimit": hex(settings.gas_limit),
        "difficulty": "0x1",
        "mixHash": QBFT_MIX_HASH,
        "coinbase": "0x" + "00" * 20,
        "baseFeePerGas": "0x0",
        "alloc": {account.removeprefix("0x"): {"balance": hex(GENESIS_BALANCE_WEI)} for account in funded},
    }


def permissions_toml(nodes: Sequence[BesuNode], accounts: Sequence[str]) -> str:
    """Besu's local permissioning file, read by every node (`--permissions-*-config-file`)."""
    return (
        "# Besu local permissioning, generated by `ipreg network besu-profile`.\n"
        "# nodes-allowlist: the nodes a node may peer with; accounts-allowlist: who may send transactions.\n"
        f"nodes-allowlist={_toml([node.enode for node in nodes])}\n"
        f"accounts-allowlist={_toml(list(accounts))}\n"
    )


def node_config_toml(node: BesuNode) -> str:
    """One office's Besu configuration (`besu --config-file=<CODE>/config.toml`, run from the profile's
    folder: Besu reads its relative paths from the working directory)."""
    settings: dict[str, Any] = {
        "data-path": f"{node.office}/data",
        "genesis-file": GENESIS_FILE,
        "node-private-key-file": f"{node.office}/key",
        "static-nodes-file": STATIC_NODES_FILE,
        "discovery-enabled": False,
        "p2p-host": node.host,
        "p2p-port": node.p2p_port,
        "rpc-http-enabled": True,
        "rpc-http-host": "127.0.0.1",
        "rpc-http-port": node.rpc_port,
        "rpc-http-api": list(RPC_APIS),
        "host-allowlist": ["localhost", "127.0.0.1"],
        "permissions-nodes-config-file-enabled": True,
        "permissions-nodes-config-file": PERMISSIONS_FILE,
        "permissions-accounts-config-file-enabled": True,
        "permissions-accounts-config-file": PERMISSIONS_FILE,
        "min-gas-price": 0,
        "sync-mode": "FULL",
        "data-storage-format": "FOREST",
    }
    header = (
        f"# Besu node of {node.office}, validator {node.validator}.\n"
        "# Generated by `ipreg network besu-profile`.\n"
        "# FULL sync on FOREST storage keeps the state of every block: the gateway reads at stated blocks.\n"
        "# JSON-RPC answers on loopback only: the office's node and gateway run beside it.\n"
    )
    return header + "".join(f"{key}={_toml(value)}\n" for key, value in settings.items())


def readme(nodes: Sequence[BesuNode], settings: BesuSettings) -> str:
    lines = [
        "Hyperledger Besu with QBFT: the consortium's production profile",
        "",
        "Generated by `ipreg network besu-profile`; checked by decoding what was written, not run here",
        "(Besu cannot run on the machine that made it). Needs Besu 25.x or later.",
        "",
        f"{GENESIS_FILE:<26}the chain (id {settings.chain_id}): QBFT, a block every {settings.period_s} s, "
        f"London rules, zero base fee;",
        f"{'':<26}extraData lists the founding validators, in the consortium file's order",
        f"{PERMISSIONS_FILE:<26}nodes-allowlist (every node's enode), accounts-allowlist (who may send)",
        f"{STATIC_NODES_FILE:<26}every node's enode: the nodes peer with each other, without discovery",
        f"{'<CODE>/config.toml':<26}one node per office: ports, the files above, archive state",
        f"{'<CODE>/key':<26}the node's key, which is also its QBFT validator key: keep it secret (0600)",
        "",
        "Start each node from this folder (its paths are relative to it); on the office's own machine, copy",
        "this folder's shared files and the office's own folder:",
        "",
    ]
    for node in nodes:
        key_note = "" if node.private_key is not None else f"   (bring its own key as {node.office}/key)"
        lines.append(f"  besu --config-file={node.office}/config.toml{key_note}")
    lines += ["", "Nodes:", ""]
    for node in nodes:
        rpc = f"http://127.0.0.1:{node.rpc_port}"
        lines.append(f"  {node.office}  validator {node.validator}  JSON-RPC {rpc}  {node.enode}")
    lines += [
        "",
        "A block is final as soon as it is on the chain: it carries committed seals from at least",
        "ceil(2n/3) of the n validators. Validators are voted in and out with qbft_proposeValidatorVote.",
        "",
    ]
    return "\n".join(lines)


def _raw_offices(consortium: Path) -> list[Mapping[str, Any]]:
    """The consortium file's [[offices]] tables as written, for the Besu fields the common loader does not
    read (`load_consortium` has already checked the file reads and holds a list of tables)."""
    offices: list[Mapping[str, Any]] = tomllib.loads(consortium.read_text("utf-8"))["offices"]
    return offices


def _parse_enode(value: Any, field: str) -> tuple[str, str, int]:
    match = ENODE.match(value) if isinstance(value, str) else None
    if match is None:
        raise ConfigError(field, f"must be enode://<128 hex digits>@<IP>:<port>, got {value!r}")
    public_key, host, port = match.group(1), match.group(2).strip("[]"), int(match.group(3))
    x, y = int(public_key[:64], 16), int(public_key[64:], 16)
    if x >= SECP256K1_P or y >= SECP256K1_P or (y * y - x * x * x - 7) % SECP256K1_P != 0:
        raise ConfigError(field, "its public key is not a point of secp256k1")
    if not 1 <= port <= 65535:
        raise ConfigError(field, f"port must be from 1 to 65535, got {port}")
    return public_key, _parse_host(host, field), port


def _parse_host(value: Any, field: str) -> str:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ConfigError(
            field, f"must be an IP address (Besu's allowlist names nodes by IP), got {value!r}"
        ) from None


def _toml(value: Any) -> str:
    """A TOML value: strings, integers, booleans and lists of them are all a profile writes (JSON's string
    escapes are TOML's)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return json.dumps(value)
    return "[" + ", ".join(_toml(item) for item in value) + "]"


def _write_secret(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)
