"""Madrid and Hague transactions: WIPO-valid samples become international registrations, designations, changes
of holder and designated offices' decisions; hostile or malformed transactions are refused whole, naming the
element and the reason.

Every sample is written for these tests and validated here against WIPO's V6_0 schemas (read from
../shared/data/st96/schemas, never copied), so a mapping is only ever tested on a transaction WIPO's schema
accepts; a refusal the schema cannot express (another office, no classes, the Bureau designated) is tested
on a sample that is valid too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from registry_node.protocol.records import (
    DecisionCategory,
    Designation,
    FamilyRelation,
    PartyRole,
    RightKind,
)
from registry_node.protocol.st96 import (
    C14N_ALGORITHM,
    MAX_ELEMENT_DEPTH,
    NAMESPACES,
    NOT_VALIDATED_NOTE,
    DesignationAdded,
    HolderChange,
    InternationalRegistration,
    OfficeDecision,
    SchemaSet,
    St96Error,
    St96Transaction,
    parse_st96,
    parse_transaction,
)
from registry_node.protocol.st96 import xml as st96_xml

WIPO_SCHEMAS = Path(__file__).resolve().parents[3] / "shared" / "data" / "st96" / "schemas"
ASSETS = Path(__file__).resolve().parents[1] / "assets" / "st96"
MADRID = ASSETS / "madrid"
HAGUE = ASSETS / "hague"
HOSTILE = ASSETS / "hostile"
MADRID_DESIGNATIONS = MADRID / "ib_to_office_designations.xml"
MADRID_CREATION = MADRID / "ib_to_office_registration_creation.xml"
MADRID_DECISIONS = MADRID / "office_to_ib_decisions.xml"
HAGUE_OFFICE_COPIES = HAGUE / "ib_to_office_office_copies.xml"
HAGUE_BULLETIN = HAGUE / "bulletin_registration.xml"
HAGUE_DECISIONS = HAGUE / "office_to_ib_decisions.xml"
SAMPLES = [
    MADRID_DESIGNATIONS,
    MADRID_CREATION,
    MADRID_DECISIONS,
    HAGUE_OFFICE_COPIES,
    HAGUE_BULLETIN,
    HAGUE_DECISIONS,
]

PASSWD_MARKER = "root:"  # what /etc/passwd starts with: must never reach a result or an error


@pytest.fixture(scope="module")
def schemas() -> SchemaSet:
    """WIPO's V6_0 schemas, each loaded at most once for the whole module."""
    if not WIPO_SCHEMAS.is_dir():
        pytest.fail(f"WIPO ST.96 schemas not found at {WIPO_SCHEMAS}: shared/ must sit beside the project")
    return SchemaSet(WIPO_SCHEMAS)


def refusal(data: bytes, schemas: SchemaSet | None = None) -> St96Error:
    """The St96Error that importing the transaction `data` raises."""
    with pytest.raises(St96Error) as caught:
        parse_transaction(data, schemas)
    assert str(caught.value) == f"{caught.value.element}: {caught.value.reason}"
    return caught.value


def edited(path: Path, change: Callable[[Any], None]) -> bytes:
    root = etree.fromstring(path.read_bytes())
    change(root)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def set_text(xpath: str, text: str) -> Callable[[Any], None]:
    def change(root: Any) -> None:
        (element,) = root.xpath(xpath, namespaces=NAMESPACES)
        element.text = text

    return change


def remove(xpath: str) -> Callable[[Any], None]:
    def change(root: Any) -> None:
        matches = root.xpath(xpath, namespaces=NAMESPACES)
        assert matches, f"the sample has no {xpath}"
        for element in matches:
            element.getparent().remove(element)

    return change


def items_of(path: Path, schemas: SchemaSet | None = None) -> tuple[Any, ...]:
    return parse_transaction(path.read_bytes(), schemas).items


# --- every sample is WIPO-valid ----------------------------------------------------------------------


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_transaction_sample_validates_against_wipo_schema(path: Path, schemas: SchemaSet) -> None:
    transaction = parse_transaction(path.read_bytes(), schemas)
    assert transaction.validated is True
    root = transaction.root.split(":")[1]
    assert transaction.validation_note == f"valid against WIPO ST.96 {root}_V6_0.xsd"
    assert transaction.items


def test_each_transaction_schema_is_loaded_once(schemas: SchemaSet) -> None:
    for _ in range(2):
        for path in SAMPLES:
            parse_transaction(path.read_bytes(), schemas)
    counts = schemas.load_counts
    for root in (
        "tmk:MadridIBToOfficeTransaction",
        "tmk:MadridOfficeToIBTransaction",
        "dgn:HagueIBToOfficeTransaction",
        "dgn:HagueOfficeToIBTransaction",
    ):
        assert counts[root] == 1


def test_without_schemas_a_transaction_says_it_was_not_validated() -> None:
    transaction = parse_transaction(MADRID_DECISIONS.read_bytes())
    assert (transaction.validated, transaction.validation_note) == (False, NOT_VALIDATED_NOTE)


def test_a_transaction_is_evidenced_by_the_sha256_of_its_exclusive_c14n_form() -> None:
    data = MADRID_DECISIONS.read_bytes()
    transaction = parse_transaction(data)
    expected = etree.tostring(
        etree.fromstring(data).getroottree(), method="c14n", exclusive=True, with_comments=False
    )
    assert transaction.c14n_sha256 == hashlib.sha256(expected).digest()
    assert transaction.c14n_algorithm == C14N_ALGORITHM
    assert transaction.source == data
    assert isinstance(transaction, St96Transaction)


# --- Madrid, IB to office ----------------------------------------------------------------------------


def test_madrid_notification_of_a_registration_becomes_the_international_registration() -> None:
    transaction = parse_transaction(MADRID_DESIGNATIONS.read_bytes())
    assert (transaction.root, transaction.standard) == ("tmk:MadridIBToOfficeTransaction", "ST.61")
    registration = transaction.items[0]
    assert isinstance(registration, InternationalRegistration)
    right = registration.right
    assert right.rightId == "WO:TM:1234567"
    assert right.rightKindCategory is RightKind.TRADEMARK
    assert (right.registrationNumberText, right.registrationDate) == ("1234567", "2020-12-03")
    assert right.markVerbalElementText == "NORDLICHT"
    assert right.classificationBag == ["Nice 30", "Nice 43"]
    assert right.legalStatus.to_chain() == b"A4F10"
    assert right.designationBag == [
        Designation(designatedOfficeCode=office, designationCategory="original", designationDate="2020-12-03")
        for office in ("CH", "GB", "JP")
    ]
    (holder,) = right.ownerBag
    assert (holder.name, holder.countryCode, holder.roleBag) == ("Nordlicht Rösterei GmbH", "DE", None)
    assert [r.name for r in right.representativeBag] == ["Ingrid Voss"]
    assert [(p.name, p.roleBag) for p in right.partyBag or []] == [
        ("Nordlicht Rösterei GmbH", [PartyRole.HOLDER]),
        ("Ingrid Voss", [PartyRole.REPRESENTATIVE]),
    ]
    (priority,) = right.familyLinkBag or []
    assert (priority.relationCategory, priority.rightId, priority.filingDate) == (
        FamilyRelation.PRIORITY_CLAIM,
        "EM:TM:018123456",
        "2020-09-02",
    )


def test_madrid_subsequent_designation_becomes_a_designation_added() -> None:
    added = items_of(MADRID_DESIGNATIONS)[1]
    assert added == DesignationAdded(
        internationalRegistrationId="WO:TM:1199999",  # "1 199 999" as written
        designation=Designation(
            designatedOfficeCode="GB", designationCategory="subsequent", designationDate="2021-01-20"
        ),
    )


def test_madrid_change_of_ownership_becomes_a_holder_change() -> None:
    change = items_of(MADRID_DESIGNATIONS)[2]
    assert isinstance(change, HolderChange)
    assert change.internationalRegistrationId == "WO:TM:1234567"
    assert [p.name for p in change.previousHolders] == ["Nordlicht Rösterei GmbH"]
    (new,) = change.newHolders
    assert (new.name, new.addressText, new.countryCode) == (
        "Kaffeehaus Nord AG",
        "Hafenstrasse 3, 8005 Zürich",
        "CH",
    )
    assert (change.effectiveDate, change.recordalDate, change.partial) == ("2021-02-01", "2021-02-01", False)


def test_madrid_items_come_in_document_order() -> None:
    assert [type(item) for item in items_of(MADRID_DESIGNATIONS)] == [
        InternationalRegistration,
        DesignationAdded,
        HolderChange,
    ]


def test_madrid_registration_creation_names_its_holders_and_original_designations() -> None:
    (registration,) = items_of(MADRID_CREATION)
    assert isinstance(registration, InternationalRegistration)
    right = registration.right
    assert right.rightId == "WO:TM:1300000"
    assert right.registrationDate == "2021-02-25"  # the date the International Register records it
    assert right.markVerbalElementText == "NORDLICHT"  # the significant verbal element, in want of another
    assert [o.name for o in right.ownerBag] == ["Nordlicht Rösterei GmbH", "Kaffeehaus Nord AG"]
    assert [d.designatedOfficeCode for d in right.designationBag or []] == ["CN", "US"]
    assert right.representativeBag == []


def test_a_madrid_designation_must_designate_the_office_it_is_sent_to() -> None:
    data = edited(
        MADRID_DESIGNATIONS, set_text("//tmk:MadridIBTransactionHeader/com:ReceivingOfficeCode", "FR")
    )
    error = refusal(data)
    assert error.element == "tmk:MadridIBToOfficeBag/tmk:MadridDesignation[1]/tmk:DesignatedCountryBag"
    assert error.reason.startswith("does not designate FR, the office it is sent to")


@pytest.mark.parametrize(
    ("xpath", "category", "element", "reason"),
    [
        (
            "(//tmk:MadridDesignationCategory)[2]",
            "Partial change of ownership",
            "tmk:MadridIBToOfficeBag/tmk:MadridDesignation[2]",
            "not imported: a designation by partial change of ownership",
        ),
        (
            "//tmk:MadridHolderRepresentativeChangeCategory",
            "Change of representative",
            "tmk:MadridIBToOfficeBag/tmk:MadridHolderRepresentativeChange",
            "not imported: a 'Change of representative' changes no holder",
        ),
    ],
)
def test_a_madrid_notification_of_another_category_is_not_imported(
    xpath: str, category: str, element: str, reason: str, schemas: SchemaSet
) -> None:
    error = refusal(edited(MADRID_DESIGNATIONS, set_text(xpath, category)), schemas)  # still WIPO-valid
    assert (error.element, error.reason) == (element, reason)


def test_a_registration_created_by_division_is_not_imported(schemas: SchemaSet) -> None:
    data = edited(
        MADRID_CREATION,
        set_text(
            "//tmk:MadridInternationalRegistrationCreationCategory", "International registration division"
        ),
    )
    error = refusal(data, schemas)
    assert error.element == "tmk:MadridIBToOfficeBag/tmk:MadridInternationalRegistrationCreation"
    assert (
        error.reason
        == "not imported: an international registration created by international registration division"
    )


def test_a_change_of_ownership_without_its_holders_is_refused_naming_the_missing_bag() -> None:
    error = refusal(edited(MADRID_DESIGNATIONS, remove("//tmk:HolderChangeBag")))
    assert error.element == "tmk:MadridIBToOfficeBag/tmk:MadridHolderRepresentativeChange/tmk:HolderChangeBag"
    assert error.reason == "missing"


# --- Madrid, office to IB: the status table ----------------------------------------------------------


def decisions(path: Path = MADRID_DECISIONS) -> list[OfficeDecision]:
    found = list(items_of(path))
    assert all(isinstance(item, OfficeDecision) for item in found)
    return found


@pytest.mark.parametrize(
    ("index", "designation", "category", "scope", "status", "previous_stage", "date"),
    [
        (0, "WO:TM:1234567@GB", DecisionCategory.PROVISIONAL_REFUSAL, "total", b"A2D10", 1, "2021-06-01"),
        (1, "WO:TM:1234568@GB", DecisionCategory.PROVISIONAL_REFUSAL, "partial", b"A2D10", 1, "2021-06-02"),
        (2, "WO:TM:1234569@GB", DecisionCategory.GRANT_OF_PROTECTION, None, b"A4F10", 0, "2021-06-03"),
        (3, "WO:TM:1234567@GB", DecisionCategory.FINAL_DECISION, "total", b"N6B10", 2, "2021-06-07"),
        (4, "WO:TM:1234568@GB", DecisionCategory.FINAL_DECISION, "partial", b"A4F10", 2, "2021-06-04"),
        (5, "WO:TM:1234570@GB", DecisionCategory.INVALIDATION, "total", b"T6H10", 4, "2021-05-20"),
        (6, "WO:TM:1234571@GB", DecisionCategory.INVALIDATION, "partial", b"A4H10", 4, "2021-05-21"),
    ],
)
def test_madrid_office_decision_gets_its_st61_status(
    index: int,
    designation: str,
    category: DecisionCategory,
    scope: str | None,
    status: bytes,
    previous_stage: int,
    date: str,
) -> None:
    found = decisions()[index]
    decision = found.decision
    assert found.designationId == designation
    assert (decision.decisionCategory, decision.scopeCategory) == (category, scope)
    assert decision.status.to_chain() == status
    assert decision.previousStageCode == previous_stage
    assert decision.decisionDate == date  # its own date, else its notification date, else the header's
    assert decision.standard == "ST.61"


def test_every_decision_carries_the_transaction_hash_as_its_source_document() -> None:
    transaction = parse_transaction(MADRID_DECISIONS.read_bytes())
    assert {item.decision.sourceDocumentHash for item in transaction.items} == {transaction.c14n_sha256.hex()}


def test_a_partial_madrid_refusal_names_its_classes_and_goods() -> None:
    decision = decisions()[1].decision
    assert decision.classificationBag == ["Nice 30"]
    assert decision.goodsServicesText == "Nice 30: Coffee; coffee substitutes"


def test_a_total_madrid_refusal_keeps_the_office_reference_and_its_reasons() -> None:
    decision = decisions()[0].decision
    assert decision.officeReferenceText == "UK00801234567"
    assert decision.freeText == "The mark is devoid of distinctive character."
    assert decision.classificationBag is None


def test_a_partial_final_decision_says_what_it_protects() -> None:
    decision = decisions()[4].decision
    assert decision.classificationBag == ["Nice 43"]
    assert decision.goodsServicesText == "protected for Nice 43: Cafés"


def test_a_refusal_accepting_only_some_goods_says_so_without_refused_classes(schemas: SchemaSet) -> None:
    data = edited(MADRID_DECISIONS, set_text("//tmk:GoodsServicesRefusalCategory", "Accepted"))
    decision = parse_transaction(data, schemas).items[1].decision
    assert (decision.scopeCategory, decision.classificationBag) == ("partial", None)
    assert decision.goodsServicesText == "protected only for Nice 30: Coffee; coffee substitutes"


def test_a_final_decision_without_the_grant_or_refusal_indicator_is_refused() -> None:
    error = refusal(edited(MADRID_DECISIONS, remove("//tmk:RefusalProtectionIndicator")))
    assert error.element == "tmk:MadridOfficeToIBBag/tmk:MadridFinalDecision[1]"
    assert error.reason.startswith(
        "says neither tmk:GrantProtectionIndicator nor tmk:RefusalProtectionIndicator"
    )


# --- Hague -------------------------------------------------------------------------------------------


def test_hague_office_copy_of_a_registration_becomes_the_international_registration() -> None:
    transaction = parse_transaction(HAGUE_OFFICE_COPIES.read_bytes())
    assert (transaction.root, transaction.standard) == ("dgn:HagueIBToOfficeTransaction", "ST.87")
    registration = transaction.items[0]
    assert isinstance(registration, InternationalRegistration)
    right = registration.right
    assert right.rightId == "WO:DES:DM212345"  # "DM/212345" as written
    assert right.registrationNumberText == "DM/212345"
    assert (right.filingDate, right.registrationDate) == ("2022-03-01", "2022-03-15")
    assert right.designTitle == "Coffee grinder"  # the English product description of the first design
    assert right.classificationBag == ["Locarno 07", "Locarno 31"]
    assert [d.designatedOfficeCode for d in right.designationBag or []] == ["KR", "EM"]
    assert [(p.name, p.roleBag) for p in right.partyBag or []] == [
        ("Hanbit Kitchenware Co., Ltd.", [PartyRole.HOLDER]),
        ("Park Ji-woo", [PartyRole.REPRESENTATIVE]),
    ]
    assert [link.rightId for link in right.familyLinkBag or []] == ["KR:DES:3020210012345"]


def test_hague_change_in_ownership_of_some_designs_is_a_partial_holder_change() -> None:
    change = items_of(HAGUE_OFFICE_COPIES)[1]
    assert change == HolderChange(
        internationalRegistrationId="WO:DES:DM212345",
        previousHolders=change.previousHolders,
        newHolders=change.newHolders,
        effectiveDate="2022-04-01",
        recordalDate="2022-04-01",
        partial=True,
    )
    assert [p.name for p in change.previousHolders] == ["Hanbit Kitchenware Co., Ltd."]
    assert [p.name for p in change.newHolders] == ["Seoul Brew Appliances Inc."]


def test_hague_change_in_ownership_of_all_designs_is_a_full_holder_change(schemas: SchemaSet) -> None:
    def all_designs(root: Any) -> None:
        (affected,) = root.xpath("//dgn:HagueOwnershipChange/dgn:AffectedDesign", namespaces=NAMESPACES)
        affected.clear()
        etree.SubElement(affected, f"{{{NAMESPACES['dgn']}}}AllDesignsIndicator").text = "true"

    change = parse_transaction(edited(HAGUE_OFFICE_COPIES, all_designs), schemas).items[1]
    assert isinstance(change, HolderChange)
    assert change.partial is False


def test_hague_bulletin_publishes_the_same_registration() -> None:
    (registration,) = items_of(HAGUE_BULLETIN)
    assert registration == items_of(HAGUE_OFFICE_COPIES)[0]


def test_a_hague_office_copy_must_designate_its_receiving_office() -> None:
    data = edited(HAGUE_OFFICE_COPIES, set_text("//com:ReceivingOfficeCode", "CH"))
    error = refusal(data)
    assert error.element.endswith("dgn:HagueRegistration/dgn:DesignatedCountryBag")
    assert "does not designate CH" in error.reason


@pytest.mark.parametrize(
    ("index", "category", "scope", "status", "classes", "goods"),
    [
        (0, DecisionCategory.PROVISIONAL_REFUSAL, "partial", b"A2D10", ["Locarno 31"], "design 2"),
        (1, DecisionCategory.FINAL_DECISION, "total", b"A4F10", None, None),
        (2, DecisionCategory.GRANT_OF_PROTECTION, "total", b"A4F10", None, None),
        (3, DecisionCategory.INVALIDATION, "total", b"T6H10", None, None),
    ],
)
def test_hague_office_decision_gets_its_st87_status(
    index: int,
    category: DecisionCategory,
    scope: str,
    status: bytes,
    classes: list[str] | None,
    goods: str | None,
) -> None:
    found = decisions(HAGUE_DECISIONS)[index]
    decision = found.decision
    assert found.designationId.endswith("@KR")
    assert (decision.decisionCategory, decision.scopeCategory, decision.status.to_chain()) == (
        category,
        scope,
        status,
    )
    assert (decision.classificationBag, decision.goodsServicesText) == (classes, goods)
    assert decision.standard == "ST.87"


def test_a_hague_refusal_is_on_the_designation_of_its_sender() -> None:
    found = decisions(HAGUE_DECISIONS)[0]
    assert found.designationId == "WO:DES:DM212345@KR"
    assert (found.decision.decisionDate, found.decision.officeReferenceText) == (
        "2022-08-16",
        "30-2022-7000123",
    )


def test_a_hague_decision_naming_no_design_is_refused() -> None:
    error = refusal(edited(HAGUE_DECISIONS, remove("(//dgn:AffectedDesign)[1]/dgn:DesignIdentifierBag/*")))
    assert (
        error.element
        == "dgn:HagueOfficeToIBBag/dgn:HagueRefusalRequest/dgn:AffectedDesign/dgn:DesignIdentifierBag"
    )
    assert error.reason == "a partial decision names no design (dgn:DesignIdentifier)"


def test_a_hague_bulletin_refusal_is_not_imported_from_the_bureau() -> None:
    def refusal_bag(root: Any) -> None:
        (bag,) = root.xpath("//dgn:HagueBulletinTransactionBag", namespaces=NAMESPACES)
        bag.insert(0, etree.Element(f"{{{NAMESPACES['dgn']}}}HagueRefusalBag"))

    error = refusal(edited(HAGUE_BULLETIN, refusal_bag))
    assert error.element == "dgn:HagueBulletin/dgn:HagueBulletinTransactionBag/dgn:HagueRefusalBag"
    assert error.reason.startswith("not imported: dgn:HagueRefusalBag holds no international registration")


# --- documents and transactions are not mixed up -----------------------------------------------------


def test_a_document_given_as_a_transaction_is_refused_and_named() -> None:
    error = refusal((ASSETS / "trademark_application.xml").read_bytes())
    assert error.element == "tmk:TrademarkApplication"
    assert error.reason == "is a document, not a Madrid or Hague transaction: parse_st96 imports it"


def test_a_transaction_given_as_a_document_is_refused_and_named() -> None:
    with pytest.raises(St96Error) as caught:
        parse_st96(MADRID_DECISIONS.read_bytes())
    assert caught.value.element == "tmk:MadridOfficeToIBTransaction"
    assert (
        caught.value.reason
        == "is a Madrid or Hague transaction, not a document: parse_transaction imports it"
    )


# --- hostile and malformed transactions --------------------------------------------------------------


def passwd_is_readable() -> bool:
    try:
        return PASSWD_MARKER in Path("/etc/passwd").read_text()
    except OSError:
        return False


@pytest.mark.parametrize(
    ("name", "element", "reason"),
    [
        ("madrid_billion_laughs.xml", "(document)", "the DOCTYPE declares entities"),
        ("madrid_external_entity.xml", "(document)", "the DOCTYPE declares entities"),
        ("hague_too_deep.xml", "(document)", f"nests elements deeper than {MAX_ELEMENT_DEPTH} levels"),
        (
            "madrid_wrong_namespace.xml",
            "{http://www.wipo.int/standards/XMLSchema/ST96/Trademarks}MadridOfficeToIBTransaction",
            "is not a transaction this registry imports; expected one of tmk:MadridIBToOfficeTransaction",
        ),
        (
            "madrid_decision_without_registration_number.xml",
            "tmk:MadridOfficeToIBBag/tmk:MadridGrantProtection/com:InternationalRegistrationNumber",
            "missing",
        ),
        (
            "madrid_decision_naming_another_office.xml",
            "tmk:MadridOfficeToIBBag/tmk:MadridProvisionalRefusal/com:OfficeReferenceIdentifier/@com:officeCode",
            "names office 'FR', but this transaction is sent by GB",
        ),
        (
            "madrid_partial_refusal_without_classes.xml",
            "tmk:MadridOfficeToIBBag/tmk:MadridProvisionalRefusal/tmk:GoodsServicesRefusalBag",
            "a partial refusal names no class",
        ),
        (
            "madrid_designation_of_the_bureau.xml",
            "tmk:MadridIBToOfficeBag/tmk:MadridDesignation/tmk:DesignatedCountryBag/tmk:DesignatedCountry[1]"
            "/com:DesignatedCountryCode",
            "names the International Bureau (WO), which is not a designated office",
        ),
        (
            "madrid_closure_day_not_imported.xml",
            "tmk:MadridOfficeToIBBag/tmk:MadridOfficeClosureDay",
            "not imported: tmk:MadridOfficeClosureDay is not a provisional refusal, grant, final decision or",
        ),
        (
            "hague_decisions_without_sender.xml",
            "dgn:HagueOfficeTransactionHeader/com:IPOfficeCode",
            "missing: the transaction names no sending office",
        ),
    ],
)
def test_hostile_or_malformed_transaction_is_refused_whole_with_the_reason(
    name: str, element: str, reason: str
) -> None:
    error = refusal((HOSTILE / name).read_bytes())
    assert error.element == element
    assert error.reason.startswith(reason)
    assert PASSWD_MARKER not in str(error)


@pytest.mark.parametrize(
    "name",
    [
        "madrid_decision_naming_another_office.xml",
        "madrid_partial_refusal_without_classes.xml",
        "madrid_designation_of_the_bureau.xml",
        "madrid_closure_day_not_imported.xml",
        "hague_decisions_without_sender.xml",
    ],
)
def test_what_wipo_schema_lets_through_is_still_refused_after_validation(
    name: str, schemas: SchemaSet
) -> None:
    without = refusal((HOSTILE / name).read_bytes())
    validated = refusal((HOSTILE / name).read_bytes(), schemas)
    assert (validated.element, validated.reason) == (without.element, without.reason)


@pytest.mark.parametrize(
    ("name", "element", "message"),
    [
        (
            "madrid_decision_without_registration_number.xml",
            "tmk:MadridOfficeToIBBag/tmk:MadridGrantProtection/tmk:HolderBag",
            "Expected is ( com:InternationalRegistrationNumber )",
        ),
        (
            "madrid_unknown_office_code.xml",
            "tmk:MadridOfficeTransactionHeader/com:IPOfficeCode",
            "'QQ' is not a valid value of the union type 'com:ExtendedWIPOST3CodeType'",
        ),
    ],
)
def test_wipo_schema_refuses_a_malformed_transaction_naming_the_element(
    name: str, element: str, message: str, schemas: SchemaSet
) -> None:
    error = refusal((HOSTILE / name).read_bytes(), schemas)
    assert error.element == element
    assert message in error.reason
    assert "MadridOfficeToIBTransaction_V6_0.xsd" in error.reason


def set_office_of(xpath: str, office: str) -> Callable[[Any], None]:
    def change(root: Any) -> None:
        (element,) = root.xpath(xpath, namespaces=NAMESPACES)
        element.set(f"{{{NAMESPACES['com']}}}officeCode", office)

    return change


def test_a_designation_record_of_another_office_is_refused_and_one_of_the_bureau_is_not(
    schemas: SchemaSet,
) -> None:
    record = "//tmk:DesignationRecordIdentifier"
    error = refusal(edited(MADRID_DECISIONS, set_office_of(record, "FR")), schemas)
    assert (
        error.element
        == "tmk:MadridOfficeToIBBag/tmk:MadridInvalidation[1]/tmk:DesignationRecordIdentifier/@com:officeCode"
    )
    assert error.reason.startswith("names office 'FR', but this transaction is sent by GB")
    bureau = parse_transaction(edited(MADRID_DECISIONS, set_office_of(record, "WO")), schemas)
    assert bureau.items[5].designationId == "WO:TM:1234570@GB"


def test_an_office_reference_of_the_bureau_is_refused(schemas: SchemaSet) -> None:
    error = refusal(
        edited(MADRID_DECISIONS, set_office_of("(//com:OfficeReferenceIdentifier)[1]", "WO")), schemas
    )
    assert error.reason.startswith("names office 'WO', but this transaction is sent by GB")


def test_an_office_code_that_is_not_two_capitals_is_refused_without_schemas() -> None:
    data = (HOSTILE / "madrid_unknown_office_code.xml").read_bytes().replace(b">QQ<", b">G1<")
    error = refusal(data)
    assert (error.element, error.reason) == (
        "tmk:MadridOfficeTransactionHeader/com:IPOfficeCode",
        "'G1' is not a WIPO ST.3 office code",
    )


def test_a_sender_that_is_the_bureau_itself_is_refused() -> None:
    error = refusal(
        edited(MADRID_DECISIONS, set_text("//tmk:MadridOfficeTransactionHeader/com:IPOfficeCode", "WO"))
    )
    assert error.element == "tmk:MadridOfficeTransactionHeader/com:IPOfficeCode"
    assert error.reason.startswith("names the International Bureau (WO), which is not a designated office")


def test_a_designated_office_named_twice_is_refused() -> None:
    data = MADRID_DESIGNATIONS.read_bytes().replace(
        b">JP</com:DesignatedCountryCode>", b">CH</com:DesignatedCountryCode>"
    )
    error = refusal(data)
    assert error.element.endswith("tmk:DesignatedCountry[3]/com:DesignatedCountryCode")
    assert error.reason == "designates CH a second time"


def test_a_doctype_in_a_transaction_is_refused_before_libxml2_reads_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def parse(*args: Any) -> Any:
        raise AssertionError("libxml2 was given a transaction with a DOCTYPE")

    monkeypatch.setattr(etree, "fromstring", parse)
    assert refusal((HOSTILE / "madrid_billion_laughs.xml").read_bytes()).element == "(document)"


@pytest.mark.skipif(not passwd_is_readable(), reason="needs a readable /etc/passwd to prove nothing leaks")
def test_xxe_in_a_transaction_leaks_nothing_even_past_the_doctype_scan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(st96_xml, "_doctype_refusal", lambda data: None)
    error = refusal((HOSTILE / "madrid_external_entity.xml").read_bytes())
    assert error.element == "(document)"
    assert "entit" in error.reason
    assert PASSWD_MARKER not in repr(error)
