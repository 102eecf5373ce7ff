"""Legal status, from what the bibliographic data says (ST.27 codes; trademarks and designs use the same
shape for ST.61 and ST.87, geographical indications too). Each kind's mapper applies its rows of this table;
the first rule that applies wins:

| kind | evidence | state | stage | key event |
| --- | --- | --- | --- | --- |
| patent | pat:PatentRevocationDate | N | 6 | H10 ceased |
| patent | pat:ApplicationWithdrawnDate or pat:ApplicationDeemedWithdrawnDate | N | 6 | B10 discontinued |
| patent | pat:PatentGrantIdentification, or ST.16 kind code B* (grant publication) | A | 4 | F10 granted |
| patent | kind code A* (application publication) | A | 1 | Q10 published |
| trademark | tmk:MarkCurrentStatusCode: see `TRADEMARK_STATUS` | | | |
| trademark | tmk:TerminationDate | N | 6 | H10 if registered, else B10 |
| design | dgn:DesignCurrentStatusCategory, else the application's: see `DESIGN_STATUS` | | | |
| GI | gin:GIStatusCategory: see `GI_STATUS` | | | |
| GI | gin:WithdrawalDate | N | 6 | B10 discontinued |
| trademark, design, GI | com:RegistrationNumber or com:RegistrationDate | A | 4 | F10 granted |
| trademark, design, GI | com:ApplicationDate | A | 1 | A10 filed |
| international registration | recorded by the International Bureau (Madrid, Hague) | A | 4 | F10 granted |
| any | nothing of the above (e.g. kind codes C, E, U, S) | U | 0 | none |

An application publication is put at stage 1 (filing): it shows that the application was filed and
published, not that examination began. Withdrawn, refused, revoked or cancelled rights are N (not active),
not T: the document cannot tell whether revival or appeal is still possible.

A designated office's decision on its designation of an international registration (Madrid: ST.61, Hague:
ST.87; `decision_status`). One table for both systems, since their decisions mean the same:

| decision | scope | state | stage | key event | previous stage |
| --- | --- | --- | --- | --- | --- |
| provisional refusal | total or partial | A | 2 | D10 examination | 1 |
| grant of protection (statement of grant) | any | A | 4 | F10 granted | 0 |
| final decision confirming the refusal | total | N | 6 | B10 discontinued | 2 |
| final decision confirming the refusal | partial | A | 4 | F10 granted | 2 |
| final decision granting protection (refusal withdrawn) | any | A | 4 | F10 granted | 2 |
| invalidation | total | T | 6 | H10 ceased | 4 |
| invalidation | partial | A | 4 | H10 ceased | 4 |

A provisional refusal leaves the designation active in examination: the holder may answer it. A confirmed
total refusal is N, not T, as above: a further decision (review, appeal) may still follow it. An
invalidation is T: an office notifies it only once it is no longer subject to appeal (Madrid rule 19, Hague
rule 20). A partial refusal or invalidation leaves the designation in force for the rest of the goods or
designs; H10 then records what ceased, the state what remains. The previous stage is what the decision
itself implies (a final decision follows a provisional refusal, an invalidation a protection); a statement
of grant may or may not follow a refusal, so its previous stage is 0, unspecified.
"""

from __future__ import annotations

from typing import Final

from registry_node.protocol.records import DecisionCategory, LegalStatus


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


# gin:GIStatusCategoryType values.
GI_STATUS: Final = {
    "filing": FILED,
    "published": _status("A", 2, "Q10"),
    "registered": GRANTED,
    "ended": CEASED,
}

_EXAMINED: Final = _status("A", 2, "D10")
_INVALIDATED: Final = _status("T", 6, "H10")
_PARTLY_INVALIDATED: Final = _status("A", 4, "H10")


def decision_status(
    category: DecisionCategory, scope: str | None, refused: bool = False
) -> tuple[LegalStatus, int]:
    """The status a designated office's decision gives its designation, and the stage before it (the table
    in the module docstring); `refused` says whether a final decision confirms the refusal."""
    if category is DecisionCategory.PROVISIONAL_REFUSAL:
        return _EXAMINED, 1
    if category is DecisionCategory.GRANT_OF_PROTECTION:
        return GRANTED, 0
    if category is DecisionCategory.FINAL_DECISION:
        return (DISCONTINUED if refused and scope == "total" else GRANTED), 2
    return (_INVALIDATED if scope == "total" else _PARTLY_INVALIDATED), 4


def by_registration(registered: bool, filing_date: str | None) -> LegalStatus:
    """The table's last three rows, for a trademark, design or GI that no earlier row decided."""
    if registered:
        return GRANTED
    return FILED if filing_date else UNKNOWN
