"""Family links from ST.96 data: priority claims, the PCT application of a national phase, the regional
right a national one validates, the parent of a divisional or continuation, and the international
registration a national mark or design protects. Every instance validates against WIPO's V6_0 schemas.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from registry_node.protocol.records import FamilyLink, FamilyRelation
from registry_node.protocol.st96 import NAMESPACES, SchemaSet, St96Error, parse_st96

WIPO_ST96 = Path(__file__).resolve().parents[3] / "shared" / "data" / "st96"
WIPO_EXAMPLE = WIPO_ST96 / "PatentPublication_Example.xml"
ASSETS = Path(__file__).resolve().parents[1] / "assets" / "st96"
US_CONTINUATION = ASSETS / "patent_continuation_of_pct_national_phase.xml"
DE_VALIDATION = ASSETS / "patent_validation_of_european_patent.xml"
TRADEMARK = ASSETS / "trademark_application.xml"
DESIGN = ASSETS / "design_application.xml"

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


def element(xml: str) -> Any:
    """An element from ST.96 markup written with the pat, com, tmk and dgn prefixes."""
    declarations = " ".join(f'xmlns:{p}="{u}"' for p, u in NAMESPACES.items())
    wrapper = etree.fromstring(f"<wrapper {declarations}>{xml}</wrapper>")
    return wrapper[0]


def inserted(path: Path, before_xpath: str, xml: str) -> bytes:
    """The document with `xml` inserted just before the element at `before_xpath`."""
    root = etree.fromstring(path.read_bytes())
    (anchor,) = root.xpath(before_xpath, namespaces=NAMESPACES)
    anchor.addprevious(element(xml))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def links(
    data: bytes, schemas: SchemaSet | None = None
) -> list[tuple[str, str, str, str | None, str | None]]:
    found: list[FamilyLink] = parse_st96(data, schemas).right.familyLinkBag or []
    return [
        (k.relationCategory, k.ipOfficeCode, k.applicationNumberText, k.filingDate, k.rightId) for k in found
    ]


def application(office: str, number: str, date: str | None = None) -> str:
    filing = f"<pat:FilingDate>{date}</pat:FilingDate>" if date else ""
    return (
        f"<pat:PatentDocumentIdentification><pat:ApplicationIdentification><com:IPOfficeCode>{office}"
        f"</com:IPOfficeCode><com:ApplicationNumber><com:ApplicationNumberText>{number}</com:ApplicationNumberText>"
        f"</com:ApplicationNumber>{filing}</pat:ApplicationIdentification></pat:PatentDocumentIdentification>"
    )


# --- patents -----------------------------------------------------------------------------------------


@needs_wipo_files
def test_wipo_example_links_its_priority_and_the_parent_it_was_divided_from(schemas: SchemaSet) -> None:
    assert links(WIPO_EXAMPLE.read_bytes(), schemas) == [
        (FamilyRelation.PRIORITY_CLAIM, "JP", "2007290922", "2007-11-08", "JP:PAT:2007290922"),
        (FamilyRelation.PARENT_OF_DIVISIONAL, "US", "12741916", None, "US:PAT:12741916"),
    ]  # the parent's own PCT application (pat:PCTDocumentParent) is the parent's, not linked here


def test_a_continuation_of_a_national_phase_links_priority_pct_and_both_parents(schemas: SchemaSet) -> None:
    assert links(US_CONTINUATION.read_bytes(), schemas) == [
        (FamilyRelation.PRIORITY_CLAIM, "DE", "1020181234567", "2018-09-24", "DE:PAT:1020181234567"),
        (
            FamilyRelation.PCT_INTERNATIONAL_APPLICATION,
            "WO",
            "PCTEP2019075000",
            "2019-09-20",
            "WO:PAT:PCTEP2019075000",
        ),
        (FamilyRelation.PARENT_OF_CONTINUATION, "US", "16123456", "2019-09-20", "US:PAT:16123456"),
        (FamilyRelation.PARENT_OF_CONTINUATION, "US", "15888002", None, "US:PAT:15888002"),  # in part
    ]  # the second priority claim gives no application number: nothing to link to


def test_a_national_translation_of_a_european_patent_links_the_regional_right_it_validates(
    schemas: SchemaSet,
) -> None:
    document = parse_st96(DE_VALIDATION.read_bytes(), schemas)
    assert document.right.rightId == "DE:PAT:6020190123456"
    assert links(DE_VALIDATION.read_bytes(), schemas) == [
        (FamilyRelation.VALIDATED_REGIONAL_RIGHT, "EP", "191751234", "2019-05-17", "EP:PAT:191751234"),
    ]


@pytest.mark.parametrize(
    ("category", "relation"),
    [
        ("PCT to national patent", FamilyRelation.PCT_INTERNATIONAL_APPLICATION),
        ("Regional patent to national patent", FamilyRelation.VALIDATED_REGIONAL_RIGHT),
    ],
)
def test_a_conversion_to_a_national_patent_links_what_it_was_converted_from(
    category: str, relation: FamilyRelation, schemas: SchemaSet
) -> None:
    conversion = (
        f"<pat:Conversion><pat:ParentDocument>{application('EP', '19175123.4')}</pat:ParentDocument>"
        f"<pat:ConversionCategory>{category}</pat:ConversionCategory></pat:Conversion>"
    )
    data = inserted(US_CONTINUATION, "//pat:RelatedDocumentBag/pat:Continuation", conversion)
    assert (relation, "EP", "191751234", None, "EP:PAT:191751234") in links(data, schemas)


def test_a_parent_named_only_by_its_publication_is_not_linked(schemas: SchemaSet) -> None:
    division = (
        "<pat:Division><pat:ParentDocument><pat:PatentDocumentIdentification>"
        "<pat:PatentPublicationIdentification><com:IPOfficeCode>US</com:IPOfficeCode>"
        "<pat:PublicationNumber>20190012345</pat:PublicationNumber></pat:PatentPublicationIdentification>"
        "</pat:PatentDocumentIdentification></pat:ParentDocument>"
        f"<pat:ChildDocument>{application('US', '17/012,345')}</pat:ChildDocument></pat:Division>"
    )
    data = inserted(US_CONTINUATION, "//pat:RelatedDocumentBag/pat:Continuation", division)
    assert all(link[0] != FamilyRelation.PARENT_OF_DIVISIONAL for link in links(data, schemas))


def test_a_link_named_twice_is_kept_once(schemas: SchemaSet) -> None:
    again = (
        "<pat:PartialContinuation><pat:ParentDocument>"
        f"{application('US', '16/123,456')}</pat:ParentDocument>"
        f"<pat:ChildDocument>{application('US', '17/012,345')}</pat:ChildDocument></pat:PartialContinuation>"
    )
    data = inserted(US_CONTINUATION, "//pat:RelatedDocumentBag/pat:Continuation", again)
    assert [link[2] for link in links(data, schemas)].count("16123456") == 1


def test_an_unusable_priority_number_is_refused_naming_its_element() -> None:
    data = US_CONTINUATION.read_bytes().replace(b"10 2018 123 456.7", "特願2018-123456".encode())
    with pytest.raises(St96Error) as caught:
        parse_st96(data)
    assert caught.value.element == (
        "pat:BibliographicData/pat:PriorityClaimBag/pat:PriorityClaim[1]/com:ApplicationNumber/com:ApplicationNumberText"
    )
    assert "neither A-Z, a digit nor a separator" in caught.value.reason


# --- trademarks and designs --------------------------------------------------------------------------

MARK = "/*/tmk:TrademarkBag/tmk:Trademark"


def test_a_national_mark_links_the_international_registration_it_protects(schemas: SchemaSet) -> None:
    identifiers = (
        "<tmk:InternationalMarkIdentifierBag><tmk:InternationalMarkIdentifier>1 234 567"
        "</tmk:InternationalMarkIdentifier></tmk:InternationalMarkIdentifierBag>"
    )
    data = inserted(TRADEMARK, f"{MARK}/tmk:MarkCategory", identifiers)
    assert links(data, schemas) == [
        (FamilyRelation.INTERNATIONAL_REGISTRATION, "WO", "1234567", None, "WO:TM:1234567"),
    ]


def test_a_mark_links_its_priority_and_the_mark_it_was_divided_from(schemas: SchemaSet) -> None:
    priority = (
        "<tmk:PriorityBag><tmk:Priority><com:PriorityCountryCode>DE</com:PriorityCountryCode>"
        "<com:ApplicationNumber><com:ApplicationNumberText>30 2019 012 345.6</com:ApplicationNumberText>"
        "</com:ApplicationNumber><com:PriorityApplicationFilingDate>2019-03-04</com:PriorityApplicationFilingDate>"
        "</tmk:Priority></tmk:PriorityBag>"
    )
    division = (
        "<tmk:DivisionalApplicationBag><tmk:InitialApplicationNumber><com:ApplicationNumberText>018 000 001"
        "</com:ApplicationNumberText></tmk:InitialApplicationNumber>"
        "<tmk:InitialApplicationDate>2018-12-01</tmk:InitialApplicationDate></tmk:DivisionalApplicationBag>"
    )
    data = inserted(TRADEMARK, f"{MARK}/tmk:PublicationBag", priority)
    root = etree.fromstring(data)
    (category,) = root.xpath(f"{MARK}/tmk:MarkCategory", namespaces=NAMESPACES)
    category.addprevious(element(division))
    data = bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    assert links(data, schemas) == [
        (FamilyRelation.PRIORITY_CLAIM, "DE", "3020190123456", "2019-03-04", "DE:TM:3020190123456"),
        (FamilyRelation.PARENT_OF_DIVISIONAL, "EM", "018000001", "2018-12-01", "EM:TM:018000001"),
    ]


def test_a_national_design_links_its_hague_registration_priority_and_parent(schemas: SchemaSet) -> None:
    data = inserted(
        DESIGN,
        "/*/dgn:DesignApplicationLanguageCode",
        "<com:InternationalRegistrationNumber>DM/212345</com:InternationalRegistrationNumber>",
    )
    root = etree.fromstring(data)
    (publications,) = root.xpath("//dgn:Design/dgn:PublicationBag", namespaces=NAMESPACES)
    publications.addprevious(
        element(
            "<dgn:PriorityBag><dgn:Priority><com:PriorityCountryCode>CN</com:PriorityCountryCode>"
            "<com:ApplicationNumber><com:ApplicationNumberText>202030123456.7</com:ApplicationNumberText>"
            "</com:ApplicationNumber><com:PriorityApplicationFilingDate>2020-09-16"
            "</com:PriorityApplicationFilingDate></dgn:Priority></dgn:PriorityBag>"
        )
    )
    publications.addprevious(
        element(
            "<dgn:RelatedApplicationBag><dgn:RelatedApplication>"
            "<dgn:RelatedApplicationCategory>Division</dgn:RelatedApplicationCategory>"
            "<dgn:RelatedApplicationNumber><com:ApplicationNumberText>30-2020-0099999</com:ApplicationNumberText>"
            "</dgn:RelatedApplicationNumber><dgn:RelatedApplicationDate>2020-11-02</dgn:RelatedApplicationDate>"
            "</dgn:RelatedApplication><dgn:RelatedApplication>"
            "<dgn:RelatedApplicationCategory>Related design</dgn:RelatedApplicationCategory>"
            "<dgn:RelatedApplicationNumber><com:ApplicationNumberText>30-2020-0088888</com:ApplicationNumberText>"
            "</dgn:RelatedApplicationNumber></dgn:RelatedApplication></dgn:RelatedApplicationBag>"
        )
    )
    data = bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    assert links(data, schemas) == [
        (FamilyRelation.INTERNATIONAL_REGISTRATION, "WO", "DM212345", None, "WO:DES:DM212345"),
        (FamilyRelation.PRIORITY_CLAIM, "CN", "2020301234567", "2020-09-16", "CN:DES:2020301234567"),
        (FamilyRelation.PARENT_OF_DIVISIONAL, "KR", "3020200099999", "2020-11-02", "KR:DES:3020200099999"),
    ]  # a related design is no family relation the record knows


def test_documents_without_family_data_have_no_family_links() -> None:
    for path in (TRADEMARK, DESIGN, ASSETS / "patent_application_publication.xml"):
        assert parse_st96(path.read_bytes()).right.familyLinkBag is None
