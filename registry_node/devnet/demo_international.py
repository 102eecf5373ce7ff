"""The demo's rights across offices, as the ST.96 documents the offices exchange.

- WIPO's International Bureau (WO) registers two Madrid marks and a Hague design, designating EP, GB and KR
  (one of them designates EP later), and records a change of holder of one mark: a Madrid and a Hague
  IB-to-office transaction, which WO's node imports.
- Each designated office answers with its office-to-IB transactions: grants of protection, a provisional
  partial refusal for Nice class 09, a provisional total refusal confirmed by a final decision. The later
  designation of EP stays undecided, as happens while an office examines.
- A patent family spans the three offices: a GB application, an EP patent claiming its priority, and a KR
  patent claiming the same priority that entered its national phase from a PCT application.
- KR registers a geographical indication (Lisbon; ST.96 GIApplication) with its producers as beneficiaries.

Fixed text, so every demo tells the same story; the import tests validate each document against WIPO's
V6_0 schemas. (Lines of the XML may run past the code's line length: ST.96 element names are long.)
"""
# ruff: noqa: E501

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from registry_node.devnet.demo_data import PATENT

TMK = 'xmlns:tmk="http://www.wipo.int/standards/XMLSchema/ST96/Trademark"'
DGN = 'xmlns:dgn="http://www.wipo.int/standards/XMLSchema/ST96/Design"'
COM = 'xmlns:com="http://www.wipo.int/standards/XMLSchema/ST96/Common"'


@dataclass(frozen=True)
class Mark:
    number: str
    name: str
    holder: tuple[str, str, str, str]  # name, street, city, country
    classes: tuple[int, ...]
    registered: str
    designated: tuple[str, ...]


@dataclass(frozen=True)
class SeedDocument:
    """One document an office imports: a transaction (`transaction`) or a patent publication."""

    office: str
    file_name: str
    xml: bytes
    transaction: bool


MARKS = (
    Mark("1700001", "AURORA", ("Aurora Medical AB", "Sveavägen 44", "Stockholm", "SE"), (9, 10), "2024-02-15",
         ("EP", "GB", "KR")),
    Mark("1700002", "THAMESVIEW", ("Thames Optics Ltd", "14 Bankside", "London", "GB"), (9,), "2024-03-04",
         ("GB", "KR")),
)  # fmt: skip
LATER_DESIGNATION = ("1700002", "EP", "2024-06-03")
HOLDER_CHANGE = (
    "1700002",
    "Thames Optics Ltd",
    ("Pennine Textiles plc", "3 Mill Lane", "Leeds", "GB"),
    "2024-09-02",
)
DESIGN = ("DM/240001", "Desk lamp", ("Hanbit Kitchenware Co., Ltd.", "45 Teheran-ro", "Seoul", "KR"), "26",
          "2024-04-10", ("EP", "GB", "KR"))  # fmt: skip

GEOGRAPHICAL_INDICATION = "KR:GI:GI2023000017"
INTERNATIONAL_REGISTRATION = f"WO:TM:{MARKS[0].number}"  # the tour's example: protected, and refused in part
FAMILY = {"GB": "GB:PAT:GB2300123", "EP": "EP:PAT:EP23700001", "KR": "KR:PAT:1020240001234"}


def _contact(holder: tuple[str, str, str, str], indent: int) -> str:
    name, street, city, country = (escape(v) for v in holder)
    pad = " " * indent
    return "\n".join(
        pad + line
        for line in (
            "<com:Contact>",
            "   <com:Name>",
            "      <com:OrganizationName>",
            f"         <com:OrganizationStandardName>{name}</com:OrganizationStandardName>",
            "      </com:OrganizationName>",
            "   </com:Name>",
            "   <com:PostalAddressBag>",
            "      <com:PostalAddress>",
            "         <com:PostalStructuredAddress>",
            f'            <com:AddressLineText com:sequenceNumber="1">{street}</com:AddressLineText>',
            f"            <com:CityName>{city}</com:CityName>",
            f"            <com:CountryCode>{country}</com:CountryCode>",
            "         </com:PostalStructuredAddress>",
            "      </com:PostalAddress>",
            "   </com:PostalAddressBag>",
            "</com:Contact>",
        )
    )


def _nice(classes: tuple[int, ...], indent: int) -> str:
    pad = " " * indent
    rows = [
        f"{pad}<tmk:GoodsServicesBag>",
        f"{pad}   <tmk:GoodsServices>",
        f"{pad}      <tmk:GoodsServicesClassificationBag>",
    ]
    for number in classes:
        rows += [
            f"{pad}         <tmk:GoodsServicesClassification>",
            f"{pad}            <tmk:ClassificationKindCode>Nice</tmk:ClassificationKindCode>",
            f"{pad}            <tmk:ClassNumber>{number}</tmk:ClassNumber>",
            f"{pad}         </tmk:GoodsServicesClassification>",
        ]
    rows += [
        f"{pad}      </tmk:GoodsServicesClassificationBag>",
        f"{pad}   </tmk:GoodsServices>",
        f"{pad}</tmk:GoodsServicesBag>",
    ]
    return "\n".join(rows)


def _countries(prefix: str, codes: tuple[str, ...], indent: int) -> str:
    pad = " " * indent
    rows = [f"{pad}<{prefix}:DesignatedCountryBag>"]
    for code in codes:
        rows += [
            f"{pad}   <{prefix}:DesignatedCountry>",
            f"{pad}      <com:DesignatedCountryCode>{code}</com:DesignatedCountryCode>",
            f"{pad}   </{prefix}:DesignatedCountry>",
        ]
    return "\n".join([*rows, f"{pad}</{prefix}:DesignatedCountryBag>"])


def madrid_ib_transaction(later_designation: bool = False) -> str:
    """WO's Madrid notifications to GB: the two registrations and a change of holder; or, to EP, the later
    designation of EP (an IB-to-office transaction is addressed to one office)."""
    items = []
    for mark in [] if later_designation else MARKS:
        items.append(f"""      <tmk:MadridInternationalRegistrationCreation>
         <com:NotificationLanguage>en</com:NotificationLanguage>
         <com:RecordIdentifier>{mark.number}-C1</com:RecordIdentifier>
         <tmk:OfficeOriginCode>{mark.holder[3] if mark.holder[3] != "SE" else "SE"}</tmk:OfficeOriginCode>
         <com:RecordEffectiveDate>{mark.registered}</com:RecordEffectiveDate>
         <com:ExpiryDate>{int(mark.registered[:4]) + 10}{mark.registered[4:]}</com:ExpiryDate>
         <com:RecordNotificationDate>{mark.registered}</com:RecordNotificationDate>
         <tmk:MadridInternationalRegistrationCreationCategory>Registration</tmk:MadridInternationalRegistrationCreationCategory>
         <com:InternationalRegistrationNumber>{mark.number}</com:InternationalRegistrationNumber>
         <tmk:HolderBag>
            <tmk:Holder>
{_contact(mark.holder, 15)}
            </tmk:Holder>
         </tmk:HolderBag>
         <tmk:MarkImage>
            <com:FileName>{mark.number}.jpg</com:FileName>
         </tmk:MarkImage>
         <tmk:MarkSignificantVerbalElementText>{mark.name}</tmk:MarkSignificantVerbalElementText>
{_nice(mark.classes, 9)}
{_countries("tmk", mark.designated, 9)}
      </tmk:MadridInternationalRegistrationCreation>""")
    number, office, date = LATER_DESIGNATION
    later = next(m for m in MARKS if m.number == number)
    designation = f"""      <tmk:MadridDesignation>
         <com:NotificationLanguage>en</com:NotificationLanguage>
         <com:RecordIdentifier>{number}-S1</com:RecordIdentifier>
         <tmk:OfficeOriginCode>{later.holder[3]}</tmk:OfficeOriginCode>
         <com:RecordEffectiveDate>{date}</com:RecordEffectiveDate>
         <com:RecordFilingDate>{date}</com:RecordFilingDate>
         <tmk:MadridSystemCategory>Protocol</tmk:MadridSystemCategory>
         <com:InternationalRegistrationDate>{later.registered}</com:InternationalRegistrationDate>
         <com:FeeCalculationDate>{date}</com:FeeCalculationDate>
         <tmk:ActiveClassTotalQuantity>{len(later.classes)}</tmk:ActiveClassTotalQuantity>
         <com:ExpiryDate>{int(later.registered[:4]) + 10}{later.registered[4:]}</com:ExpiryDate>
         <com:RecordNotificationDate>{date}</com:RecordNotificationDate>
         <tmk:MadridDesignationCategory>Subsequent designation</tmk:MadridDesignationCategory>
         <com:InternationalRegistrationNumber>{number}</com:InternationalRegistrationNumber>
         <tmk:HolderBag>
            <tmk:Holder>
{_contact(later.holder, 15)}
            </tmk:Holder>
         </tmk:HolderBag>
         <tmk:MarkImage>
            <com:FileName>{number}.jpg</com:FileName>
         </tmk:MarkImage>
         <tmk:MarkVerbalElementText>{later.name}</tmk:MarkVerbalElementText>
{_nice(later.classes, 9)}
{_countries("tmk", (office,), 9)}
      </tmk:MadridDesignation>"""
    number, previous, holder, date = HOLDER_CHANGE
    change = f"""      <tmk:MadridHolderRepresentativeChange>
         <com:RecordIdentifier>{number}-T1</com:RecordIdentifier>
         <com:RecordEffectiveDate>{date}</com:RecordEffectiveDate>
         <com:InternationalRegistrationNumber>{number}</com:InternationalRegistrationNumber>
         <tmk:MadridHolderRepresentativeChangeCategory>Change of ownership</tmk:MadridHolderRepresentativeChangeCategory>
         <com:RecordNotificationDate>{date}</com:RecordNotificationDate>
         <tmk:HolderChangeBag>
            <tmk:PreviousHolderBag>
               <tmk:PreviousHolder>
                  <com:LegalEntityName>{escape(previous)}</com:LegalEntityName>
               </tmk:PreviousHolder>
            </tmk:PreviousHolderBag>
            <tmk:HolderBag>
               <tmk:Holder>
{_contact(holder, 18)}
               </tmk:Holder>
            </tmk:HolderBag>
         </tmk:HolderChangeBag>
      </tmk:MadridHolderRepresentativeChange>"""
    items += [designation] if later_designation else [change]
    counts = (
        [("Designation", 1)]
        if later_designation
        else [("International registration creation", len(MARKS)), ("Holder representative change", 1)]
    )
    count_bag = "\n".join(
        f"""         <tmk:MadridIBTransactionCount>
            <tmk:MadridIBTransactionCategory>{category}</tmk:MadridIBTransactionCategory>
            <com:TransactionTotalQuantity>{quantity}</com:TransactionTotalQuantity>
         </tmk:MadridIBTransactionCount>"""
        for category, quantity in counts
    )
    receiving, notified, week = (
        (office, date, "2024/23") if later_designation else ("GB", "2024-09-05", "2024/36")
    )
    body = "\n".join(items)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<tmk:MadridIBToOfficeTransaction {TMK}
 {COM} com:st96Version="V6_0">
   <tmk:MadridIBTransactionHeader>
      <com:ReceivingOfficeCode>{receiving}</com:ReceivingOfficeCode>
      <com:WeekNumber>{week}</com:WeekNumber>
      <com:PublicationDate>{notified}</com:PublicationDate>
      <com:RecordNotificationDate>{notified}</com:RecordNotificationDate>
      <com:NotificationLanguage>en</com:NotificationLanguage>
      <com:TransactionTotalQuantity>{len(items)}</com:TransactionTotalQuantity>
      <tmk:MadridIBTransactionCountBag>
{count_bag}
      </tmk:MadridIBTransactionCountBag>
   </tmk:MadridIBTransactionHeader>
   <tmk:MadridIBToOfficeBag>
{body}
   </tmk:MadridIBToOfficeBag>
</tmk:MadridIBToOfficeTransaction>
"""


def hague_ib_transaction() -> str:
    """WO's Hague notification: one registration of one design, designating three offices."""
    number, product, holder, locarno, registered, designated = DESIGN
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<dgn:HagueIBToOfficeTransaction {DGN}
 {COM} com:st96Version="V6_0">
   <dgn:HagueIBToOfficeBag>
      <dgn:HagueIBTransactionHeader>
         <com:ReceivingOfficeCode>KR</com:ReceivingOfficeCode>
         <com:RecordNotificationDate>{registered}</com:RecordNotificationDate>
         <com:TransactionTotalQuantity>1</com:TransactionTotalQuantity>
         <dgn:HagueIBTransactionCountBag>
            <dgn:HagueIBTransactionCount>
               <dgn:HagueIBTransactionCategory>Office copy</dgn:HagueIBTransactionCategory>
               <com:TransactionTotalQuantity>1</com:TransactionTotalQuantity>
            </dgn:HagueIBTransactionCount>
         </dgn:HagueIBTransactionCountBag>
      </dgn:HagueIBTransactionHeader>
      <dgn:HagueOfficeCopyBag>
         <dgn:HagueRegistrationBag>
            <dgn:HagueRegistration>
               <com:InternationalRegistrationNumber>{number}</com:InternationalRegistrationNumber>
               <com:RecordIdentifier>{number.replace("/", "")}-R</com:RecordIdentifier>
               <com:InternationalRegistrationDate>{registered}</com:InternationalRegistrationDate>
               <com:InternationalFilingDate>{registered}</com:InternationalFilingDate>
               <com:FeeCalculationDate>{registered}</com:FeeCalculationDate>
               <com:FilingLanguageCode>en</com:FilingLanguageCode>
{_countries("dgn", designated, 15)}
               <com:ExpiryDate>{int(registered[:4]) + 5}{registered[4:]}</com:ExpiryDate>
               <dgn:DesignTotalQuantity>1</dgn:DesignTotalQuantity>
               <dgn:HolderBag>
                  <dgn:Holder>
{_contact(holder, 21)}
                  </dgn:Holder>
               </dgn:HolderBag>
               <dgn:HagueDesignBag>
                  <dgn:HagueDesign>
                     <dgn:DesignIdentifier>1</dgn:DesignIdentifier>
                     <com:LocarnoClassificationBag>
                        <com:LocarnoClassificationEdition>14</com:LocarnoClassificationEdition>
                        <com:LocarnoClassification>
                           <com:LocarnoClass>{locarno}</com:LocarnoClass>
                        </com:LocarnoClassification>
                     </com:LocarnoClassificationBag>
                     <com:ProductDescriptionTextBag>
                        <com:ProductDescriptionText com:sequenceNumber="1" com:languageCode="en">{product}</com:ProductDescriptionText>
                     </com:ProductDescriptionTextBag>
                     <dgn:ViewBag>
                        <dgn:View>
                           <com:FileName>{number.replace("/", "")}-1-1.jpg</com:FileName>
                           <dgn:ViewIdentifier>1.1</dgn:ViewIdentifier>
                        </dgn:View>
                     </dgn:ViewBag>
                  </dgn:HagueDesign>
               </dgn:HagueDesignBag>
            </dgn:HagueRegistration>
         </dgn:HagueRegistrationBag>
      </dgn:HagueOfficeCopyBag>
   </dgn:HagueIBToOfficeBag>
</dgn:HagueIBToOfficeTransaction>
"""


def _madrid_office(office: str, date: str, decisions: list[str]) -> str:
    body = "\n".join(decisions)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<tmk:MadridOfficeToIBTransaction {TMK}
 {COM} com:st96Version="V6_0">
   <tmk:MadridOfficeTransactionHeader>
      <com:IPOfficeCode>{office}</com:IPOfficeCode>
      <com:RequestDate>{date}</com:RequestDate>
      <com:TransactionTotalQuantity>{len(decisions)}</com:TransactionTotalQuantity>
   </tmk:MadridOfficeTransactionHeader>
   <tmk:MadridOfficeToIBBag>
{body}
   </tmk:MadridOfficeToIBBag>
</tmk:MadridOfficeToIBTransaction>
"""


def _grant(number: str, date: str, holder: str) -> str:
    return f"""      <tmk:MadridGrantProtection>
         <com:NotificationLanguage>en</com:NotificationLanguage>
         <com:InternationalRegistrationNumber>{number}</com:InternationalRegistrationNumber>
         <tmk:HolderBag>
            <tmk:Holder>
               <com:LegalEntityName>{escape(holder)}</com:LegalEntityName>
            </tmk:Holder>
         </tmk:HolderBag>
         <com:RecordNotificationDate>{date}</com:RecordNotificationDate>
      </tmk:MadridGrantProtection>"""


def _refusal(number: str, date: str, reason: str, refused: tuple[int, str] | None) -> str:
    if refused is None:
        scope = "         <tmk:AllGoodsServicesIndicator>true</tmk:AllGoodsServicesIndicator>"
    else:
        scope = f"""         <tmk:GoodsServicesRefusalBag>
            <tmk:GoodsServicesRefusal>
               <tmk:GoodsServicesRefusalCategory>Refused</tmk:GoodsServicesRefusalCategory>
               <tmk:ClassDescriptionRefusalBag>
                  <tmk:ClassDescriptionRefusal>
                     <tmk:ClassNumber>{refused[0]}</tmk:ClassNumber>
                     <tmk:GoodsServicesDescriptionText com:sequenceNumber="1">{escape(refused[1])}</tmk:GoodsServicesDescriptionText>
                  </tmk:ClassDescriptionRefusal>
               </tmk:ClassDescriptionRefusalBag>
            </tmk:GoodsServicesRefusal>
         </tmk:GoodsServicesRefusalBag>"""
    return f"""      <tmk:MadridProvisionalRefusal>
         <com:NotificationLanguage>en</com:NotificationLanguage>
         <com:InternationalRegistrationNumber>{number}</com:InternationalRegistrationNumber>
         <tmk:RefusalPronouncedDate>{date}</tmk:RefusalPronouncedDate>
{scope}
         <com:CommentText com:sequenceNumber="1">{escape(reason)}</com:CommentText>
      </tmk:MadridProvisionalRefusal>"""


def _final_refusal(number: str, date: str) -> str:
    """A final decision confirming a total refusal, after its review."""
    return f"""      <tmk:MadridFinalDecision>
         <com:NotificationLanguage>en</com:NotificationLanguage>
         <com:InternationalRegistrationNumber>{number}</com:InternationalRegistrationNumber>
         <tmk:RefusalProtectionIndicator>true</tmk:RefusalProtectionIndicator>
         <tmk:AllGoodsServicesIndicator>true</tmk:AllGoodsServicesIndicator>
         <com:RecordNotificationDate>{date}</com:RecordNotificationDate>
      </tmk:MadridFinalDecision>"""


def _hague_office(office: str, date: str, number: str) -> str:
    """A Hague statement of grant of protection for the demo's design."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<dgn:HagueOfficeToIBTransaction {DGN}
 {COM} com:st96Version="V6_0">
   <dgn:HagueOfficeTransactionHeader>
      <com:IPOfficeCode>{office}</com:IPOfficeCode>
      <com:RequestDate>{date}</com:RequestDate>
      <com:TransactionTotalQuantity>1</com:TransactionTotalQuantity>
   </dgn:HagueOfficeTransactionHeader>
   <dgn:HagueOfficeToIBBag>
      <dgn:HagueGrantProtectionRequest>
         <com:InternationalRegistrationNumber>{number}</com:InternationalRegistrationNumber>
         <com:DecisionDate>{date}</com:DecisionDate>
         <com:DecisionEffectiveDate>{date}</com:DecisionEffectiveDate>
         <dgn:AffectedDesign>
            <dgn:AllDesignsIndicator>true</dgn:AllDesignsIndicator>
         </dgn:AffectedDesign>
      </dgn:HagueGrantProtectionRequest>
   </dgn:HagueOfficeToIBBag>
</dgn:HagueOfficeToIBTransaction>
"""


def _family_patent(office: str, number: str, title: str, filed: str, published: str, extra_before: str,
                   extra_after: str) -> str:  # fmt: skip
    xml = PATENT.substitute(
        office=office, number=number, publication=number[-7:], registration="", filed=filed,
        published=published, classification="F25B 47/02", title=escape(title),
        owner="Pennine Textiles plc", street="3 Mill Lane", city="Leeds", country="GB",
    )  # fmt: skip
    if extra_before:
        marker = "      </pat:ApplicationIdentification>\n"
        xml = xml.replace(marker, marker + extra_before, 1)
    if extra_after:
        marker = "      </pat:PartyBag>\n"
        xml = xml.replace(marker, marker + extra_after, 1)
    return xml


def _priority(office: str, number: str, filed: str) -> str:
    return f"""      <pat:PriorityClaimBag>
         <pat:PriorityClaim com:sequenceNumber="1">
            <com:IPOfficeCode>{office}</com:IPOfficeCode>
            <com:ApplicationNumber>
               <com:ApplicationNumberText>{number}</com:ApplicationNumberText>
            </com:ApplicationNumber>
            <pat:FilingDate>{filed}</pat:FilingDate>
            <pat:ApplicationFilingCategory>National</pat:ApplicationFilingCategory>
         </pat:PriorityClaim>
      </pat:PriorityClaimBag>
"""


def _pct(number: str, filed: str, entered: str) -> str:
    return f"""      <pat:InternationalFilingData>
         <pat:ApplicationIdentification>
            <com:IPOfficeCode>WO</com:IPOfficeCode>
            <com:ApplicationNumber>
               <com:ApplicationNumberText>{number}</com:ApplicationNumberText>
            </com:ApplicationNumber>
            <pat:FilingDate>{filed}</pat:FilingDate>
         </pat:ApplicationIdentification>
         <pat:NationalStageFilingDate>{entered}</pat:NationalStageFilingDate>
      </pat:InternationalFilingData>
"""


def geographical_indication() -> str:
    """KR's registered geographical indication for green tea, its producers' association the applicant and
    two producers its beneficiaries (authorised users)."""
    number = GEOGRAPHICAL_INDICATION.split(":")[2]
    users = "\n".join(
        f"""      <gin:AuthorizedUser>
         <com:Contact>
            <com:Name>
               <com:EntityName>{escape(name)}</com:EntityName>
            </com:Name>
         </com:Contact>
         <gin:AuthorizedUserStatusCategory>Valid</gin:AuthorizedUserStatusCategory>
         <gin:AuthorizedUserCategory>Producer</gin:AuthorizedUserCategory>
      </gin:AuthorizedUser>"""
        for name in ("Boseong Daehan Tea Farm", "Hwagae Green Tea Co-operative")
    )
    association = ("Boseong Green Tea Producers' Association", "1 Nokcha-ro", "Boseong", "KR")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<gin:GIApplication xmlns:gin="http://www.wipo.int/standards/XMLSchema/ST96/GeographicalIndication"
 {COM}
 {TMK}
 com:st96Version="V6_0">
   <com:ApplicationNumber>
      <com:IPOfficeCode>KR</com:IPOfficeCode>
      <com:ApplicationNumberText>{number}</com:ApplicationNumberText>
   </com:ApplicationNumber>
   <com:ApplicationDate>2023-03-02</com:ApplicationDate>
   <gin:GIData com:officeCode="KR" com:languageCode="en">
      <com:RegistrationNumber>GI-KR-0017</com:RegistrationNumber>
      <com:RegistrationDate>2024-05-20</com:RegistrationDate>
      <gin:GINameBag>
         <gin:GINameText com:sequenceNumber="1" com:languageCode="en">Boseong Green Tea</gin:GINameText>
      </gin:GINameBag>
      <gin:ProductIndicationBag>
         <tmk:GoodsServices>
            <tmk:GoodsServicesClassificationBag>
               <tmk:GoodsServicesClassification>
                  <tmk:ClassificationKindCode>Nice</tmk:ClassificationKindCode>
                  <tmk:ClassNumber>30</tmk:ClassNumber>
               </tmk:GoodsServicesClassification>
            </tmk:GoodsServicesClassificationBag>
            <tmk:ClassDescriptionBag>
               <tmk:ClassDescription>
                  <tmk:ClassNumber>30</tmk:ClassNumber>
                  <tmk:GoodsServicesDescriptionText com:sequenceNumber="1" com:languageCode="en">Green tea</tmk:GoodsServicesDescriptionText>
               </tmk:ClassDescription>
            </tmk:ClassDescriptionBag>
         </tmk:GoodsServices>
         <gin:ProductCategory>Tea</gin:ProductCategory>
      </gin:ProductIndicationBag>
      <gin:FeatureDescriptionBag>
         <gin:FeatureDescription>
            <gin:FeatureDescriptionText com:languageCode="en">Leaves picked by hand in spring on terraced hillsides near the sea.</gin:FeatureDescriptionText>
         </gin:FeatureDescription>
      </gin:FeatureDescriptionBag>
      <gin:GeographicRegionDescriptionBag>
         <gin:GeographicRegionDescription>
            <gin:GeographicRegionDescriptionText com:sequenceNumber="1" com:languageCode="en">Boseong County, South Jeolla Province</gin:GeographicRegionDescriptionText>
         </gin:GeographicRegionDescription>
      </gin:GeographicRegionDescriptionBag>
      <gin:GICategory>Protected Geographical Indication</gin:GICategory>
{users}
      <gin:GIStatusCategory>Registered</gin:GIStatusCategory>
   </gin:GIData>
   <gin:ApplicantBag>
      <gin:Applicant com:sequenceNumber="1">
{_contact(association, 9)}
      </gin:Applicant>
   </gin:ApplicantBag>
</gin:GIApplication>
"""


def international_documents() -> list[SeedDocument]:
    """Every document of the story, in the order the offices import them: the family's patents first (the
    priority application before the rights claiming it), then WO's notifications, then the decisions."""
    title = "Heat pump defrost control"
    gb, ep, kr = (FAMILY[c].split(":")[2] for c in ("GB", "EP", "KR"))
    priority = _priority("GB", gb, "2023-01-10")
    pct = _pct("PCT/GB2024/050001", "2024-01-09", "2025-07-10")
    patents = [
        SeedDocument(office, f"{office}-family-{number}.xml",
                     _family_patent(office, number, title, filed, published, before, after).encode(), False)
        for office, number, filed, published, before, after in (
            ("GB", gb, "2023-01-10", "2024-07-10", "", ""),
            ("EP", ep, "2024-01-09", "2024-07-17", priority, ""),
            ("KR", kr, "2025-07-10", "2025-12-01", priority, pct),
        )
    ]  # fmt: skip
    aurora, thames = (m.number for m in MARKS)
    design = DESIGN[0]
    decisions = {
        "EP": [_madrid_office("EP", "2024-08-20", [_grant(aurora, "2024-08-20", MARKS[0].holder[0])]),
               _hague_office("EP", "2024-09-12", design)],
        "GB": [_madrid_office("GB", "2024-07-01", [_grant(aurora, "2024-07-01", MARKS[0].holder[0]),
                                                  _grant(thames, "2024-07-01", MARKS[1].holder[0])]),
               _hague_office("GB", "2024-08-05", design)],
        "KR": [_madrid_office("KR", "2024-06-12", [
                   _refusal(aurora, "2024-06-12", "Class 09: conflicts with an earlier Korean mark.",
                            (9, "Scientific and medical software")),
                   _refusal(thames, "2024-06-12", "The mark is descriptive of optical goods.", None)]),
               _madrid_office("KR", "2024-12-02", [_final_refusal(thames, "2024-12-02")]),
               _hague_office("KR", "2024-10-01", design)],
    }  # fmt: skip
    notifications = [
        SeedDocument("WO", "WO-madrid-notifications.xml", madrid_ib_transaction().encode(), True),
        SeedDocument("WO", "WO-madrid-designation-EP.xml", madrid_ib_transaction(True).encode(), True),
        SeedDocument("WO", "WO-hague-notifications.xml", hague_ib_transaction().encode(), True),
    ]
    answers = [
        SeedDocument(office, f"{office}-decisions-{i + 1}.xml", xml.encode(), True)
        for office, documents in decisions.items()
        for i, xml in enumerate(documents)
    ]
    gi = SeedDocument("KR", "KR-geographical-indication.xml", geographical_indication().encode(), False)
    return [*patents, gi, *notifications, *answers]
