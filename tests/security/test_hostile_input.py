"""Hostile input at both HTTP servers: path traversal in every id parameter, invalid UTF-8, XML attacks and
oversize uploads. Each is a clear 4xx problem+json (or, for an upload to verify, a verdict), never a 5xx,
and quick."""

from __future__ import annotations

import pytest

from tests.security.test_access_http import World, headers, world  # noqa: F401  (the shared fixture)

TRAVERSALS = ["..%2F..%2Fetc%2Fpasswd", "EP:PAT:..%2F..%2Fsecret", "EP:PAT:%2e%2e", "%00", "EP:PAT:1%00"]

NODE_ID_ROUTES = [
    "/v1/rights/{id}",
    "/v1/documents/{id}/1",
]
GATEWAY_ID_ROUTES = [
    "/v1/rights/{id}",
    "/v1/rights/{id}/history",
    "/v1/rights/{id}/state?date=2024-01-01",
    "/v1/rights/{id}/verification",
    "/v1/rights/{id}/receipt",
    "/v1/offices/{id}",
    "/v1/anchors/{id}",
    "/v1/documents/{id}",
]

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]><lolz>&lol4;</lolz>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><pat:PatentPublication
 xmlns:pat="http://www.wipo.int/standards/XMLSchema/ST96/Patent">&xxe;</pat:PatentPublication>"""
DEEP = b"<a>" * 100_000 + b"</a>" * 100_000
HUGE_ATTRIBUTE = (
    b'<pat:PatentPublication xmlns:pat="http://www.wipo.int/standards/XMLSchema/ST96/Patent" x="'
    + (b"A" * 3_000_000)
    + b'"/>'
)


def assert_problem(answer: object, statuses: tuple[int, ...] = (400, 404, 422)) -> None:
    status = answer.status_code  # type: ignore[attr-defined]
    assert status in statuses, (status, answer.text)  # type: ignore[attr-defined]
    assert answer.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]


@pytest.mark.parametrize("route", NODE_ID_ROUTES)
@pytest.mark.parametrize("bad_id", TRAVERSALS)
def test_node_refuses_path_traversal_in_ids(world: World, route: str, bad_id: str) -> None:  # noqa: F811
    assert_problem(world.node.get(route.format(id=bad_id), headers=headers("operator")))


@pytest.mark.parametrize("route", GATEWAY_ID_ROUTES)
@pytest.mark.parametrize("bad_id", TRAVERSALS)
def test_gateway_refuses_path_traversal_in_ids(world: World, route: str, bad_id: str) -> None:  # noqa: F811
    assert_problem(world.gateway.get(route.format(id=bad_id)))


def test_invalid_utf8_bodies_are_a_clear_400_at_the_node(world: World) -> None:  # noqa: F811
    body = b'{"right": {"rightId": "EP:PAT:\xff\xfe"}}'
    answer = world.node.post(
        "/v1/rights", content=body, headers={**headers("operator"), "Content-Type": "application/json"}
    )
    assert_problem(answer)


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        ("invalid-utf8.json", b'{"canonical": "\xff\xfe"}'),
        ("laughs.xml", BILLION_LAUGHS),
        ("xxe.xml", EXTERNAL_ENTITY),
        ("deep.xml", DEEP),
        ("attribute.xml", HUGE_ATTRIBUTE),
    ],
    ids=["invalid-utf8", "billion-laughs", "external-entity", "deep-nesting", "huge-attribute"],
)
def test_hostile_uploads_to_verify_get_a_verdict_never_a_5xx(
    world: World,  # noqa: F811
    name: str,
    payload: bytes,
) -> None:
    """How quickly each is refused is a benchmark figure (bench/hostile_input.py), not a wall-clock bound."""
    answer = world.gateway.post("/v1/verifications", files={"file": (name, payload)})
    assert answer.status_code < 500, answer.text
    if answer.status_code == 200:
        assert answer.json()["verdict"] in ("unknown", "tampered")
    else:
        assert answer.headers["content-type"] == "application/problem+json"
    assert b"root:" not in answer.content  # the external entity was never resolved


@pytest.mark.parametrize(
    ("name", "payload"),
    [("laughs.xml", BILLION_LAUGHS), ("xxe.xml", EXTERNAL_ENTITY)],
    ids=["billion-laughs", "external-entity"],
)
def test_hostile_st96_imports_are_refused_per_file(world: World, name: str, payload: bytes) -> None:  # noqa: F811
    import base64

    before = len(world.store.right_ids())
    body = {"files": [{"name": name, "content": base64.b64encode(payload).decode()}]}
    answer = world.node.post("/v1/imports", json=body, headers=headers("operator"))
    assert answer.status_code in (202, 422), answer.text
    if answer.status_code == 202:
        (outcome,) = answer.json()["items"]
        assert outcome["accepted"] is False and outcome["error"]["field"]
    assert len(world.store.right_ids()) == before


def test_oversize_uploads_are_refused_before_being_read_whole(world: World) -> None:  # noqa: F811
    limit = 8 * 1024 * 1024
    big = b"x" * (limit + 1)
    answer = world.gateway.post("/v1/verifications", content=big, headers={"Content-Type": "text/plain"})
    assert answer.status_code == 413 and answer.headers["content-type"] == "application/problem+json"
    node_answer = world.node.post(
        "/v1/imports", content=b"{" + b" " * (2 * 1024 * 1024), headers={**headers("operator"),
                                                                         "Content-Type": "application/json"}
    )  # fmt: skip
    assert node_answer.status_code == 413
