"""Parameters shared by the query routes, checked before any handler runs (a bad one is a 400 problem
naming it)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Query

from registry_node.protocol.http.problems import ApiError
from registry_node.protocol.records import RIGHT_ID, chain_right_id

CHAIN_ID = re.compile(r"^0x[0-9a-fA-F]{64}\Z")
SHA256 = re.compile(r"^[0-9a-f]{64}\Z")


class InvalidParameter(ApiError):
    slug = "invalid-parameter"
    title = "Invalid parameter"


class NotFound(ApiError):
    status = 404
    slug = "not-found"
    title = "Not found"


@dataclass(frozen=True)
class RightRef:
    """A right as a request named it: its chain id, and the string id when the request gave one."""

    chain_id: str
    right_id: str | None


def parse_right_ref(value: str) -> RightRef:
    """`EP:PAT:EP20190012345`, a designation `WO:TM:1234567@GB`, or the 0x-prefixed keccak256 of such an id;
    anything else is refused, including a path that walks (`.` or `..` segments, empty segments)."""
    if CHAIN_ID.match(value):
        return RightRef(value.lower(), None)
    segments = value.split("/")
    if any(segment in ("", ".", "..") for segment in segments[1:]) or not RIGHT_ID.match(value):
        raise InvalidParameter(
            "rightId",
            "must be OFFICE:TYPE:APPLICATION_NUMBER (e.g. EP:PAT:EP20190012345, a `/` sent as %2F), a "
            "designation of an international registration (WO:TM:1234567@GB) or the 0x-prefixed 64-hex "
            "chain id",
        )
    return RightRef("0x" + chain_right_id(value).hex(), value)


async def right_ref(
    right_id: Annotated[
        str,
        Path(
            alias="rightId",
            description="`{office}:{PAT|UM|TM|DES|GI}:{application number}` (a `/` sent as %2F), a "
            "designation `WO:TM:{number}@{office}`, or the 0x-prefixed chain id (keccak256 of that string).",
        ),
    ],
) -> RightRef:
    return parse_right_ref(right_id)


RightRefDep = Annotated[RightRef, Depends(right_ref)]

RightIdPath = Annotated[
    str, Path(alias="rightId", description="`EP:PAT:…`, a designation `WO:TM:…@GB`, or the 0x chain id.")
]
"""The right a verification or a receipt is of, as the path names it; the verifier reads and checks it."""

StatedBlockQuery = Annotated[
    int | None, Query(ge=0, description="The stated block; default head less confirmations.")
]
"""The block an answer is stated at (`?block=`)."""


def check_limit(limit: int | None, maximum: int, default: int = 50) -> int:
    if limit is None:
        return min(default, maximum)
    if not 1 <= limit <= maximum:
        raise InvalidParameter("limit", f"must be 1 to {maximum}, got {limit}")
    return limit
