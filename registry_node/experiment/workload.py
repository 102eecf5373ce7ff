"""The seeded workload: a stream of operations on the offices' rights, in the mix an experiment asks for.

Each operation carries the API body it sends and the version it expects, so the same seed gives the same
stream on any machine. The changes to one right form a chain: each names the version the one before it
produced (registration 1, then 1, 2, 3 ...) and points at it (`after`); the driver submits an operation
only once that one was accepted (a verification: once it was confirmed), and a node keeps a right's changes
in the order it accepted them, so a default workload never races itself.

Conflicts are wanted only when asked for (`workload.conflicts`, a share of the ownership changes and status
events): such a change is marked `conflict`, names the version before the right's current one, waits for
the change that passed it, and leaves the right's chain alone. A node must refuse it; the report counts
those refusals apart, as intended.

With `designation` and `decision` in the mix, the International Bureau (WO) is an office of the run. A
designation designates one more national office on one of WO's international registrations (registering a
new one, as a `registration` at WO, when every registration designates every office). A decision is that
office's next decision on one of its designations: the first waits until the designation is confirmed on
chain (the chain must hold the designation before the office may decide), the later ones chain on it.

In anchors mode a registration also carries its right as a WIPO ST.96 file (`body["st96"]`), the input of
the node's anchored import; confidential filings stay per right (a sealed record is never anchored).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from registry_node.devnet.demo_data import DESIGN, PATENT, TRADEMARK
from registry_node.experiment.config import ExperimentConfig
from registry_node.protocol.records import INTERNATIONAL_BUREAU, designation_id

KIND_TYPES = {"patent": "PAT", "trademark": "TM", "design": "DES"}
STANDARDS = {"patent": "ST.27", "trademark": "ST.61", "design": "ST.87"}
OWNERS = [
    ("Nordlicht Rösterei GmbH", "DE"),
    ("Thames Optics Ltd", "GB"),
    ("Hanbit Kitchenware Co., Ltd.", "KR"),
    ("Lumière Énergie SA", "FR"),
    ("Aurora Medical AB", "SE"),
    ("Castell Robotics S.L.", "ES"),
    ("Daehan Semiconductor Inc.", "KR"),
    ("Pennine Textiles plc", "GB"),
    ("Kiso Precision K.K.", "JP"),
]
# ST.27 events a right lives through after filing: (state, stage, key event, what it means)
STATUS_EVENTS = [
    ("A", 2, "D10", "examination requested"),
    ("A", 4, "F10", "granted"),
    ("A", 4, "M10", "renewal fee paid"),
    ("A", 5, "L10", "opposition filed"),
    ("T", 6, "H13", "lapsed: renewal fee not paid"),
    ("A", 4, "R14", "transfer of ownership recorded"),
]
# A designated office's decisions, in the order an office takes them: (category, scope, state, stage, key)
DECISIONS = [
    ("provisionalRefusal", "partial", "A", 2, "D10"),
    ("finalDecision", None, "A", 4, "F10"),
    ("grantOfProtection", None, "A", 4, "F10"),
    ("invalidation", "total", "T", 6, "N10"),
]


@dataclass(frozen=True)
class Operation:
    index: int
    kind: str  # one of config.OPERATION_KINDS
    office: str
    right_id: str
    expected_version: int | None  # the version a change supersedes; None for registrations, verifications
    body: dict[str, Any] = field(repr=False)  # the node API's JSON (a right, a change, an event), or {}
    after: int | None = None  # the previous operation on this right
    detail: str = ""  # conveyance category or key event code
    conflict: bool = False  # deliberately names a stale version: a node must refuse it

    @property
    def waits_for_chain(self) -> bool:
        """Whether the operation it follows must be confirmed on chain, not only accepted: a verification,
        and an office's first decision on a designation (the chain must hold the designation)."""
        return self.kind == "verification" or (self.kind == "decision" and self.expected_version == 0)

    @property
    def version(self) -> int | None:
        """The version this operation creates on chain (None for a verification); a conflict, which
        must be refused, names the version its right already has."""
        if self.kind == "verification":
            return None
        return 1 if self.expected_version is None else self.expected_version + 1


@dataclass
class _Right:
    right_id: str
    office: str
    kind: str
    version: int
    owner: tuple[str, str]
    confidential: bool
    last_op: int
    designated: list[str] = field(default_factory=list)


@dataclass
class _Designation:
    designation_id: str
    office: str
    version: int
    last_op: int


class Workload:
    """An endless, seeded stream of operations; the runner takes as many as the experiment runs."""

    def __init__(self, config: ExperimentConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)
        self._kinds = [k for k, _ in config.workload.mix]
        self._kind_weights = [w for _, w in config.workload.mix]
        self._conveyances = [k for k, _ in config.workload.conveyances]
        self._conveyance_weights = [w for _, w in config.workload.conveyances]
        self._conflicts = config.workload.conflicts
        self._rights: list[_Right] = []
        self._public: list[_Right] = []  # rights anyone may see (registered openly or published)
        self._sealed: list[_Right] = []  # confidential rights not yet published
        self._serial: dict[str, int] = {}
        self._national = config.national_office_codes
        self._registrations: list[_Right] = []  # WO's international registrations
        self._designations: list[_Designation] = []

    def __iter__(self) -> Iterator[Operation]:
        index = 0
        while True:
            yield self._next(index)
            index += 1

    def _next(self, index: int) -> Operation:
        kind = self._rng.choices(self._kinds, self._kind_weights)[0]
        if kind in ("ownershipChange", "statusEvent", "verification") and not self._public:
            kind = "registration"
        if kind == "publication" and not self._sealed:
            kind = "confidentialFiling" if "confidentialFiling" in self._kinds else "registration"
        if kind == "decision" and not self._designations:
            kind = "designation"
        if kind == "designation":
            return self._designate(index)
        if kind == "decision":
            return self._decide(index, self._rng.choice(self._designations))
        if kind in ("registration", "confidentialFiling"):
            return self._register(index, confidential=kind == "confidentialFiling")
        if kind == "publication":
            right = self._sealed.pop(self._rng.randrange(len(self._sealed)))
            self._public.append(right)
            return self._change(index, right, "publication", {}, "")
        if kind != "verification" and self._conflicts and self._rng.random() < self._conflicts:
            changed = [r for r in self._public if r.version >= 2]  # version 0 is no version a node takes
            if changed:
                right = self._rng.choice(changed)
                if kind == "ownershipChange":
                    return self._transfer(index, right, conflict=True)
                return self._status(index, right, conflict=True)
        right = self._rng.choice(self._public)
        if kind == "verification":
            return Operation(index, kind, right.office, right.right_id, None, {}, right.last_op)
        if kind == "ownershipChange":
            return self._transfer(index, right)
        return self._status(index, right)

    def _register(self, index: int, confidential: bool, office: str | None = None) -> Operation:
        """A national right, or (office WO) a Madrid or Hague international registration."""
        international = office == INTERNATIONAL_BUREAU
        office = office or self._rng.choice(self._national)
        kinds, weights = (["trademark", "design"], [70, 30]) if international else (KIND_TYPES, [60, 30, 10])
        kind = self._rng.choices(list(kinds), weights)[0]
        serial = self._serial.get(office, 0) + 1
        self._serial[office] = serial
        number = f"{office}{2026_000_000 + serial}" if kind == "patent" else f"{40_000_000 + serial}"
        right_id = f"{office}:{KIND_TYPES[kind]}:{number}"
        owner = self._rng.choice(OWNERS)
        right: dict[str, Any] = {
            "rightId": right_id,
            "rightKindCategory": kind,
            "applicationNumberText": number,
            "filingDate": self._date(2024, 2026),
            "ownerBag": [{"name": owner[0], "countryCode": owner[1]}],
            "legalStatus": {"stateCode": "A", "stageCode": 1, "keyEventCode": "A10"},
        }
        title = f"Experiment {kind} {serial}"
        right[
            {"patent": "inventionTitle", "trademark": "markVerbalElementText", "design": "designTitle"}[kind]
        ] = title
        state = _Right(right_id, office, kind, 1, owner, confidential, index)
        if international:
            self._registrations.append(state)
            return Operation(
                index, "registration", office, right_id, None, {"right": right, "confidential": False}
            )
        self._rights.append(state)
        (self._sealed if confidential else self._public).append(state)
        op_kind = "confidentialFiling" if confidential else "registration"
        body: dict[str, Any] = {"right": right, "confidential": confidential}
        if self.config.mode == "anchors" and not confidential:
            body["st96"] = self._st96(kind, office, number, right["filingDate"], title, owner)
        return Operation(index, op_kind, office, right_id, None, body)

    def _st96(
        self, kind: str, office: str, number: str, filed: str, title: str, owner: tuple[str, str]
    ) -> str:
        """The right as the ST.96 XML an office would import (the demo's V6_0 templates)."""
        template = {"patent": PATENT, "trademark": TRADEMARK, "design": DESIGN}[kind]
        classification = {"patent": "A47J 42/06", "trademark": "9", "design": "07"}[kind]
        return template.substitute(
            office=office,
            number=number,
            publication=number[-7:],
            registration=f"R{number}",
            filed=filed,
            published=self._date(2026, 2026),
            classification=classification,
            title=escape(title),
            owner=escape(owner[0]),
            street="1 Main Street",
            city="Geneva",
            country=owner[1],
        )

    def _designate(self, index: int) -> Operation:
        """Designates an office not yet designated on an international registration (a new registration
        first when there is none left to designate on)."""
        open_ = [r for r in self._registrations if len(r.designated) < len(self._national)]
        if not open_:
            return self._register(index, confidential=False, office=INTERNATIONAL_BUREAU)
        registration = self._rng.choice(open_)
        office = self._rng.choice([o for o in self._national if o not in registration.designated])
        registration.designated.append(office)
        designation = {
            "designatedOfficeCode": office,
            "designationCategory": "original" if registration.version == 1 else "subsequent",
            "designationDate": self._date(2025, 2026),
        }
        op = self._change(index, registration, "designation", {"designation": designation}, office)
        self._designations.append(
            _Designation(designation_id(registration.right_id, office), office, 0, index)
        )
        return op

    def _decide(self, index: int, designation: _Designation) -> Operation:
        """The designated office's next decision on its designation (the last one repeats: a grant may be
        stated again after a review)."""
        category, scope, state, stage, key_event = DECISIONS[min(designation.version, len(DECISIONS) - 1)]
        madrid = ":TM:" in designation.designation_id
        decision: dict[str, Any] = {
            "decisionCategory": category,
            "decisionDate": self._date(2025, 2026),
            "standard": "ST.61" if madrid else "ST.87",
            "status": {"stateCode": state, "stageCode": stage, "keyEventCode": key_event},
        }
        if scope is not None:
            decision["scopeCategory"] = scope
        if category == "finalDecision":  # after the partial refusal: protection granted in whole
            decision["protectionCategory"] = "protected"
        if scope == "partial":
            decision["classificationBag"] = ["Nice 09"] if madrid else ["Locarno 07-01"]
        body = {"expectedVersion": designation.version, "decision": decision}
        op = Operation(index, "decision", designation.office, designation.designation_id, designation.version,
                       body, designation.last_op, category)  # fmt: skip
        designation.version += 1
        designation.last_op = index
        return op

    def _change(
        self, index: int, right: _Right, kind: str, body: dict[str, Any], detail: str, conflict: bool = False
    ) -> Operation:
        """The change naming the right's current version, which it advances; a conflict names the version
        before it and advances nothing, so the changes after it still chain on the real ones."""
        expected = right.version - 1 if conflict else right.version
        body = {"expectedVersion": expected, **body}
        op = Operation(
            index, kind, right.office, right.right_id, expected, body, right.last_op, detail, conflict
        )
        if not conflict:
            right.version += 1
            right.last_op = index
        return op

    def _transfer(self, index: int, right: _Right, conflict: bool = False) -> Operation:
        category = self._rng.choices(self._conveyances, self._conveyance_weights)[0]
        assignee = self._rng.choice([o for o in OWNERS if o != right.owner])
        change = {
            "conveyanceCategory": category,
            "transferCategory": "full",
            "assignorBag": [{"name": right.owner[0], "executionDate": self._date(2025, 2025)}],
            "assigneeBag": [{"name": assignee[0], "countryCode": assignee[1]}],
            "effectiveDate": self._date(2025, 2025),
            "recordalDate": self._date(2026, 2026),
            "officeRecordIdentifier": f"{right.office}-R{index:07d}",
            "rightIdBag": [right.right_id],
            "evidenceDocumentHash": hashlib.sha256(f"deed {index} {right.right_id}".encode()).hexdigest(),
        }
        if category in ("assignment", "merger", "nameChange") and not conflict:
            right.owner = assignee
        return self._change(index, right, "ownershipChange", {"change": change}, category, conflict)

    def _status(self, index: int, right: _Right, conflict: bool = False) -> Operation:
        state, stage, key_event, meaning = self._rng.choice(STATUS_EVENTS)
        event = {
            "standard": STANDARDS[right.kind],
            "status": {"stateCode": state, "stageCode": stage, "keyEventCode": key_event},
            "previousStageCode": 1,
            "eventDate": self._date(2025, 2026),
            "effectiveDate": self._date(2025, 2026),
            "freeText": meaning,
        }
        return self._change(index, right, "statusEvent", {"event": event}, key_event, conflict)

    def _date(self, first: int, last: int) -> str:
        rng = self._rng
        return f"{rng.randrange(first, last + 1)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
