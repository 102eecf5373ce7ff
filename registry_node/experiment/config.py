"""An experiment file (YAML) read into frozen dataclasses; a bad value is a ConfigError naming its field.

name: smoke
offices: 2                 # founding offices, one node process each (EP, GB, KR, US, ...)
seed: 7                    # the workload generator's seed: the same file gives the same operations
mode: per-right            # or: anchors (registrations as Merkle roots, `batch_size` rights per root)
batch_size: 16
chain: ganache             # or: hardhat, or {rpc: URL, deployer_key_env: VAR}, or a go-ethereum Clique
                           # network of the first N offices' validators:
                           # {geth: {validators: 3, period: 1, isolate: false, gas_limit: 100000000}}
gateway: true              # run a real gateway and check its index against the chain
workload:
  operations: 30           # or duration_s: 60
  mix: {registration: 40, ownershipChange: 25, statusEvent: 15, confidentialFiling: 5,
        publication: 5, verification: 10}
                           # designation, decision: the International Bureau (WO) joins the run as one
                           # more office, registers Madrid and Hague international registrations and
                           # designates the others, which record their decisions on their designations
  conveyances: {assignment: 38, securityInterest: 22, ...}   # default: DESIGN.md's mix
  conflicts: 0.05          # share of ownership changes and status events that name a stale version on
                           # purpose (default 0): the nodes must refuse them; the report counts them apart
load:
  rate: 20                 # open loop: operations/s arriving whatever the system does
  # concurrency: 4         # closed loop: this many operations in flight
faults:
  - {kind: kill_node, office: GB, at: 0.5, down_s: 1}
  - {kind: restart_chain, at: 0.7}
  - {kind: restart_gateway, at: 0.8}
  - {kind: kill_validator, office: EP, at: 0.3, down_s: 3}       # geth only: SIGKILL, restarted after down_s
  - {kind: restart_validator, office: GB, at: 0.6}               # geth only: clean stop, then start
  - {kind: partition_validator, office: KR, at: 0.4, down_s: 5}  # geth with isolate: true: cut off, healed
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from registry_node.protocol.errors import ConfigError
from registry_node.protocol.records import INTERNATIONAL_BUREAU, ConveyanceCategory

OFFICE_CODES = (
    "EP",
    "GB",
    "KR",
    "US",
    "JP",
    "CN",
    "DE",
    "FR",
    "IT",
    "ES",
    "SE",
    "NL",
    "CH",
    "AT",
    "DK",
    "FI",
    "PL",
    "PT",
    "IE",
    "BE",
    "NO",
    "CA",
    "AU",
    "BR",
    "IN",
    "MX",
    "SG",
    "IL",
    "TR",
    "ZA",
    "NZ",
    "CZ",
)
OPERATION_KINDS = (
    "registration",
    "ownershipChange",
    "statusEvent",
    "confidentialFiling",
    "publication",
    "verification",
    "designation",
    "decision",
)
# The kinds that need the International Bureau (WO) as an office of the run: WIPO designates the others on its
# international registrations, and they decide on their designations.
INTERNATIONAL_KINDS = ("designation", "decision")
CHANGE_KINDS = ("ownershipChange", "statusEvent")  # the kinds a deliberate conflict can take
DEFAULT_MIX = {
    "registration": 35,
    "ownershipChange": 30,
    "statusEvent": 15,
    "confidentialFiling": 5,
    "publication": 5,
    "verification": 10,
}
# Recorded US patent conveyances, employer assignments excluded (DESIGN.md).
DEFAULT_CONVEYANCES = {
    "assignment": 38,
    "securityInterest": 22,
    "securityRelease": 14,
    "nameChange": 12,
    "correction": 7,
    "merger": 5,
    "governmentInterest": 1.4,
    "other": 0.5,
}
CONVEYANCE_KINDS = tuple(c.value for c in ConveyanceCategory)
VALIDATOR_FAULT_KINDS = ("kill_validator", "restart_validator", "partition_validator")
FAULT_KINDS = ("kill_node", "restart_chain", "restart_gateway", *VALIDATOR_FAULT_KINDS)
OFFICE_FAULT_KINDS = ("kill_node", *VALIDATOR_FAULT_KINDS)  # the faults that name an office
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")
Mode = Literal["per-right", "anchors"]
ChainKind = Literal["ganache", "hardhat", "rpc", "geth"]
GETH_GAS_LIMIT = 100_000_000  # go-ethereum networks' default block gas limit (registry_node.devnet.geth)
MAX_PERIOD_S = 60


@dataclass(frozen=True)
class ChainConfig:
    kind: ChainKind = "ganache"
    url: str | None = None  # rpc only
    deployer_key_env: str = "IPREG_EXPERIMENT_DEPLOYER_KEY"  # rpc only: a funded key, 0x-hex
    block_gas_limit: int = 30_000_000
    validators: int = 0  # geth only: the first `validators` offices each run one
    period_s: int = 0  # geth only: Clique's block period
    isolate: bool = False  # geth only: each validator in its own network namespace (partition_validator)

    @property
    def keeps_data(self) -> bool:
        """Whether a stopped chain resumes with its state (so `restart_chain` is meaningful)."""
        return self.kind in ("ganache", "geth")

    @property
    def describe(self) -> str:
        if self.kind == "geth":
            return f"geth, {self.validators} validators, {self.period_s} s period"
        return self.kind


@dataclass(frozen=True)
class WorkloadConfig:
    operations: int | None = 100
    duration_s: float | None = None
    mix: tuple[tuple[str, float], ...] = tuple(DEFAULT_MIX.items())
    conveyances: tuple[tuple[str, float], ...] = tuple(DEFAULT_CONVEYANCES.items())
    conflicts: float = 0.0  # share of changes that deliberately name a stale version


@dataclass(frozen=True)
class LoadConfig:
    rate: float | None = None  # open loop, operations/s
    concurrency: int | None = 4  # closed loop

    @property
    def describe(self) -> str:
        return (
            f"open loop, {self.rate:g} ops/s" if self.rate else f"closed loop, {self.concurrency} in flight"
        )


@dataclass(frozen=True)
class FaultConfig:
    kind: str
    at: float  # share of the run (operations or duration) after which the fault strikes
    office: str | None = None  # kill_node and the validator faults only
    down_s: float = 1.0  # how long the killed or stopped part stays down


@dataclass(frozen=True)
class ExperimentConfig:
    name: str
    offices: int = 2
    seed: int = 1
    mode: Mode = "per-right"
    batch_size: int = 16
    chain: ChainConfig = field(default_factory=ChainConfig)
    gateway: bool = True
    workload: WorkloadConfig = field(default_factory=WorkloadConfig)
    load: LoadConfig = field(default_factory=LoadConfig)
    faults: tuple[FaultConfig, ...] = ()
    settle_timeout_s: float = 180.0  # after the last submission, how long to wait for confirmations

    @property
    def office_codes(self) -> tuple[str, ...]:
        """The run's offices: the first `offices` national ones, and the International Bureau (WO) after
        them when the workload designates offices."""
        international = any(dict(self.workload.mix).get(kind, 0) > 0 for kind in INTERNATIONAL_KINDS)
        return OFFICE_CODES[: self.offices] + ((INTERNATIONAL_BUREAU,) if international else ())

    @property
    def national_office_codes(self) -> tuple[str, ...]:
        return OFFICE_CODES[: self.offices]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "offices": self.offices,
            "seed": self.seed,
            "mode": self.mode,
            "batch_size": self.batch_size,
            "chain": {
                "kind": self.chain.kind,
                "url": self.chain.url,
                "block_gas_limit": self.chain.block_gas_limit,
                **(
                    {
                        "validators": self.chain.validators,
                        "period_s": self.chain.period_s,
                        "isolate": self.chain.isolate,
                    }
                    if self.chain.kind == "geth"
                    else {}
                ),
            },
            "gateway": self.gateway,
            "workload": {
                "operations": self.workload.operations,
                "duration_s": self.workload.duration_s,
                "mix": dict(self.workload.mix),
                "conveyances": dict(self.workload.conveyances),
                "conflicts": self.workload.conflicts,
            },
            "load": {"rate": self.load.rate, "concurrency": self.load.concurrency},
            "faults": [
                {"kind": f.kind, "at": f.at, "office": f.office, "down_s": f.down_s} for f in self.faults
            ],
            "settle_timeout_s": self.settle_timeout_s,
        }


def load_config(path: Path) -> ExperimentConfig:
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(str(path), f"cannot read the experiment file: {err}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(str(path), "must be a YAML mapping of settings")
    data.setdefault("name", path.stem)
    return config_from_dict(data)


KNOWN_KEYS = {
    "": {
        "name",
        "offices",
        "seed",
        "mode",
        "batch_size",
        "chain",
        "gateway",
        "workload",
        "load",
        "faults",
        "settle_timeout_s",
    },
    "workload": {"operations", "duration_s", "mix", "conveyances", "conflicts"},
    "load": {"rate", "concurrency"},
    "chain": {"rpc", "kind", "deployer_key_env", "block_gas_limit", "geth"},
    "geth": {"validators", "period", "isolate", "gas_limit"},
    "fault": {"kind", "at", "office", "down_s"},
}


def config_from_dict(data: dict[str, Any]) -> ExperimentConfig:
    _known(data, KNOWN_KEYS[""], "")
    name = data.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise ConfigError("name", f"must be 1-64 letters, digits, '.', '_' or '-', got {name!r}")
    offices = _int(data, "offices", 2, 1, len(OFFICE_CODES))
    seed = _int(data, "seed", 1, 0, 2**63)
    mode = data.get("mode", "per-right")
    if mode not in ("per-right", "anchors"):
        raise ConfigError("mode", f"must be per-right or anchors, got {mode!r}")
    batch_size = _int(data, "batch_size", 16, 1, 4096)
    gateway = data.get("gateway", True)
    if not isinstance(gateway, bool):
        raise ConfigError("gateway", f"must be true or false, got {gateway!r}")
    chain = _chain(data.get("chain", "ganache"), offices)
    workload = _workload(_table(data, "workload"))
    load = _load(_table(data, "load"))
    codes = OFFICE_CODES[:offices]
    if any(dict(workload.mix).get(kind, 0) > 0 for kind in INTERNATIONAL_KINDS):
        codes += (INTERNATIONAL_BUREAU,)
    faults = _faults(data.get("faults", []), codes, chain)
    settle = _number(data, "settle_timeout_s", 180.0, "settle_timeout_s", minimum=1.0)
    if not gateway and dict(workload.mix).get("verification", 0) > 0:
        raise ConfigError("workload.mix.verification", "verifications need the gateway (gateway: true)")
    if not gateway and any(f.kind == "restart_gateway" for f in faults):
        raise ConfigError("faults", "restart_gateway needs the gateway (gateway: true)")
    return ExperimentConfig(
        name=name,
        offices=offices,
        seed=seed,
        mode=mode,
        batch_size=batch_size,
        chain=chain,
        gateway=gateway,
        workload=workload,
        load=load,
        faults=faults,
        settle_timeout_s=settle,
    )


def _known(data: dict[str, Any], keys: set[str], where: str) -> None:
    for key in data:
        if key not in keys:
            field_name = f"{where}.{key}" if where else str(key)
            raise ConfigError(field_name, f"unknown setting (known: {', '.join(sorted(keys))})")


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(key, "must be a mapping of settings")
    return value


def _int(data: dict[str, Any], key: str, default: int, low: int, high: int, where: str = "") -> int:
    value = data.get(key, default)
    field_name = f"{where}.{key}" if where else key
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConfigError(field_name, f"must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise ConfigError(field_name, f"must be from {low} to {high}, got {value}")
    return value


def _number(
    data: dict[str, Any], key: str, default: float | None, field_name: str, minimum: float = 0.0
) -> float:
    value = data.get(key, default)
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise ConfigError(field_name, f"must be a number, got {value!r}")
    if value < minimum:
        raise ConfigError(field_name, f"must be at least {minimum:g}, got {value}")
    return float(value)


def _chain(value: Any, offices: int) -> ChainConfig:
    if value in ("ganache", "hardhat"):
        return ChainConfig(kind=value)
    if value == "geth":
        raise ConfigError("chain", "a geth network is a mapping: {geth: {validators: N, period: S}}")
    if isinstance(value, str):
        raise ConfigError("chain", f"must be ganache, hardhat, {{rpc: URL}} or {{geth: ...}}, got {value!r}")
    if not isinstance(value, dict):
        raise ConfigError("chain", "must be ganache, hardhat or a mapping {rpc: URL} or {geth: ...}")
    _known(value, KNOWN_KEYS["chain"], "chain")
    if "geth" in value:
        if len(value) > 1:
            others = ", ".join(sorted(k for k in value if k != "geth"))
            raise ConfigError("chain", f"a geth network takes its settings inside geth: (not {others})")
        return _geth(value["geth"], offices)
    gas_limit = _int(value, "block_gas_limit", 30_000_000, 1_000_000, 2**40, "chain")
    kind = value.get("kind", "rpc" if "rpc" in value else "ganache")
    if kind in ("ganache", "hardhat"):
        if "rpc" in value:
            raise ConfigError("chain.rpc", f"a fresh {kind} chain takes no rpc URL")
        return ChainConfig(kind=kind, block_gas_limit=gas_limit)
    if kind != "rpc":
        raise ConfigError("chain.kind", f"must be ganache, hardhat or rpc, got {kind!r}")
    url = value.get("rpc")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConfigError("chain.rpc", f"must be an http(s) JSON-RPC URL, got {url!r}")
    key_env = value.get("deployer_key_env", "IPREG_EXPERIMENT_DEPLOYER_KEY")
    if not isinstance(key_env, str) or not re.match(r"^[A-Z_][A-Z0-9_]*\Z", key_env):
        raise ConfigError("chain.deployer_key_env", f"must name an environment variable, got {key_env!r}")
    return ChainConfig(kind="rpc", url=url, deployer_key_env=key_env, block_gas_limit=gas_limit)


def _geth(value: Any, offices: int) -> ChainConfig:
    """A Clique network of the first `validators` offices. A period of 0 is refused: Clique then seals only
    when a transaction waits, so the blocks that would confirm the last transactions at majority depth
    never come once the load stops, and the run could not settle."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise ConfigError("chain.geth", "must be a mapping {validators: N, period: S, isolate, gas_limit}")
    _known(value, KNOWN_KEYS["geth"], "chain.geth")
    validators = _int(value, "validators", offices, 1, offices, "chain.geth")
    period = value.get("period", 1)
    if period == 0 and not isinstance(period, bool):
        raise ConfigError(
            "chain.geth.period",
            "must be from 1 to 60 s: with 0 Clique seals only when a transaction waits, so the blocks that "
            "confirm the last transactions at majority depth would never come",
        )
    period = _int(value, "period", 1, 1, MAX_PERIOD_S, "chain.geth")
    isolate = value.get("isolate", False)
    if not isinstance(isolate, bool):
        raise ConfigError("chain.geth.isolate", f"must be true or false, got {isolate!r}")
    gas_limit = _int(value, "gas_limit", GETH_GAS_LIMIT, 1_000_000, 2**40, "chain.geth")
    return ChainConfig(
        kind="geth", block_gas_limit=gas_limit, validators=validators, period_s=period, isolate=isolate
    )


def _weights(value: Any, where: str, allowed: tuple[str, ...]) -> tuple[tuple[str, float], ...]:
    if not isinstance(value, dict) or not value:
        raise ConfigError(where, "must be a non-empty mapping of name: weight")
    out = []
    for key in value:
        if key not in allowed:
            raise ConfigError(f"{where}.{key}", f"unknown (known: {', '.join(allowed)})")
        out.append((key, _number(value, key, None, f"{where}.{key}")))
    if sum(w for _, w in out) <= 0:
        raise ConfigError(where, "the weights must not all be zero")
    return tuple(out)


def _workload(data: dict[str, Any]) -> WorkloadConfig:
    _known(data, KNOWN_KEYS["workload"], "workload")
    if "operations" in data and "duration_s" in data:
        raise ConfigError("workload", "give operations or duration_s, not both")
    operations: int | None = None
    duration: float | None = None
    if "duration_s" in data:
        duration = _number(data, "duration_s", None, "workload.duration_s", minimum=1.0)
    else:
        operations = _int(data, "operations", 100, 1, 10_000_000, "workload")
    mix = _weights(data.get("mix", DEFAULT_MIX), "workload.mix", OPERATION_KINDS)
    conveyances = _weights(
        data.get("conveyances", DEFAULT_CONVEYANCES), "workload.conveyances", CONVEYANCE_KINDS
    )
    conflicts = _number(data, "conflicts", 0.0, "workload.conflicts")
    if conflicts >= 1:
        raise ConfigError("workload.conflicts", f"must be a share from 0 to below 1, got {conflicts}")
    if conflicts and not any(dict(mix).get(kind, 0) > 0 for kind in CHANGE_KINDS):
        kinds = " or ".join(CHANGE_KINDS)
        raise ConfigError("workload.conflicts", f"conflicts are changes: give {kinds} a weight in the mix")
    return WorkloadConfig(operations, duration, mix, conveyances, conflicts)


def _load(data: dict[str, Any]) -> LoadConfig:
    _known(data, KNOWN_KEYS["load"], "load")
    if "rate" in data and "concurrency" in data:
        raise ConfigError("load", "give rate (open loop) or concurrency (closed loop), not both")
    if "rate" in data:
        rate = _number(data, "rate", None, "load.rate")
        if rate <= 0:
            raise ConfigError("load.rate", f"must be above 0 operations/s, got {rate}")
        return LoadConfig(rate=rate, concurrency=None)
    return LoadConfig(rate=None, concurrency=_int(data, "concurrency", 4, 1, 1024, "load"))


def _faults(value: Any, codes: tuple[str, ...], chain: ChainConfig) -> tuple[FaultConfig, ...]:
    if not isinstance(value, list):
        raise ConfigError("faults", "must be a list of {kind, at, ...}")
    faults = []
    for i, raw in enumerate(value):
        where = f"faults[{i}]"
        if not isinstance(raw, dict):
            raise ConfigError(where, "must be a mapping {kind, at, ...}")
        _known(raw, KNOWN_KEYS["fault"], where)
        kind = raw.get("kind")
        if kind not in FAULT_KINDS:
            raise ConfigError(f"{where}.kind", f"must be one of {', '.join(FAULT_KINDS)}, got {kind!r}")
        at = _number(raw, "at", None, f"{where}.at")
        if not 0 <= at < 1:
            raise ConfigError(f"{where}.at", f"must be a share of the run from 0 to below 1, got {at}")
        down_s = _number(raw, "down_s", 1.0, f"{where}.down_s")
        office = raw.get("office")
        if kind in OFFICE_FAULT_KINDS:
            targets = codes if kind == "kill_node" else codes[: chain.validators]
            office = office if office is not None else (targets[-1] if targets else None)
            check_fault_target(kind, office, codes, chain, where)
        elif office is not None:
            kinds = ", ".join(OFFICE_FAULT_KINDS)
            raise ConfigError(f"{where}.office", f"only {kinds} name an office, not {kind}")
        if kind == "restart_chain" and not chain.keeps_data:
            raise ConfigError(
                f"{where}.kind",
                f"restart_chain needs a chain that keeps its data (ganache, geth), not {chain.kind}",
            )
        faults.append(FaultConfig(kind, at, office, down_s))
    return tuple(sorted(faults, key=lambda f: f.at))


def check_fault_target(
    kind: str, office: str | None, codes: tuple[str, ...], chain: ChainConfig, where: str
) -> None:
    """An office fault's office is one of the run's offices; a validator fault needs a geth network, an
    office that runs a validator in it and, to cut one off, validators in network namespaces."""
    if kind in VALIDATOR_FAULT_KINDS:
        if chain.kind != "geth":
            raise ConfigError(
                f"{where}.kind", f"{kind} needs a geth network (chain: {{geth: ...}}), not {chain.kind}"
            )
        if kind == "partition_validator" and not chain.isolate:
            raise ConfigError(
                f"{where}.kind",
                "partition_validator needs validators in network namespaces (chain.geth.isolate: true)",
            )
        with_validator = codes[: chain.validators]
        if office not in with_validator:
            raise ConfigError(
                f"{where}.office", f"must be an office that runs a validator {with_validator}, got {office!r}"
            )
    elif office not in codes:
        raise ConfigError(f"{where}.office", f"must be one of this run's offices {codes}, got {office!r}")
