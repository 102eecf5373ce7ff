"""Parties in their roles and current owners, for patents, trademarks (with the USPTO's party types) and
designs; gazettes named as gazettes, not as numbers.

The USPTO sample is modelled on a registered US word mark as the USPTO serves it in ST.96 (the owner listed
three times, once per party type) and validates against WIPO's TrademarkApplication_V6_0.xsd.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from registry_node.protocol.records import Party, PartyRole
from registry_node.protocol.st96 import NAMESPACES, SchemaSet, parse_st96
from registry_node.protocol.st96.reader import PartyRoles, is_gazette_name
from registry_node.protocol.st96.trademark import uspto_party_type

WIPO_ST96 = Path(__file__).resolve().parents[3] / "shared" / "data" / "st96"
WIPO_EXAMPLE = WIPO_ST96 / "PatentPublication_Example.xml"
ASSETS = Path(__file__).resolve().parents[1] / "assets" / "st96"
USPTO = ASSETS / "uspto_trademark_owner_in_three_roles.xml"
TRADEMARK = ASSETS / "trademark_application.xml"
DESIGN = ASSETS / "design_application.xml"
EP_APPLICATION = ASSETS / "patent_application_publication.xml"
US_CONTINUATION = ASSETS / "patent_continuation_of_pct_national_phase.xml"
APPLICANTS = "//tmk:ApplicantBag/tmk:Applicant"

needs_wipo_files = pytest.mark.skipif(
    not WIPO_EXAMPLE.is_file(), reason=f"WIPO ST.96 reference files not found at {WIPO_ST96}"
)


@pytest.fixture(scope="module")
def schemas() -> SchemaSet:
    if not (WIPO_ST96 / "schemas").is_dir():
        pytest.fail(
            f"WIPO ST.96 schemas not found at {WIPO_ST96 / 'schemas'}: shared/ must sit beside the project"
        )
    return SchemaSet(WIPO_ST96 / "schemas")


def edited(path: Path, change: Callable[[Any], None]) -> bytes:
    root = etree.fromstring(path.read_bytes())
    change(root)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def roles(parties: list[Party] | None) -> list[tuple[str, list[PartyRole] | None]]:
    return [(p.name, p.roleBag) for p in parties or []]


# --- USPTO trademarks: party types in the comment text -----------------------------------------------


def test_uspto_owner_named_three_times_is_one_party_with_three_roles_and_the_one_owner(
    schemas: SchemaSet,
) -> None:
    document = parse_st96(USPTO.read_bytes(), schemas)
    right = document.right
    assert document.validation_note == "valid against WIPO ST.96 TrademarkApplication_V6_0.xsd"
    assert right.rightId == "US:TM:88123456"
    assert roles(right.partyBag) == [
        ("Solstice Coffee Roasters, LLC", [PartyRole.REGISTRANT, PartyRole.OWNER, PartyRole.APPLICANT]),
        ("Dana K. Whitfield", [PartyRole.REPRESENTATIVE]),  # the attorney of record
    ]
    (owner,) = right.ownerBag
    assert (owner.name, owner.addressText, owner.countryCode, owner.roleBag) == (
        "Solstice Coffee Roasters, LLC",
        "1200 Harbor Way, 97209 Portland, OR",
        "US",
        None,
    )
    assert [r.name for r in right.representativeBag] == ["Dana K. Whitfield"]


def rename_applicants(*changes: tuple[int, str, str]) -> Callable[[Any], None]:
    """Gives applicant `index` (1-based) the name and comment text of each change."""

    def change(root: Any) -> None:
        applicants = root.xpath(APPLICANTS, namespaces=NAMESPACES)
        for index, name, comment in changes:
            (entity,) = applicants[index - 1].xpath(".//com:EntityName", namespaces=NAMESPACES)
            entity.text = name
            (text,) = applicants[index - 1].xpath("com:CommentText", namespaces=NAMESPACES)
            text.text = comment

    return change


def test_uspto_original_applicant_and_a_later_owner_give_the_later_owner_alone(schemas: SchemaSet) -> None:
    change = rename_applicants(
        (1, "Harbor Bean Holdings Inc.", "1ST NEW OWNER ENTERED AFTER REGISTRATION"),
        (2, "Solstice Coffee Roasters, LLC", "ORIGINAL REGISTRANT"),
    )
    right = parse_st96(edited(USPTO, change), schemas).right
    assert [o.name for o in right.ownerBag] == ["Harbor Bean Holdings Inc."]
    assert roles(right.partyBag)[:2] == [
        ("Harbor Bean Holdings Inc.", [PartyRole.OWNER]),
        ("Solstice Coffee Roasters, LLC", [PartyRole.REGISTRANT, PartyRole.APPLICANT]),
    ]


def test_uspto_owners_of_the_latest_party_type_are_all_current(schemas: SchemaSet) -> None:
    change = rename_applicants(
        (1, "Harbor Bean Holdings Inc.", "2ND NEW OWNER ENTERED AFTER REGISTRATION"),
        (2, "Portland Roast Partners", "2nd new owner entered after registration"),
        (3, "Solstice Coffee Roasters, LLC", "1ST NEW OWNER ENTERED AFTER REGISTRATION"),
    )
    right = parse_st96(edited(USPTO, change), schemas).right
    assert [o.name for o in right.ownerBag] == ["Harbor Bean Holdings Inc.", "Portland Roast Partners"]


@pytest.mark.parametrize(
    ("comment", "party_type"),
    [
        ("ORIGINAL APPLICANT", (10, PartyRole.APPLICANT)),
        ("3RD NEW OWNER BEFORE PUBLICATION", (13, PartyRole.OWNER)),
        ("OWNER AT PUBLICATION", (20, PartyRole.OWNER)),
        ("1st New Owner After Publication", (21, PartyRole.OWNER)),
        ("ORIGINAL  REGISTRANT", (30, PartyRole.REGISTRANT)),
        ("NEW OWNER AFTER REGISTRATION", (40, PartyRole.OWNER)),
        ("10TH NEW OWNER ENTERED AFTER REGISTRATION", (49, PartyRole.OWNER)),
        ("11TH NEW OWNER ENTERED AFTER REGISTRATION", None),
        ("CHANGE OF NAME", None),
        (None, None),
    ],
)
def test_uspto_party_types_are_read_from_the_comment_text(
    comment: str | None, party_type: tuple[int, PartyRole] | None
) -> None:
    assert uspto_party_type(comment) == party_type


def test_a_trademark_without_uspto_party_types_is_owned_by_its_applicants() -> None:
    right = parse_st96(TRADEMARK.read_bytes()).right
    assert roles(right.partyBag) == [
        ("Nordlicht Rösterei GmbH", [PartyRole.APPLICANT]),
        ("Ingrid Voss", [PartyRole.REPRESENTATIVE]),
    ]
    assert [o.name for o in right.ownerBag] == ["Nordlicht Rösterei GmbH"]


# --- patents and designs -----------------------------------------------------------------------------


@needs_wipo_files
def test_wipo_example_applicants_who_invented_are_one_party_each_and_the_assignees_own() -> None:
    right = parse_st96(WIPO_EXAMPLE.read_bytes()).right
    assert roles(right.partyBag) == [
        *[
            (name, [PartyRole.APPLICANT, PartyRole.INVENTOR])
            for name in ("Jun Utsumi", "Takayuki Goto", "Kensuke Ide", "Hideki Takagi", "Masahiro Funayama")
        ],
        ("Birch, Stewart, Kolasch & Birch, LLP", [PartyRole.REPRESENTATIVE]),
        ("Mitsubishi Heavy Industries, Ltd.", [PartyRole.OWNER]),
        ("National Institute of Advanced Industrial Science and Technology", [PartyRole.OWNER]),
    ]  # in document order
    assert [o.name for o in right.ownerBag] == [
        "Mitsubishi Heavy Industries, Ltd.",
        "National Institute of Advanced Industrial Science and Technology",
    ]


def test_an_applicant_inventor_named_bare_as_inventor_keeps_its_address_and_both_roles(
    schemas: SchemaSet,
) -> None:
    right = parse_st96(US_CONTINUATION.read_bytes(), schemas).right
    assert [(p.name, p.addressText, p.countryCode, p.roleBag) for p in right.partyBag or []] == [
        ("Lena Brandt", "Hamburg", "DE", [PartyRole.APPLICANT, PartyRole.INVENTOR]),  # "LENA BRANDT", no city
        ("Nordlicht Rösterei GmbH", "Hamburg", "DE", [PartyRole.OWNER]),
    ]
    assert [o.name for o in right.ownerBag] == ["Nordlicht Rösterei GmbH"]


def test_a_patent_without_owners_is_owned_by_its_applicants() -> None:
    right = parse_st96(EP_APPLICATION.read_bytes()).right
    assert roles(right.partyBag) == [
        ("Nordlicht Rösterei GmbH", [PartyRole.APPLICANT]),
        ("Lena Brandt", [PartyRole.INVENTOR]),
        ("Voss & Partner Patentanwälte", [PartyRole.REPRESENTATIVE]),
    ]
    assert [o.name for o in right.ownerBag] == ["Nordlicht Rösterei GmbH"]


def test_a_design_lists_its_applicants_and_representative_once_each() -> None:
    right = parse_st96(DESIGN.read_bytes()).right
    assert roles(right.partyBag) == [
        ("Hanbit Kitchenware Co., Ltd.", [PartyRole.APPLICANT]),
        ("Park Ji-woo", [PartyRole.REPRESENTATIVE]),
    ]
    assert [o.name for o in right.ownerBag] == ["Hanbit Kitchenware Co., Ltd."]


def test_a_self_represented_applicant_is_one_party_with_both_roles_and_its_address() -> None:
    def self_represented(root: Any) -> None:
        (representative,) = root.xpath("//com:Representative", namespaces=NAMESPACES)
        (name,) = representative.xpath(".//com:PersonFullName", namespaces=NAMESPACES)
        name.text = "HANBIT  Kitchenware Co., Ltd."
        for address in representative.xpath(".//com:PostalAddressBag", namespaces=NAMESPACES):
            address.getparent().remove(address)

    right = parse_st96(edited(DESIGN, self_represented)).right
    assert roles(right.partyBag) == [
        ("Hanbit Kitchenware Co., Ltd.", [PartyRole.APPLICANT, PartyRole.REPRESENTATIVE]),
    ]
    (representative,) = right.representativeBag
    assert (representative.addressText, representative.countryCode) == ("45 Teheran-ro, 06142 Seoul", "KR")


# --- the merging rule --------------------------------------------------------------------------------


def test_mentions_merge_by_folded_name_unless_their_addresses_or_countries_differ() -> None:
    parties = PartyRoles()
    parties.add(Party(name="Acme  GmbH"), PartyRole.APPLICANT)
    parties.add(Party(name="ACME GmbH", addressText="Hauptstr. 1, Berlin"), PartyRole.OWNER)
    parties.add(Party(name="acme gmbh", countryCode="DE"), PartyRole.OWNER)
    parties.add(Party(name="Acme GmbH", addressText="Rue 2, Paris", countryCode="FR"), PartyRole.OWNER)
    bag = parties.bag() or []
    assert [(p.name, p.addressText, p.countryCode, p.roleBag) for p in bag] == [
        ("Acme  GmbH", "Hauptstr. 1, Berlin", "DE", [PartyRole.APPLICANT, PartyRole.OWNER]),
        ("Acme GmbH", "Rue 2, Paris", "FR", [PartyRole.OWNER]),
    ]
    assert len({p.identity for p in bag}) == 2


# --- gazettes ----------------------------------------------------------------------------------------


def test_a_gazette_named_as_a_publication_is_kept_verbatim_not_squeezed_into_a_number() -> None:
    (publication,) = parse_st96(USPTO.read_bytes()).right.publicationBag
    assert publication.gazetteIdentifier == "Trademark Official Gazette"
    assert publication.publicationNumber is None
    assert publication.publicationDate == "2019-07-23"


def test_a_bulletin_number_is_still_a_publication_number() -> None:
    publications = parse_st96(TRADEMARK.read_bytes()).right.publicationBag
    assert [(p.publicationNumber, p.gazetteIdentifier) for p in publications] == [
        ("2019187", None),
        ("2020012", None),
    ]


def test_one_gazette_on_two_dates_is_two_publications() -> None:
    def two_issues(root: Any) -> None:
        for identifier in root.xpath("//com:PublicationIdentifier", namespaces=NAMESPACES):
            identifier.text = "Gemeinschaftsmarkenblatt"

    publications = parse_st96(edited(TRADEMARK, two_issues)).right.publicationBag
    assert [(p.gazetteIdentifier, p.publicationDate) for p in publications] == [
        ("Gemeinschaftsmarkenblatt", "2019-10-01"),
        ("Gemeinschaftsmarkenblatt", "2020-01-20"),
    ]


def test_a_design_gazette_is_a_gazette_too() -> None:
    def gazette(root: Any) -> None:
        (identifier,) = root.xpath("//com:PublicationIdentifier", namespaces=NAMESPACES)
        identifier.text = "Design Gazette No. 2021/46"

    (publication,) = parse_st96(edited(DESIGN, gazette)).right.publicationBag
    assert publication.gazetteIdentifier == "Design Gazette No. 2021/46"


@pytest.mark.parametrize(
    ("identifier", "gazette"),
    [
        ("Official Gazette", True),
        ("Trademark Official Gazette", True),
        ("Bulletin 2019/23", True),
        ("TMOG 2020-01-07", True),
        ("公報", True),  # no digit
        ("2019/187", False),
        ("30-1123456", False),
        ("EP 3712345", False),
        ("BL 2020-01", False),
    ],
)
def test_a_publication_identifier_names_a_gazette_when_it_has_words_or_no_digit(
    identifier: str, gazette: bool
) -> None:
    assert is_gazette_name(identifier) is gazette
