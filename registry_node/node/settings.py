"""The office node's settings: one typed object, read from `node.toml` in the data directory, then from
the environment (`IPREG_NODE_<KEY>`, e.g. `IPREG_NODE_RPC_URL`, `IPREG_NODE_LISTEN_PORT`).

Keys are flat and named as the fields of `NodeSettings`; relative paths are inside the data directory.
Every bad value is a ConfigError naming the key. No secret lives here: the operator token is kept as its
SHA-256 only, and the key password comes from `IPREG_NODE_PASSWORD`, a file or a prompt, never a setting.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from registry_node.protocol.errors import ConfigError
from registry_node.protocol.keys.pkcs11 import TokenUri, is_token_uri
from registry_node.protocol.settings import (
    MAJORITY,
    URL,
    ServiceSettings,
    SettingsSchema,
    check_listen,
    checked_chain,
    read_settings,
    require,
    toml_line,
)

SETTINGS_FILE = "node.toml"
ENV_PREFIX = "IPREG_NODE_"
PASSWORD_ENV = "IPREG_NODE_PASSWORD"
PKCS11_PIN_ENV = "IPREG_NODE_PKCS11_PIN"
DEFAULT_RPC_URL = "http://127.0.0.1:8545"
DEFAULT_LISTEN_HOST = "127.0.0.1"
DEFAULT_LISTEN_PORT = 8101
MIB = 1024 * 1024
MIN_BODY_BYTES = 1024
MAX_BODY_BYTES = 256 * MIB
OFFICE_CODE = re.compile(r"^[A-Z]{2}\Z")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}\Z")
STORE_FILE = "node.sqlite"
DEFAULT_ANCHOR_BATCH = 1000
MAX_ANCHOR_BATCH = 100_000

# Keys `init` writes commented out when it does not know them yet, and that may stay unset.
OPTIONAL_KEYS = ("contract_address", "chain_id", "st96_schema_dir")
KEY_LOCATIONS = ("account_keystore", "signing_key")

KeyLocation = Path | TokenUri  # a file in the data directory, or a key in a PKCS#11 token


@dataclass(frozen=True)
class NodeSettings(ServiceSettings):
    """What one office node needs to run; validated on construction, paths made absolute."""

    settings_file: ClassVar[str] = SETTINGS_FILE
    env_prefix: ClassVar[str] = ENV_PREFIX

    office_code: str
    office_name: str
    data_dir: Path
    operator_token_sha256: str
    rpc_url: str = DEFAULT_RPC_URL  # the office's own validator
    rpc_urls: tuple[str, ...] = ()
    contract_address: str | None = None  # the SharedIPRegistry; `run` and `register-keys` need it
    chain_id: int | None = None  # when set, the node refuses a chain with another id
    confirmations: int | str = MAJORITY  # blocks, the block itself included
    listen_host: str = DEFAULT_LISTEN_HOST
    listen_port: int = DEFAULT_LISTEN_PORT
    public_url: str = ""  # base of deep links; empty: http://{listen_host}:{listen_port}
    max_body_bytes: int = MIB
    anchor_batch_size: int = DEFAULT_ANCHOR_BATCH  # records per Merkle root in an anchored import
    account_keystore: KeyLocation = Path("account.json")  # a keystore file, or a pkcs11: URI (secp256k1)
    signing_key: KeyLocation = Path("signing-key.pem")  # an encrypted PKCS#8 file, or a pkcs11: URI
    pkcs11_module: str = ""  # the PKCS#11 library of the token, unless a key's URI names its module-path
    st96_schema_dir: Path | None = None

    def __post_init__(self) -> None:
        require(OFFICE_CODE.match(self.office_code), "office_code", "must be two capital letters (WIPO ST.3)")
        require(
            0 < len(self.office_name.strip().encode()) <= 200, "office_name", "must be 1 to 200 bytes long"
        )
        require(self.data_dir.is_absolute(), "data_dir", "must be an absolute path")
        require(
            SHA256_HEX.match(self.operator_token_sha256),
            "operator_token_sha256",
            "must be the token's SHA-256: 64 lower-case hex digits",
        )
        address = checked_chain(
            self.rpc_url, self.contract_address, self.chain_id, self.rpc_urls, self.confirmations
        )
        object.__setattr__(self, "contract_address", address)
        check_listen(self.listen_host, self.listen_port)
        if not self.public_url:
            object.__setattr__(self, "public_url", f"http://{self.listen_host}:{self.listen_port}")
        require(URL.match(self.public_url), "public_url", f"must be an http(s) URL, got {self.public_url!r}")
        object.__setattr__(self, "public_url", self.public_url.rstrip("/"))
        require(
            MIN_BODY_BYTES <= self.max_body_bytes <= MAX_BODY_BYTES,
            "max_body_bytes",
            f"must be {MIN_BODY_BYTES} to {MAX_BODY_BYTES}, got {self.max_body_bytes}",
        )
        require(
            1 <= self.anchor_batch_size <= MAX_ANCHOR_BATCH,
            "anchor_batch_size",
            f"must be 1 to {MAX_ANCHOR_BATCH}, got {self.anchor_batch_size}",
        )
        for name in KEY_LOCATIONS:
            object.__setattr__(self, name, _key_location(name, getattr(self, name), self.data_dir))
        if self.st96_schema_dir is not None:
            object.__setattr__(self, "st96_schema_dir", self.data_dir / self.st96_schema_dir)
        if self.st96_schema_dir is not None:
            require(
                self.st96_schema_dir.is_dir(), "st96_schema_dir", f"no such folder: {self.st96_schema_dir}"
            )

    @property
    def store_path(self) -> Path:
        return self.data_dir / STORE_FILE

    def location_text(self, location: KeyLocation) -> str:
        """A key location as node.toml writes it: a path relative to the data directory, or the URI."""
        return str(location) if isinstance(location, TokenUri) else self.relative(location)


def _key_location(name: str, value: object, data_dir: Path) -> KeyLocation:
    """A `pkcs11:` URI names a key in a token; anything else is a file, relative to the data directory."""
    if isinstance(value, TokenUri):
        return value
    if is_token_uri(value):
        return TokenUri.parse(str(value), name)
    require(isinstance(value, str | Path) and str(value), name, "must be a file path or a pkcs11: URI")
    return data_dir / Path(str(value))


def token_digest(token: str) -> str:
    """What the settings keep of the operator token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# ------------------------------------------------------------ reading

_SCHEMA = SettingsSchema(
    keys=frozenset(f.name for f in dataclasses.fields(NodeSettings) if f.name != "data_dir"),
    env_prefix=ENV_PREFIX,
    how_to_create="create the node with `ipreg node init`",
    ints=frozenset({"chain_id", "listen_port", "max_body_bytes", "anchor_batch_size"}),
    lists=frozenset({"rpc_urls"}),
    depths=frozenset({"confirmations"}),
    paths=frozenset({"st96_schema_dir"}),  # key locations stay text: a pkcs11: URI is not a path
    optional=frozenset(OPTIONAL_KEYS),
)


def load_settings(path: Path, environ: Mapping[str, str] | None = None) -> NodeSettings:
    """Reads `path` (a node.toml; its folder is the data directory), then `IPREG_NODE_*` overrides."""
    values = read_settings(path, _SCHEMA, environ)
    for key in ("office_code", "office_name", "operator_token_sha256"):
        if key not in values:
            raise ConfigError(key, f"missing from {path}")
    return NodeSettings(data_dir=path.parent.resolve(), **values)


# ------------------------------------------------------------ writing


def settings_toml(settings: NodeSettings) -> str:
    """The node.toml that `load_settings` reads back as `settings`; unknown optional keys as comments."""

    lines = [
        "# Office node settings (`ipreg node`). Relative paths are inside this folder.",
        f"# Any key can be overridden by the environment: {ENV_PREFIX}<KEY IN CAPITALS>.",
        "",
        toml_line("office_code", settings.office_code),
        toml_line("office_name", settings.office_name),
        "",
        *settings.chain_toml(),
        "",
        "# the API (operator routes need the token whose SHA-256 is below; deep links are public)",
        toml_line("listen_host", settings.listen_host),
        toml_line("listen_port", settings.listen_port),
        toml_line("public_url", settings.public_url),
        toml_line("max_body_bytes", settings.max_body_bytes),
        toml_line("operator_token_sha256", settings.operator_token_sha256),
        "",
        "# keys, encrypted with the node password (IPREG_NODE_PASSWORD, --password-file or a prompt)",
        "# (or in a PKCS#11 token: a pkcs11: URI, the module below, the PIN from the URI's pin-source,",
        f"# {PKCS11_PIN_ENV} or the node password)",
        toml_line("account_keystore", settings.location_text(settings.account_keystore)),
        toml_line("signing_key", settings.location_text(settings.signing_key)),
        toml_line("pkcs11_module", settings.pkcs11_module)
        if settings.pkcs11_module
        else '# pkcs11_module = "/usr/lib/softhsm/libsofthsm2.so"',
        "",
        "# ST.96 import: records per Merkle root in an anchored import, and the folder of WIPO's ST.96",
        "# schemas, to validate each file against its XSD",
        toml_line("anchor_batch_size", settings.anchor_batch_size),
        toml_line("st96_schema_dir", str(settings.st96_schema_dir))
        if settings.st96_schema_dir
        else '# st96_schema_dir = "/path/to/ST96/V6_0"',
        "",
    ]
    return "\n".join(lines)
