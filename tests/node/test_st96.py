"""ST.96 import: WIPO's example and our samples become rights, hostile input is refused, evidence is stable.

WIPO's files (the Annex VII example and the V6_0 schemas) are read from ../shared/data/st96, never copied.
The schemas take seconds to load, so one SchemaSet serves the whole module.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from registry_node.protocol import st96
from registry_node.protocol.errors import ConfigError
from registry_node.protocol.records import RightKind
from registry_node.protocol.st96 import (
    C14N_ALGORITHM,
    MAX_ATTRIBUTE_CHARS,
    MAX_DOCUMENT_BYTES,
    MAX_ELEMENT_DEPTH,
    NAMESPACES,
    NOT_VALIDATED_NOTE,
    SchemaSet,
    St96Error,
    canonical_xml,
    import_files,
    parse_st96,
)
from registry_node.protocol.st96 import schema as st96_schema
from registry_node.protocol.st96 import xml as st96_xml

WIPO_ST96 = Path(__file__).resolve().parents[3] / "shared" / "data" / "st96"
WIPO_EXAMPLE = WIPO_ST96 / "PatentPublication_Example.xml"
WIPO_SCHEMAS = WIPO_ST96 / "schemas"
ASSETS = Path(__file__).resolve().parents[1] / "assets" / "st96"
HOSTILE = ASSETS / "hostile"
TRADEMARK = ASSETS / "trademark_application.xml"
DESIGN = ASSETS / "design_application.xml"
EP_APPLICATION = ASSETS / "patent_application_publication.xml"

PASSWD_MARKER = "root:"  # what /etc/passwd starts with: must never reach a result or an error

needs_wipo_files = pytest.mark.skipif(
    not WIPO_EXAMPLE.is_file(), reason=f"WIPO ST.96 reference files not found at {WIPO_ST96}"
)


@pytest.fixture(scope="module")
def schemas() -> SchemaSet:
    """WIPO's V6_0 schemas, each loaded at most once for the whole module."""
    if not WIPO_SCHEMAS.is_dir():
        pytest.fail(f"WIPO ST.96 schemas not found at {WIPO_SCHEMAS}: shared/ must sit beside the project")
    return SchemaSet(WIPO_SCHEMAS)


def refusal(data: bytes, schemas: SchemaSet | None = None) -> St96Error:
    """The St96Error that importing `data` raises. How long a refusal takes is a benchmark figure
    (bench/hostile_input.py), not a test: a wall-clock bound fails on a loaded machine."""
    with pytest.raises(St96Error) as caught:
        parse_st96(data, schemas)
    assert str(caught.value) == f"{caught.value.element}: {caught.value.reason}"
    return caught.value


def edited(path: Path, change: Callable[[Any], None]) -> bytes:
    """The file's bytes after `change(root)` edited its parsed tree."""
    root = etree.fromstring(path.read_bytes())
    change(root)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def remove(*xpaths: str) -> Callable[[Any], None]:
    def change(root: Any) -> None:
        for xpath in xpaths:
            matches = root.xpath(xpath, namespaces=NAMESPACES)
            assert matches, f"the fixture has no {xpath}"
            for element in matches:
                element.getparent().remove(element)

    return change


def set_text(xpath: str, text: str) -> Callable[[Any], None]:
    def change(root: Any) -> None:
        (element,) = root.xpath(xpath, namespaces=NAMESPACES)
        element.text = text

    return change


def append(parent_xpath: str, tag: str, text: str) -> Callable[[Any], None]:
    def change(root: Any) -> None:
        (parent,) = root.xpath(parent_xpath, namespaces=NAMESPACES)
        prefix, name = tag.split(":")
        etree.SubElement(parent, f"{{{NAMESPACES[prefix]}}}{name}").text = text

    return change


# --- WIPO's Annex VII example ------------------------------------------------------------------------


def test_wipo_files_are_read_from_the_shared_folder_next_to_the_repository() -> None:
    repository = Path(__file__).resolve().parents[2]
    assert repository.parent / "shared" / "data" / "st96" == WIPO_ST96
    assert not list(ASSETS.rglob("PatentPublication_Example.xml")), "WIPO's files must not be copied here"
    assert not list(ASSETS.rglob("*.xsd")), "WIPO's schemas must not be copied here"


@needs_wipo_files
def test_wipo_example_imports_as_us_patent_application_13797521() -> None:
    document = parse_st96(WIPO_EXAMPLE.read_bytes())

    right = document.right
    assert document.kind is RightKind.PATENT
    assert right.rightId == "US:PAT:13797521"
    assert right.rightKindCategory is RightKind.PATENT
    assert right.applicationNumberText == "13797521"
    assert document.original_application_number == "13797521"
    assert right.filingDate == "2013-03-12"
    grant = right.publicationBag[-1]
    assert (grant.publicationNumber, grant.kindCode, grant.publicationDate) == (
        "08936998",
        "B2",
        "2015-01-20",
    )
    earlier = right.publicationBag[0]  # INID 65: the same application's pre-grant publication
    assert (earlier.publicationNumber, earlier.kindCode, earlier.publicationDate) == (
        "20130213561",
        "A1",
        "2013-08-22",
    )
    assert right.inventionTitle == "Manufcaturing method for room-temperature substrate bonding"
    assert [o.name for o in right.ownerBag] == [
        "Mitsubishi Heavy Industries, Ltd.",
        "National Institute of Advanced Industrial Science and Technology",
    ]
    assert [r.name for r in right.representativeBag] == ["Birch, Stewart, Kolasch & Birch, LLP"]
    assert right.classificationBag[:2] == ["H01L 21/30", "H01L 21/302"]  # IPCR first
    assert "H01L 21/2007" in right.classificationBag  # then CPC
    assert len(right.classificationBag) == len(set(right.classificationBag))
    assert right.legalStatus.to_chain() == b"A4F10"


@needs_wipo_files
def test_without_schemas_the_import_says_it_did_not_validate() -> None:
    document = parse_st96(WIPO_EXAMPLE.read_bytes())
    assert document.validated is False
    assert (
        document.validation_note == NOT_VALIDATED_NOTE == "no ST.96 schema folder configured: not validated"
    )


@needs_wipo_files
def test_wipo_example_validates_against_wipo_schema(schemas: SchemaSet) -> None:
    data = WIPO_EXAMPLE.read_bytes()
    document = parse_st96(data, schemas)
    assert document.validated is True
    assert "PatentPublication_V6_0.xsd" in document.validation_note
    assert document.right == parse_st96(data).right
    assert document.source == data


@needs_wipo_files
def test_evidence_is_the_sha256_of_the_exclusive_c14n_form() -> None:
    data = WIPO_EXAMPLE.read_bytes()
    document = parse_st96(data)
    tree = etree.ElementTree(etree.fromstring(data))
    expected = etree.tostring(tree, method="c14n", exclusive=True, with_comments=False)
    assert canonical_xml(data) == expected
    assert document.c14n_sha256 == hashlib.sha256(expected).digest()
    assert document.c14n_algorithm == C14N_ALGORITHM == "http://www.w3.org/2001/10/xml-exc-c14n#"


# --- our samples -------------------------------------------------------------------------------------


def test_trademark_sample_validates_and_imports(schemas: SchemaSet) -> None:
    document = parse_st96(TRADEMARK.read_bytes(), schemas)

    right = document.right
    assert document.validated is True
    assert "TrademarkApplication_V6_0.xsd" in document.validation_note
    assert document.kind is RightKind.TRADEMARK
    assert right.rightId == "EM:TM:018123456"
    assert document.original_application_number == "018 123 456"
    assert right.filingDate == "2019-09-02"
    assert (right.registrationNumberText, right.registrationDate) == ("018123456", "2020-01-17")
    assert right.markVerbalElementText == "NORDLICHT Kaffee"
    assert right.classificationBag == ["Nice 30", "Nice 43"]
    assert [(p.publicationNumber, p.publicationDate) for p in right.publicationBag] == [
        ("2019187", "2019-10-01"),
        ("2020012", "2020-01-20"),
    ]
    (owner,) = right.ownerBag
    assert owner.name == "Nordlicht Rösterei GmbH"
    assert owner.addressText == "Speicherstraße 12, 20457 Hamburg"
    assert owner.countryCode == "DE"
    assert [r.name for r in right.representativeBag] == ["Ingrid Voss"]
    assert right.legalStatus.to_chain() == b"A4F10"


def test_design_sample_validates_and_imports(schemas: SchemaSet) -> None:
    document = parse_st96(DESIGN.read_bytes(), schemas)

    right = document.right
    assert document.validated is True
    assert "DesignApplication_V6_0.xsd" in document.validation_note
    assert document.kind is RightKind.DESIGN
    assert right.rightId == "KR:DES:3020210012345"
    assert document.original_application_number == "30-2021-0012345"
    assert right.filingDate == "2021-03-15"
    assert right.designTitle == "Coffee grinder"
    assert right.classificationBag == ["Locarno 31-00"]
    assert [(o.name, o.countryCode) for o in right.ownerBag] == [("Hanbit Kitchenware Co., Ltd.", "KR")]
    (representative,) = right.representativeBag
    assert representative.addressText == "Gangnam-daero 310, Seoul 06253, Republic of Korea"
    assert representative.countryCode is None
    assert right.legalStatus.to_chain() == b"A4F10"


def test_application_publication_sample_validates_and_prefers_the_english_title(schemas: SchemaSet) -> None:
    document = parse_st96(EP_APPLICATION.read_bytes(), schemas)

    right = document.right
    assert document.validated is True
    assert right.rightId == "EP:PAT:191751234"
    assert document.original_application_number == "19175123.4"
    assert right.inventionTitle == "Coffee grinder with a conical burr"  # the second title; spaces collapsed
    assert [(p.publicationNumber, p.kindCode) for p in right.publicationBag] == [("3712345", "A1")]
    assert right.classificationBag == ["A47J 42/06"]
    assert [o.name for o in right.ownerBag] == ["Nordlicht Rösterei GmbH"]  # no assignees: the applicant
    assert [(r.name, r.addressText) for r in right.representativeBag] == [
        ("Voss & Partner Patentanwälte", "20354 Hamburg")
    ]
    assert right.legalStatus.to_chain() == b"A1Q10"


# --- hostile input -----------------------------------------------------------------------------------


def passwd_is_readable() -> bool:
    try:
        return PASSWD_MARKER in Path("/etc/passwd").read_text()
    except OSError:
        return False


def assert_nothing_leaked(*texts: object) -> None:
    for text in texts:
        assert PASSWD_MARKER not in str(text)
        assert PASSWD_MARKER not in repr(text)


@pytest.mark.parametrize(
    ("name", "element", "reason"),
    [
        ("xxe_external_entity.xml", "(document)", "declares entities"),
        ("xxe_parameter_entity.xml", "(document)", "declares entities"),
        ("billion_laughs.xml", "(document)", "declares entities"),
        ("external_dtd.xml", "(document)", "external DTD"),
        ("malformed.xml", "(document)", "not well-formed XML: line 9"),
        ("not_utf8.xml", "(document)", "encoding: line 4"),
        (
            "wrong_namespace.xml",
            "{http://www.wipo.int/standards/XMLSchema/ST96/Patents}PatentPublication",
            "expected one of pat:PatentPublication, tmk:TrademarkApplication, dgn:DesignApplication",
        ),
        (
            "missing_application_number.xml",
            "pat:BibliographicData/pat:ApplicationIdentification/com:ApplicationNumber/com:ApplicationNumberText",
            "missing",
        ),
    ],
)
def test_hostile_file_is_refused_with_the_reason(name: str, element: str, reason: str) -> None:
    error = refusal((HOSTILE / name).read_bytes())
    assert error.element == element
    assert reason in error.reason
    assert_nothing_leaked(error, error.reason)


@pytest.mark.parametrize(
    "name", ["xxe_external_entity.xml", "xxe_parameter_entity.xml", "billion_laughs.xml", "external_dtd.xml"]
)
def test_a_doctype_is_refused_before_libxml2_reads_the_document(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What keeps an entity bomb cheap: the prolog scan refuses it, so nothing is ever expanded."""

    def parse(*args: Any) -> Any:
        raise AssertionError("libxml2 was given a document with a DOCTYPE")

    monkeypatch.setattr(etree, "fromstring", parse)
    assert refusal((HOSTILE / name).read_bytes()).element == "(document)"


@pytest.mark.skipif(not passwd_is_readable(), reason="needs a readable /etc/passwd to prove nothing leaks")
@pytest.mark.parametrize("name", ["xxe_external_entity.xml", "xxe_parameter_entity.xml"])
def test_xxe_file_content_never_appears_in_any_outcome(name: str, schemas: SchemaSet) -> None:
    path = HOSTILE / name
    error = refusal(path.read_bytes(), schemas)
    (outcome,) = import_files([path], schemas)
    assert outcome.document is None
    assert_nothing_leaked(error, error.element, error.reason, outcome, outcome.error)


@pytest.mark.parametrize(
    "name", ["xxe_external_entity.xml", "xxe_parameter_entity.xml", "billion_laughs.xml"]
)
def test_parser_refuses_entities_even_when_the_doctype_scan_is_bypassed(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(st96_xml, "_doctype_refusal", lambda data: None)
    error = refusal((HOSTILE / name).read_bytes())
    assert error.element == "(document)"
    assert "entit" in error.reason
    assert_nothing_leaked(error)


@pytest.mark.parametrize("scan", [True, False])
def test_utf16_encoded_xxe_is_refused(scan: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not scan:
        monkeypatch.setattr(st96_xml, "_doctype_refusal", lambda data: None)
    text = (
        (HOSTILE / "xxe_external_entity.xml")
        .read_text("utf-8")
        .replace('encoding="UTF-8"', 'encoding="UTF-16"')
    )
    error = refusal(text.encode("utf-16"))
    assert "declares entities" in error.reason
    assert_nothing_leaked(error)


def nested(depth: int) -> bytes:
    """A patent publication root with `depth` levels of elements in all."""
    inner = depth - 1
    return (
        f'<pat:PatentPublication xmlns:pat="{NAMESPACES["pat"]}">'.encode()
        + b"<pat:X>" * inner
        + b"</pat:X>" * inner
        + b"</pat:PatentPublication>"
    )


@pytest.mark.parametrize("depth", [MAX_ELEMENT_DEPTH + 1, 300, 5000])
def test_deep_nesting_is_refused(depth: int) -> None:
    error = refusal(nested(depth))
    assert error.element == "(document)"
    assert f"deeper than {MAX_ELEMENT_DEPTH} levels" in error.reason


def test_nesting_up_to_the_limit_passes_the_parser() -> None:
    error = refusal(nested(MAX_ELEMENT_DEPTH))  # refused for its content, not its depth
    assert error.element == "pat:BibliographicData"


def test_huge_attribute_value_is_refused_naming_the_attribute() -> None:
    data = TRADEMARK.read_bytes().replace(
        b'com:st96Version="V6_0"', b'com:st96Version="' + b"V" * 100_000 + b'"'
    )
    error = refusal(data)
    assert error.element == "tmk:TrademarkApplication/@com:st96Version"
    assert f"the limit is {MAX_ATTRIBUTE_CHARS}" in error.reason


@pytest.mark.parametrize("char", ["V", "é", "\U0001f600"])
def test_attribute_values_are_measured_in_characters_up_to_the_limit(char: str) -> None:
    def with_version(length: int) -> bytes:
        value = (char * length).encode()
        return TRADEMARK.read_bytes().replace(b'com:st96Version="V6_0"', b'com:st96Version="' + value + b'"')

    assert parse_st96(with_version(MAX_ATTRIBUTE_CHARS)).right.rightId == "EM:TM:018123456"
    error = refusal(with_version(MAX_ATTRIBUTE_CHARS + 1))
    assert error.element == "tmk:TrademarkApplication/@com:st96Version"
    assert f"has {MAX_ATTRIBUTE_CHARS + 1} characters" in error.reason


def test_document_over_the_size_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    data = TRADEMARK.read_bytes() + b"<!--" + b"x" * MAX_DOCUMENT_BYTES + b"-->"
    error = refusal(data)
    assert (error.element, error.reason) == ("(document)", "is larger than the 10 MiB limit")
    big = tmp_path / "big.xml"
    big.write_bytes(data)
    (outcome,) = import_files([big])
    assert outcome.error is not None
    assert outcome.error.reason == "is larger than the 10 MiB limit"


def test_party_given_only_by_identifier_is_refused() -> None:
    def identifier_only(root: Any) -> None:
        (applicant,) = root.xpath("//tmk:Applicant", namespaces=NAMESPACES)
        for child in list(applicant):
            applicant.remove(child)
        etree.SubElement(applicant, f"{{{NAMESPACES['com']}}}PartyIdentifier").text = "EUIPO-123456"

    error = refusal(edited(TRADEMARK, identifier_only))
    assert error.element == "tmk:TrademarkBag/tmk:Trademark/tmk:ApplicantBag/tmk:Applicant"
    assert "names no party" in error.reason


# --- missing mandatory elements ----------------------------------------------------------------------

BIB = "pat:BibliographicData"
APP = f"{BIB}/pat:ApplicationIdentification"
NUMBER = f"{APP}/com:ApplicationNumber/com:ApplicationNumberText"
PUBLICATION = f"{BIB}/pat:PatentPublicationIdentification"
TITLES = f"{BIB}/pat:InventionTitleBag"
PARTIES = f"{BIB}/pat:PartyBag"
MARK = "tmk:TrademarkBag/tmk:Trademark"
MARK_NUMBER = f"{MARK}/com:ApplicationNumber"


@needs_wipo_files
@pytest.mark.parametrize(
    "element",
    [
        BIB,
        APP,
        f"{APP}/com:IPOfficeCode",
        f"{APP}/com:ApplicationNumber",
        NUMBER,
        f"{PUBLICATION}/pat:PublicationNumber",
        TITLES,
        f"{TITLES}/pat:InventionTitle",
        PARTIES,
    ],
)
def test_missing_patent_element_is_named(element: str) -> None:
    error = refusal(edited(WIPO_EXAMPLE, remove(f"/*/{element}")))
    assert (error.element, error.reason) == (element, "missing")


@needs_wipo_files
def test_patent_without_owner_parties_names_the_party_bag() -> None:
    owners = remove(f"/*/{PARTIES}/pat:AssigneeBag", f"/*/{PARTIES}/pat:ApplicantBag")
    error = refusal(edited(WIPO_EXAMPLE, owners))
    assert error.element == PARTIES
    assert "names no owner" in error.reason


@needs_wipo_files
def test_patent_without_assignees_is_owned_by_its_applicants() -> None:
    document = parse_st96(edited(WIPO_EXAMPLE, remove(f"/*/{PARTIES}/pat:AssigneeBag")))
    assert [o.name for o in document.right.ownerBag][:2] == ["Jun Utsumi", "Takayuki Goto"]


@pytest.mark.parametrize(
    ("removed", "element", "reason"),
    [
        (["tmk:TrademarkBag"], "tmk:TrademarkBag", "missing"),
        ([MARK], MARK, "missing"),
        ([MARK_NUMBER], MARK_NUMBER, "missing"),
        ([f"{MARK_NUMBER}/com:ApplicationNumberText"], f"{MARK_NUMBER}/com:ApplicationNumberText", "missing"),
        (
            [f"{MARK_NUMBER}/com:IPOfficeCode", f"{MARK}/com:RegistrationOfficeCode"],
            f"{MARK_NUMBER}/com:IPOfficeCode",
            "missing, and so is com:RegistrationOfficeCode",
        ),
        ([f"{MARK}/tmk:ApplicantBag"], f"{MARK}/tmk:ApplicantBag", "missing"),
        ([f"{MARK}/tmk:ApplicantBag/tmk:Applicant"], f"{MARK}/tmk:ApplicantBag", "names no owner"),
        (
            [f"{MARK}/tmk:ApplicantBag/tmk:Applicant/com:Contact/com:Name"],
            f"{MARK}/tmk:ApplicantBag/tmk:Applicant",
            "names no party",
        ),
        (
            [f"{MARK}/tmk:PublicationBag/tmk:Publication[1]/com:PublicationIdentifier"],
            f"{MARK}/tmk:PublicationBag/tmk:Publication[1]/com:PublicationIdentifier",
            "missing",
        ),
    ],
)
def test_missing_trademark_element_is_named(removed: list[str], element: str, reason: str) -> None:
    error = refusal(edited(TRADEMARK, remove(*(f"/*/{x}" for x in removed))))
    assert error.element == element
    assert error.reason.startswith(reason)


def test_trademark_office_falls_back_to_the_registration_office() -> None:
    document = parse_st96(edited(TRADEMARK, remove(f"/*/{MARK_NUMBER}/com:IPOfficeCode")))
    assert document.right.rightId == "EM:TM:018123456"


def test_trademark_bag_with_two_marks_is_refused() -> None:
    def duplicate(root: Any) -> None:
        (bag,) = root.xpath("tmk:TrademarkBag", namespaces=NAMESPACES)
        bag.append(etree.fromstring(etree.tostring(bag[0])))

    error = refusal(edited(TRADEMARK, duplicate))
    assert error.element == "tmk:TrademarkBag"
    assert "holds 2 trademarks" in error.reason


@pytest.mark.parametrize(
    ("removed", "element"),
    [
        (["com:ApplicationNumber"], "com:ApplicationNumber"),
        (["dgn:DesignBag"], "dgn:DesignBag"),
        (["dgn:DesignBag/dgn:Design"], "dgn:DesignBag/dgn:Design"),
        (["dgn:ApplicantBag"], "dgn:ApplicantBag"),
    ],
)
def test_missing_design_element_is_named(removed: list[str], element: str) -> None:
    error = refusal(edited(DESIGN, remove(*(f"/*/{x}" for x in removed))))
    assert (error.element, error.reason) == (element, "missing")


# --- numbers, dates and legal status -----------------------------------------------------------------


@needs_wipo_files
@pytest.mark.parametrize(
    ("written", "number"),
    [
        ("13/797,521", "13797521"),
        ("  13 797 521 ", "13797521"),
        ("13797521".translate({ord(d): 0xFF10 + int(d) for d in "0123456789"}), "13797521"),  # full width
        ("pct/jp2008/068544", "PCTJP2008068544"),
        ("2007-290922", "2007290922"),
    ],
)
def test_application_number_is_normalised_and_the_original_kept(written: str, number: str) -> None:
    data = WIPO_EXAMPLE.read_bytes().replace(b">13797521<", f">{written}<".encode(), 1)
    document = parse_st96(data)
    assert document.right.rightId == f"US:PAT:{number}"
    assert document.right.applicationNumberText == number
    assert document.original_application_number == " ".join(written.split())


@needs_wipo_files
@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("13797521+1", "neither A-Z, a digit nor a separator"),
        ("出願13797521", "neither A-Z, a digit nor a separator"),
        ("/ - /", "holds no letters or digits"),
        ("1" * 41, "has more than 40 letters and digits"),
    ],
)
def test_unusable_application_number_is_refused(written: str, reason: str) -> None:
    data = WIPO_EXAMPLE.read_bytes().replace(b">13797521<", f">{written}<".encode(), 1)
    error = refusal(data)
    assert error.element == NUMBER
    assert reason in error.reason


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("2019-05-17", "2019-05-17"),
        ("2019-05", "2019-05"),
        ("2019", "2019"),
        ("2019-05-17+02:00", "2019-05-17"),
    ],
)
def test_st96_dates_become_iso_dates(written: str, stored: str) -> None:
    document = parse_st96(edited(EP_APPLICATION, set_text(f"{APP}/pat:FilingDate", written)))
    assert document.right.filingDate == stored


@pytest.mark.parametrize("written", ["17.05.2019", "2019-02-30", "2019-13"])
def test_impossible_date_is_refused_naming_the_element(written: str) -> None:
    error = refusal(edited(EP_APPLICATION, set_text(f"{APP}/pat:FilingDate", written)))
    assert error.element == f"{APP}/pat:FilingDate"


KIND = f"{PUBLICATION}/com:PatentDocumentKindCode"


@pytest.mark.parametrize(
    ("change", "status"),
    [
        (set_text(KIND, "A1"), b"A1Q10"),
        (set_text(KIND, "A2"), b"A1Q10"),
        (set_text(KIND, "B1"), b"A4F10"),
        (set_text(KIND, "C1"), b"U0\0\0\0"),
        (remove(f"/*/{PUBLICATION}"), b"U0\0\0\0"),
        (append(BIB, "pat:ApplicationWithdrawnDate", "2021-01-04"), b"N6B10"),
        (append(BIB, "pat:ApplicationDeemedWithdrawnDate", "2021-01-04"), b"N6B10"),
        (append(BIB, "pat:PatentRevocationDate", "2023-06-30"), b"N6H10"),
    ],
)
def test_patent_legal_status_follows_the_bibliographic_data(
    change: Callable[[Any], None], status: bytes
) -> None:
    assert parse_st96(edited(EP_APPLICATION, change)).right.legalStatus.to_chain() == status


MARK_STATUS = f"{MARK}/tmk:MarkCurrentStatusCode"
REGISTRATION = [f"/*/{MARK}/com:RegistrationNumber", f"/*/{MARK}/com:RegistrationDate"]


@pytest.mark.parametrize(
    ("change", "status"),
    [
        (set_text(MARK_STATUS, "Application filed"), b"A1A10"),
        (set_text(MARK_STATUS, "Application published"), b"A2Q10"),
        (set_text(MARK_STATUS, "Opposition pending"), b"A3E10"),
        (set_text(MARK_STATUS, "Application refused"), b"N6B10"),
        (set_text(MARK_STATUS, "Registration cancelled"), b"N6H10"),
        (set_text(MARK_STATUS, "Invalidity proceeding pending"), b"A5L10"),
        (remove(f"/*/{MARK_STATUS}"), b"A4F10"),
        (remove(f"/*/{MARK_STATUS}", *REGISTRATION), b"A1A10"),
        (remove(f"/*/{MARK_STATUS}", *REGISTRATION, f"/*/{MARK}/com:ApplicationDate"), b"U0\0\0\0"),
    ],
)
def test_trademark_legal_status_follows_the_mark_status(change: Callable[[Any], None], status: bytes) -> None:
    assert parse_st96(edited(TRADEMARK, change)).right.legalStatus.to_chain() == status


@pytest.mark.parametrize(
    ("category", "status"),
    [
        ("Filed", b"A1A10"),
        ("Registered", b"A4F10"),
        ("Rejected", b"N6B10"),
        ("Expired", b"N6H10"),
        ("Undefined", b"U0\0\0\0"),
    ],
)
def test_design_legal_status_follows_the_design_status(category: str, status: bytes) -> None:
    change = set_text("dgn:DesignBag/dgn:Design/dgn:DesignCurrentStatusCategory", category)
    assert parse_st96(edited(DESIGN, change)).right.legalStatus.to_chain() == status


# --- evidence ----------------------------------------------------------------------------------------

TRADEMARK_ROOT_TAG = (
    '<tmk:TrademarkApplication xmlns:tmk="http://www.wipo.int/standards/XMLSchema/ST96/Trademark"\n'
    ' xmlns:com="http://www.wipo.int/standards/XMLSchema/ST96/Common"\n'
    ' com:st96Version="V6_0">'
)


@pytest.mark.parametrize(
    "rewrite",
    [
        lambda t: t.replace(
            TRADEMARK_ROOT_TAG,
            "<tmk:TrademarkApplication   com:st96Version='V6_0'\n\t"
            "xmlns:com='http://www.wipo.int/standards/XMLSchema/ST96/Common'   "
            "xmlns:tmk='http://www.wipo.int/standards/XMLSchema/ST96/Trademark' >",
        ),
        lambda t: t.replace(
            TRADEMARK_ROOT_TAG,
            TRADEMARK_ROOT_TAG[:-1] + ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
        ),
        lambda t: t.replace("\n", "\r\n"),
        lambda t: t.split("\n", 1)[1],  # no XML declaration
        lambda t: t.replace("<!-- Test sample", "<!-- A different comment; Test sample"),
        lambda t: t.replace(">NORDLICHT Kaffee<", ">&#x4E;ORDLICHT&#32;Kaffee<"),
        lambda t: t.replace("</com:SecondLanguageCode>", "</com:SecondLanguageCode  >"),
        lambda t: t.replace(">30</tmk:ClassNumber>", "><![CDATA[30]]></tmk:ClassNumber>"),
    ],
    ids=[
        "attributes-reordered",
        "unused-namespace",
        "crlf",
        "no-declaration",
        "comment",
        "char-ref",
        "end-tag-space",
        "cdata",
    ],
)
def test_c14n_hash_is_stable_when_only_serialisation_changes(rewrite: Callable[[str], str]) -> None:
    text = TRADEMARK.read_text("utf-8")
    variant = rewrite(text)
    assert variant != text
    original, rewritten = parse_st96(text.encode()), parse_st96(variant.encode())
    assert rewritten.c14n_sha256 == original.c14n_sha256
    assert rewritten.right == original.right


@pytest.mark.parametrize(("codec", "declared"), [("utf-16", "UTF-16"), ("iso-8859-1", "ISO-8859-1")])
def test_c14n_hash_does_not_depend_on_the_document_encoding(codec: str, declared: str) -> None:
    text = TRADEMARK.read_text("utf-8")
    recoded = text.replace('encoding="UTF-8"', f'encoding="{declared}"').encode(codec)
    original, rewritten = parse_st96(text.encode()), parse_st96(recoded)
    assert rewritten.c14n_sha256 == original.c14n_sha256
    assert rewritten.right == original.right
    assert rewritten.source == recoded


@pytest.mark.parametrize(
    "rewrite",
    [
        lambda t: t.replace("NORDLICHT Kaffee", "NORDLICHT Kaffe"),
        lambda t: t.replace("NORDLICHT Kaffee", "NORDLICHT  Kaffee"),  # white space in text is content
        lambda t: t.replace('com:languageCode="en"', 'com:languageCode="de"', 1),
        lambda t: t.replace("tmk:", "t:").replace("xmlns:tmk=", "xmlns:t="),  # prefixes are part of C14N
    ],
    ids=["text", "text-whitespace", "attribute", "prefix"],
)
def test_c14n_hash_changes_when_content_changes(rewrite: Callable[[str], str]) -> None:
    text = TRADEMARK.read_text("utf-8")
    assert parse_st96(rewrite(text).encode()).c14n_sha256 != parse_st96(text.encode()).c14n_sha256


# --- schema validation -------------------------------------------------------------------------------


def test_schema_failure_names_the_first_failing_element_and_its_line(schemas: SchemaSet) -> None:
    lines = TRADEMARK.read_text("utf-8").splitlines()
    line = next(number for number, text in enumerate(lines, 1) if ">Word<" in text)
    data = TRADEMARK.read_bytes().replace(b">Word<", b">Wordy<")
    error = refusal(data, schemas)
    assert error.element == f"{MARK}/tmk:MarkRepresentation/tmk:MarkFeatureCategory"
    assert error.reason.startswith(f"line {line}: Element 'tmk:MarkFeatureCategory'")
    assert "TrademarkApplication_V6_0.xsd" in error.reason


def test_schema_failure_is_found_with_a_default_namespace_too(schemas: SchemaSet) -> None:
    text = DESIGN.read_text("utf-8").replace(
        'xmlns:dgn="http://www.wipo.int/standards/XMLSchema/ST96/Design"',
        'xmlns="http://www.wipo.int/standards/XMLSchema/ST96/Design"',
    )
    text = text.replace("dgn:", "").replace("<DesignBag>", "<DesignBag><Unexpected/>")
    error = refusal(text.encode(), schemas)
    assert error.element == "dgn:DesignBag/dgn:Unexpected"
    assert "This element is not expected" in error.reason


def test_each_schema_is_loaded_once_across_many_validations(schemas: SchemaSet) -> None:
    sources = [EP_APPLICATION, TRADEMARK, DESIGN] + ([WIPO_EXAMPLE] if WIPO_EXAMPLE.is_file() else [])
    for _ in range(3):
        for path in sources:
            assert parse_st96(path.read_bytes(), schemas).validated
    assert schemas.load_counts == {RightKind.PATENT: 1, RightKind.TRADEMARK: 1, RightKind.DESIGN: 1}


def test_concurrent_first_validations_load_the_schema_once(
    schemas: SchemaSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: list[Path] = []

    class AlwaysValid:
        def validate(self, tree: Any) -> bool:
            return True

    def counting_loader(path: Path) -> AlwaysValid:
        loads.append(path)
        time.sleep(0.05)  # widen the window in which a second thread could start a load
        return AlwaysValid()

    monkeypatch.setattr(st96_schema, "_load_schema", counting_loader)
    fresh = SchemaSet(WIPO_SCHEMAS if WIPO_SCHEMAS.is_dir() else ASSETS)
    data = TRADEMARK.read_bytes()
    results: list[bool] = []
    threads = [
        threading.Thread(target=lambda: results.append(parse_st96(data, fresh).validated)) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 8
    assert [p.name for p in loads] == ["TrademarkApplication_V6_0.xsd"]
    assert fresh.load_counts == {RightKind.TRADEMARK: 1}


def test_schema_folder_that_does_not_exist_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a directory"):
        SchemaSet(tmp_path / "no-such-folder")


def test_schema_folder_without_the_schema_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"TrademarkApplication_V6_0\.xsd is missing"):
        parse_st96(TRADEMARK.read_bytes(), SchemaSet(tmp_path))


# --- batches -----------------------------------------------------------------------------------------


def test_batch_with_one_bad_file_returns_the_good_ones_and_names_the_bad_one(tmp_path: Path) -> None:
    bad = tmp_path / "broken.xml"
    bad.write_bytes((HOSTILE / "malformed.xml").read_bytes())
    paths = [EP_APPLICATION, bad, TRADEMARK, DESIGN]

    outcomes = import_files(paths)

    assert [o.path for o in outcomes] == paths
    assert [o.ok for o in outcomes] == [True, False, True, True]
    good = [o.document.right.rightId for o in outcomes if o.document is not None]
    assert good == ["EP:PAT:191751234", "EM:TM:018123456", "KR:DES:3020210012345"]
    failed = outcomes[1]
    assert failed.document is None
    assert failed.error is not None
    assert "line 9" in failed.error.reason
    assert str(failed).startswith(f"{bad}: (document): is not well-formed XML")


def test_batch_reports_an_unreadable_file_and_goes_on(tmp_path: Path) -> None:
    missing = tmp_path / "missing.xml"
    outcomes = import_files([missing, TRADEMARK])
    assert outcomes[0].error is not None
    assert outcomes[0].error.reason == "cannot be read: No such file or directory"
    assert outcomes[1].ok


def test_outcome_holds_a_document_or_an_error_never_both() -> None:
    document = parse_st96(TRADEMARK.read_bytes())
    with pytest.raises(ValueError, match="either a document or an error"):
        st96.ImportOutcome(TRADEMARK, document=document, error=St96Error("(document)", "x"))
    with pytest.raises(ValueError, match="either a document or an error"):
        st96.ImportOutcome(TRADEMARK)


# --- parse pool --------------------------------------------------------------------------------------


def generated_patents(folder: Path, count: int) -> list[Path]:
    """`count` application publications, each with its own application number."""
    text = EP_APPLICATION.read_text("utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"ep{i}.xml"
        path.write_text(text.replace("19175123.4", f"2{i:07d}.4"), "utf-8")
        paths.append(path)
    return paths


def comparable(outcome: st96.ImportOutcome) -> tuple[Any, ...]:
    """What a user sees of an outcome: its file, its document's fields or its error's element and reason."""
    document, error = outcome.document, outcome.error
    if document is not None:
        return (outcome.path, document.right, document.c14n_sha256, document.source, document.validated,
                document.validation_note, document.original_application_number)  # fmt: skip
    assert error is not None
    return (outcome.path, error.element, error.reason)


def mixed_batch(tmp_path: Path) -> list[Path]:
    """Good files of every kind with bad ones between them, enough for the pool to use its workers."""
    bad = tmp_path / "broken.xml"
    bad.write_bytes((HOSTILE / "malformed.xml").read_bytes())
    patents = generated_patents(tmp_path / "patents", st96.POOL_MIN_DOCUMENTS)
    hostile = [HOSTILE / "xxe_external_entity.xml", HOSTILE / "billion_laughs.xml"]
    return [*patents[:3], bad, TRADEMARK, *hostile, tmp_path / "missing.xml", DESIGN, *patents[3:]]


def test_a_parse_pool_gives_each_file_the_serial_outcome_in_order_with_bad_files_refused_alone(
    tmp_path: Path,
) -> None:
    paths = mixed_batch(tmp_path)
    serial = import_files(paths)

    with st96.ParsePool(workers=2) as pool:
        pooled = pool.import_files(paths)
        assert pool.started

    assert [o.path for o in pooled] == paths
    assert [comparable(o) for o in pooled] == [comparable(o) for o in serial]
    assert [o.ok for o in pooled].count(False) == 4
    assert pooled[3].error is not None and "is not well-formed XML" in pooled[3].error.reason
    assert all(PASSWD_MARKER not in str(o) for o in pooled)


def test_a_parse_pool_parses_documents_given_as_bytes_like_parse_st96(tmp_path: Path) -> None:
    sources = [path.read_bytes() for path in mixed_batch(tmp_path) if path.exists()]
    sources.insert(5, b"not xml at all")

    def expected(data: bytes) -> tuple[Any, ...]:
        try:
            document = parse_st96(data)
        except St96Error as err:
            return (err.element, err.reason)
        return (document.right, document.c14n_sha256, document.source)

    with st96.ParsePool(workers=2) as pool:
        results = pool.parse_many(sources)
    got = [(r.element, r.reason) if isinstance(r, St96Error) else (r.right, r.c14n_sha256, r.source)
           for r in results]  # fmt: skip
    assert got == [expected(data) for data in sources]


def test_a_parse_pool_validates_in_its_workers_against_the_same_schemas(
    tmp_path: Path, schemas: SchemaSet
) -> None:
    invalid = tmp_path / "invalid.xml"
    invalid.write_bytes(TRADEMARK.read_bytes().replace(b">Word<", b">Wordy<"))
    paths = [*generated_patents(tmp_path, st96.POOL_MIN_DOCUMENTS - 3), invalid, TRADEMARK, DESIGN]

    with st96.ParsePool(schemas, workers=2) as pool:
        pooled = pool.import_files(paths)

    assert [comparable(o) for o in pooled] == [comparable(o) for o in import_files(paths, schemas)]
    assert [o.document.validated for o in pooled if o.document is not None] == [True] * (len(paths) - 1)
    assert pooled[-3].error is not None
    assert pooled[-3].error.element == f"{MARK}/tmk:MarkRepresentation/tmk:MarkFeatureCategory"


def test_a_small_batch_is_parsed_in_the_caller_without_starting_workers() -> None:
    pool = st96.ParsePool(workers=2)
    results = pool.parse_many([TRADEMARK.read_bytes()] * (st96.POOL_MIN_DOCUMENTS - 1))
    assert not pool.started
    assert all(isinstance(r, st96.St96Document) for r in results)


def test_a_started_pool_has_its_workers_up_before_the_first_batch() -> None:
    others = {child.pid for child in multiprocessing.active_children()}
    with st96.ParsePool(workers=2) as pool:
        pool.start()
        assert pool.started
        assert len([c for c in multiprocessing.active_children() if c.pid not in others]) == 2
    single = st96.ParsePool(workers=1)
    single.start()  # one worker would only add a round trip: the caller parses
    assert not single.started


def test_a_schema_folder_a_worker_cannot_load_is_a_configuration_error(tmp_path: Path) -> None:
    with (
        st96.ParsePool(SchemaSet(tmp_path), workers=2) as pool,
        pytest.raises(ConfigError, match=r"TrademarkApplication_V6_0\.xsd is missing"),
    ):
        pool.parse_many([TRADEMARK.read_bytes()] * st96.POOL_MIN_DOCUMENTS)


def test_a_refusal_crosses_process_boundaries_whole() -> None:
    error = refusal((HOSTILE / "malformed.xml").read_bytes())
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.element, copy.reason, str(copy)) == (
        St96Error, error.element, error.reason, str(error)
    )  # fmt: skip


def test_a_batch_whose_worker_died_fails_and_the_next_batch_gets_new_workers() -> None:
    sources = [TRADEMARK.read_bytes()] * st96.POOL_MIN_DOCUMENTS
    others = {child.pid for child in multiprocessing.active_children()}  # another pool's workers, if any
    with st96.ParsePool(workers=2) as pool:
        pool.parse_many(sources)
        victim = next(c for c in multiprocessing.active_children() if c.pid not in others)
        assert victim.pid is not None  # os.kill(0, …) would kill this whole process group
        os.kill(victim.pid, signal.SIGKILL)
        victim.join(10)
        deadline = time.monotonic() + 60
        with pytest.raises(BrokenProcessPool):
            while time.monotonic() < deadline:  # until the pool has noticed the death
                pool.parse_many(sources)
                time.sleep(0.1)
        assert not pool.started
        assert [r.right.rightId for r in pool.parse_many(sources) if isinstance(r, st96.St96Document)] == [
            "EM:TM:018123456"
        ] * len(sources)


ORPHANED_POOL = """
import multiprocessing, sys, time
from pathlib import Path
from registry_node.protocol.st96 import POOL_MIN_DOCUMENTS, ParsePool

if __name__ == "__main__":
    pool = ParsePool(workers=2)
    pool.parse_many([Path(sys.argv[1]).read_bytes()] * POOL_MIN_DOCUMENTS)
    print(" ".join(str(p.pid) for p in multiprocessing.active_children()), flush=True)
    time.sleep(600)
"""


def gone(pid: int) -> bool:
    """Whether the process has exited (a zombie waiting for a reaper counts as exited)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def test_parse_workers_exit_when_the_importing_process_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "orphaned_pool.py"
    script.write_text(ORPHANED_POOL)
    importer = subprocess.Popen(
        [sys.executable, str(script), str(TRADEMARK)], stdout=subprocess.PIPE, text=True, cwd=Path.cwd()
    )
    try:
        assert importer.stdout is not None
        workers = [int(pid) for pid in importer.stdout.readline().split()]
        assert workers and not any(gone(pid) for pid in workers)
    finally:
        importer.kill()
        importer.wait()
    deadline = time.monotonic() + 15
    while not all(gone(pid) for pid in workers):
        assert time.monotonic() < deadline, f"parse workers {workers} outlived their importer"
        time.sleep(0.1)
