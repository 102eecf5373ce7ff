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
# An entry of the register: a right (`EP:PAT:EP20190012345`), or the designation of an international
# registration in a designated office (`WO:TM:1234567@GB`), which that office decides on.
RIGHT_ID = re.compile(
    rf"^(?P<office>[A-Z]{{2}}):(?P<type>PAT|UM|TM|DES|GI):(?P<number>{APPLICATION_NUMBER})"
    r"(?:@(?P<designated>[A-Z]{2}))?\Z"
)
INTERNATIONAL_BUREAU = "WO"  # WIPO's International Bureau, the office of international registrations
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
    GEOGRAPHICAL_INDICATION = "geographicalIndication"


RIGHT_TYPE_OF_KIND = {
    RightKind.PATENT: "PAT",
    RightKind.UTILITY_MODEL: "UM",
    RightKind.TRADEMARK: "TM",
    RightKind.DESIGN: "DES",
    RightKind.GEOGRAPHICAL_INDICATION: "GI",
}
KIND_OF_RIGHT_TYPE = {right_type: kind for kind, right_type in RIGHT_TYPE_OF_KIND.items()}
# Madrid (trademarks) and Hague (designs): the kinds an international registration designates offices for.
DESIGNATABLE_KINDS = (RightKind.TRADEMARK, RightKind.DESIGN)


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


def _check_entry_id(value: str) -> str:
    if not RIGHT_ID.match(value):
        raise ValueError(
            "must be OFFICE:TYPE:APPLICATION_NUMBER, e.g. EP:PAT:EP20190012345 "
            "(ST.3 office code; type PAT, UM, TM, DES or GI; capitals and digits), or an international "
            "registration's designation, e.g. WO:TM:1234567@GB"
        )
    return value


def _check_right_id(value: str) -> str:
    match = RIGHT_ID.match(value)
    if not match or match["designated"]:
        raise ValueError(
            "must be OFFICE:TYPE:APPLICATION_NUMBER, e.g. EP:PAT:EP20190012345 "
            "(ST.3 office code; type PAT, UM, TM, DES or GI; capitals and digits)"
        )
    return value


def _check_designation_id(value: str) -> str:
    match = RIGHT_ID.match(value)
    if not match or not match["designated"]:
        raise ValueError("must be an international registration's designation, e.g. WO:TM:1234567@GB")
    if match["office"] != INTERNATIONAL_BUREAU or match["type"] not in ("TM", "DES"):
        raise ValueError("must designate a Madrid (WO:TM:…) or Hague (WO:DES:…) international registration")
    if match["designated"] == INTERNATIONAL_BUREAU:
        raise ValueError("the International Bureau (WO) is not a designated office")
    return value


def designation_id(international_registration: str, designated_office: str) -> str:
    """The id of an international registration's designation of an office: `WO:TM:1234567@GB`."""
    return _check_designation_id(f"{international_registration}@{designated_office}")


def split_designation_id(value: str) -> tuple[str, str] | None:
    """(international registration, designated office) of a designation id; None for a right's id."""
    match = RIGHT_ID.match(value)
    if not match or not match["designated"]:
        return None
    return value.rsplit("@", 1)[0], match["designated"]


def _check_office_code(value: str) -> str:
    if not OFFICE_CODE.match(value):
        raise ValueError("must be a WIPO ST.3 code: two capital letters")
    return value


def _days_in(year: int, month: int) -> int:
    """Days of a Gregorian month, as the contract checks a date."""
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _check_partial_date(value: str) -> str:
    match = PARTIAL_DATE.match(value)
    if not match:
        raise ValueError("must be an ISO 8601 date: YYYY, YYYY-MM or YYYY-MM-DD")
    month, day = match["month"], match["day"]
    if month is not None and not 1 <= int(month) <= 12:
        raise ValueError("month must be 01 to 12")
    if day is not None and not 1 <= int(day) <= _days_in(int(match["year"]), int(month or 1)):
        raise ValueError(
            f"day must be 01 to {_days_in(int(match['year']), int(month or 1)):02d} in that month"
        )
    if int(match["year"]) < 1000:
        raise ValueError("year must have four digits")
    return value


def _check_sha256(value: str) -> str:
    if not SHA256_HEX.match(value):
        raise ValueError("must be a SHA-256 digest: 64 lower-case hex digits")
    return value


RightIdText = Annotated[str, AfterValidator(_check_right_id)]
EntryIdText = Annotated[str, AfterValidator(_check_entry_id)]
DesignationIdText = Annotated[str, AfterValidator(_check_designation_id)]
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


class PartyRole(StrEnum):
    """What a party is to a right. ST.96 names most roles by the bag that holds the party; US offices put
    the role of each entry of a trademark's applicant bag in its comment text (`OWNER AT PUBLICATION`)."""

    APPLICANT = "applicant"
    OWNER = "owner"
    REGISTRANT = "registrant"
    HOLDER = "holder"  # of an international registration (Madrid, Hague)
    REPRESENTATIVE = "representative"
    INVENTOR = "inventor"
    BENEFICIARY = "beneficiary"  # of a geographical indication (Lisbon)


def _distinct_roles(roles: list[PartyRole] | None) -> list[PartyRole] | None:
    if roles is not None and len(set(roles)) != len(roles):
        raise ValueError("lists a role more than once")
    return roles


class Party(Record):
    """A person or organisation. In `partyBag` it carries every role it holds (`roleBag`); in `ownerBag`
    and `representativeBag` the bag says the role and `roleBag` is left out."""

    name: Text
    addressText: Text | None = None
    countryCode: OfficeCode | None = None
    roleBag: Annotated[
        list[PartyRole] | None,
        Field(min_length=1, max_length=len(PartyRole)),
        AfterValidator(_distinct_roles),
    ] = None

    @property
    def identity(self) -> tuple[str, str | None, str | None]:
        """What makes two mentions the same party: name, address and country, with case and spacing folded."""
        return (
            " ".join(self.name.casefold().split()),
            " ".join(self.addressText.casefold().split()) if self.addressText else None,
            self.countryCode,
        )


class FamilyRelation(StrEnum):
    """What the linked right is to the right whose record holds the link. The gateway shows each link from
    the other side too, under `INVERSE_RELATION`."""

    PRIORITY_CLAIM = "priorityClaim"  # the linked application is this right's priority
    PCT_INTERNATIONAL_APPLICATION = "pctInternationalApplication"  # this right is its national/regional phase
    PARENT_OF_DIVISIONAL = "parentOfDivisional"  # this right is a divisional of the linked one
    PARENT_OF_CONTINUATION = "parentOfContinuation"  # this right continues the linked one
    VALIDATED_REGIONAL_RIGHT = (
        "validatedRegionalRight"  # this national right validates the linked regional one
    )
    INTERNATIONAL_REGISTRATION = (
        "internationalRegistration"  # this right designates, or protects, the linked IR
    )


INVERSE_RELATION = {
    FamilyRelation.PRIORITY_CLAIM: "priorityOf",
    FamilyRelation.PCT_INTERNATIONAL_APPLICATION: "pctNationalPhase",
    FamilyRelation.PARENT_OF_DIVISIONAL: "divisional",
    FamilyRelation.PARENT_OF_CONTINUATION: "continuation",
    FamilyRelation.VALIDATED_REGIONAL_RIGHT: "validation",
    FamilyRelation.INTERNATIONAL_REGISTRATION: "designatedProtection",
}


class FamilyLink(Record):
    """A link from a right to another: the relation, the other application's office, number and date, and its
    right id in this registry where it can be derived (the same office, type and application number)."""

    relationCategory: FamilyRelation
    ipOfficeCode: OfficeCode
    applicationNumberText: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[\x21-\x7e]+$")]
    filingDate: PartialDate | None = None
    rightId: RightIdText | None = None

    @model_validator(mode="after")
    def _right_id_is_the_link(self) -> FamilyLink:
        if self.rightId is not None and not self.rightId.startswith(f"{self.ipOfficeCode}:"):
            raise ValueError(f"rightId {self.rightId} is not of office {self.ipOfficeCode}")
        return self


class Designation(Record):
    """An office designated by an international registration (Madrid, Hague), as the International Bureau
    records it; the designated office's decisions are kept under `designationId`."""

    designatedOfficeCode: OfficeCode
    designationCategory: Literal["original", "subsequent"] = "original"
    designationDate: PartialDate

    @model_validator(mode="after")
    def _not_the_bureau(self) -> Designation:
        if self.designatedOfficeCode == INTERNATIONAL_BUREAU:
            raise ValueError("the International Bureau (WO) is not a designated office")
        return self


class Publication(Record):
    """A publication of the right: by its ST.37 key (office, number, ST.16 kind code, date), or, for a mark or
    design published in a gazette, by the gazette's identifier as the office gives it (never a number)."""

    publicationNumber: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Z0-9]+$")] | None = (
        None
    )
    gazetteIdentifier: Text | None = None
    kindCode: Annotated[str, Field(pattern=r"^[A-Z][0-9]?$")] | None = None
    publicationDate: PartialDate | None = None

    @model_validator(mode="after")
    def _names_the_publication(self) -> Publication:
        if self.publicationNumber is None and self.gazetteIdentifier is None:
            raise ValueError("needs a publicationNumber or a gazetteIdentifier")
        return self


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
    giNameText: Text | None = None
    productText: Text | None = None
    geographicRegionDescriptionText: Text | None = None
    ownerBag: list[Party] = Field(min_length=1, max_length=1000)
    representativeBag: list[Party] = Field(default_factory=list, max_length=20)
    partyBag: Annotated[list[Party] | None, Field(min_length=1, max_length=2000)] = None
    familyLinkBag: Annotated[list[FamilyLink] | None, Field(min_length=1, max_length=200)] = None
    designationBag: Annotated[list[Designation] | None, Field(min_length=1, max_length=200)] = None
    legalStatus: LegalStatus

    @property
    def ipOfficeCode(self) -> str:
        return self.rightId.split(":", 1)[0]

    @property
    def title(self) -> str | None:
        return self.inventionTitle or self.markVerbalElementText or self.designTitle or self.giNameText

    @model_validator(mode="after")
    def _kind_matches_id(self) -> Right:
        _, right_type, number = self.rightId.split(":")
        if RIGHT_TYPE_OF_KIND[self.rightKindCategory] != right_type:
            raise ValueError(f"rightKindCategory {self.rightKindCategory.value} does not match {right_type}")
        if number != self.applicationNumberText:
            raise ValueError("rightId must end with applicationNumberText")
        if self.partyBag is not None:
            if any(p.roleBag is None for p in self.partyBag):
                raise ValueError("each party of partyBag names its roles (roleBag)")
            identities = [p.identity for p in self.partyBag]
            if len(set(identities)) != len(identities):
                raise ValueError("partyBag names a party more than once: list it once, with all its roles")
        if any(p.roleBag is not None for p in [*self.ownerBag, *self.representativeBag]):
            raise ValueError(
                "ownerBag and representativeBag hold parties without roleBag (the bag is the role)"
            )
        if self.designationBag is not None:
            if self.ipOfficeCode != INTERNATIONAL_BUREAU or self.rightKindCategory not in DESIGNATABLE_KINDS:
                raise ValueError(
                    "only an international registration (WO:TM:…, WO:DES:…) has a designationBag"
                )
            offices = [d.designatedOfficeCode for d in self.designationBag]
            if len(set(offices)) != len(offices):
                raise ValueError("designationBag designates an office more than once")
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


ChangeKind = Literal["registration", "ownershipChange", "legalStatusEvent", "publication", "designation"]


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
    designation: Designation | None = None
    previousRecordHash: Sha256Hex | None = None

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)

    @property
    def rightId(self) -> str:
        return self.right.rightId

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
        if (self.changeKind == "designation") != (self.designation is not None):
            raise ValueError("designation is required for, and only for, changeKind designation")
        if self.designation and self.designation not in (self.right.designationBag or []):
            raise ValueError("right.designationBag must hold the designation this version records")
        return self


class DecisionCategory(StrEnum):
    """A designated office's decision on its designation of an international registration (the Madrid and
    Hague office-to-IB transactions)."""

    PROVISIONAL_REFUSAL = "provisionalRefusal"
    GRANT_OF_PROTECTION = "grantOfProtection"
    FINAL_DECISION = "finalDecision"  # confirmation or withdrawal of a refusal, after its review
    INVALIDATION = "invalidation"


class DesignationDecision(Record):
    """One decision: what it says (total or partial, with the classes or goods it concerns, as the
    registration's classes are written: "Nice 09", "Locarno 07"), its date, and the ST.61 (Madrid) or ST.87
    (Hague) status it gives the designation."""

    decisionCategory: DecisionCategory
    scopeCategory: Literal["total", "partial"] | None = None
    # A final decision either confirms the refusal or grants protection, in whole or for the classes it
    # names; the other decisions say it by their category (a refusal or invalidation takes protection away
    # for the classes it names, a statement of grant gives it).
    protectionCategory: Literal["protected", "refused"] | None = None
    classificationBag: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=40)]] | None, Field(min_length=1, max_length=200)
    ] = None
    goodsServicesText: Text | None = None
    decisionDate: PartialDate
    standard: Literal["ST.61", "ST.87"]
    status: LegalStatus
    previousStageCode: Annotated[int, Field(ge=0, le=6)] = 0
    detailedEventCode: DetailedEventCode | None = None
    officeReferenceText: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    freeText: Text | None = None
    sourceDocumentHash: Sha256Hex | None = None

    @model_validator(mode="after")
    def _scope_is_stated(self) -> DesignationDecision:
        if self.scopeCategory == "partial" and not (self.classificationBag or self.goodsServicesText):
            raise ValueError("a partial decision names the classes (classificationBag) or goods it concerns")
        if self.scopeCategory != "partial" and self.classificationBag:
            raise ValueError("classificationBag is for a partial decision (scopeCategory partial)")
        needs_scope = self.decisionCategory in (
            DecisionCategory.PROVISIONAL_REFUSAL,
            DecisionCategory.INVALIDATION,
        )
        if needs_scope and self.scopeCategory is None:
            raise ValueError(f"a {self.decisionCategory.value} is total or partial (scopeCategory)")
        if (self.status.keyEventCode or "").startswith("Y"):
            raise ValueError("a decision is not a correction: record a new decision instead")
        is_final = self.decisionCategory is DecisionCategory.FINAL_DECISION
        if is_final != (self.protectionCategory is not None):
            raise ValueError(
                "protectionCategory (protected or refused) is required for, and only for, a final decision"
            )
        return self


class DesignationRecord(Record):
    """The signed document of one version of a designation: the designated office's latest decision on it.

    The international registration's owner and goods are the International Bureau's record; this one says
    only what the designated office decided. `previousRecordHash` chains the decisions.
    """

    schema_: Literal["ipreg/designation-record/1"] = Field(
        default="ipreg/designation-record/1", alias="schema"
    )
    version: Annotated[int, Field(ge=1)]
    designationId: DesignationIdText
    decision: DesignationDecision
    previousRecordHash: Sha256Hex | None = None

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)

    @property
    def rightId(self) -> str:
        return self.designationId

    @property
    def internationalRegistrationId(self) -> str:
        return self.designationId.rsplit("@", 1)[0]

    @property
    def designatedOfficeCode(self) -> str:
        return self.designationId.rsplit("@", 1)[1]

    @model_validator(mode="after")
    def _chained(self) -> DesignationRecord:
        if (self.version == 1) != (self.previousRecordHash is None):
            raise ValueError("previousRecordHash is required after version 1, and only then")
        standard = "ST.61" if ":TM:" in self.designationId else "ST.87"
        if self.decision.standard != standard:
            raise ValueError(f"a {'Madrid' if standard == 'ST.61' else 'Hague'} decision uses {standard}")
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
    """The on-chain key of a right or of a designation: keccak256 of its id string (cached: one change
    derives it several times)."""
    return keccak256(_check_entry_id(right_id).encode())


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
