"""Fixtures for the contract tests: a three-office consortium on ganache, and factories for rights."""

from __future__ import annotations

import importlib.util
import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import brownie.test
import pytest
from brownie import SharedIPRegistry, accounts
from brownie.exceptions import VirtualMachineError
from eth_abi import encode
from eth_utils import keccak

VOTING_PERIOD = 7 * 24 * 3600
OFFICES = {"EP": "European Patent Office", "GB": "UK Intellectual Property Office", "KR": "Korean IPO"}

GRANTED = b"A4F10"  # active, grant stage, key event F10
LAPSED = b"N6H13"  # not active, terminated stage, lapsed (H13)
NO_STATUS = b"U0\0\0\0"  # unspecified, no key event

KIND = {"Patent": 0, "UtilityModel": 1, "Trademark": 2, "Design": 3}
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


def _revert_arg(value: Any) -> str:
    if hasattr(value, "address"):
        value = value.address
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return value.lower()
    if isinstance(value, str) and value.startswith("0x"):
        return str(bytes.fromhex(value[2:]))
    return str(value)


@contextmanager
def reverts_with(error: str, *args: Any) -> Iterator[None]:
    """Asserts the block reverts with the custom error `error` and exactly these arguments."""
    expected = f"{error}: {', '.join(_revert_arg(a) for a in args)}"
    try:
        yield
    except VirtualMachineError as err:
        assert err.revert_msg == expected, f"reverted with {err.revert_msg!r}, expected {expected!r}"
    else:
        raise AssertionError(f"did not revert (expected {expected})")


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
def offices():
    return {c: Office(c, accounts[i + 1], name) for i, (c, name) in enumerate(OFFICES.items())}


@pytest.fixture(scope="module")
def outsider():
    return accounts[8]


@pytest.fixture(scope="module")
def registry(offices):
    founders = [(code(o.code), o.account, o.name, f"https://{o.code.lower()}.example/registry") for o in
                offices.values()]  # fmt: skip
    return SharedIPRegistry.deploy(founders, 2, 3, VOTING_PERIOD, {"from": accounts[0]})


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
