"""A legal-status code in words: WIPO ST.27 for patents and utility models, ST.61 for trademarks and ST.87
for designs, which share its shape (a state, a stage and a key event).

The chain keeps five characters (`T6H13`: state T, stage 6, key event H13). An auditor cannot read those by
heart, so every party that shows a status (the gateway, the page, `ipreg verify`) words it from these tables.

Sources: the state and stage names are ST.96 V6_0's StateCodeType and StageCodeType; the category names are
ST.27 Annex I's categories of key events; the `x10` names are ST.96 V6_0's KeyEventCodeType (for example
"A10 Application filed"); the more specific key events are those ST.27 lists and the registry's records use
(H13 lapse, R14 transfer of ownership, S20 security interest recorded, ...). A code these tables do not name
still reads by its category.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

STATES = {"A": "active", "N": "not active", "T": "terminated", "U": "unspecified"}

STAGES = {
    0: "unspecified",
    1: "filing",
    2: "examination",
    3: "pre-grant challenge",
    4: "grant",
    5: "post-grant challenge",
    6: "terminated",
}

CATEGORIES = {
    "A": "filing of an application",
    "B": "discontinuation of an application",
    "C": "revival of an application",
    "D": "search and examination",
    "E": "pre-grant review",
    "F": "grant",
    "G": "protection beyond the term",
    "H": "cessation of the right",
    "K": "revival of the right",
    "L": "review of the right",
    "M": "maintenance of the right",
    "N": "termination",
    "P": "document modification",
    "Q": "publication",
    "R": "party data change",
    "S": "licensing",
    "T": "administrative adjustment",
    "U": "payment",
    "V": "appeal",
    "W": "other event",
    "Y": "correction or deletion of an earlier event",
}

KEY_EVENTS = {
    "A10": "application filed",
    "B10": "application discontinued",
    "C10": "application revived",
    "D10": "search or examination requested or commenced",
    "E10": "pre-grant review requested",
    "F10": "right granted",
    "G10": "protection beyond the term granted",
    "H10": "right ceased",
    "H13": "lapsed",
    "H14": "expired",
    "H15": "surrendered",
    "K10": "right revived",
    "L10": "review of the right requested",
    "M10": "right maintained",
    "N10": "application or right terminated",
    "P10": "document modified",
    "Q10": "document published",
    "R10": "party data change recorded",
    "R12": "change of owner or name recorded",
    "R13": "change of name recorded",
    "R14": "transfer of ownership recorded",
    "S10": "licensing information recorded",
    "S11": "licence recorded",
    "S20": "security interest recorded",
    "S22": "licence or security interest cancelled",
    "S23": "compulsory licence recorded",
    "T10": "administrative procedure adjusted",
    "U10": "fee paid",
    "V10": "appeal requested",
    "W10": "other event occurred",
    "Y10": "event corrected or deleted",
}

STANDARD_OF_KIND = {"patent": "ST.27", "utilityModel": "ST.27", "trademark": "ST.61", "design": "ST.87"}

STATUS_CODE = re.compile(r"^(?P<state>[ANTU])(?P<stage>[0-6])(?P<event>[A-Z][0-9]{2})?$")


@dataclass(frozen=True)
class StatusWords:
    code: str
    standard: str
    state: str
    stage: int
    key_event: str | None

    @property
    def text(self) -> str:
        """ "Terminated (stage: terminated), key event H13: cessation of the right, lapsed"."""
        words = f"{STATES[self.state].capitalize()} (stage: {STAGES[self.stage]})"
        if self.key_event is None:
            return words
        category = self.key_event[0]
        named = KEY_EVENTS.get(self.key_event)
        event = CATEGORIES.get(category, f"category {category}") + (f", {named}" if named else "")
        return f"{words}, key event {self.key_event}: {event}"

    def to_json(self) -> dict[str, Any]:
        event = None
        if self.key_event is not None:
            category = self.key_event[0]
            event = {
                "code": self.key_event,
                "category": category,
                "categoryName": CATEGORIES.get(category, f"category {category}"),
                "name": KEY_EVENTS.get(self.key_event),
            }
        return {
            "code": self.code,
            "standard": self.standard,
            "state": {"code": self.state, "name": STATES[self.state]},
            "stage": {"code": self.stage, "name": STAGES[self.stage]},
            "keyEvent": event,
            "text": self.text,
        }


def status_words(code: str, kind: str | None = None) -> StatusWords | None:
    """The status `code` (`A4F10`, `T6`) in words, under the standard of the right's `kind`; None for a
    code that is not one (an empty code, or a newer contract's)."""
    match = STATUS_CODE.match(code or "")
    if match is None:
        return None
    return StatusWords(
        code=code,
        standard=STANDARD_OF_KIND.get(kind or "", "ST.27"),
        state=match["state"],
        stage=int(match["stage"]),
        key_event=match["event"],
    )
