"""One way to read a service's settings: a flat TOML file in its data directory, then the environment
(`<PREFIX><KEY>`), every value checked against its key's kind, every bad one a ConfigError naming the key.

An office node (`node.toml`) and the gateway (`gateway.toml`) each describe their fields with a
`SettingsSchema` and build their own typed settings object from what `read_settings` returns.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from eth_utils.address import is_address, to_checksum_address

from registry_node.protocol.errors import ConfigError

URL = re.compile(r"^https?://[^\s/?#]+(?:/[^\s?#]*)?\Z")
MAJORITY = "majority"  # a confirmation depth that follows the chain's validators (protocol.chain)
ENV_TRUE = frozenset({"true", "1", "yes", "on"})
ENV_FALSE = frozenset({"false", "0", "no", "off"})


@dataclass(frozen=True)
class SettingsSchema:
    """The keys of one settings file by kind (anything else is a string), those that an empty environment
    value clears (`optional`), the environment prefix, and how to create the file."""

    keys: frozenset[str]
    env_prefix: str
    how_to_create: str
    ints: frozenset[str] = frozenset()
    floats: frozenset[str] = frozenset()
    paths: frozenset[str] = frozenset()
    lists: frozenset[str] = frozenset()
    depths: frozenset[str] = frozenset()  # an integer, or the word "majority" (MAJORITY)
    optional: frozenset[str] = frozenset()
    bools: frozenset[str] = frozenset()  # true or false (in the environment also 1/0, yes/no, on/off)


def read_settings(
    path: Path, schema: SettingsSchema, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The typed values of `path` (TOML), then of `environ` (default: the process environment), by key."""
    environ = os.environ if environ is None else environ
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), f"no such settings file: {schema.how_to_create}") from None
    except OSError as err:
        raise ConfigError(str(path), f"cannot read: {err.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(str(path), f"not valid TOML: {err}") from None
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in schema.keys:
            raise ConfigError(key, f"unknown setting in {path}")
        values[key] = _typed(schema, key, value)
    for key in schema.keys:
        raw = environ.get(schema.env_prefix + key.upper())
        if raw is not None:
            values[key] = _from_env(schema, key, raw)
    return values


def require(condition: object, field: str, reason: str) -> None:
    """A settings object's own check: ConfigError naming `field` unless `condition` holds."""
    if not condition:
        raise ConfigError(field, reason)


def toml_line(key: str, value: Any) -> str:
    """`key = value` as `read_settings` reads it back."""
    if isinstance(value, bool):
        shown = "true" if value else "false"
    elif isinstance(value, str):
        shown = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, tuple | list):
        shown = json.dumps(list(value), ensure_ascii=False)
    else:
        shown = repr(value)
    return f"{key} = {shown}"


def _typed(schema: SettingsSchema, key: str, value: Any) -> Any:
    """The TOML value checked against the key's kind."""
    if key in schema.bools:
        if not isinstance(value, bool):
            raise ConfigError(key, f"must be true or false, got {value!r}")
        return value
    if key in schema.depths:
        if value == MAJORITY or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise ConfigError(key, f'must be a number of blocks or "{MAJORITY}", got {value!r}')
    if key in schema.ints:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(key, f"must be an integer, got {value!r}")
        return value
    if key in schema.floats:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ConfigError(key, f"must be a number, got {value!r}")
        return float(value)
    if key in schema.lists:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(key, f"must be a list of strings, got {value!r}")
        return tuple(value)
    if not isinstance(value, str):
        raise ConfigError(key, f"must be a string, got {value!r}")
    if key in schema.paths:
        if not value:
            raise ConfigError(key, "must not be empty")
        return Path(value)
    return value


def _from_env(schema: SettingsSchema, key: str, raw: str) -> Any:
    """An environment value as the key's kind; empty clears an optional setting."""
    name = schema.env_prefix + key.upper()
    if raw == "" and key in schema.optional:
        return None
    if key in schema.bools:
        word = raw.strip().lower()
        if word not in ENV_TRUE | ENV_FALSE:
            raise ConfigError(key, f"{name} must be true or false, got {raw!r}")
        return word in ENV_TRUE
    if key in schema.depths and raw.strip() == MAJORITY:
        return MAJORITY
    if key in schema.depths:
        try:
            return int(raw.strip(), 10)
        except ValueError:
            raise ConfigError(
                key, f'{name} must be a number of blocks or "{MAJORITY}", got {raw!r}'
            ) from None
    if key in schema.ints:
        try:
            return int(raw.strip(), 10)
        except ValueError:
            raise ConfigError(key, f"{name} must be an integer, got {raw!r}") from None
    if key in schema.floats:
        try:
            return float(raw.strip())
        except ValueError:
            raise ConfigError(key, f"{name} must be a number, got {raw!r}") from None
    if key in schema.lists:
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    if key in schema.paths:
        if not raw:
            raise ConfigError(key, f"{name} must not be empty")
        return Path(raw)
    return raw


# ------------------------------------------------------------ what both services' settings share


class ServiceSettings:
    """What an office node's and the gateway's settings have alike: a data directory holding the settings
    file, the chain and registry the service works on, and where its API listens. Each service's settings
    are a frozen dataclass with these fields, deriving from this."""

    settings_file: ClassVar[str]
    env_prefix: ClassVar[str]
    data_dir: Path
    rpc_url: str
    rpc_urls: tuple[str, ...]  # other chain nodes, in order, for when rpc_url is down
    contract_address: str | None
    chain_id: int | None
    confirmations: int | str  # a number of blocks, or MAJORITY
    listen_host: str
    listen_port: int

    @property
    def settings_path(self) -> Path:
        return self.data_dir / self.settings_file

    @property
    def chain_urls(self) -> tuple[str, ...]:
        """The chain nodes the service talks to: its own first, then the others in order."""
        return (self.rpc_url, *self.rpc_urls)

    @property
    def local_url(self) -> str:
        """Where a command on this machine reaches the service's API."""
        return local_url(self.listen_host, self.listen_port)

    def require_contract(self) -> str:
        """The registry's address, which running the service needs."""
        if self.contract_address is None:
            raise contract_not_set(self.settings_path, self.env_prefix)
        return self.contract_address

    def relative(self, path: Path) -> str:
        """`path` as a settings file writes it: inside the data directory, relative to it."""
        return str(path.relative_to(self.data_dir)) if path.is_relative_to(self.data_dir) else str(path)

    def chain_toml(self) -> list[str]:
        """The settings file's lines about the chain; unknown optional keys as comments."""
        return [
            "# the chain",
            toml_line("rpc_url", self.rpc_url),
            toml_line("rpc_urls", self.rpc_urls)
            if self.rpc_urls
            else "# rpc_urls = []  # other chain nodes, in order, used while rpc_url is down",
            toml_line("contract_address", self.contract_address)
            if self.contract_address
            else '# contract_address = "0x..."  # SharedIPRegistry, from the consortium\'s deployment.json',
            toml_line("chain_id", self.chain_id) if self.chain_id else "# chain_id = 1337",
            toml_line("confirmations", self.confirmations),
        ]


def checked_chain(
    rpc_url: str,
    contract_address: str | None,
    chain_id: int | None,
    rpc_urls: tuple[str, ...] = (),
    confirmations: int | str = 1,
    min_confirmations: int = 1,
) -> str | None:
    """Checks the chain settings; the contract address in its checksummed form (or None, not set yet)."""
    require(URL.match(rpc_url), "rpc_url", f"must be an http(s) URL, got {rpc_url!r}")
    for url in rpc_urls:
        require(URL.match(url), "rpc_urls", f"must be http(s) URLs, got {url!r}")
    if confirmations != MAJORITY:
        require(
            isinstance(confirmations, int) and min_confirmations <= confirmations <= 1000,
            "confirmations",
            f'must be {min_confirmations} to 1000 blocks or "{MAJORITY}", got {confirmations!r}',
        )
    address = None
    if contract_address is not None:
        reason = f"not an Ethereum address: {contract_address!r}"
        require(is_address(contract_address), "contract_address", reason)
        address = str(to_checksum_address(contract_address))
    if chain_id is not None:
        require(chain_id >= 1, "chain_id", f"must be a positive integer, got {chain_id}")
    return address


def check_listen(host: str, port: int) -> None:
    require(bool(host.strip()), "listen_host", "must not be empty")
    require(1 <= port <= 65535, "listen_port", f"must be 1 to 65535, got {port}")


def local_url(host: str, port: int) -> str:
    """Where a command on this machine reaches a server listening on (host, port)."""
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:{port}"


def contract_not_set(settings_path: Path, env_prefix: str) -> ConfigError:
    """The error of a service that needs the registry's address before it is set."""
    return ConfigError(
        "contract_address",
        "not set: add the SharedIPRegistry address from the consortium's deployment.json to "
        f"{settings_path} (or set {env_prefix}CONTRACT_ADDRESS)",
    )
