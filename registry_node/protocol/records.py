"""The registry's records: rights, ownership changes and legal-status events, and their canonical bytes.

Field names follow WIPO ST.96 element names in lowerCamelCase. A record's canonical bytes are its JSON in
RFC 8785 form (sorted keys, fixed number and string forms), so the same record gives the same bytes, and
the same SHA-256 record hash, on any machine. What goes on chain is derived here too: the right id's
keccak256, the five-character status code, yyyymmdd dates, the owner commitment and the confidential seal.
"""

from __future__ import annotations

import hashlib
import json
import re
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, Literal

import rfc8785
from Crypto.Hash import keccak as _keccak
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

MAX_SAFE_INTEGER = 2**53 - 1

# \Z, not $, for Python's re: there "$" also accepts a trailing newline.
APPLICATION_NUMBER = r"[A-Z0-9][A-Z0-9./-]{0,39}"
RIGHT_ID = re.compile(rf"^(?P<office>[A-Z]{{2}}):(?P<type>PAT|UM|TM|DES):(?P<number>{APPLICATION_NUMBER})\Z")
OFFICE_CODE = re.compile(r"^[A-Z]{2}\Z")
PARTIAL_DATE = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?\Z")
KEY_EVENT = r"^[A-HK-NP-WY]\d{2}$"  # a pydantic (Rust) pattern, where $ is the end of the text
SHA256_HEX = re.compile(r"^[0-9a-f]{64}\Z")


class ChainEnum(StrEnum):
    """A record vocabulary the contract keeps as a Solidity enum: the members are listed in the contract's
    order, so a member's position is its number on chain."""

    @property
    def chain_value(self) -> int:
        return list(type(self)).index(self)

    @classmethod
    def chain_name(cls, value: int) -> str:
        """The record word for the contract's enum number `value`; a number beyond the members known here
        (a newer contract) as its digits, so reading the chain never fails on it."""
        members = list(cls)
        index = int(value)
        return members[index].value if 0 <= index < len(members) else str(index)


class RightKind(ChainEnum):
    """The kinds of right, in the order of the contract's RightKind enum."""

    PATENT = "patent"
    UTILITY_MODEL = "utilityModel"
    TRADEMARK = "trademark"
    DESIGN = "design"


RIGHT_TYPE_OF_KIND = {
    RightKind.PATENT: "PAT",
    RightKind.UTILITY_MODEL: "UM",
    RightKind.TRADEMARK: "TM",
    RightKind.DESIGN: "DES",
}


class ConveyanceCategory(ChainEnum):
    """Conveyance types, in the order of the contract's ConveyanceKind enum."""

    ASSIGNMENT = "assignment"
    MERGER = "merger"
    NAME_CHANGE = "nameChange"
    LICENCE = "licence"
    SECURITY_INTEREST = "securityInterest"
    SECURITY_RELEASE = "securityRelease"
    COURT_ORDER = "courtOrder"
    CORRECTION = "correction"
    GOVERNMENT_INTEREST = "governmentInterest"
    OTHER = "other"


def _check_right_id(value: str) -> str:
    if not RIGHT_ID.match(value):
        raise ValueError(
            "must be OFFICE:TYPE:APPLICATION_NUMBER, e.g. EP:PAT:EP20190012345 "
            "(ST.3 office code; type PAT, UM, TM or DES; capitals and digits)"
        )
    return value


def _check_office_code(value: str) -> str:
    if not OFFICE_CODE.match(value):
        raise ValueError("must be a WIPO ST.3 code: two capital letters")
    return value


def _check_partial_date(value: str) -> str:
    match = PARTIAL_DATE.match(value)
    if not match:
        raise ValueError("must be an ISO 8601 date: YYYY, YYYY-MM or YYYY-MM-DD")
    month, day = match["month"], match["day"]
    if month is not None and not 1 <= int(month) <= 12:
        raise ValueError("month must be 01 to 12")
    if day is not None and not 1 <= int(day) <= 31:
        raise ValueError("day must be 01 to 31")
    if int(match["year"]) < 1000:
        raise ValueError("year must have four digits")
    return value


def _check_sha256(value: str) -> str:
    if not SHA256_HEX.match(value):
        raise ValueError("must be a SHA-256 digest: 64 lower-case hex digits")
    return value


RightIdText = Annotated[str, AfterValidator(_check_right_id)]
OfficeCode = Annotated[str, AfterValidator(_check_office_code)]
PartialDate = Annotated[str, AfterValidator(_check_partial_date)]
Sha256Hex = Annotated[str, AfterValidator(_check_sha256)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
DetailedEventCode = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[\x20-\x7e]+$")]


def date_to_chain(date: str) -> int:
    """yyyymmdd, with 00 for an unknown month or day (the contract's date form)."""
    match = PARTIAL_DATE.match(date)
    if not match:
        raise ValueError(f"not an ISO 8601 date: {date!r}")
    return int(match["year"]) * 10_000 + int(match["month"] or 0) * 100 + int(match["day"] or 0)


class Record(BaseModel):
    """Base of every record model: unknown fields are refused, so a typo is an error, not lost data."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class Party(Record):
    name: Text
    addressText: Text | None = None
    countryCode: OfficeCode | None = None


class Publication(Record):
    """A publication of the right (ST.37 key: office, number, ST.16 kind code, date)."""

    publicationNumber: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Z0-9]+$")]
    kindCode: Annotated[str, Field(pattern=r"^[A-Z][0-9]?$")] | None = None
    publicationDate: PartialDate | None = None


class LegalStatus(Record):
    """A WIPO ST.27 status (ST.61 for trademarks and ST.87 for designs have the same shape)."""

    stateCode: Literal["A", "N", "T", "U"]
    stageCode: Annotated[int, Field(ge=0, le=6)]
    keyEventCode: Annotated[str, Field(pattern=KEY_EVENT)] | None = None

    def to_chain(self) -> bytes:
        """The contract's five-byte status code, e.g. b"A4F10"."""
        key_event = self.keyEventCode.encode("ascii") if self.keyEventCode else b"\0\0\0"
        return self.stateCode.encode("ascii") + str(self.stageCode).encode("ascii") + key_event


class Right(Record):
    """A right as its competent office holds it: bibliographic data, owners and current status."""

    rightId: RightIdText
    rightKindCategory: RightKind
    applicationNumberText: Annotated[str, Field(pattern=rf"^{APPLICATION_NUMBER}$")]
    filingDate: PartialDate | None = None
    publicationBag: list[Publication] = Field(default_factory=list, max_length=100)
    registrationNumberText: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    registrationDate: PartialDate | None = None
    inventionTitle: Text | None = None
    markVerbalElementText: Text | None = None
    designTitle: Text | None = None
    classificationBag: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=list, max_length=200
    )
    ownerBag: list[Party] = Field(min_length=1, max_length=100)
    representativeBag: list[Party] = Field(default_factory=list, max_length=20)
    legalStatus: LegalStatus

    @property
    def ipOfficeCode(self) -> str:
        return self.rightId.split(":", 1)[0]

    @model_validator(mode="after")
    def _kind_matches_id(self) -> Right:
        _, right_type, number = self.rightId.split(":")
        if RIGHT_TYPE_OF_KIND[self.rightKindCategory] != right_type:
            raise ValueError(f"rightKindCategory {self.rightKindCategory.value} does not match {right_type}")
        if number != self.applicationNumberText:
            raise ValueError("rightId must end with applicationNumberText")
        return self


class Assignor(Record):
    name: Text
    executionDate: PartialDate | None = None


class OwnershipChange(Record):
    """A recorded conveyance (USPTO assignment categories); one conveyance may cover many rights."""

    conveyanceCategory: ConveyanceCategory
    transferCategory: Literal["full", "partial"] = "full"
    assignorBag: list[Assignor] = Field(min_length=1, max_length=100)
    assigneeBag: list[Party] = Field(min_length=1, max_length=100)
    effectiveDate: PartialDate
    recordalDate: PartialDate
    officeRecordIdentifier: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    rightIdBag: list[RightIdText] = Field(min_length=1, max_length=1000)
    evidenceDocumentHash: Sha256Hex


class LegalStatusEvent(Record):
    """A legal-status event: the ST.27 codes, the office's detailed code and the dates."""

    standard: Literal["ST.27", "ST.61", "ST.87"] = "ST.27"
    status: LegalStatus
    previousStageCode: Annotated[int, Field(ge=0, le=6)]
    detailedEventCode: DetailedEventCode | None = None
    eventDate: PartialDate
    effectiveDate: PartialDate
    publicationDate: PartialDate | None = None
    correctsVersion: Annotated[int, Field(ge=1)] | None = None
    freeText: Text | None = None

    @model_validator(mode="after")
    def _corrections_name_their_target(self) -> LegalStatusEvent:
        is_correction = (self.status.keyEventCode or "").startswith("Y")
        if is_correction != (self.correctsVersion is not None):
            raise ValueError("correctsVersion is required for, and only for, category Y (correction) events")
        return self


ChangeKind = Literal["registration", "ownershipChange", "legalStatusEvent", "publication"]


class RightRecord(Record):
    """The signed document of one version of a right: its whole state after a change, and that change.

    `previousRecordHash` chains the versions, so a record can be checked against the history it claims.
    """

    schema_: Literal["ipreg/right-record/1"] = Field(default="ipreg/right-record/1", alias="schema")
    version: Annotated[int, Field(ge=1)]
    right: Right
    changeKind: ChangeKind
    ownershipChange: OwnershipChange | None = None
    legalStatusEvent: LegalStatusEvent | None = None
    previousRecordHash: Sha256Hex | None = None

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)

    @model_validator(mode="after")
    def _change_is_consistent(self) -> RightRecord:
        if (self.version == 1) != (self.changeKind == "registration"):
            raise ValueError("version 1, and only version 1, is a registration")
        if (self.version == 1) != (self.previousRecordHash is None):
            raise ValueError("previousRecordHash is required after version 1, and only then")
        if (self.changeKind == "ownershipChange") != (self.ownershipChange is not None):
            raise ValueError("ownershipChange is required for, and only for, changeKind ownershipChange")
        if (self.changeKind == "legalStatusEvent") != (self.legalStatusEvent is not None):
            raise ValueError("legalStatusEvent is required for, and only for, changeKind legalStatusEvent")
        if self.ownershipChange and self.right.rightId not in self.ownershipChange.rightIdBag:
            raise ValueError("the ownership change does not cover this right")
        if self.legalStatusEvent and self.legalStatusEvent.status != self.right.legalStatus:
            raise ValueError("right.legalStatus must be the status the event sets")
        return self


def canonical_bytes(record: Record | dict[str, Any]) -> bytes:
    """RFC 8785 canonical JSON of a record (or of its JSON form).

    For JSON without floats, with ASCII keys and safe integers, RFC 8785 is exactly compact JSON with
    sorted keys and only `"`, `\\` and control characters escaped, which the json module's C encoder
    writes about twenty times faster than the rfc8785 package; anything else goes to rfc8785 itself.
    """
    data = record.to_json() if isinstance(record, Record) else record
    if _plain_json(data):
        try:
            return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        except UnicodeEncodeError:  # a lone surrogate: rfc8785 refuses it with its own error
            pass
    return bytes(rfc8785.dumps(data))


def _plain_json(value: Any) -> bool:
    """Whether sorted compact JSON is the RFC 8785 form of `value`: no floats (RFC 8785 has its own number
    form), integers within IEEE 754's exact range, and ASCII keys (sorted alike by UTF-16 and code point).

    A loop over a stack rather than recursion, since it runs on every record and on every anchor manifest
    (thousands of values).
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if item is None or isinstance(item, str):
            continue
        if isinstance(item, dict):
            for key in item:
                if not (isinstance(key, str) and key.isascii()):
                    return False
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, int):  # bool included
            if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                return False
        else:  # a float, a tuple, anything else
            return False
    return True


def record_hash(record: Record | dict[str, Any]) -> bytes:
    """SHA-256 of the canonical bytes: the record hash that goes on chain."""
    return hashlib.sha256(canonical_bytes(record)).digest()


def keccak256(data: bytes) -> bytes:
    """Ethereum's keccak256 (the original Keccak padding, not SHA3-256's) straight from pycryptodome, the
    backend eth-hash uses here, without eth_utils' conversions: a third of the cost per call."""
    return _keccak.new(data=data, digest_bits=256).digest()


@lru_cache(maxsize=4096)
def chain_right_id(right_id: str) -> bytes:
    """The right's on-chain key: keccak256 of its id string (cached: one change derives it several times)."""
    return keccak256(_check_right_id(right_id).encode())


def owner_commitment(owners: list[Party], salt: bytes) -> bytes:
    """Salted commitment to the owners: SHA-256 of the canonical {ownerBag, salt}."""
    if len(salt) != 32:
        raise ValueError("salt must be 32 bytes")
    return hashlib.sha256(
        canonical_bytes({"ownerBag": [o.to_json() for o in owners], "salt": salt.hex()})
    ).digest()


def seal(record_hash_: bytes, salt: bytes) -> bytes:
    """A confidential record's seal: keccak256(abi.encode(recordHash, salt)), as the contract computes it."""
    if len(record_hash_) != 32 or len(salt) != 32:
        raise ValueError("record hash and salt must be 32 bytes each")
    return keccak256(record_hash_ + salt)
