"""Record models, their canonical bytes and the values they put on chain."""

from __future__ import annotations

import hashlib
import json
import random
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING, Any

import pytest
import rfc8785
from eth_utils.crypto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from registry_node.protocol.records import (
    ConveyanceCategory,
    LegalStatus,
    LegalStatusEvent,
    OwnershipChange,
    Party,
    Right,
    RightKind,
    RightRecord,
    canonical_bytes,
    chain_right_id,
    date_to_chain,
    keccak256,
    owner_commitment,
    record_hash,
    seal,
)

if TYPE_CHECKING:
    from conftest import Consortium

GRANTED = LegalStatus(stateCode="A", stageCode=4, keyEventCode="F10")
LAPSED = LegalStatus(stateCode="N", stageCode=6, keyEventCode="H13")
EVIDENCE = hashlib.sha256(b"deed").hexdigest()


def right_json(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "rightId": "EP:PAT:EP20190012345",
        "rightKindCategory": "patent",
        "applicationNumberText": "EP20190012345",
        "filingDate": "2019-03-01",
        "publicationBag": [
            {"publicationNumber": "EP3456789", "kindCode": "B1", "publicationDate": "2021-06"}
        ],
        "inventionTitle": "Verfahren zur Herstellung von Käse — μ-scale",
        "classificationBag": ["A23C 19/00"],
        "ownerBag": [{"name": "Société Générale de Fromage", "countryCode": "FR"}],
        "legalStatus": {"stateCode": "A", "stageCode": 4, "keyEventCode": "F10"},
    }
    data.update(changes)
    return data


def validation_fields(err: ValidationError) -> set[str]:
    return {".".join(str(p) for p in e["loc"]) for e in err.errors()}


# ---------------------------------------------------------------- right ids


@pytest.mark.parametrize(
    "right_id", ["EP:PAT:EP20190012345", "US:PAT:13797521", "EM:TM:018123456", "KR:DES:3020210012345"]
)
def test_design_examples_are_valid_right_ids(right_id: str) -> None:
    assert chain_right_id(right_id) == keccak(text=right_id)


@pytest.mark.parametrize(
    "right_id", ["ep:PAT:1", "EP:XX:1", "EPO:PAT:1", "EP:PAT:", "EP:PAT:a1", "EP PAT 1", "EP:PAT:1 "]
)
def test_malformed_right_ids_are_refused(right_id: str) -> None:
    with pytest.raises(ValueError, match="OFFICE:TYPE:APPLICATION_NUMBER"):
        chain_right_id(right_id)


def test_right_kind_must_match_the_id_type() -> None:
    with pytest.raises(ValidationError, match="does not match PAT"):
        Right.model_validate(right_json(rightKindCategory="trademark"))


def test_id_must_end_with_the_application_number() -> None:
    with pytest.raises(ValidationError, match="applicationNumberText"):
        Right.model_validate(right_json(applicationNumberText="EP20190099999"))


def test_office_code_comes_from_the_id() -> None:
    assert Right.model_validate(right_json()).ipOfficeCode == "EP"


def test_kinds_and_conveyances_follow_the_contracts_enum_order() -> None:
    assert [k.chain_value for k in RightKind] == [0, 1, 2, 3, 4]
    assert RightKind.GEOGRAPHICAL_INDICATION.chain_value == 4
    assert ConveyanceCategory.ASSIGNMENT.chain_value == 0
    assert ConveyanceCategory.OTHER.chain_value == 9


# ---------------------------------------------------------------- field validation


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"filingDate": "2019-13-01"}, "filingDate"),
        ({"filingDate": "19-03-01"}, "filingDate"),
        ({"ownerBag": []}, "ownerBag"),
        ({"ownerBag": [{"name": "X", "countryCode": "fra"}]}, "ownerBag.0.countryCode"),
        ({"legalStatus": {"stateCode": "X", "stageCode": 4}}, "legalStatus.stateCode"),
        ({"legalStatus": {"stateCode": "A", "stageCode": 7}}, "legalStatus.stageCode"),
        (
            {"legalStatus": {"stateCode": "A", "stageCode": 4, "keyEventCode": "I10"}},
            "legalStatus.keyEventCode",
        ),
        ({"inventionTitel": "typo"}, "inventionTitel"),
    ],
)
def test_invalid_fields_are_refused_by_name(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Right.model_validate(right_json(**changes))
    assert field in validation_fields(caught.value)


@pytest.mark.parametrize(
    ("date", "chain"), [("1988", 19880000), ("1988-05", 19880500), ("2024-02-29", 20240229)]
)
def test_partial_dates_map_to_the_contracts_form(date: str, chain: int) -> None:
    assert date_to_chain(date) == chain


@pytest.mark.parametrize(
    ("status", "chain"), [(GRANTED, b"A4F10"), (LegalStatus(stateCode="U", stageCode=0), b"U0\0\0\0")]
)
def test_status_maps_to_the_contracts_five_byte_code(status: LegalStatus, chain: bytes) -> None:
    assert status.to_chain() == chain


def test_correction_event_must_name_the_version_it_corrects() -> None:
    correction = LegalStatus(stateCode="A", stageCode=4, keyEventCode="Y01")
    with pytest.raises(ValidationError, match="correctsVersion"):
        LegalStatusEvent(status=correction, previousStageCode=6, eventDate="2026-04", effectiveDate="2026-04")
    with pytest.raises(ValidationError, match="correctsVersion"):
        LegalStatusEvent(
            status=LAPSED, previousStageCode=4, eventDate="2026", effectiveDate="2026", correctsVersion=2
        )
    event = LegalStatusEvent(
        status=correction,
        previousStageCode=6,
        eventDate="2026-04",
        effectiveDate="2026-04",
        correctsVersion=2,
    )
    assert event.correctsVersion == 2


# ---------------------------------------------------------------- the signed record


def transfer_record(version: int = 2) -> RightRecord:
    right = Right.model_validate(
        right_json(ownerBag=[{"name": "Fromagerie Nouvelle SA", "countryCode": "CH"}])
    )
    change = OwnershipChange(
        conveyanceCategory=ConveyanceCategory.ASSIGNMENT,
        assignorBag=[{"name": "Société Générale de Fromage", "executionDate": "2026-02-01"}],
        assigneeBag=[{"name": "Fromagerie Nouvelle SA", "countryCode": "CH"}],
        effectiveDate="2026-02-01",
        recordalDate="2026-03-15",
        officeRecordIdentifier="R 2026/0042",
        rightIdBag=[right.rightId],
        evidenceDocumentHash=EVIDENCE,
    )
    return RightRecord(
        version=version,
        right=right,
        changeKind="ownershipChange",
        ownershipChange=change,
        previousRecordHash=hashlib.sha256(b"v1").hexdigest(),
    )


def test_record_round_trips_through_its_canonical_json() -> None:
    record = transfer_record()
    again = RightRecord.model_validate(json.loads(canonical_bytes(record)))
    assert again == record
    assert canonical_bytes(again) == canonical_bytes(record)


def test_record_hash_is_sha256_of_the_canonical_bytes() -> None:
    record = transfer_record()
    assert record_hash(record) == hashlib.sha256(canonical_bytes(record)).digest()
    assert canonical_bytes(record).startswith(b'{"changeKind":"ownershipChange"')


def test_any_change_of_content_changes_the_hash() -> None:
    record = transfer_record()
    other = record.model_copy(update={"version": 3})
    assert record_hash(other) != record_hash(record)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"version": 1}, "only version 1, is a registration"),
        ({"previousRecordHash": None}, "previousRecordHash"),
        ({"ownershipChange": None}, "ownershipChange is required"),
        ({"changeKind": "legalStatusEvent"}, "ownershipChange is required"),
    ],
)
def test_inconsistent_records_are_refused(changes: dict[str, Any], message: str) -> None:
    data = transfer_record().to_json() | changes
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(ValidationError, match=message):
        RightRecord.model_validate(data)


def test_ownership_change_must_cover_the_right() -> None:
    data = transfer_record().to_json()
    data["ownershipChange"]["rightIdBag"] = ["EP:PAT:EP20190099999"]
    with pytest.raises(ValidationError, match="does not cover this right"):
        RightRecord.model_validate(data)


def test_status_event_record_carries_the_status_it_sets() -> None:
    event = LegalStatusEvent(
        status=LAPSED, previousStageCode=4, eventDate="2026-04-01", effectiveDate="2026-04-01"
    )
    right = Right.model_validate(right_json())  # still granted
    with pytest.raises(ValidationError, match=r"right\.legalStatus"):
        RightRecord(
            version=2,
            right=right,
            changeKind="legalStatusEvent",
            legalStatusEvent=event,
            previousRecordHash=EVIDENCE,
        )


# ---------------------------------------------------------------- canonical bytes: property tests

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def shuffled(value: Any, rng: random.Random) -> Any:
    """The same JSON value with every object's keys in another order."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [shuffled(v, rng) for v in value]
    return value


@settings(max_examples=50, deadline=None)
@given(value=st.dictionaries(st.text(max_size=8), json_values, max_size=6), seed=st.integers(0, 2**32))
def test_key_order_never_changes_the_canonical_bytes(value: dict[str, Any], seed: int) -> None:
    assert canonical_bytes(shuffled(value, random.Random(seed))) == canonical_bytes(value)


@settings(max_examples=50, deadline=None)
@given(value=st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_canonical_bytes_are_utf8_json_that_parses_back_to_the_value(value: dict[str, Any]) -> None:
    data = canonical_bytes(value)
    assert json.loads(data.decode("utf-8")) == value
    assert canonical_bytes(json.loads(data)) == data


@settings(max_examples=50, deadline=None)
@given(name=st.text(min_size=1, max_size=40).filter(lambda s: s.strip() == s and s))
def test_unicode_names_survive_canonicalisation_unescaped(name: str) -> None:
    party = Party(name=name)
    data = canonical_bytes(party)
    assert Party.model_validate(json.loads(data)) == party
    if all(ord(c) >= 0x20 and c not in '"\\' for c in name):
        assert name.encode("utf-8") in data  # RFC 8785 keeps non-ASCII as UTF-8, not \\u escapes


def test_numbers_take_their_shortest_form() -> None:
    assert canonical_bytes({"a": 1.0, "b": 1e21, "c": -0.0, "d": 100}) == b'{"a":1,"b":1e+21,"c":0,"d":100}'


def test_rfc8785_sorts_keys_by_utf16_code_units() -> None:
    # RFC 8785 section 3.2.3 sorts by UTF-16 code units: U+1F600 (surrogates 0xD83D 0xDE00) comes before
    # U+FF21 (0xFF21), although its code point is higher.
    assert (
        canonical_bytes({"\uff21": 1, "\U0001f600": 2, "a": 3})
        == '{"a":3,"\U0001f600":2,"\uff21":1}'.encode()
    )


# ---------------------------------------------------------------- commitments and seals


def test_owner_commitment_depends_on_owners_and_salt() -> None:
    owners = [Party(name="Acme GmbH", countryCode="DE")]
    salt = bytes(range(32))
    assert owner_commitment(owners, salt) == owner_commitment(list(owners), bytes(salt))
    assert owner_commitment(owners, salt) != owner_commitment(owners, bytes(32))
    assert owner_commitment(owners, salt) != owner_commitment([Party(name="Acme AG")], salt)
    with pytest.raises(ValueError, match="32 bytes"):
        owner_commitment(owners, b"short")


def test_values_from_records_are_accepted_and_proven_on_chain(consortium: Consortium) -> None:
    """A registration built from a record verifies against the contract's own digest and seal."""
    record = RightRecord(
        version=1,
        right=Right.model_validate(right_json(rightId="EP:PAT:EP77", applicationNumberText="EP77")),
        changeKind="registration",
    )
    salt = bytes(31) + b"\x07"
    state = (
        seal(record_hash(record), salt),
        owner_commitment(list(record.right.ownerBag), salt),
        record.right.legalStatus.to_chain(),
    )
    registration = (
        chain_right_id(record.right.rightId),
        record.right.rightKindCategory.chain_value,
        True,
        state,
    )
    consortium.transactors["EP"].send(consortium.contract.functions.register(registration))

    assert consortium.contract.functions.matchesState(registration[0], state).call()
    assert consortium.contract.functions.sealOf(record_hash(record), salt).call() == state[0]


@settings(max_examples=300, deadline=None)
@given(value=st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_canonical_bytes_are_exactly_what_the_rfc8785_package_writes(value: dict[str, Any]) -> None:
    """canonical_bytes takes a fast path for JSON without floats and with ASCII keys; both paths must give
    RFC 8785's bytes, control characters, escapes, non-BMP text and big integers included."""
    assert canonical_bytes(value) == bytes(rfc8785.dumps(value))


class Colour(StrEnum):
    RED = "red"


class Level(IntEnum):
    HIGH = 3


any_scalars = (
    json_scalars
    | st.floats()
    | st.integers()  # beyond 2**53 too: RFC 8785 refuses those
    | st.sampled_from([Colour.RED, Level.HIGH])
)
any_values = st.recursive(
    any_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=8) | st.just(Colour.RED), children, max_size=4)
    ),
    max_leaves=20,
)


def outcome(write: Any, value: Any) -> bytes | str:
    try:
        return bytes(write(value))
    except Exception as err:  # the error's type is the outcome: both writers must refuse alike
        return type(err).__name__


@settings(max_examples=300, deadline=None)
@given(value=st.dictionaries(st.text(max_size=8), any_values, max_size=6))
def test_any_value_gets_rfc8785s_bytes_or_its_refusal(value: dict[str, Any]) -> None:
    """The fast path's check must send floats, unsafe integers, non-ASCII keys, tuples and enum members
    to rfc8785 (or write them as it does), and never write what rfc8785 refuses."""
    assert outcome(canonical_bytes, value) == outcome(rfc8785.dumps, value)


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=200))
def test_keccak256_is_ethereums_keccak(data: bytes) -> None:
    assert keccak256(data) == bytes(keccak(data))


def test_chain_right_id_is_the_keccak_of_the_id_text_and_refuses_bad_ids() -> None:
    assert chain_right_id("EP:PAT:EP20190012345") == bytes(keccak(text="EP:PAT:EP20190012345"))
    with pytest.raises(ValueError, match="OFFICE:TYPE:APPLICATION_NUMBER"):
        chain_right_id("EP:PAT:ep1")
