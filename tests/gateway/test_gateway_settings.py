"""The gateway's settings: gateway.toml and IPREG_GATEWAY_* overrides, every bad value refused by name.

(Named apart from tests/node/test_settings.py: pytest's default import mode needs unique basenames.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.settings import GatewaySettings, load_settings, settings_toml
from registry_node.cli.main import app as ipreg
from registry_node.protocol.errors import ConfigError

ADDRESS = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(text, "utf-8")
    return path


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, ""), environ={})
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'gateway.sqlite'}"
    assert (settings.listen_host, settings.listen_port, settings.confirmations) == (
        "127.0.0.1",
        8000,
        "majority",
    )
    assert (settings.max_page_size, settings.rate_limit_per_s, settings.rate_limit_burst) == (
        100,
        200.0,
        400.0,
    )
    assert settings.fetch_max_bytes == 4 * 1024 * 1024 and settings.max_upload_bytes == 8 * 1024 * 1024
    assert settings.signing_key == tmp_path.resolve() / "gateway-key.pem"
    assert settings.cors_origins == ()
    assert settings.deep_links_allow_private is False
    with pytest.raises(ConfigError, match="contract_address: not set"):
        settings.require_contract()


def test_settings_written_read_back_the_same(tmp_path: Path) -> None:
    settings = GatewaySettings(
        data_dir=tmp_path,
        contract_address=ADDRESS.lower(),
        chain_id=1337,
        database_url="postgresql+psycopg://gw@db.internal/gateway",
        confirmations=12,
        start_block=100,
        poll_interval_s=2.5,
        cors_origins=("https://auditor.example",),
        password_file=Path("pw.txt"),
        deep_links_allow_private=True,
    )
    assert load_settings(write(tmp_path, settings_toml(settings)), environ={}) == settings
    assert settings.contract_address == ADDRESS


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    environ = {
        "IPREG_GATEWAY_RPC_URL": "https://rpc.example:8545",
        "IPREG_GATEWAY_LISTEN_PORT": "9100",
        "IPREG_GATEWAY_RATE_LIMIT_PER_S": "5.5",
        "IPREG_GATEWAY_CORS_ORIGINS": "https://a.example, https://b.example",
        "IPREG_GATEWAY_DATABASE_URL": "postgresql://gw@db/gateway",
    }
    settings = load_settings(write(tmp_path, 'rpc_url = "http://chain:8545"\n'), environ=environ)
    assert settings.rpc_url == "https://rpc.example:8545"
    assert settings.listen_port == 9100 and settings.rate_limit_per_s == 5.5
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.database_url == "postgresql://gw@db/gateway"


@pytest.mark.parametrize(
    ("value", "allowed"), [("true", True), ("1", True), ("On", True), ("false", False), ("no", False)]
)
def test_the_environment_turns_private_deep_links_on_or_off(
    tmp_path: Path, value: str, allowed: bool
) -> None:
    path = write(tmp_path, f"deep_links_allow_private = {str(not allowed).lower()}\n")
    environ = {"IPREG_GATEWAY_DEEP_LINKS_ALLOW_PRIVATE": value}
    assert load_settings(path, environ=environ).deep_links_allow_private is allowed


@pytest.mark.parametrize(
    ("flags", "written"),
    [
        ([], "deep_links_allow_private = false"),
        (["--allow-private-deep-links"], "deep_links_allow_private = true"),
    ],
    ids=["off-by-default", "on-when-asked"],
)
def test_gateway_init_writes_whether_deep_links_may_reach_private_addresses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flags: list[str], written: str
) -> None:
    monkeypatch.setenv("IPREG_GATEWAY_PASSWORD", "a password for the test")
    answer = CliRunner().invoke(ipreg, ["gateway", "init", "--data-dir", str(tmp_path / "gw"), *flags])
    assert answer.exit_code == 0, answer.output
    text = (tmp_path / "gw" / "gateway.toml").read_text("utf-8")
    assert written in text.splitlines()
    assert load_settings(tmp_path / "gw" / "gateway.toml", environ={}).deep_links_allow_private is bool(flags)


def test_the_password_comes_from_a_file_or_the_environment(tmp_path: Path) -> None:
    settings = GatewaySettings(data_dir=tmp_path)
    assert settings.signing_key_password({"IPREG_GATEWAY_PASSWORD": "s3cret"}) == "s3cret"
    (tmp_path / "pw").write_text("from-file\n", "utf-8")
    assert (
        GatewaySettings(data_dir=tmp_path, password_file=Path("pw")).signing_key_password({}) == "from-file"
    )
    with pytest.raises(ConfigError, match="password_file"):
        GatewaySettings(data_dir=tmp_path, password_file=Path("missing")).signing_key_password({})


@pytest.mark.parametrize(
    ("text", "environ", "field"),
    [
        ('rpc_url = "ftp://x"', {}, "rpc_url"),
        ('contract_address = "0x12"', {}, "contract_address"),
        ("chain_id = 0", {}, "chain_id"),
        ('database_url = "mysql://x"', {}, "database_url"),
        ("confirmations = -1", {}, "confirmations"),
        ('confirmations = "all"', {}, "confirmations"),
        ('rpc_urls = ["ws://127.0.0.1:8546"]', {}, "rpc_urls"),
        ("start_block = -5", {}, "start_block"),
        ("poll_interval_s = 0", {}, "poll_interval_s"),
        ("listen_port = 70000", {}, "listen_port"),
        ("fetch_timeout_s = 0", {}, "fetch_timeout_s"),
        ("fetch_max_bytes = 10", {}, "fetch_max_bytes"),
        ("max_upload_bytes = 10", {}, "max_upload_bytes"),
        ("max_page_size = 0", {}, "max_page_size"),
        ("rate_limit_per_s = 0", {}, "rate_limit_per_s"),
        ('cors_origins = ["https://a.example/path"]', {}, "cors_origins"),
        ('cors_origins = "https://a.example"', {}, "cors_origins"),
        ('listen_port = "8000"', {}, "listen_port"),
        ("unknown_key = 1", {}, "unknown_key"),
        ("", {"IPREG_GATEWAY_LISTEN_PORT": "eighty"}, "listen_port"),
        ("", {"IPREG_GATEWAY_POLL_INTERVAL_S": "soon"}, "poll_interval_s"),
        ('deep_links_allow_private = "yes"', {}, "deep_links_allow_private"),
        ("deep_links_allow_private = 1", {}, "deep_links_allow_private"),
        ("", {"IPREG_GATEWAY_DEEP_LINKS_ALLOW_PRIVATE": "maybe"}, "deep_links_allow_private"),
    ],
)
def test_bad_values_are_refused_by_name(
    tmp_path: Path, text: str, environ: dict[str, str], field: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(write(tmp_path, text), environ=environ)
    assert refused.value.field == field


def test_a_missing_or_broken_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ipreg gateway init"):
        load_settings(tmp_path / "nope.toml", environ={})
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "= ="), environ={})
