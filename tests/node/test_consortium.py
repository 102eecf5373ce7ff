"""The consortium file: every invalid value is refused naming its field; a valid one deploys as written."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from eth_account import Account

from registry_node.node.consortium import (
    SECONDS_PER_DAY,
    ConsortiumConfig,
    FoundingOffice,
    consortium_from_dict,
    deploy_consortium,
    load_consortium,
)
from registry_node.node.transactor import Transactor
from registry_node.protocol.contract import load_artifact
from registry_node.protocol.errors import ConfigError

if TYPE_CHECKING:
    from conftest import Consortium

OFFICE_ACTIVE = 1
OFFICE_NONE = 0

ACCOUNTS = [Account.create().address for _ in range(3)]


def office(code: str, account: str, **changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "code": code,
        "name": f"{code} Intellectual Property Office",
        "account": account,
        "endpoint": f"https://{code.lower()}.example/registry",
    }
    entry.update(changes)
    return entry


def valid_data() -> dict[str, Any]:
    return {
        "governance": {"threshold": "2/3", "voting_period_days": 7},
        "offices": [office("EP", ACCOUNTS[0]), office("GB", ACCOUNTS[1]), office("KR", ACCOUNTS[2])],
    }


def with_office(index: int, **changes: Any) -> dict[str, Any]:
    data = valid_data()
    data["offices"][index].update(changes)
    return data


def without_office_key(index: int, key: str) -> dict[str, Any]:
    data = valid_data()
    del data["offices"][index][key]
    return data


def with_governance(**changes: Any) -> dict[str, Any]:
    data = valid_data()
    data["governance"].update(changes)
    return data


INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    ("no offices", {"governance": {}}, "offices", "must be a list"),
    ("offices not a list", {"offices": {"code": "EP"}}, "offices", "must be a list"),
    ("empty offices", {"offices": []}, "offices", "at least one founding office"),
    ("lower-case code", with_office(1, code="gb"), "offices[1].code", "two capital letters"),
    ("three-letter code", with_office(2, code="KOR"), "offices[2].code", "two capital letters"),
    ("duplicate code", with_office(2, code="EP"), "offices[2].code", "listed twice"),
    ("code not a string", with_office(0, code=44), "offices[0].code", "missing or not a string"),
    ("missing name", without_office_key(1, "name"), "offices[1].name", "missing or not a string"),
    ("empty name", with_office(0, name=""), "offices[0].name", "1 to 200 bytes"),
    ("name over 200 bytes", with_office(0, name="é" * 101), "offices[0].name", "1 to 200 bytes"),
    ("malformed account", with_office(0, account="0x1234"), "offices[0].account", "not an Ethereum address"),
    ("missing account", without_office_key(2, "account"), "offices[2].account", "missing or not a string"),
    (
        "account shared by two offices",
        with_office(1, account=ACCOUNTS[0].lower()),
        "offices[1].account",
        "already the account of another office",
    ),
    ("endpoint not http", with_office(1, endpoint="ftp://gb.example"), "offices[1].endpoint", "http(s) URL"),
    ("endpoint without host", with_office(1, endpoint="https://"), "offices[1].endpoint", "http(s) URL"),
    ("missing endpoint", without_office_key(0, "endpoint"), "offices[0].endpoint", "missing or not a string"),
    (
        "threshold below one half",
        with_governance(threshold="1/3"),
        "governance.threshold",
        "from 1/2 to below 1",
    ),
    ("threshold of one", with_governance(threshold="1"), "governance.threshold", "from 1/2 to below 1"),
    ("threshold not a fraction", with_governance(threshold="most"), "governance.threshold", "not a fraction"),
    ("threshold over zero", with_governance(threshold="2/0"), "governance.threshold", "not a fraction"),
    (
        "threshold denominator beyond uint16",
        with_governance(threshold="40000/65537"),
        "governance.threshold",
        "from 1/2 to below 1",
    ),
    (
        "zero voting period",
        with_governance(voting_period_days=0),
        "governance.voting_period_days",
        "positive",
    ),
    (
        "negative voting period",
        with_governance(voting_period_days=-1),
        "governance.voting_period_days",
        "positive",
    ),
    (
        "voting period as text",
        with_governance(voting_period_days="seven"),
        "governance.voting_period_days",
        "not a finite number",
    ),
    (
        "voting period as boolean",
        with_governance(voting_period_days=True),
        "governance.voting_period_days",
        "not a finite number",
    ),
    (
        "infinite voting period",
        with_governance(voting_period_days=float("inf")),
        "governance.voting_period_days",
        "not a finite number",
    ),
    (
        "max offices below the founders",
        with_governance(max_offices=1),
        "governance.max_offices",
        "from the number of founding offices",
    ),
    (
        "max offices above the contract's limit",
        with_governance(max_offices=513),
        "governance.max_offices",
        "to 512",
    ),
    (
        "max offices as text",
        with_governance(max_offices="many"),
        "governance.max_offices",
        "not a whole number",
    ),
    (
        "governance not a table",
        {"governance": "2/3", "offices": []},
        "governance",
        "[governance] table",
    ),
]


@pytest.mark.parametrize(
    ("data", "field", "reason"), [case[1:] for case in INVALID], ids=[case[0] for case in INVALID]
)
def test_an_invalid_consortium_is_refused_naming_the_field_and_the_reason(
    data: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        consortium_from_dict(data)
    assert caught.value.field == field
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"{field}: ")


def test_an_office_entry_that_is_not_a_table_is_refused_naming_it() -> None:
    with pytest.raises(ConfigError) as caught:
        consortium_from_dict({"offices": ["EP", "GB"]})
    assert caught.value.field == "offices[0]"


def test_the_dataclass_itself_refuses_an_empty_office_list() -> None:
    with pytest.raises(ConfigError) as caught:
        ConsortiumConfig([])
    assert caught.value.field == "offices"


def test_governance_defaults_to_more_than_two_thirds_and_seven_days() -> None:
    data = valid_data()
    del data["governance"]
    config = consortium_from_dict(data)
    assert config.threshold == Fraction(2, 3)
    assert config.voting_period_s == 7 * SECONDS_PER_DAY


def test_a_threshold_of_exactly_one_half_and_a_fractional_voting_period_are_accepted() -> None:
    config = consortium_from_dict(with_governance(threshold="1/2", voting_period_days=0.5))
    assert config.threshold == Fraction(1, 2)
    assert config.voting_period_s == SECONDS_PER_DAY // 2


def test_a_valid_toml_file_loads_with_its_offices_and_governance(tmp_path: Path) -> None:
    path = tmp_path / "consortium.toml"
    path.write_text(
        f"""
# founding offices of the test consortium
[governance]
threshold = "3/4"          # proposals need more than three quarters
voting_period_days = 14

[[offices]]
code = "EP"
name = "European Patent Office"
account = "{ACCOUNTS[0]}"
endpoint = "https://ep.example/registry"

[[offices]]
code = "GB"
name = "UK Intellectual Property Office"
account = "{ACCOUNTS[1].lower()}"
endpoint = "http://gb.example:8080/registry"
""",
        "utf-8",
    )
    config = load_consortium(path)
    assert config.threshold == Fraction(3, 4)
    assert config.voting_period_s == 14 * SECONDS_PER_DAY
    assert config.offices == [
        FoundingOffice("EP", "European Patent Office", ACCOUNTS[0], "https://ep.example/registry"),
        FoundingOffice(
            "GB", "UK Intellectual Property Office", ACCOUNTS[1].lower(), "http://gb.example:8080/registry"
        ),
    ]


def test_a_missing_consortium_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(ConfigError) as caught:
        load_consortium(path)
    assert caught.value.field == str(path)
    assert "cannot read the consortium file" in caught.value.reason


def test_a_malformed_toml_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[[offices]]\ncode = EP\n", "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_consortium(path)
    assert caught.value.field == str(path)
    assert "cannot read the consortium file" in caught.value.reason


def test_an_invalid_value_in_a_toml_file_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "consortium.toml"
    path.write_text(
        f'[governance]\nthreshold = "1/4"\n\n[[offices]]\ncode = "EP"\nname = "EPO"\n'
        f'account = "{ACCOUNTS[0]}"\nendpoint = "https://ep.example"\n',
        "utf-8",
    )
    with pytest.raises(ConfigError, match=r"^governance\.threshold: must be a fraction from 1/2"):
        load_consortium(path)


# --- deployed to a real chain ------------------------------------------------------------------------------


def test_the_deployed_contract_lists_the_founding_offices_in_order(consortium: Consortium) -> None:
    assert consortium.contract.functions.officeCodes().call() == [b"EP", b"GB", b"KR"]
    assert consortium.contract.functions.activeOfficeCount().call() == 3


def test_each_founding_office_has_its_name_account_and_endpoint_on_chain(consortium: Consortium) -> None:
    for founder in consortium.config.offices:
        code, status, account, pending, name, endpoint, key_count, validator = (
            consortium.contract.functions.office(founder.code.encode()).call()
        )
        assert code == founder.code.encode()
        assert status == OFFICE_ACTIVE
        assert account == founder.account == consortium.offices[founder.code].address
        assert pending == "0x" + "00" * 20
        assert name == founder.name
        assert endpoint == founder.endpoint
        assert key_count == 0
        assert validator == "0x" + "00" * 20  # each office names its validator itself, after deployment
        assert consortium.contract.functions.officeOf(founder.account).call() == [code, OFFICE_ACTIVE]


def test_the_governance_rules_are_on_chain_as_configured(consortium: Consortium) -> None:
    assert consortium.contract.functions.threshold().call() == [2, 3]
    assert consortium.contract.functions.votingPeriod().call() == consortium.config.voting_period_s
    assert consortium.contract.functions.maxOffices().call() == consortium.config.max_offices == 256
    assert consortium.config.voting_period_s == 7 * SECONDS_PER_DAY


def test_the_deployer_keeps_no_membership(consortium: Consortium) -> None:
    code, status = consortium.contract.functions.officeOf(consortium.deployer.address).call()
    assert status == OFFICE_NONE
    assert code == b"\0\0"


def test_the_deployment_record_says_where_the_contract_lives(consortium: Consortium) -> None:
    w3, deployment = consortium.w3, consortium.deployment
    record = deployment.to_json()
    assert record["chainId"] == w3.eth.chain_id == 1337
    assert record["contracts"] == {"SharedIPRegistry": consortium.contract.address}
    assert len(w3.eth.get_code(deployment.address)) > 0
    block = w3.eth.get_block(deployment.block_number)
    assert block["hash"].to_0x_hex() == record["deployment"]["blockHash"]
    assert record["deployment"]["txHash"] in [tx.to_0x_hex() for tx in block["transactions"]]
    assert record["offices"] == {code: acct.address for code, acct in consortium.offices.items()}


def test_custom_governance_is_deployed_as_configured(consortium: Consortium) -> None:
    founders = [
        FoundingOffice(f.code, f.name, Account.create().address, f.endpoint)
        for f in consortium.config.offices
    ]
    config = ConsortiumConfig(founders, threshold=Fraction(3, 4), voting_period_s=SECONDS_PER_DAY // 2)
    abi = load_artifact().abi
    deployment = deploy_consortium(Transactor(consortium.w3, consortium.deployer, abi), config)
    contract = consortium.w3.eth.contract(address=deployment.address, abi=abi)
    assert deployment.address != consortium.deployment.address
    assert contract.functions.threshold().call() == [3, 4]
    assert contract.functions.votingPeriod().call() == SECONDS_PER_DAY // 2
