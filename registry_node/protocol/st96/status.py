"""Legal status, from what the bibliographic data says (ST.27 codes; trademarks and designs use the same
shape for ST.61 and ST.87). Each kind's mapper applies its rows of this table; the first rule that applies
wins:

| kind | evidence | state | stage | key event |
| --- | --- | --- | --- | --- |
| patent | pat:PatentRevocationDate | N | 6 | H10 ceased |
| patent | pat:ApplicationWithdrawnDate or pat:ApplicationDeemedWithdrawnDate | N | 6 | B10 discontinued |
| patent | pat:PatentGrantIdentification, or ST.16 kind code B* (grant publication) | A | 4 | F10 granted |
| patent | kind code A* (application publication) | A | 1 | Q10 published |
| trademark | tmk:MarkCurrentStatusCode: see `TRADEMARK_STATUS` | | | |
| trademark | tmk:TerminationDate | N | 6 | H10 if registered, else B10 |
| design | dgn:DesignCurrentStatusCategory, else the application's: see `DESIGN_STATUS` | | | |
| trademark, design | com:RegistrationNumber or com:RegistrationDate | A | 4 | F10 granted |
| trademark, design | com:ApplicationDate | A | 1 | A10 filed |
| any | nothing of the above (e.g. kind codes C, E, U, S) | U | 0 | none |

An application publication is put at stage 1 (filing): it shows that the application was filed and
published, not that examination began. Withdrawn, refused, revoked or cancelled rights are N (not active),
not T: the document cannot tell whether revival or appeal is still possible.
"""

from __future__ import annotations

from typing import Final

from registry_node.protocol.records import LegalStatus


def _status(state: str, stage: int, key_event: str | None) -> LegalStatus:
    return LegalStatus.model_validate({"stateCode": state, "stageCode": stage, "keyEventCode": key_event})


FILED: Final = _status("A", 1, "A10")
APPLICATION_PUBLISHED: Final = _status("A", 1, "Q10")
GRANTED: Final = _status("A", 4, "F10")
DISCONTINUED: Final = _status("N", 6, "B10")
CEASED: Final = _status("N", 6, "H10")
UNKNOWN: Final = _status("U", 0, None)

# tmk:MarkCurrentStatusCategoryType values (compared case-insensitively); other office codes fall through.
TRADEMARK_STATUS: Final = {
    "application filed": FILED,
    "filing date accorded": FILED,
    "classification checked": FILED,
    "application accepted": _status("A", 2, "D10"),
    "application published": _status("A", 2, "Q10"),
    "opposition pending": _status("A", 3, "E10"),
    "registration published": GRANTED,
    "appeal pending": _status("A", 0, "V10"),
    "interruption of proceeding": _status("A", 0, "T10"),
    "revocation proceeding pending": _status("A", 5, "L10"),
    "invalidity proceeding pending": _status("A", 5, "L10"),
    "action before court of justice pending": _status("A", 5, "L10"),
    "application refused": DISCONTINUED,
    "application withdrawn": DISCONTINUED,
    "registration cancelled": CEASED,
    "registration surrendered": CEASED,
    "conversion requested": _status("N", 6, "W10"),
}
# dgn:DesignCurrentStatusCategoryType and dgn:DesignApplicationCurrentStatusCategoryType values.
DESIGN_STATUS: Final = {
    "filed": FILED,
    "registered": GRANTED,
    "withdrawn": DISCONTINUED,
    "rejected": DISCONTINUED,
    "cancelled": CEASED,
    "expired": CEASED,
    "undefined": UNKNOWN,
}


def by_registration(registered: bool, filing_date: str | None) -> LegalStatus:
    """The table's last three rows, for a trademark or design that no earlier row decided."""
    if registered:
        return GRANTED
    return FILED if filing_date else UNKNOWN
