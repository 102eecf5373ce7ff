"""Geographical indications (gin:GIApplication): a WIPO-valid sample becomes a GI right with its name,
product, area, parties and status; malformed and hostile GI documents are refused naming the element and
the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from registry_node.protocol import st96
from registry_node.protocol.records import FamilyRelation, PartyRole, RightKind
from registry_node.protocol.st96 import NAMESPACES, SchemaSet, St96Error, parse_st96
from registry_node.protocol.st96.document import DOCUMENT_TYPES

WIPO_SCHEMAS = Path(__file__).resolve().parents[3] / "shared" / "data" / "st96" / "schemas"
ASSETS = Path(__file__).resolve().parents[1] / "assets" / "st96"
GI = ASSETS / "gi" / "gi_application.xml"
HOSTILE = ASSETS / "hostile"
DATA = "gin:GIData"


@pytest.fixture(scope="module")
def schemas() -> SchemaSet:
    if not WIPO_SCHEMAS.is_dir():
        pytest.fail(f"WIPO ST.96 schemas not found at {WIPO_SCHEMAS}: shared/ must sit beside the project")
    return SchemaSet(WIPO_SCHEMAS)


def refusal(data: bytes, schemas: SchemaSet | None = None) -> St96Error:
    with pytest.raises(St96Error) as caught:
        parse_st96(data, schemas)
    assert str(caught.value) == f"{caught.value.element}: {caught.value.reason}"
    return caught.value


def edited(change: Callable[[Any], None]) -> bytes:
    root = etree.fromstring(GI.read_bytes())
    change(root)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def remove(*xpaths: str) -> Callable[[Any], None]:
    def change(root: Any) -> None:
        for xpath in xpaths:
            matches = root.xpath(xpath, namespaces=NAMESPACES)
            assert matches, f"the sample has no {xpath}"
            for element in matches:
                element.getparent().remove(element)

    return change


def set_text(xpath: str, text: str) -> Callable[[Any], None]:
    def change(root: Any) -> None:
        for element in root.xpath(xpath, namespaces=NAMESPACES):
            element.text = text

    return change


def test_gi_application_is_a_document_type_with_its_own_kind_and_schema() -> None:
    (gi,) = [t for t in DOCUMENT_TYPES if t.kind is RightKind.GEOGRAPHICAL_INDICATION]
    assert (gi.root, gi.schema_file) == ("gin:GIApplication", "GIApplication_V6_0.xsd")
    assert NAMESPACES["gin"] == "http://www.wipo.int/standards/XMLSchema/ST96/GeographicalIndication"


def test_gi_sample_validates_and_imports(schemas: SchemaSet) -> None:
    document = parse_st96(GI.read_bytes(), schemas)

    right = document.right
    assert document.validated is True
    assert document.validation_note == "valid against WIPO ST.96 GIApplication_V6_0.xsd"
    assert document.kind is RightKind.GEOGRAPHICAL_INDICATION
    assert right.rightId == "DE:GI:GI2020000123"
    assert document.original_application_number == "GI 2020/000 123"
    assert right.giNameText == "Vierländer Erdbeeren"  # the protected name, not its translation
    assert right.title == "Vierländer Erdbeeren"
    assert right.productText == "Fresh strawberries"
    assert right.classificationBag == ["Nice 31"]
    assert right.geographicRegionDescriptionText == (
        "The Vierlande and Marschlande districts of the Free and Hanseatic City of Hamburg."
    )
    assert (right.filingDate, right.registrationNumberText, right.registrationDate) == (
        "2020-04-17",
        "PGI-DE-2731",
        "2022-01-10",
    )
    (publication,) = right.publicationBag
    assert (publication.gazetteIdentifier, publication.publicationNumber) == ("Markenblatt Teil 7a", None)
    assert right.legalStatus.to_chain() == b"A4F10"
    (priority,) = right.familyLinkBag or []
    assert (priority.relationCategory, priority.rightId) == (
        FamilyRelation.PRIORITY_CLAIM,
        "DE:GI:GI2019000045",
    )


def test_gi_beneficiaries_are_its_authorised_users_in_force_and_its_owners() -> None:
    right = parse_st96(GI.read_bytes()).right
    assert [(p.name, p.roleBag) for p in right.partyBag or []] == [
        ("Schutzgemeinschaft Vierländer Erdbeeren e.V.", [PartyRole.APPLICANT]),
        ("Obsthof Lüders KG", [PartyRole.BENEFICIARY]),
        ("Gärtnerei Timmann", [PartyRole.BENEFICIARY]),
        ("Ingrid Voss", [PartyRole.REPRESENTATIVE]),
    ]  # Erdbeerhof Harden's authorisation ended: no longer a beneficiary
    assert [o.name for o in right.ownerBag] == ["Obsthof Lüders KG", "Gärtnerei Timmann"]
    assert all(o.roleBag is None for o in right.ownerBag)
    assert [r.name for r in right.representativeBag] == ["Ingrid Voss"]


def test_a_gi_without_beneficiaries_is_owned_by_its_applicants(schemas: SchemaSet) -> None:
    right = parse_st96(edited(remove("//gin:AuthorizedUser")), schemas).right
    assert [o.name for o in right.ownerBag] == ["Schutzgemeinschaft Vierländer Erdbeeren e.V."]


def test_a_gi_without_its_own_application_number_is_keyed_by_its_registration(schemas: SchemaSet) -> None:
    right = parse_st96(edited(remove("/*/com:ApplicationNumber")), schemas).right
    assert right.rightId == "DE:GI:PGIDE2731"  # the office from gin:GIData/@com:officeCode


@pytest.mark.parametrize(
    ("category", "status"),
    [("Filing", b"A1A10"), ("Published", b"A2Q10"), ("Registered", b"A4F10"), ("Ended", b"N6H10")],
)
def test_gi_legal_status_follows_its_status_category(
    category: str, status: bytes, schemas: SchemaSet
) -> None:
    right = parse_st96(edited(set_text(f"//{DATA}/gin:GIStatusCategory", category)), schemas).right
    assert right.legalStatus.to_chain() == status


def test_a_gi_without_status_is_registered_when_it_has_a_registration() -> None:
    assert (
        parse_st96(edited(remove(f"//{DATA}/gin:GIStatusCategory"))).right.legalStatus.to_chain() == b"A4F10"
    )


def test_a_long_area_description_is_cut_at_the_record_limit() -> None:
    right = parse_st96(edited(set_text("//gin:GeographicRegionDescriptionText", "Marschland " * 400))).right
    text = right.geographicRegionDescriptionText or ""
    assert len(text) == 2000
    assert text.endswith("…")


def test_a_gi_is_parsed_in_pool_workers_like_in_the_caller() -> None:
    sources = [GI.read_bytes()] * st96.POOL_MIN_DOCUMENTS
    with st96.ParsePool(workers=2) as pool:
        results = pool.parse_many(sources)
        assert pool.started
    expected = parse_st96(GI.read_bytes())
    assert all(isinstance(r, st96.St96Document) and r.right == expected.right for r in results)


# --- malformed and hostile ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("removed", "element", "reason"),
    [
        ([f"/*/{DATA}"], DATA, "missing"),
        ([f"//{DATA}/gin:GINameBag"], f"{DATA}/gin:GINameBag", "missing"),
        (
            [f"//{DATA}/gin:GINameBag/gin:GINameText"],
            f"{DATA}/gin:GINameBag/gin:GINameText",
            "missing or empty",
        ),
        ([f"//{DATA}/gin:ProductIndicationBag"], f"{DATA}/gin:ProductIndicationBag", "missing"),
        (
            [f"//{DATA}/gin:GeographicRegionDescriptionBag"],
            f"{DATA}/gin:GeographicRegionDescriptionBag",
            "missing",
        ),
        (["/*/gin:ApplicantBag"], "gin:ApplicantBag", "missing"),
        (["/*/gin:ApplicantBag/gin:Applicant"], "gin:ApplicantBag", "names no owner"),
        (
            [
                "/*/com:ApplicationNumber",
                f"//{DATA}/com:RegistrationNumber",
                f"//{DATA}/com:RegistrationDate",
            ],
            "com:ApplicationNumber",
            "missing, and so are gin:GIData/com:ApplicationNumber and gin:GIData/com:RegistrationNumber",
        ),
    ],
)
def test_missing_gi_element_is_named(removed: list[str], element: str, reason: str) -> None:
    error = refusal(edited(remove(*removed)))
    assert error.element == element
    assert error.reason.startswith(reason)


def test_a_gi_office_that_is_no_st3_code_is_refused() -> None:
    def bad_office(root: Any) -> None:
        root.remove(root.find(f"{{{NAMESPACES['com']}}}ApplicationNumber"))
        root.find(f"{{{NAMESPACES['gin']}}}GIData").set(f"{{{NAMESPACES['com']}}}officeCode", "de")

    error = refusal(edited(bad_office))
    assert (error.element, error.reason) == (f"{DATA}/@com:officeCode", "'de' is not a WIPO ST.3 office code")


def test_wipo_schema_refuses_an_unknown_gi_category_naming_the_element(schemas: SchemaSet) -> None:
    error = refusal(edited(set_text(f"//{DATA}/gin:GICategory", "Famous name")), schemas)
    assert error.element == f"{DATA}/gin:GICategory"
    assert "GIApplication_V6_0.xsd" in error.reason


def test_an_xxe_in_a_gi_is_refused_before_parsing() -> None:
    error = refusal((HOSTILE / "gi_external_entity.xml").read_bytes())
    assert error.element == "(document)"
    assert "declares entities" in error.reason
    assert "root:" not in str(error)


def test_a_gi_in_a_look_alike_namespace_is_refused_naming_the_gi_root() -> None:
    data = GI.read_bytes().replace(b"ST96/GeographicalIndication", b"ST96/GeographicIndication")
    error = refusal(data)
    assert error.element == "{http://www.wipo.int/standards/XMLSchema/ST96/GeographicIndication}GIApplication"
    assert "gin:GIApplication" in error.reason
