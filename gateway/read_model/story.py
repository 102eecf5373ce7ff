"""What happened at each version of a right, in one sentence an auditor reads: "Assignment from Lumière
Énergie SA to Thames Optics Ltd, effective 2023-10-16, recorded 2023-11-02 by GB".

Pure functions over a history item as the query API gives it (gateway/read_model/queries.py). The parties,
the recordal date and the free text come from the version's published record, once enrichment has fetched
it and found it hashes to the record hash on chain; a confidential version, or one not fetched yet, is told
with what the chain shows alone (the conveyance category and effective date, the status code and its date).

An international registration's designations are told from both sides: "Designated KR (original designation
of 2024-03-01), recorded by WO" in the registration's history, and each decision of the designated office in
the designation's ("Provisionally refused in KR for Nice class 09, on 2024-06-10"), which the designations of
a registration are summed up by.
"""

from __future__ import annotations

from typing import Any

from registry_node.protocol.legal_status import status_words

CONVEYANCES = {
    "assignment": "Assignment",
    "merger": "Merger",
    "nameChange": "Change of name",
    "licence": "Licence",
    "securityInterest": "Security interest",
    "securityRelease": "Release of a security interest",
    "courtOrder": "Transfer by court order",
    "correction": "Correction of an earlier recordal",
    "governmentInterest": "Government interest",
    "other": "Other conveyance",
}

# How each conveyance names its two sides: "from A to B", "of A into B", "granted by A to B".
PARTY_WORDS = {
    "merger": ("of", "into"),
    "nameChange": ("from", "to"),
    "securityInterest": ("granted by", "to"),
    "securityRelease": ("by", "to"),
    "licence": ("granted by", "to"),
}


def names(parties: list[dict[str, Any]] | None) -> str | None:
    """ "A", "A and B", "A, B and C"; None for no parties."""
    named = [str(p["name"]) for p in parties or [] if p.get("name")]
    if not named:
        return None
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def summary(item: dict[str, Any], kind: str | None = None) -> str:
    """The sentence for one history item (its `action`, `officeCode`, `conveyance`, `statusEvent`)."""
    office = item["officeCode"]
    action = item["action"]
    if action == "registration":
        if item.get("confidential"):
            return f"Filed with {office} as a confidential application: only a seal of its record is on chain"
        return f"Registered by {office}"
    if action == "publication":
        return f"Published by {office}: the confidential application's record is now public"
    if action == "ownershipChange":
        return _ownership_change(item.get("conveyance") or {}, office)
    if action == "legalStatusEvent":
        return _status_event(item.get("statusEvent") or {}, office, kind)
    if action == "designation":
        return _designation(item.get("designation") or {}, office)
    return f"{action} by {office}"


def _designation(designation: dict[str, Any], office: str) -> str:
    """ "Designated KR (subsequent designation of 2024-03-01), recorded by WO"."""
    words = f"Designated {designation.get('designatedOfficeCode') or 'an office'}"
    date = designation.get("designationDate")
    category = designation.get("designationCategory")
    if category or date:
        words += f" ({category or 'a'} designation" + (f" of {date})" if date else ")")
    return f"{words}, recorded by {office}"


# What a decision's classes are numbered by: Madrid marks by the Nice classes, Hague designs by Locarno's.
CLASSIFICATIONS = {"trademark": "Nice", "design": "Locarno"}


def decision(decision: dict[str, Any] | None, office: str, kind: str | None, status_code: str | None) -> str:
    """A designated office's decision in one sentence: "Protected in GB since 2024-05-02", "Provisionally
    refused in KR for Nice class 09, on 2024-06-10". `decision` None: its record is not fetched yet, so the
    status on chain tells it."""
    if not decision:
        status = status_words(str(status_code or ""), kind)
        said = status.to_json()["text"] if status is not None else (status_code or "no status")
        return f"Decision recorded by {office}: {said}"
    category = str(decision.get("decisionCategory"))
    date = decision.get("decisionDate")
    on = f", on {date}" if date else ""
    scope = _scope(decision, kind)
    state = str((decision.get("status") or {}).get("stateCode") or "")
    if category == "grantOfProtection":
        return f"Protected in {office}{' ' + scope if scope else ''}" + (f" since {date}" if date else "")
    if category == "provisionalRefusal":
        return f"Provisionally refused in {office} {scope or 'in whole'}{on}"
    if category == "invalidation":
        return f"Invalidated in {office} {scope or 'in whole'}{on}"
    if category == "finalDecision":
        classes = scope.removeprefix("for ")
        if decision.get("protectionCategory") == "protected":
            outcome = f"protected only {scope}" if scope else "protected"
        else:
            outcome = f"protected except {classes}" if scope and state == "A" else "refused"
        return f"Final decision in {office}" + (f" of {date}" if date else "") + f": {outcome}"
    return f"Decision ({category}) recorded by {office}{on}"


def _scope(decision: dict[str, Any], kind: str | None) -> str:
    """ "for Nice class 09", "for Nice classes 09 and 25", "in part" (goods named in words), or "" for a
    decision on the whole registration."""
    if decision.get("scopeCategory") != "partial":
        return ""
    classes = [str(c) for c in decision.get("classificationBag") or []]
    if not classes:
        return "in part"
    system = CLASSIFICATIONS.get(kind or "", "")
    if system and all(c.startswith(f"{system} ") for c in classes):  # as the records write them: "Nice 09"
        classes = [c.removeprefix(f"{system} ") for c in classes]
    listed = classes[0] if len(classes) == 1 else ", ".join(classes[:-1]) + " and " + classes[-1]
    return f"for {system + ' ' if system else ''}class{'es' if len(classes) > 1 else ''} {listed}"


def _ownership_change(conveyance: dict[str, Any], office: str) -> str:
    category = str(conveyance.get("conveyanceCategory", "other"))
    words = CONVEYANCES.get(category, f"Conveyance ({category})")
    if conveyance.get("transferCategory") == "partial":
        words += " (partial)"
    assignors, assignees = names(conveyance.get("assignorBag")), names(conveyance.get("assigneeBag"))
    if assignors and assignees:
        before, after = PARTY_WORDS.get(category, ("from", "to"))
        words += f" {before} {assignors} {after} {assignees}"
    if conveyance.get("effectiveDate"):
        words += f", effective {conveyance['effectiveDate']}"
    recorded = f", recorded {conveyance['recordalDate']}" if conveyance.get("recordalDate") else ", recorded"
    return f"{words}{recorded} by {office}"


def _status_event(event: dict[str, Any], office: str, kind: str | None) -> str:
    """ "Lapsed (H13, cessation of the right): terminated, stage terminated, effective 2024-05-01, recorded
    by KR"."""
    status = status_words(str(event.get("statusCode") or ""), kind)
    if status is None:
        words = "Legal status event"
    else:
        state = status.to_json()
        key = state["keyEvent"]
        if key is None:
            words = "Legal status changed"
        elif key["name"]:
            words = f"{key['name'][0].upper()}{key['name'][1:]} ({key['code']}, {key['categoryName']})"
        else:
            words = f"{key['categoryName'][0].upper()}{key['categoryName'][1:]} ({key['code']})"
        words += f": {state['state']['name']}, stage {state['stage']['name']}"
    if event.get("correctsVersion"):
        words = f"Correction of version {event['correctsVersion']}: {words[0].lower()}{words[1:]}"
    if event.get("effectiveDate"):
        words += f", effective {event['effectiveDate']}"
    return f"{words}, recorded by {office}"
