"""A geographical indication (ST.96 GIApplication, the fifth right kind) through the gateway: indexed from
its office's record with its name, product and area, filtered by its kind, verified like any right."""

from __future__ import annotations

from tests.gateway.conftest import GEOGRAPHICAL_INDICATION, InternationalWorld

GI = GEOGRAPHICAL_INDICATION.rightId


def test_a_geographical_indication_shows_its_name_product_and_area(international: InternationalWorld) -> None:
    right = international.client.get(f"/v1/rights/{GI}").json()
    assert (right["kind"], right["officeCode"], right["title"]) == (
        "geographicalIndication", "KR", "Boseong Green Tea",
    )  # fmt: skip
    assert right["geographicalIndication"] == {
        "name": "Boseong Green Tea",
        "product": "Green tea",
        "area": "Boseong County, South Jeolla Province",
    }
    assert right["owners"] == [{"name": "Boseong Green Tea Producers' Association", "countryCode": "KR"}]


def test_geographical_indications_are_a_kind_to_filter_by_and_are_verified(
    international: InternationalWorld,
) -> None:
    page = international.client.get("/v1/rights?kind=geographicalIndication").json()
    assert [item["rightId"] for item in page["items"]] == [GI]
    verdict = international.client.get(f"/v1/rights/{GI}/verification").json()
    assert verdict["verdict"] == "authentic-current" and verdict["rightId"] == GI
