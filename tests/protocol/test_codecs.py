"""The chain codecs, once for every party: the records' enums in the contract's order, the fixed-size text
fields, and `RightState` in the forms the node's store, the contract and the gateway's JSON use."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

import pytest

from registry_node.protocol.contract import (
    RightState,
    bytes_text,
    office_bytes,
    office_code,
    status_code,
    text_bytes,
)
from registry_node.protocol.records import ChainEnum, ConveyanceCategory, LegalStatus, RightKind

INTERFACE = Path(__file__).resolve().parents[2] / "contracts" / "interfaces" / "IRightsRegistry.sol"


@pytest.mark.parametrize(
    ("enum", "solidity"), [(RightKind, "RightKind"), (ConveyanceCategory, "ConveyanceKind")]
)
def test_each_record_word_has_the_number_of_its_solidity_enum_member(
    enum: type[StrEnum], solidity: str
) -> None:
    found = re.search(rf"enum {solidity} \{{([^}}]*)\}}", INTERFACE.read_text("utf-8"))
    assert found is not None
    members = [name.strip() for name in found[1].split(",")]
    assert [m[0].lower() + m[1:] for m in members] == [word.value for word in enum]
    assert issubclass(enum, ChainEnum)
    for number, word in enumerate(enum):
        assert word.chain_value == number  # type: ignore[attr-defined]
        assert enum.chain_name(number) == word.value  # type: ignore[attr-defined]


def test_an_enum_number_beyond_the_known_members_reads_as_its_digits() -> None:
    assert RightKind.chain_name(len(RightKind)) == str(len(RightKind))
    assert ConveyanceCategory.chain_name(255) == "255"


def test_text_fields_are_ascii_padded_with_zero_bytes() -> None:
    assert text_bytes("F10", 16) == b"F10" + b"\0" * 13
    assert bytes_text(text_bytes("F10", 16)) == "F10"
    assert text_bytes("", 16) == b"\0" * 16 and bytes_text(b"\0" * 16) == ""
    with pytest.raises(ValueError, match="longer than 16 bytes"):
        text_bytes("X" * 17, 16)
    with pytest.raises(UnicodeEncodeError):
        text_bytes("É", 16)


def test_office_and_status_codes_read_back_as_written() -> None:
    assert office_code(office_bytes("EP")) == "EP"
    granted = LegalStatus(stateCode="A", stageCode=4, keyEventCode="F10").to_chain()
    assert status_code(granted) == "A4F10"
    assert status_code(LegalStatus(stateCode="A", stageCode=1).to_chain()) == "A1"
    assert bytes_text(b"E\xffP") == "E\ufffdP"  # what the chain holds is shown, never refused


def test_a_right_state_keeps_its_fields_through_the_stores_hex_form() -> None:
    state = RightState(b"\x01" * 32, b"\x02" * 32, b"A4F10")
    assert state.hex_fields() == ["01" * 32, "02" * 32, b"A4F10".hex()]
    assert RightState.from_hex_fields(state.hex_fields()) == state
    assert state.as_tuple() == (b"\x01" * 32, b"\x02" * 32, b"A4F10")
    assert state.to_json() == {
        "recordHash": "01" * 32,
        "ownerCommitment": "02" * 32,
        "status": b"A4F10".hex(),
        "statusCode": "A4F10",
    }
    assert len(state.digest()) == 24
    assert RightState(b"\x01" * 32, b"\x02" * 32, b"A4F11").digest() != state.digest()
