"""`ipreg network besu-profile`: the Besu QBFT profile, written from a consortium file and read back the way
Besu reads it (the genesis extraData decoded by the QBFT codec, the TOML files parsed)."""

from __future__ import annotations

import json
import stat
import tomllib
from pathlib import Path

import pytest
from eth_keys.datatypes import PrivateKey
from typer.testing import CliRunner, Result

from registry_node.cli.main import app
from registry_node.protocol.consensus.qbft import QBFT_MIX_HASH, decode_extra, encode_extra

OFFICES = [
    ("EP", "European Patent Office", "0x" + "e1" * 20),
    ("GB", "UK Intellectual Property Office", "0x" + "9b" * 20),
    ("KR", "Korean Intellectual Property Office", "0x" + "4b" * 20),
]
DEPLOYER = "0x" + "de" * 20
# A node key an office keeps itself: the profile gets only its public side, as an enode.
KR_KEY = PrivateKey(bytes(31) + b"\x07")
KR_ENODE = f"enode://{KR_KEY.public_key.to_bytes().hex()}@192.0.2.30:30303"


def consortium_file(folder: Path, extra: dict[str, str] | None = None, kr_enode: bool = True) -> Path:
    """A consortium file as `ipreg chain deploy --consortium` reads it, with Besu's optional fields."""
    lines = ["[governance]", 'threshold = "2/3"', ""]
    for code, name, account in OFFICES:
        lines += ["[[offices]]", f'code = "{code}"', f'name = "{name}"', f'account = "{account}"']
        lines.append(f'endpoint = "https://registry.{code.lower()}.example/records"')
        if code == "KR" and kr_enode:
            lines.append(f'enode = "{KR_ENODE}"')
        for key, value in (extra or {}).items() if code == "GB" else ():
            lines.append(f"{key} = {value}")
        lines.append("")
    path = folder / "consortium.toml"
    path.write_text("\n".join(lines))
    return path


def besu_profile(*args: str) -> Result:
    return CliRunner().invoke(app, ["network", "besu-profile", *args])


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("profile")
    out = folder / "besu"
    result = besu_profile(
        "--consortium", str(consortium_file(folder)), "--out", str(out), "--chain-id", "4242",
        "--base-port", "9545", "--deployer", DEPLOYER,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "EP  validator 0x" in result.output
    return out


def node_key_address(profile: Path, office: str) -> str:
    key = (profile / office / "key").read_text().strip()
    return str(PrivateKey(bytes.fromhex(key.removeprefix("0x"))).public_key.to_address()).lower()


def validators_in_order(profile: Path) -> list[str]:
    return [
        node_key_address(profile, "EP"),
        node_key_address(profile, "GB"),
        str(KR_KEY.public_key.to_address()).lower(),
    ]


def test_the_genesis_lists_each_offices_node_key_as_its_validator_in_consortium_order(profile: Path) -> None:
    genesis = json.loads((profile / "genesis.json").read_text())
    raw = bytes.fromhex(genesis["extraData"].removeprefix("0x"))

    extra = decode_extra(raw)

    assert encode_extra(extra) == raw
    assert list(extra.validators) == validators_in_order(profile)
    assert (extra.vanity, extra.vote, extra.round, extra.seals) == (bytes(32), None, 0, ())


def test_the_genesis_is_qbft_under_london_rules_with_a_zero_base_fee(profile: Path) -> None:
    genesis = json.loads((profile / "genesis.json").read_text())
    config = genesis["config"]

    assert genesis["mixHash"] == QBFT_MIX_HASH
    assert genesis["difficulty"] == "0x1"
    assert genesis["baseFeePerGas"] == "0x0" and config["zeroBaseFee"] is True
    assert config["chainId"] == 4242
    assert config["berlinBlock"] == 0 and config["londonBlock"] == 0
    assert not {key for key in config if key.endswith("Time")}  # no Shanghai, no Cancun
    assert config["qbft"] == {"blockperiodseconds": 2, "epochlength": 30000, "requesttimeoutseconds": 10}
    assert int(genesis["gasLimit"], 16) == 100_000_000


def test_the_genesis_funds_every_office_account_and_the_deployer(profile: Path) -> None:
    alloc = json.loads((profile / "genesis.json").read_text())["alloc"]

    assert set(alloc) == {account[2:] for _, _, account in OFFICES} | {DEPLOYER[2:]}
    assert all(int(entry["balance"], 16) > 0 for entry in alloc.values())


def test_the_permissions_list_every_nodes_enode_and_every_office_account(profile: Path) -> None:
    permissions = tomllib.loads((profile / "permissions_config.toml").read_text())
    static_nodes = json.loads((profile / "static-nodes.json").read_text())

    assert set(permissions) == {"nodes-allowlist", "accounts-allowlist"}
    assert permissions["accounts-allowlist"] == [account for _, _, account in OFFICES] + [DEPLOYER]
    assert permissions["nodes-allowlist"] == static_nodes
    assert static_nodes[2] == KR_ENODE
    for office, address in zip(("EP", "GB"), validators_in_order(profile), strict=False):
        public_key = PrivateKey(bytes.fromhex((profile / office / "key").read_text().strip()[2:])).public_key
        assert str(public_key.to_address()).lower() == address
        assert f"enode://{public_key.to_bytes().hex()}@127.0.0.1:" in static_nodes[["EP", "GB"].index(office)]


def test_each_office_gets_a_besu_config_whose_ports_follow_the_base_port(profile: Path) -> None:
    static_nodes = json.loads((profile / "static-nodes.json").read_text())
    for i, (office, _, _) in enumerate(OFFICES):
        config = tomllib.loads((profile / office / "config.toml").read_text())

        assert config["genesis-file"] == "genesis.json"
        assert config["data-path"] == f"{office}/data"
        assert config["node-private-key-file"] == f"{office}/key"
        assert config["rpc-http-enabled"] is True
        assert config["rpc-http-port"] == 9545 + i
        assert config["rpc-http-api"] == ["ETH", "NET", "WEB3", "QBFT"]
        assert config["permissions-nodes-config-file-enabled"] is True
        assert config["permissions-accounts-config-file-enabled"] is True
        assert config["permissions-nodes-config-file"] == "permissions_config.toml"
        assert config["min-gas-price"] == 0
        assert static_nodes[i].endswith(f"@{config['p2p-host']}:{config['p2p-port']}")
        assert (profile / config["genesis-file"]).is_file()
    assert tomllib.loads((profile / "EP" / "config.toml").read_text())["p2p-port"] == 9645


def test_generated_node_keys_are_private_and_an_office_with_its_own_enode_gets_none(profile: Path) -> None:
    for office in ("EP", "GB"):
        assert stat.S_IMODE((profile / office / "key").stat().st_mode) == 0o600
    assert not (profile / "KR" / "key").exists()
    readme = (profile / "README.txt").read_text()
    assert "besu --config-file=EP/config.toml" in readme
    assert "bring its own key as KR/key" in readme
    assert "not run here" in readme


def test_a_non_empty_out_folder_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "besu"
    out.mkdir()
    (out / "notes.txt").write_text("mine")

    result = besu_profile("--consortium", str(consortium_file(tmp_path)), "--out", str(out))

    assert result.exit_code == 1
    assert "--out" in result.stderr and "not an empty folder" in result.stderr
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize(
    ("gb_fields", "field", "reason"),
    [
        ({"host": '"registry.gb.example"'}, "offices[1].host", "must be an IP address"),
        ({"enode": '"enode://abc@10.0.0.1:30303"'}, "offices[1].enode", "must be enode://"),
        ({"enode": f'"{KR_ENODE}"'}, "offices[2].enode", "the same node key as GB's"),
        (
            {"enode": '"enode://' + "11" * 64 + '@10.0.0.1:30303"'},
            "offices[1].enode",
            "not a point of secp256k1",
        ),
        ({"host": '"10.0.0.1"', "enode": f'"{KR_ENODE}"'}, "offices[1].host", "either host or enode"),
    ],
)
def test_a_bad_office_entry_is_named_and_nothing_is_written(
    tmp_path: Path, gb_fields: dict[str, str], field: str, reason: str
) -> None:
    consortium = consortium_file(tmp_path, gb_fields)

    result = besu_profile("--consortium", str(consortium), "--out", str(tmp_path / "besu"))

    assert result.exit_code == 1
    assert f"{field}: " in result.stderr and reason in result.stderr
    assert not (tmp_path / "besu").exists()


def test_a_bad_option_is_named(tmp_path: Path) -> None:
    consortium = str(consortium_file(tmp_path))

    deployer = besu_profile("--consortium", consortium, "--out", str(tmp_path / "a"), "--deployer", "0x12")
    port = besu_profile("--consortium", consortium, "--out", str(tmp_path / "b"), "--base-port", "80")

    near_the_top = besu_profile(
        "--consortium", consortium, "--out", str(tmp_path / "c"), "--base-port", "65434"
    )

    assert deployer.exit_code == 1 and "--deployer: not an Ethereum address" in deployer.stderr
    assert port.exit_code == 1 and "--base-port: must be from 1024" in port.stderr
    assert (
        near_the_top.exit_code == 1
        and "--base-port: 65434 leaves no room for 3 nodes' ports" in near_the_top.stderr
    )


def test_a_consortium_file_the_common_loader_refuses_is_refused_with_its_field(tmp_path: Path) -> None:
    consortium = tmp_path / "consortium.toml"
    consortium.write_text('[governance]\nthreshold = "2/3"\n')

    result = besu_profile("--consortium", str(consortium), "--out", str(tmp_path / "besu"))

    assert result.exit_code == 1
    assert "offices: must be a list of [[offices]] tables" in result.stderr
    assert not (tmp_path / "besu").exists()


def test_a_missing_consortium_file_is_named(tmp_path: Path) -> None:
    result = besu_profile("--consortium", str(tmp_path / "nowhere.toml"), "--out", str(tmp_path / "besu"))

    assert result.exit_code == 1
    assert "nowhere.toml: cannot read the consortium file" in result.stderr
