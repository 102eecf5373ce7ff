"""The consortium's founding settings and its deployment to a chain.

A consortium file (TOML) names the founding offices and the governance rules:

    [governance]
    threshold = "2/3"          # proposals need MORE than this share of active offices
    voting_period_days = 7
    max_offices = 256          # offices ever admitted, founders included (at most 512)

    [[offices]]
    code = "EP"
    name = "European Patent Office"
    account = "0x…"            # the office's transaction account
    endpoint = "https://…"     # its deep-link endpoint
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from eth_utils.address import is_address, to_checksum_address

from registry_node.node.transactor import Transactor
from registry_node.protocol.contract import REGISTRY_CONTRACT, load_artifact, office_bytes
from registry_node.protocol.deployment import Deployment
from registry_node.protocol.errors import ConfigError

OFFICE_CODE = re.compile(r"^[A-Z]{2}$")
SECONDS_PER_DAY = 86_400
OFFICE_LIMIT = 512  # the contract's cap on max_offices


@dataclass(frozen=True)
class FoundingOffice:
    code: str
    name: str
    account: str
    endpoint: str


@dataclass(frozen=True)
class ConsortiumConfig:
    offices: list[FoundingOffice]
    threshold: Fraction = Fraction(2, 3)
    voting_period_s: int = 7 * SECONDS_PER_DAY
    max_offices: int = 256

    def __post_init__(self) -> None:
        if not self.offices:
            raise ConfigError("offices", "at least one founding office is needed")
        seen_codes: set[str] = set()
        seen_accounts: set[str] = set()
        for i, office in enumerate(self.offices):
            where = f"offices[{i}]"
            if not OFFICE_CODE.match(office.code):
                raise ConfigError(
                    f"{where}.code", f"must be two capital letters (WIPO ST.3), got {office.code!r}"
                )
            if office.code in seen_codes:
                raise ConfigError(f"{where}.code", f"{office.code} is listed twice")
            if not office.name or len(office.name.encode()) > 200:
                raise ConfigError(f"{where}.name", "must be 1 to 200 bytes long")
            if not is_address(office.account):
                raise ConfigError(f"{where}.account", f"not an Ethereum address: {office.account!r}")
            if office.account.lower() in seen_accounts:
                raise ConfigError(f"{where}.account", "already the account of another office")
            if not office.endpoint.startswith(("https://", "http://")) or len(office.endpoint) <= 8:
                raise ConfigError(f"{where}.endpoint", f"must be an http(s) URL, got {office.endpoint!r}")
            seen_codes.add(office.code)
            seen_accounts.add(office.account.lower())
        if not (Fraction(1, 2) <= self.threshold < 1) or self.threshold.denominator > 0xFFFF:
            raise ConfigError(
                "governance.threshold", f"must be a fraction from 1/2 to below 1, got {self.threshold}"
            )
        if self.voting_period_s <= 0:
            raise ConfigError("governance.voting_period_days", "must be positive")
        if not len(self.offices) <= self.max_offices <= OFFICE_LIMIT:
            raise ConfigError(
                "governance.max_offices",
                f"must be from the number of founding offices ({len(self.offices)}) to {OFFICE_LIMIT}, "
                f"got {self.max_offices}",
            )


def load_consortium(path: Path) -> ConsortiumConfig:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(str(path), f"cannot read the consortium file: {err}") from None
    return consortium_from_dict(data)


def consortium_from_dict(data: dict[str, Any]) -> ConsortiumConfig:
    governance = data.get("governance", {})
    if not isinstance(governance, dict):
        raise ConfigError("governance", "must be a [governance] table")
    raw_offices = data.get("offices")
    if not isinstance(raw_offices, list):
        raise ConfigError("offices", "must be a list of [[offices]] tables")
    offices = []
    for i, raw in enumerate(raw_offices):
        if not isinstance(raw, dict):
            raise ConfigError(f"offices[{i}]", "must be an [[offices]] table")
        for key in ("code", "name", "account", "endpoint"):
            if not isinstance(raw.get(key), str):
                raise ConfigError(f"offices[{i}].{key}", "missing or not a string")
        offices.append(FoundingOffice(raw["code"], raw["name"], raw["account"], raw["endpoint"]))
    try:
        threshold = Fraction(str(governance.get("threshold", "2/3")))
    except (ValueError, ZeroDivisionError):
        raise ConfigError(
            "governance.threshold", f"not a fraction: {governance.get('threshold')!r}"
        ) from None
    days = governance.get("voting_period_days", 7)
    if not isinstance(days, int | float) or isinstance(days, bool) or not math.isfinite(days):
        raise ConfigError("governance.voting_period_days", f"not a finite number: {days!r}")
    max_offices = governance.get("max_offices", 256)
    if not isinstance(max_offices, int) or isinstance(max_offices, bool):
        raise ConfigError("governance.max_offices", f"not a whole number: {max_offices!r}")
    return ConsortiumConfig(offices, threshold, int(days * SECONDS_PER_DAY), max_offices)


def deploy_consortium(transactor: Transactor, config: ConsortiumConfig) -> Deployment:
    """Deploys the registry with `config`'s founding offices; the deployer keeps no rights over it."""
    artifact = load_artifact(REGISTRY_CONTRACT)
    factory = transactor.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    founders = [
        (office_bytes(o.code), to_checksum_address(o.account), o.name, o.endpoint) for o in config.offices
    ]
    receipt = transactor.send(
        factory.constructor(
            founders,
            config.threshold.numerator,
            config.threshold.denominator,
            config.voting_period_s,
            config.max_offices,
        )
    )
    return Deployment(
        chain_id=transactor.chain_id,
        contract=artifact.name,
        address=str(receipt["contractAddress"]),
        block_number=receipt["blockNumber"],
        block_hash=receipt["blockHash"].to_0x_hex(),
        tx_hash=receipt["transactionHash"].to_0x_hex(),
        offices={o.code: to_checksum_address(o.account) for o in config.offices},
    )
