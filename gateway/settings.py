"""The gateway's settings: one typed object, read from `gateway.toml` in the data directory, then from the
environment (`IPREG_GATEWAY_<KEY>`, e.g. `IPREG_GATEWAY_RPC_URL`, `IPREG_GATEWAY_DATABASE_URL`).

Keys are flat and named as the fields of `GatewaySettings`; relative paths are inside the data directory.
Every bad value is a ConfigError naming the key. No secret lives here: the signing key's password comes
from `IPREG_GATEWAY_PASSWORD` or from the file `password_file` names, never from a setting.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from registry_node.protocol.errors import ConfigError
from registry_node.protocol.settings import (
    MAJORITY,
    ServiceSettings,
    SettingsSchema,
    check_listen,
    checked_chain,
    read_settings,
    require,
    toml_line,
)

SETTINGS_FILE = "gateway.toml"
ENV_PREFIX = "IPREG_GATEWAY_"
PASSWORD_ENV = "IPREG_GATEWAY_PASSWORD"
DEFAULT_RPC_URL = "http://127.0.0.1:8545"
DEFAULT_LISTEN_HOST = "127.0.0.1"
DEFAULT_LISTEN_PORT = 8000
DATABASE_FILE = "gateway.sqlite"
MIB = 1024 * 1024
ORIGIN = re.compile(r"^https?://[^\s/?#]+\Z")
DATABASE_URL = re.compile(r"^(sqlite|postgresql)(\+\w+)?://")

# Keys that may stay unset (`None`); an empty environment value clears them.
OPTIONAL_KEYS = ("contract_address", "chain_id", "password_file")


@dataclass(frozen=True)
class GatewaySettings(ServiceSettings):
    """What one gateway needs to run; validated on construction, paths made absolute."""

    settings_file: ClassVar[str] = SETTINGS_FILE
    env_prefix: ClassVar[str] = ENV_PREFIX

    data_dir: Path
    rpc_url: str = DEFAULT_RPC_URL
    rpc_urls: tuple[str, ...] = ()  # other chain nodes, in order, for when rpc_url is down
    contract_address: str | None = None  # the SharedIPRegistry; running the gateway needs it
    chain_id: int | None = None  # when set, the gateway refuses a chain with another id
    database_url: str = ""  # empty: sqlite:///<data_dir>/gateway.sqlite
    # index up to head - confirmations; MAJORITY: the newest block a majority of validators sealed on
    confirmations: int | str = MAJORITY
    start_block: int = 0  # the first block to index (the registry's deployment block saves work)
    poll_interval_s: float = 1.0
    listen_host: str = DEFAULT_LISTEN_HOST
    listen_port: int = DEFAULT_LISTEN_PORT
    signing_key: Path = Path("gateway-key.pem")
    password_file: Path | None = None  # else IPREG_GATEWAY_PASSWORD
    fetch_timeout_s: float = 5.0
    fetch_max_bytes: int = 4 * MIB
    # let deep links reach private-use addresses (loopback, RFC 1918, link-local…): only for a consortium on
    # one machine or one private network; off, a registered endpoint that resolves to one is refused
    deep_links_allow_private: bool = False
    max_upload_bytes: int = 8 * MIB
    max_page_size: int = 100
    rate_limit_per_s: float = 200.0  # per client IP; bursts of twice as many
    cors_origins: tuple[str, ...] = ()  # origins allowed to read the API from a browser; none by default

    def __post_init__(self) -> None:
        require(self.data_dir.is_absolute(), "data_dir", "must be an absolute path")
        address = checked_chain(
            self.rpc_url, self.contract_address, self.chain_id, self.rpc_urls, self.confirmations, 0
        )
        object.__setattr__(self, "contract_address", address)
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.data_dir / DATABASE_FILE}")
        require(
            DATABASE_URL.match(self.database_url),
            "database_url",
            "must be a sqlite:/// or postgresql:// URL (SQLAlchemy form)",
        )
        require(self.start_block >= 0, "start_block", f"must be 0 or more, got {self.start_block}")
        require(
            0.01 <= self.poll_interval_s <= 3600,
            "poll_interval_s",
            f"must be 0.01 to 3600 seconds, got {self.poll_interval_s}",
        )
        check_listen(self.listen_host, self.listen_port)
        require(
            0.1 <= self.fetch_timeout_s <= 300,
            "fetch_timeout_s",
            f"must be 0.1 to 300 seconds, got {self.fetch_timeout_s}",
        )
        require(
            isinstance(self.deep_links_allow_private, bool),
            "deep_links_allow_private",
            f"must be true or false, got {self.deep_links_allow_private!r}",
        )
        for name in ("fetch_max_bytes", "max_upload_bytes"):
            value = getattr(self, name)
            require(1024 <= value <= 256 * MIB, name, f"must be 1024 to {256 * MIB} bytes, got {value}")
        require(
            1 <= self.max_page_size <= 10_000,
            "max_page_size",
            f"must be 1 to 10000, got {self.max_page_size}",
        )
        require(
            0 < self.rate_limit_per_s <= 1_000_000,
            "rate_limit_per_s",
            f"must be above 0 and at most 1000000, got {self.rate_limit_per_s}",
        )
        for origin in self.cors_origins:
            require(
                origin == "*" or ORIGIN.match(origin),
                "cors_origins",
                f"each must be an origin such as https://auditor.example (no path), or *; got {origin!r}",
            )
        object.__setattr__(self, "cors_origins", tuple(self.cors_origins))
        object.__setattr__(self, "signing_key", self.data_dir / self.signing_key)
        if self.password_file is not None:
            object.__setattr__(self, "password_file", self.data_dir / self.password_file)

    @property
    def rate_limit_burst(self) -> float:
        """How many requests a client may send at once before the per-second rate applies."""
        return 2 * self.rate_limit_per_s

    def signing_key_password(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The signing key's password: from `password_file` if set, else IPREG_GATEWAY_PASSWORD, else None."""
        if self.password_file is not None:
            try:
                return self.password_file.read_text("utf-8").rstrip("\n")
            except OSError as err:
                reason = f"cannot read {self.password_file}: {err.strerror}"
                raise ConfigError("password_file", reason) from None
        environ = os.environ if environ is None else environ
        return environ.get(PASSWORD_ENV)


# ------------------------------------------------------------ reading

_SCHEMA = SettingsSchema(
    keys=frozenset(f.name for f in dataclasses.fields(GatewaySettings) if f.name != "data_dir"),
    env_prefix=ENV_PREFIX,
    how_to_create="create the gateway with `ipreg gateway init`",
    ints=frozenset({"chain_id", "start_block", "listen_port", "fetch_max_bytes"})
    | {"max_upload_bytes", "max_page_size"},
    floats=frozenset({"poll_interval_s", "fetch_timeout_s", "rate_limit_per_s"}),
    paths=frozenset({"signing_key", "password_file"}),
    lists=frozenset({"cors_origins", "rpc_urls"}),
    depths=frozenset({"confirmations"}),
    optional=frozenset(OPTIONAL_KEYS),
    bools=frozenset({"deep_links_allow_private"}),
)


def load_settings(path: Path, environ: Mapping[str, str] | None = None) -> GatewaySettings:
    """Reads `path` (a gateway.toml; its folder is the data directory), then `IPREG_GATEWAY_*` overrides."""
    return GatewaySettings(data_dir=path.parent.resolve(), **read_settings(path, _SCHEMA, environ))


# ------------------------------------------------------------ writing


def settings_toml(settings: GatewaySettings) -> str:
    """The gateway.toml that `load_settings` reads back as `settings`; unknown optional keys as comments."""

    default_db = f"sqlite:///{settings.data_dir / DATABASE_FILE}"
    lines = [
        "# Gateway settings (`ipreg gateway`). Relative paths are inside this folder.",
        f"# Any key can be overridden by the environment: {ENV_PREFIX}<KEY IN CAPITALS>.",
        "",
        *settings.chain_toml(),
        toml_line("start_block", settings.start_block),
        toml_line("poll_interval_s", settings.poll_interval_s),
        "",
        "# the read model: SQLite in this folder by default, or postgresql+psycopg://user@host/db",
        toml_line("database_url", settings.database_url)
        if settings.database_url != default_db
        else f"# database_url = {json.dumps(default_db)}",
        "",
        "# the API",
        toml_line("listen_host", settings.listen_host),
        toml_line("listen_port", settings.listen_port),
        toml_line("max_upload_bytes", settings.max_upload_bytes),
        toml_line("max_page_size", settings.max_page_size),
        toml_line("rate_limit_per_s", settings.rate_limit_per_s),
        toml_line("cors_origins", settings.cors_origins),
        "",
        "# fetching documents from offices' deep links",
        toml_line("fetch_timeout_s", settings.fetch_timeout_s),
        toml_line("fetch_max_bytes", settings.fetch_max_bytes),
        "# true lets deep links reach loopback and private networks: only for a consortium on one machine",
        "# or one private network (offices' endpoints are registered on chain, by any member)",
        toml_line("deep_links_allow_private", settings.deep_links_allow_private),
        "",
        f"# the gateway's signing key, encrypted with {PASSWORD_ENV} or the password file",
        toml_line("signing_key", settings.relative(settings.signing_key)),
        toml_line("password_file", settings.relative(settings.password_file))
        if settings.password_file
        else '# password_file = "password.txt"',
        "",
    ]
    return "\n".join(lines)
