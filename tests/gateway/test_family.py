"""A right's family through the gateway, on a real chain: links stated by any office's records (priority
claims by right id or by number alone, an application outside the registry), read from both sides and
followed a bounded number of links away; an international registration's designations as its members."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from gateway.read_model.indexer import Indexer
from gateway.read_model.queries import FAMILY_DEPTH, Index
from registry_node.protocol.records import chain_right_id
from tests.gateway.conftest import DATABASES, IR, InternationalWorld, index_to_the_head
from tests.support.records import GRANTED_OWNER, granted_patent

MakeIndexer = Callable[..., Indexer]
OWNER = [{"name": GRANTED_OWNER, "countryCode": "DE"}]


def family(world: InternationalWorld, right_id: str) -> dict[str, dict[str, Any]]:
    answer = world.client.get(f"/v1/rights/{right_id}/family")
    assert answer.status_code == 200, answer.text
    return {m["rightId"] or f"{m['officeCode']} {m['applicationNumber']}": m for m in answer.json()["items"]}


def test_an_ep_patent_claiming_a_gb_priority_finds_it_and_the_gb_patent_finds_the_ep_one(
    international: InternationalWorld,
) -> None:
    from_ep = family(international, "EP:PAT:EP3000001")["GB:PAT:GB2000001"]
    assert (from_ep["relation"], from_ep["depth"], from_ep["officeCode"]) == ("priorityClaim", 1, "GB")
    assert (from_ep["applicationNumber"], from_ep["filingDate"]) == ("GB2000001", "2019-03-01")
    assert from_ep["owners"] == OWNER and from_ep["statusCode"] == "A4F10" and from_ep["inRegistry"]
    assert from_ep["verification"]["verdict"] == "authentic-current"
    assert from_ep["verification"]["rightId"] == "GB:PAT:GB2000001"

    from_gb = family(international, "GB:PAT:GB2000001")["EP:PAT:EP3000001"]
    assert (from_gb["relation"], from_gb["depth"], from_gb["officeCode"]) == ("priorityOf", 1, "EP")
    assert from_gb["owners"] == OWNER and from_gb["verification"]["verdict"] == "authentic-current"


def test_a_priority_claimed_by_number_alone_resolves_to_the_right_in_the_registry(
    international: InternationalWorld,
) -> None:
    from_kr = family(international, "KR:PAT:KR4000001")["GB:PAT:GB2000001"]
    assert from_kr["relation"] == "priorityClaim" and from_kr["inRegistry"]
    assert family(international, "GB:PAT:GB2000001")["KR:PAT:KR4000001"]["relation"] == "priorityOf"


def test_members_further_away_are_reached_through_the_member_that_links_them(
    international: InternationalWorld,
) -> None:
    sibling = family(international, "EP:PAT:EP3000001")["KR:PAT:KR4000001"]
    assert (sibling["relation"], sibling["depth"], sibling["via"]) == ("priorityOf", 2, "GB:PAT:GB2000001")
    assert sibling["verification"]["verdict"] == "authentic-current"


def test_an_application_outside_the_registry_is_named_by_its_office_and_number(
    international: InternationalWorld,
) -> None:
    members = family(international, "EP:PAT:EP3000002")
    outside = members["US 16/123,456"]
    assert (outside["relation"], outside["inRegistry"], outside["rightId"]) == ("priorityClaim", False, None)
    assert outside["verification"] is None and outside["owners"] is None


def test_a_registration_s_family_holds_its_designations_with_its_owner(
    international: InternationalWorld,
) -> None:
    members = family(international, IR)
    assert {m["officeCode"]: m["relation"] for m in members.values()} == {
        "EM": "designation", "GB": "designation", "KR": "designation",
    }  # fmt: skip
    owners = [{"name": "Aurora Brands SA", "countryCode": "CH"}]
    assert all(m["owners"] == owners for m in members.values())
    assert members[f"{IR}@EM"]["decided"] is False and members[f"{IR}@KR"]["statusCode"] == "A4F10"
    assert {m["verification"]["verdict"] for m in members.values()} == {"authentic-current"}

    from_designation = family(international, f"{IR}@GB")
    assert from_designation[IR]["relation"] == "internationalRegistration"
    assert from_designation[f"{IR}@KR"]["via"] == IR and from_designation[f"{IR}@KR"]["depth"] == 2


def test_a_family_is_followed_no_further_than_its_bound(international: InternationalWorld) -> None:
    """A chain of divisionals, each of the one before: only FAMILY_DEPTH links from the first are followed."""
    node = international.registry.nodes["GB"]
    numbers = [f"GB50000{i:02d}" for i in range(FAMILY_DEPTH + 2)]
    for parent, child in itertools.pairwise(numbers):
        link = {"relationCategory": "parentOfDivisional", "ipOfficeCode": "GB",
                "applicationNumberText": parent, "rightId": f"GB:PAT:{parent}"}  # fmt: skip
        node.office.register(granted_patent(f"GB:PAT:{child}", familyLinkBag=[link]))
    node.office.register(granted_patent(f"GB:PAT:{numbers[0]}"))
    international.catch_up()
    members = family(international, f"GB:PAT:{numbers[0]}")
    assert sorted(members) == [f"GB:PAT:{n}" for n in numbers[1 : FAMILY_DEPTH + 1]]
    assert [m["depth"] for m in members.values()] == list(range(1, FAMILY_DEPTH + 1))
    assert {m["relation"] for m in members.values()} == {"divisional"}


def test_a_right_without_links_has_an_empty_family_and_an_unknown_one_is_not_found(
    international: InternationalWorld,
) -> None:
    right = granted_patent("EP:PAT:EP3000009")
    international.registry.nodes["EP"].office.register(right)
    international.catch_up()
    assert international.client.get("/v1/rights/EP:PAT:EP3000009/family").json()["items"] == []
    for path, status in (("/v1/rights/EP:PAT:EP9999999/family", 404), ("/v1/rights/EP%3APAT/family", 400)):
        answer = international.client.get(path)
        assert answer.status_code == status, answer.text
        assert answer.json()["errors"][0]["field"] == "rightId"


@pytest.mark.parametrize("database_url", DATABASES, indirect=True)
def test_the_read_model_resolves_family_links_both_ways(
    international: InternationalWorld, database_url: str, make_indexer: MakeIndexer
) -> None:
    indexer = make_indexer(international.registry, database_url)
    index_to_the_head(indexer)
    index = Index(indexer.engine)
    from_gb = {
        m["rightId"]: m["relation"] for m in index.family("0x" + chain_right_id("GB:PAT:GB2000001").hex())
    }
    assert from_gb["EP:PAT:EP3000001"] == from_gb["KR:PAT:KR4000001"] == "priorityOf"
    from_ep = {m["rightId"]: m for m in index.family("0x" + chain_right_id("EP:PAT:EP3000001").hex())}
    assert from_ep["GB:PAT:GB2000001"]["relation"] == "priorityClaim"
    assert from_ep["KR:PAT:KR4000001"]["depth"] == 2
