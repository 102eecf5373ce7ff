"""Experiment files: the committed examples load, and a bad value is refused naming its field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from registry_node.experiment.config import DEFAULT_CONVEYANCES, config_from_dict, load_config
from registry_node.protocol.errors import ConfigError

EXAMPLES = Path(__file__).resolve().parents[2] / "scripts" / "experiments"


@pytest.mark.parametrize(
    "path", sorted(p for p in EXAMPLES.glob("*.yaml") if p.name != "world.yaml"), ids=str
)
def test_every_committed_example_loads(path: Path) -> None:
    config = load_config(path)
    assert config.name == path.stem
    assert config.offices >= 1


def test_defaults_use_the_design_conveyance_mix() -> None:
    config = config_from_dict({"name": "x"})
    assert dict(config.workload.conveyances) == DEFAULT_CONVEYANCES
    assert config.workload.conflicts == 0  # a run races nothing unless it asks to
    assert config.chain.kind == "ganache" and config.gateway and config.mode == "per-right"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "bad name!"}, "name"),
        ({"offices": 0}, "offices"),
        ({"offices": "two"}, "offices"),
        ({"mode": "merkle"}, "mode"),
        ({"batch_size": 0}, "batch_size"),
        ({"chain": "geth"}, "chain"),
        ({"chain": {"rpc": "ftp://x"}}, "chain.rpc"),
        ({"chain": {"rpc": "http://x", "deployer_key_env": "lower"}}, "chain.deployer_key_env"),
        ({"workload": {"operations": 0}}, "workload.operations"),
        ({"workload": {"operations": 5, "duration_s": 5}}, "workload"),
        ({"workload": {"mix": {"registration": -1}}}, "workload.mix.registration"),
        ({"workload": {"mix": {"teleport": 1}}}, "workload.mix.teleport"),
        ({"workload": {"conveyances": {"assignment": "lots"}}}, "workload.conveyances.assignment"),
        ({"workload": {"opertions": 5}}, "workload.opertions"),
        ({"workload": {"conflicts": -0.1}}, "workload.conflicts"),
        ({"workload": {"conflicts": 1}}, "workload.conflicts"),
        ({"workload": {"conflicts": "some"}}, "workload.conflicts"),
        ({"workload": {"conflicts": True}}, "workload.conflicts"),
        ({"workload": {"conflicts": 0.1, "mix": {"registration": 1}}}, "workload.conflicts"),
        ({"load": {"rate": 0}}, "load.rate"),
        ({"load": {"rate": 1, "concurrency": 2}}, "load"),
        ({"faults": [{"kind": "meteor", "at": 0.5}]}, "faults[0].kind"),
        ({"faults": [{"kind": "kill_node", "at": 1.5}]}, "faults[0].at"),
        ({"offices": 2, "faults": [{"kind": "kill_node", "at": 0.5, "office": "KR"}]}, "faults[0].office"),
        ({"chain": "hardhat", "faults": [{"kind": "restart_chain", "at": 0.5}]}, "faults[0].kind"),
        ({"gateway": False}, "workload.mix.verification"),
        ({"colour": "blue"}, "colour"),
        ({"offices": 3, "chain": {"geth": {"validators": 0}}}, "chain.geth.validators"),
        ({"offices": 3, "chain": {"geth": {"validators": 4}}}, "chain.geth.validators"),
        ({"chain": {"geth": {"period": 61}}}, "chain.geth.period"),
        ({"chain": {"geth": {"period": 1.5}}}, "chain.geth.period"),
        ({"chain": {"geth": {"isolate": "yes"}}}, "chain.geth.isolate"),
        ({"chain": {"geth": {"gas_limit": 10}}}, "chain.geth.gas_limit"),
        ({"chain": {"geth": {"validator": 2}}}, "chain.geth.validator"),
        ({"chain": {"geth": [3]}}, "chain.geth"),
        ({"chain": {"geth": {}, "rpc": "http://x"}}, "chain"),
        ({"faults": [{"kind": "kill_validator", "at": 0.5, "office": "EP"}]}, "faults[0].kind"),
        ({"chain": "hardhat", "faults": [{"kind": "restart_validator", "at": 0.5}]}, "faults[0].kind"),
        (
            {
                "offices": 3,
                "chain": {"geth": {"validators": 2}},
                "faults": [{"kind": "kill_validator", "at": 0.5, "office": "KR"}],
            },
            "faults[0].office",
        ),
        (
            {
                "offices": 3,
                "chain": {"geth": {"validators": 3}},
                "faults": [{"kind": "partition_validator", "at": 0.5, "office": "GB"}],
            },
            "faults[0].kind",
        ),
        (
            {"chain": {"geth": {}}, "faults": [{"kind": "restart_gateway", "at": 0.5, "office": "EP"}]},
            "faults[0].office",
        ),
    ],
)
def test_a_bad_value_is_refused_naming_its_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as refused:
        config_from_dict({"name": "x", **data})
    assert refused.value.field == field
    assert str(refused.value).startswith(f"{field}: ")


def test_an_unreadable_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("offices: [", "utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert refused.value.field == str(path)


def test_a_conflict_share_is_read_and_written_back_with_the_results() -> None:
    config = config_from_dict({"name": "x", "workload": {"conflicts": 0.05}})
    assert config.workload.conflicts == 0.05
    assert config.to_json()["workload"]["conflicts"] == 0.05


def test_a_geth_network_is_read_with_its_validators_period_and_isolation() -> None:
    config = config_from_dict(
        {"name": "x", "offices": 5, "chain": {"geth": {"validators": 3, "period": 2, "isolate": True}}}
    )
    chain = config.chain
    assert (chain.kind, chain.validators, chain.period_s, chain.isolate) == ("geth", 3, 2, True)
    assert chain.block_gas_limit == 100_000_000 and chain.keeps_data
    assert config.to_json()["chain"] == {
        "kind": "geth", "url": None, "block_gas_limit": 100_000_000,
        "validators": 3, "period_s": 2, "isolate": True,
    }  # fmt: skip


def test_a_geth_network_defaults_to_one_validator_per_office_and_a_one_second_period() -> None:
    chain = config_from_dict({"name": "x", "offices": 4, "chain": {"geth": None}}).chain
    assert (chain.validators, chain.period_s, chain.isolate) == (4, 1, False)


def test_a_zero_period_is_refused_saying_why() -> None:
    with pytest.raises(ConfigError) as refused:
        config_from_dict({"name": "x", "chain": {"geth": {"period": 0}}})
    assert refused.value.field == "chain.geth.period"
    assert "only when a transaction waits" in str(refused.value)


def test_a_validator_fault_without_an_office_strikes_the_last_validator() -> None:
    config = config_from_dict(
        {
            "name": "x",
            "offices": 5,
            "chain": {"geth": {"validators": 3, "isolate": True}},
            "faults": [
                {"kind": "kill_validator", "at": 0.2},
                {"kind": "restart_validator", "at": 0.4, "office": "EP"},
                {"kind": "partition_validator", "at": 0.6, "office": "GB", "down_s": 4},
            ],
        }
    )
    assert [(f.kind, f.office, f.down_s) for f in config.faults] == [
        ("kill_validator", "KR", 1.0),
        ("restart_validator", "EP", 1.0),
        ("partition_validator", "GB", 4.0),
    ]


def test_cutting_a_validator_off_needs_isolation_and_the_error_says_so() -> None:
    with pytest.raises(ConfigError) as refused:
        config_from_dict(
            {"name": "x", "chain": {"geth": {}}, "faults": [{"kind": "partition_validator", "at": 0.5}]}
        )
    assert refused.value.field == "faults[0].kind"
    assert "isolate: true" in str(refused.value)
