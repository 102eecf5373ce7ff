"""The node's settings: node.toml and IPREG_NODE_* overrides, every bad value refused by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from registry_node.node.settings import NodeSettings, load_settings, settings_toml, token_digest
from registry_node.protocol.errors import ConfigError

ADDRESS = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "node.toml"
    path.write_text(text, "utf-8")
    return path


def minimal(**extra: Any) -> str:
    """The three required keys, and `extra` as TOML."""
    values: dict[str, Any] = {
        "office_code": "EP",
        "office_name": "European Patent Office",
        "operator_token_sha256": token_digest("t"),
        **extra,
    }
    return "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items())


def test_settings_written_by_init_read_back_the_same(tmp_path: Path) -> None:
    (tmp_path / "ST96").mkdir()
    settings = NodeSettings(
        office_code="GB",
        office_name='UK "Intellectual Property" Office — Newport',
        data_dir=tmp_path,
        operator_token_sha256=token_digest("secret"),
        contract_address=ADDRESS.lower(),
        chain_id=1337,
        listen_port=8102,
        st96_schema_dir=tmp_path / "ST96",
        rpc_urls=("http://10.0.0.2:8545", "http://10.0.0.3:8545"),
        confirmations=4,
    )
    path = write(tmp_path, settings_toml(settings))
    assert load_settings(path, environ={}) == settings
    assert settings.contract_address == ADDRESS  # checksummed
    assert settings.account_keystore == tmp_path / "account.json"
    assert settings.public_url == "http://127.0.0.1:8102"
    assert "secret" not in path.read_text("utf-8")


def test_defaults_keep_the_api_on_localhost(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, minimal()), environ={})
    assert (settings.listen_host, settings.listen_port) == ("127.0.0.1", 8101)
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.contract_address is None
    with pytest.raises(ConfigError, match="contract_address: not set"):
        settings.require_contract()


def test_the_node_confirms_at_the_validators_majority_unless_told_a_number(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, minimal()), environ={}).confirmations == "majority"
    environ = {"IPREG_NODE_CONFIRMATIONS": "6", "IPREG_NODE_RPC_URLS": "http://a:1, http://b:2"}
    settings = load_settings(write(tmp_path, minimal()), environ=environ)
    assert settings.confirmations == 6
    assert settings.chain_urls == ("http://127.0.0.1:8545", "http://a:1", "http://b:2")


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, minimal(rpc_url="http://chain:8545", listen_port=9000))
    environ = {
        "IPREG_NODE_RPC_URL": "https://rpc.example:8545",
        "IPREG_NODE_LISTEN_PORT": "9100",
        "IPREG_NODE_CONTRACT_ADDRESS": ADDRESS,
        "IPREG_NODE_SIGNING_KEY": "/keys/sign.pem",
    }
    settings = load_settings(path, environ=environ)
    assert settings.rpc_url == "https://rpc.example:8545"
    assert settings.listen_port == 9100
    assert settings.contract_address == ADDRESS
    assert settings.signing_key == Path("/keys/sign.pem")


@pytest.mark.parametrize(
    ("text", "environ", "field"),
    [
        (minimal(listen_port=70000), {}, "listen_port"),
        (minimal(listen_port="8101"), {}, "listen_port"),
        (minimal(), {"IPREG_NODE_LISTEN_PORT": "eighty"}, "listen_port"),
        (minimal(confirmations=True), {}, "confirmations"),
        (minimal(confirmations=0), {}, "confirmations"),
        (minimal(confirmations="most"), {}, "confirmations"),
        (minimal(), {"IPREG_NODE_CONFIRMATIONS": "half"}, "confirmations"),
        (minimal(rpc_urls=["http://127.0.0.1:8546", "localhost:8547"]), {}, "rpc_urls"),
        (minimal(max_body_bytes=10), {}, "max_body_bytes"),
        (minimal(rpc_url="localhost:8545"), {}, "rpc_url"),
        (minimal(public_url="ftp://x"), {}, "public_url"),
        (minimal(contract_address="0x1234"), {}, "contract_address"),
        (minimal(chain_id=0), {}, "chain_id"),
        (minimal(colour="red"), {}, "colour"),
        (minimal(st96_schema_dir="no/such/folder"), {}, "st96_schema_dir"),
        (minimal().replace('"EP"', '"ep"'), {}, "office_code"),
        (minimal().replace(token_digest("t"), "plain-token"), {}, "operator_token_sha256"),
        ('office_code = "EP"\n', {}, "office_name"),
    ],
)
def test_a_bad_value_is_refused_naming_the_setting(
    tmp_path: Path, text: str, environ: dict[str, str], field: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(write(tmp_path, text), environ=environ)
    assert refused.value.field == field


def test_a_missing_or_broken_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ipreg node init"):
        load_settings(tmp_path / "node.toml", environ={})
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "office_code = "), environ={})
