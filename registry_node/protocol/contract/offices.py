"""An office as OfficeRegistry's `office(code)` returns it, read in one place: the node that follows the
validator set, the gateway's verifier and its view of the validators."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from registry_node.protocol.contract.codecs import office_code

OFFICE_STATUSES = {0: "none", 1: "active", 2: "suspended"}  # IOfficeRegistry.OfficeStatus
VIEW_FIELDS = 8  # IOfficeRegistry.OfficeView's members
ZERO_ADDRESS = "0x" + "00" * 20


@dataclass(frozen=True)
class OfficeView:
    """An office's standing, accounts, name, endpoint, key count and validator (None until it names one);
    addresses as the chain node gives them (checksummed)."""

    code: str
    status: str  # none | active | suspended
    account: str
    pending_account: str
    name: str
    endpoint: str
    key_count: int
    validator: str | None

    @classmethod
    def from_call(cls, raw: Any) -> OfficeView:
        """The struct as web3 returns it (a tuple, or a mapping in declaration order); ValueError if it is
        not an OfficeView."""
        fields = list(raw.values()) if isinstance(raw, Mapping) else list(raw)
        if len(fields) != VIEW_FIELDS:
            raise ValueError(f"an OfficeView has {VIEW_FIELDS} fields, not {len(fields)}")
        code, status, account, pending, name, endpoint, key_count, validator = fields
        return cls(
            code=office_code(bytes(code)),
            status=OFFICE_STATUSES.get(int(status), str(status)),
            account=str(account),
            pending_account=str(pending),
            name=str(name),
            endpoint=str(endpoint),
            key_count=int(key_count),
            validator=None if str(validator).lower() == ZERO_ADDRESS else str(validator),
        )

    @property
    def active(self) -> bool:
        return self.status == "active"
