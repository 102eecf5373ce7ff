"""The demo consortium's history: ST.96 files for about fifty rights of the three kinds, and the changes
that follow them (ownership changes of several conveyance types, legal-status events, a confidential
application later published).

Generated from a fixed seed, so every demo tells the same story. The XML follows WIPO ST.96 V6_0 (patent
publication, trademark application, design application), like the samples the import tests validate.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from string import Template
from typing import Any
from xml.sax.saxutils import escape


def _applicant_bag(prefix: str, indent: int, address: bool = True) -> str:
    """An ST.96 applicant bag of one applicant (`$owner`, at `$street`, `$city`, `$country` unless not
    `address`), in the `prefix` namespace, `indent` spaces in: each kind's template holds one."""
    lines = [
        f"<{prefix}:ApplicantBag>",
        f'   <{prefix}:Applicant com:sequenceNumber="1">',
        "      <com:Contact>",
        "         <com:Name>",
        "            <com:EntityName>$owner</com:EntityName>",
        "         </com:Name>",
    ]
    if address:
        lines += [
            "         <com:PostalAddressBag>",
            "            <com:PostalAddress>",
            "               <com:PostalStructuredAddress>",
            '                  <com:AddressLineText com:sequenceNumber="1">$street</com:AddressLineText>',
            "                  <com:CityName>$city</com:CityName>",
            "                  <com:CountryCode>$country</com:CountryCode>",
            "               </com:PostalStructuredAddress>",
            "            </com:PostalAddress>",
            "         </com:PostalAddressBag>",
        ]
    lines += ["      </com:Contact>", f"   </{prefix}:Applicant>", f"</{prefix}:ApplicantBag>"]
    return ("\n" + " " * indent).join(lines)  # the template line holds the first indent


PATENT = Template(f"""<?xml version="1.0" encoding="UTF-8"?>
<pat:PatentPublication xmlns:pat="http://www.wipo.int/standards/XMLSchema/ST96/Patent"
 xmlns:com="http://www.wipo.int/standards/XMLSchema/ST96/Common" com:st96Version="V6_0"
 com:languageCode="en">
   <com:IPOfficeCode>$office</com:IPOfficeCode>
   <pat:BibliographicData com:st96Version="V6_0">
      <pat:PatentPublicationIdentification>
         <com:IPOfficeCode>$office</com:IPOfficeCode>
         <pat:PublicationNumber>$publication</pat:PublicationNumber>
         <com:PatentDocumentKindCode>A1</com:PatentDocumentKindCode>
         <com:PublicationDate>$published</com:PublicationDate>
      </pat:PatentPublicationIdentification>
      <pat:ApplicationIdentification>
         <com:IPOfficeCode>$office</com:IPOfficeCode>
         <com:ApplicationNumber>
            <com:ApplicationNumberText>$number</com:ApplicationNumberText>
         </com:ApplicationNumber>
         <pat:FilingDate>$filed</pat:FilingDate>
      </pat:ApplicationIdentification>
      <pat:PatentClassificationBag>
         <pat:IPCRClassificationBag>
            <pat:IPCRClassification com:sequenceNumber="1">
               <pat:PatentClassificationText>$classification</pat:PatentClassificationText>
            </pat:IPCRClassification>
         </pat:IPCRClassificationBag>
      </pat:PatentClassificationBag>
      <pat:InventionTitleBag>
         <pat:InventionTitle com:languageCode="en">$title</pat:InventionTitle>
      </pat:InventionTitleBag>
      <pat:PartyBag>
         {_applicant_bag("pat", 9)}
      </pat:PartyBag>
   </pat:BibliographicData>
   <pat:Claims>
      <pat:Claim>
         <pat:ClaimNumber>1</pat:ClaimNumber>
         <pat:ClaimText>$title, as described.</pat:ClaimText>
      </pat:Claim>
   </pat:Claims>
</pat:PatentPublication>
""")

TRADEMARK = Template(f"""<?xml version="1.0" encoding="UTF-8"?>
<tmk:TrademarkApplication xmlns:tmk="http://www.wipo.int/standards/XMLSchema/ST96/Trademark"
 xmlns:com="http://www.wipo.int/standards/XMLSchema/ST96/Common" com:st96Version="V6_0">
   <tmk:TrademarkBag>
      <tmk:Trademark>
         <com:RegistrationOfficeCode>$office</com:RegistrationOfficeCode>
         <com:ApplicationNumber>
            <com:IPOfficeCode>$office</com:IPOfficeCode>
            <com:ApplicationNumberText>$number</com:ApplicationNumberText>
         </com:ApplicationNumber>
         <com:RegistrationNumber>$registration</com:RegistrationNumber>
         <com:ApplicationDate>$filed</com:ApplicationDate>
         <com:RegistrationDate>$published</com:RegistrationDate>
         <com:ApplicationLanguageCode>en</com:ApplicationLanguageCode>
         <tmk:MarkCurrentStatusCode>Registered</tmk:MarkCurrentStatusCode>
         <tmk:MarkCategory>Individual mark</tmk:MarkCategory>
         <tmk:MarkRepresentation>
            <tmk:MarkFeatureCategory>Word</tmk:MarkFeatureCategory>
            <tmk:MarkReproduction>
               <tmk:WordMarkSpecification>
                  <tmk:MarkVerbalElementText>$title</tmk:MarkVerbalElementText>
                  <tmk:MarkSignificantVerbalElementText>$title</tmk:MarkSignificantVerbalElementText>
               </tmk:WordMarkSpecification>
            </tmk:MarkReproduction>
         </tmk:MarkRepresentation>
         <tmk:GoodsServicesBag>
            <tmk:GoodsServices>
               <tmk:GoodsServicesClassificationBag>
                  <tmk:GoodsServicesClassification>
                     <tmk:ClassificationKindCode>Nice</tmk:ClassificationKindCode>
                     <tmk:ClassNumber>$classification</tmk:ClassNumber>
                  </tmk:GoodsServicesClassification>
               </tmk:GoodsServicesClassificationBag>
            </tmk:GoodsServices>
         </tmk:GoodsServicesBag>
         {_applicant_bag("tmk", 9)}
      </tmk:Trademark>
   </tmk:TrademarkBag>
</tmk:TrademarkApplication>
""")

DESIGN = Template(f"""<?xml version="1.0" encoding="UTF-8"?>
<dgn:DesignApplication xmlns:dgn="http://www.wipo.int/standards/XMLSchema/ST96/Design"
 xmlns:com="http://www.wipo.int/standards/XMLSchema/ST96/Common" com:st96Version="V6_0">
   <com:RegistrationOfficeCode>$office</com:RegistrationOfficeCode>
   <com:ApplicationNumber>
      <com:IPOfficeCode>$office</com:IPOfficeCode>
      <com:ApplicationNumberText>$number</com:ApplicationNumberText>
   </com:ApplicationNumber>
   <dgn:DesignBag>
      <dgn:Design>
         <dgn:DesignIdentifier>1</dgn:DesignIdentifier>
         <com:RegistrationNumber>$registration</com:RegistrationNumber>
         <com:RegistrationDate>$published</com:RegistrationDate>
         <dgn:DesignTitleText com:languageCode="en">$title</dgn:DesignTitleText>
         <dgn:DesignCurrentStatusCategory>Registered</dgn:DesignCurrentStatusCategory>
         <com:DesignClassificationBag>
            <com:LocarnoClassificationBag>
               <com:LocarnoClassificationEdition>14</com:LocarnoClassificationEdition>
               <com:LocarnoClassification>
                  <com:LocarnoClass>$classification</com:LocarnoClass>
               </com:LocarnoClassification>
            </com:LocarnoClassificationBag>
         </com:DesignClassificationBag>
         {_applicant_bag("dgn", 9, address=False)}
      </dgn:Design>
   </dgn:DesignBag>
   {_applicant_bag("dgn", 3)}
   <com:ApplicationDate>$filed</com:ApplicationDate>
</dgn:DesignApplication>
""")

OWNERS = [
    ("Nordlicht Rösterei GmbH", "Speicherstraße 12", "Hamburg", "DE"),
    ("Thames Optics Ltd", "14 Bankside", "London", "GB"),
    ("Hanbit Kitchenware Co., Ltd.", "45 Teheran-ro", "Seoul", "KR"),
    ("Lumière Énergie SA", "8 rue de la Paix", "Lyon", "FR"),
    ("Aurora Medical AB", "Drottninggatan 5", "Stockholm", "SE"),
    ("Castell Robotics S.L.", "Carrer de Pujades 77", "Barcelona", "ES"),
    ("Daehan Semiconductor Inc.", "120 Pangyo-ro", "Seongnam", "KR"),
    ("Pennine Textiles plc", "3 Mill Lane", "Leeds", "GB"),
]
PATENT_TITLES = [
    "Coffee grinder with a conical burr", "Solid-state battery separator", "Wind turbine blade de-icing",
    "Surgical stapler with force feedback", "Low-power radio wake-up receiver", "Recyclable food tray",
    "Heat pump defrost control", "Robotic gripper with soft fingers", "Photonic chip coupler",
    "Water filter cartridge", "Autonomous lawn mower docking", "Biodegradable fishing net",
]  # fmt: skip
MARKS = ["NORDLICHT", "THAMESVIEW", "HANBIT", "LUMIERA", "AURORAMED", "CASTELLA", "DAEHAN", "PENNINE",
         "BLUE HARBOUR", "KIMCHI KING", "SILVER BIRCH", "MORNING CALM"]  # fmt: skip
DESIGNS = ["Coffee grinder", "Desk lamp", "Garden chair", "Kettle", "Headphones", "Bicycle helmet",
           "Rice cooker", "Umbrella handle", "Phone stand", "Water bottle"]  # fmt: skip
OFFICES = ("EP", "GB", "KR")
CONVEYANCES = [  # the realistic mix of recorded conveyances (DESIGN.md), most frequent first
    ("assignment", 38), ("securityInterest", 22), ("securityRelease", 14), ("nameChange", 12),
    ("correction", 7), ("merger", 5), ("governmentInterest", 1),
]  # fmt: skip


@dataclass(frozen=True)
class SeedRight:
    right_id: str
    office: str
    kind: str  # patent | trademark | design
    file_name: str
    xml: bytes
    owner: str


@dataclass(frozen=True)
class SeedChange:
    """One change after the imports: `kind` is ownership-change, status or publish; `body` is the API's
    JSON."""

    right_id: str
    office: str
    kind: str
    body: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SeedPlan:
    rights: list[SeedRight]
    confidential: dict[str, Any]  # the office and the right JSON of the confidential application
    changes: list[SeedChange]


def seed_plan(seed: int = 2026, per_office: int = 16) -> SeedPlan:
    """About fifty rights (per_office of each office, kinds mixed), their later changes, one confidential."""
    rng = random.Random(seed)
    rights: list[SeedRight] = []
    for office in OFFICES:
        for i in range(per_office):
            kind = ("patent", "trademark", "design")[i % 3]
            rights.append(_right(rng, office, kind, i))
    changes: list[SeedChange] = []
    versions = {r.right_id: 1 for r in rights}
    owners = {r.right_id: r.owner for r in rights}
    for right in rng.sample(rights, 18):
        category = rng.choices([c for c, _ in CONVEYANCES], weights=[w for _, w in CONVEYANCES])[0]
        assignee = rng.choice([o for o in OWNERS if o[0] != owners[right.right_id]])
        body = {
            "expectedVersion": versions[right.right_id],
            "change": {
                "conveyanceCategory": category,
                "transferCategory": "full",
                "assignorBag": [{"name": owners[right.right_id], "executionDate": _date(rng, 2022, 2023)}],
                "assigneeBag": [
                    {
                        "name": assignee[0],
                        "addressText": f"{assignee[1]}, {assignee[2]}",
                        "countryCode": assignee[3],
                    }
                ],
                "effectiveDate": _date(rng, 2023, 2023),
                "recordalDate": _date(rng, 2024, 2024),
                "officeRecordIdentifier": f"{right.office}-R{rng.randrange(10_000, 99_999)}",
                "rightIdBag": [right.right_id],
                "evidenceDocumentHash": hashlib.sha256(f"deed {right.right_id}".encode()).hexdigest(),
            },
        }
        changes.append(SeedChange(right.right_id, right.office, "ownership-change", body))
        versions[right.right_id] += 1
        owners[right.right_id] = assignee[0]
    for right in rng.sample(rights, 14):
        lapsed = rng.random() < 0.4
        status = (
            {"stateCode": "T", "stageCode": 6, "keyEventCode": "H13"}
            if lapsed
            else {"stateCode": "A", "stageCode": 4, "keyEventCode": "M10"}
        )
        body = {
            "expectedVersion": versions[right.right_id],
            "event": {
                "standard": {"patent": "ST.27", "trademark": "ST.61", "design": "ST.87"}[right.kind],
                "status": status,
                "previousStageCode": 4,
                "eventDate": _date(rng, 2024, 2025),
                "effectiveDate": _date(rng, 2024, 2025),
                "freeText": "lapsed: renewal fee not paid" if lapsed else "renewal fee paid",
            },
        }
        changes.append(SeedChange(right.right_id, right.office, "status", body))
        versions[right.right_id] += 1
    confidential_number = "EP20250099001"
    confidential: dict[str, Any] = {
        "office": "EP",
        "right": {
            "rightId": f"EP:PAT:{confidential_number}",
            "rightKindCategory": "patent",
            "applicationNumberText": confidential_number,
            "filingDate": "2025-02-03",
            "inventionTitle": "Quantum-safe key exchange for smart cards",
            "ownerBag": [{"name": "Aurora Medical AB", "countryCode": "SE"}],
            "legalStatus": {"stateCode": "A", "stageCode": 1, "keyEventCode": "A10"},
        },
    }
    changes.append(SeedChange(confidential["right"]["rightId"], "EP", "publish", {"expectedVersion": 1}))
    return SeedPlan(rights, confidential, changes)


def _right(rng: random.Random, office: str, kind: str, i: int) -> SeedRight:
    owner = rng.choice(OWNERS)
    filed = _date(rng, 2015, 2021)
    published = _date(rng, 2022, 2023)
    digits = f"{2019 + i % 5}{rng.randrange(10**6, 10**7)}"
    if kind == "patent":
        number, template = f"{office}{digits}", PATENT
        title, classification = (
            rng.choice(PATENT_TITLES),
            rng.choice(["A47J 42/06", "H01M 50/40", "F03D 80/40"]),
        )
        right_type = "PAT"
    elif kind == "trademark":
        number, template = digits, TRADEMARK
        title, classification = rng.choice(MARKS), str(rng.randrange(1, 46))
        right_type = "TM"
    else:
        number, template = f"30{digits}", DESIGN
        title, classification = rng.choice(DESIGNS), f"{rng.randrange(1, 32):02d}"
        right_type = "DES"
    xml = template.substitute(
        office=office,
        number=number,
        publication=f"{rng.randrange(1_000_000, 9_999_999)}",
        registration=f"R{digits}",
        filed=filed,
        published=published,
        classification=classification,
        title=escape(title),
        owner=escape(owner[0]),
        street=escape(owner[1]),
        city=escape(owner[2]),
        country=owner[3],
    )
    return SeedRight(
        f"{office}:{right_type}:{number}",
        office,
        kind,
        f"{office}-{kind}-{number}.xml",
        xml.encode(),
        owner[0],
    )


def _date(rng: random.Random, first_year: int, last_year: int) -> str:
    return f"{rng.randrange(first_year, last_year + 1)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
