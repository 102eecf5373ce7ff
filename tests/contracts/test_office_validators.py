"""An office's chain validator: the office names the address its validator seals blocks with, nobody else can,
and a sealing address is never a transaction account nor another office's validator."""

from __future__ import annotations

import brownie
import pytest
from brownie import accounts
from conftest import STATUS, code, error, plain

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
NO_OFFICE = "0x0000"


@pytest.fixture
def validator():
    """An address that is no office's account: a sealing key with no funds and no rights."""
    return accounts[6]


@pytest.fixture
def other_validator():
    return accounts[7]


# ---------------------------------------------------------------- setting and changing


def test_an_office_has_no_validator_until_it_names_one(registry):
    assert registry.office(code("EP"))["validator"] == ZERO_ADDRESS


def test_office_sets_its_validator_and_the_view_and_event_show_it(registry, ep, validator):
    tx = registry.setValidator(validator, {"from": ep})

    event = tx.events["ValidatorChanged"]
    assert event["office"] == code("EP")
    assert event["validator"] == validator
    assert registry.office(code("EP"))["validator"] == validator
    assert plain(registry.validatorOf(validator)) == (code("EP"), STATUS["Active"])


def test_office_changes_its_validator_and_the_previous_one_is_released(
    registry, ep, gb, validator, other_validator
):
    registry.setValidator(validator, {"from": ep})

    tx = registry.setValidator(other_validator, {"from": ep})

    assert tx.events["ValidatorChanged"]["validator"] == other_validator
    assert registry.office(code("EP"))["validator"] == other_validator
    assert plain(registry.validatorOf(other_validator)) == (code("EP"), STATUS["Active"])
    assert plain(registry.validatorOf(validator)) == (NO_OFFICE, STATUS["None"])
    registry.setValidator(validator, {"from": gb})
    assert plain(registry.validatorOf(validator)) == (code("GB"), STATUS["Active"])


def test_setting_the_same_validator_again_changes_nothing(registry, ep, validator):
    registry.setValidator(validator, {"from": ep})

    tx = registry.setValidator(validator, {"from": ep})

    assert tx.events["ValidatorChanged"]["validator"] == validator
    assert registry.office(code("EP"))["validator"] == validator
    assert plain(registry.validatorOf(validator)) == (code("EP"), STATUS["Active"])


def test_an_address_that_is_no_validator_maps_to_no_office(registry, ep, outsider):
    assert plain(registry.validatorOf(outsider)) == (NO_OFFICE, STATUS["None"])
    assert plain(registry.validatorOf(ep)) == (NO_OFFICE, STATUS["None"])


# ---------------------------------------------------------------- who may set it


def test_other_office_sets_only_its_own_validator(registry, ep, gb, validator, other_validator):
    registry.setValidator(validator, {"from": ep})

    registry.setValidator(other_validator, {"from": gb})

    assert registry.office(code("EP"))["validator"] == validator
    assert registry.office(code("GB"))["validator"] == other_validator


@pytest.mark.parametrize("sender", [8, 0], ids=["outsider", "deployer"])
def test_non_member_cannot_set_a_validator(registry, validator, sender):
    with brownie.reverts(error("OfficeRegistryNotMember", accounts[sender])):
        registry.setValidator(validator, {"from": accounts[sender]})
    assert plain(registry.validatorOf(validator)) == (NO_OFFICE, STATUS["None"])


def test_suspended_office_cannot_set_a_validator(registry, suspend, kr, validator):
    suspend("KR")
    with brownie.reverts(error("OfficeRegistryOfficeNotActive", b"KR", STATUS["Suspended"])):
        registry.setValidator(validator, {"from": kr})
    assert registry.office(code("KR"))["validator"] == ZERO_ADDRESS


def test_a_suspended_office_keeps_its_validator_reported_as_suspended(registry, suspend, kr, validator):
    registry.setValidator(validator, {"from": kr})

    suspend("KR")

    assert registry.office(code("KR"))["validator"] == validator
    assert plain(registry.validatorOf(validator)) == (code("KR"), STATUS["Suspended"])


# ---------------------------------------------------------------- refused addresses


def test_zero_address_is_refused_as_a_validator(registry, ep):
    with brownie.reverts(error("OfficeRegistryInvalidValidator", ZERO_ADDRESS)):
        registry.setValidator(ZERO_ADDRESS, {"from": ep})


def test_another_offices_validator_is_refused(registry, ep, gb, validator):
    registry.setValidator(validator, {"from": ep})

    with brownie.reverts(error("OfficeRegistryValidatorInUse", validator, b"EP")):
        registry.setValidator(validator, {"from": gb})
    assert registry.office(code("GB"))["validator"] == ZERO_ADDRESS
    assert plain(registry.validatorOf(validator)) == (code("EP"), STATUS["Active"])


def test_a_suspended_offices_validator_stays_taken(registry, suspend, ep, kr, validator):
    registry.setValidator(validator, {"from": kr})
    suspend("KR")

    with brownie.reverts(error("OfficeRegistryValidatorInUse", validator, b"KR")):
        registry.setValidator(validator, {"from": ep})


@pytest.mark.parametrize("holder", ["EP", "GB"], ids=["own-account", "other-office-account"])
def test_a_transaction_account_is_refused_as_a_validator(registry, offices, ep, holder):
    account = offices[holder].account
    with brownie.reverts(error("OfficeRegistryValidatorIsAccount", account, holder.encode())):
        registry.setValidator(account, {"from": ep})
    assert registry.office(code("EP"))["validator"] == ZERO_ADDRESS


def test_a_suspended_offices_account_is_refused_as_a_validator(registry, suspend, ep, kr):
    suspend("KR")
    with brownie.reverts(error("OfficeRegistryValidatorIsAccount", kr, b"KR")):
        registry.setValidator(kr, {"from": ep})


def test_a_validator_cannot_become_a_transaction_account_by_rotation(registry, ep, gb, validator):
    registry.setValidator(validator, {"from": ep})

    with brownie.reverts(error("OfficeRegistryAccountIsValidator", validator, b"EP")):
        registry.beginAccountRotation(validator, {"from": gb})
    with brownie.reverts(error("OfficeRegistryAccountIsValidator", validator, b"EP")):
        registry.beginAccountRotation(validator, {"from": ep})
    assert registry.office(code("GB"))["pendingAccount"] == ZERO_ADDRESS


def test_a_pending_account_named_a_validator_meanwhile_cannot_accept(registry, ep, gb):
    pending = accounts[5]
    registry.beginAccountRotation(pending, {"from": ep})
    registry.setValidator(pending, {"from": gb})

    with brownie.reverts(error("OfficeRegistryAccountIsValidator", pending, b"GB")):
        registry.acceptAccountRotation(code("EP"), {"from": pending})
    assert registry.office(code("EP"))["account"] == ep


def test_a_validator_cannot_be_admitted_as_an_offices_account(registry, ep, validator):
    registry.setValidator(validator, {"from": ep})
    init = (code("JP"), validator, "Japan Patent Office", "https://jpo.example")

    with brownie.reverts(error("OfficeRegistryAccountIsValidator", validator, b"EP")):
        registry.proposeAdmission(init, {"from": ep})
