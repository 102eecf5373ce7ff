"""Fixtures for the contract tests: a three-office consortium on ganache (a test module may found another by
overriding `founding_offices`), and factories for rights."""

from __future__ import annotations

import importlib.util
import itertools
import os
from dataclasses import dataclass, field
from typing import Any

import brownie
import brownie.test
import pytest
from brownie import SharedIPRegistry, accounts
from eth_abi import encode
from eth_utils import keccak

VOTING_PERIOD = 7 * 24 * 3600
MAX_OFFICES = 256
OFFICES = {"EP": "European Patent Office", "GB": "UK Intellectual Property Office", "KR": "Korean IPO"}

GRANTED = b"A4F10"  # active, grant stage, key event F10
LAPSED = b"N6H13"  # not active, terminated stage, lapsed (H13)
NO_STATUS = b"U0\0\0\0"  # unspecified, no key event

KIND = {"Patent": 0, "UtilityModel": 1, "Trademark": 2, "Design": 3, "GeographicalIndication": 4}
CONVEYANCE = {
    "Assignment": 0, "Merger": 1, "NameChange": 2, "Licence": 3, "SecurityInterest": 4,
    "SecurityRelease": 5, "CourtOrder": 6, "Correction": 7, "GovernmentInterest": 8, "Other": 9,
}  # fmt: skip
STATUS = {"None": 0, "Active": 1, "Suspended": 2}


def code(office: str) -> str:
    """An ST.3 code as the contract's bytes2."""
    return "0x" + office.encode("ascii").hex()


def right_id(text: str) -> bytes:
    return keccak(text=text)


def h(label: str) -> bytes:
    """A deterministic 32-byte hash standing for a record, owner commitment or document."""
    return keccak(text=label)


def digest(state: tuple[bytes, bytes, bytes]) -> bytes:
    """The contract's stateDigest: the first 24 bytes of keccak256(abi.encode(RightState))."""
    return keccak(encode(["(bytes32,bytes32,bytes5)"], [state]))[:24]


def seal(record_hash: bytes, salt: bytes) -> bytes:
    return keccak(record_hash + salt)


def error(name: str, *args: Any) -> str:
    """The revert message brownie 1.22 decodes from a custom error of the project's ABI.

    brownie joins the decoded arguments with str(): bytesN as a bytes literal (b'EP'), addresses in lower
    case, enums and integers as numbers, strings as they are. Accounts, and bytes given as 0x-hex (such as
    `code("EP")`), are rendered the same way.
    """
    rendered = []
    for arg in args:
        arg = getattr(arg, "address", arg)
        if isinstance(arg, str) and arg.startswith("0x"):
            arg = arg.lower() if len(arg) == 42 else bytes.fromhex(arg[2:])
        rendered.append(str(arg))
    return f"{name}: {', '.join(rendered)}"


def reverts_with(name: str, *args: Any) -> Any:
    """A context that asserts the block reverts with custom error `name` and exactly these arguments."""
    return brownie.reverts(error(name, *args))


def plain(value: object) -> object:
    """A return value as nested plain tuples.

    The compiled brownie 1.22.2 ReturnValue.__eq__ raises TypeError as soon as a member is an integer,
    so views are compared after this conversion.
    """
    if isinstance(value, tuple | list):
        return tuple(plain(item) for item in value)
    return value


@dataclass
class Office:
    code: str
    account: object
    name: str


@dataclass
class RightFactory:
    """Builds registrations with fresh ids; remembers each right's current state for the next change."""

    counter: itertools.count = field(default_factory=lambda: itertools.count(1))
    states: dict[bytes, tuple[bytes, bytes, bytes]] = field(default_factory=dict)

    def registration(
        self, office: str = "EP", kind: str = "Patent", status: bytes = GRANTED, confidential: bool = False
    ) -> tuple:
        n = next(self.counter)
        rid = right_id(f"{office}:PAT:{office}2019{n:07d}")
        state = (h(f"record-{n}"), h(f"owner-{n}"), status)
        self.states[rid] = state
        return (rid, KIND[kind], confidential, state)


@pytest.fixture(scope="module")
def founding_offices():
    """ST.3 code -> name of the founding offices; their accounts are accounts[1], accounts[2], ..."""
    return OFFICES


@pytest.fixture(scope="module")
def offices(founding_offices):
    return {c: Office(c, accounts[i + 1], name) for i, (c, name) in enumerate(founding_offices.items())}


@pytest.fixture(scope="module")
def outsider():
    return accounts[8]


@pytest.fixture(scope="module")
def registry(offices):
    founders = [(code(o.code), o.account, o.name, f"https://{o.code.lower()}.example/registry") for o in
                offices.values()]  # fmt: skip
    return SharedIPRegistry.deploy(founders, 2, 3, VOTING_PERIOD, MAX_OFFICES, {"from": accounts[0]})


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    pass


@pytest.fixture
def rights():
    return RightFactory()


@pytest.fixture
def ep(offices):
    return offices["EP"].account


@pytest.fixture
def gb(offices):
    return offices["GB"].account


@pytest.fixture
def kr(offices):
    return offices["KR"].account


@pytest.fixture
def registered(registry, rights, ep):
    """A patent registered by EP at version 1; returns (right id, state)."""
    registration = rights.registration("EP")
    registry.register(registration, {"from": ep})
    return registration[0], registration[3]


@pytest.fixture
def suspend(registry, offices):
    """Suspends an office by a vote of the other active offices."""

    def _suspend(target: str) -> None:
        voters = [
            o.account for c, o in offices.items() if c != target and registry.officeOf(o.account)[1] == 1
        ]
        registry.proposeSuspension(code(target), {"from": voters[0]})
        proposal_id = registry.proposalCount()
        for voter in voters[1:]:
            if not registry.proposal(proposal_id)["executed"]:
                registry.approve(proposal_id, {"from": voter})
        assert registry.officeOf(offices[target].account)[1] == STATUS["Suspended"]

    return _suspend


def _pure_python_stateful():
    """brownie 1.22.2's stateful module as its pure-Python source. The mypyc-compiled build that Python
    imports first rejects the machine class it generates itself ("TypeError: brownie.test.stateful.
    _BrownieStateMachine object expected"), so no state_machine test can run with it."""
    source = os.path.join(os.path.dirname(brownie.test.__file__), "stateful.py")
    spec = importlib.util.spec_from_file_location("brownie_stateful_source", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def state_machine():
    """brownie's state_machine, from its pure-Python source (see _pure_python_stateful)."""
    return _pure_python_stateful().state_machine
