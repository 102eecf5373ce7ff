"""Path parameters shared by the routes, validated before any handler runs (a bad one is a 400 problem)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Path

from registry_node.node.api.models import MAX_VERSION
from registry_node.protocol.records import RIGHT_ID

# Routes declare `RIGHT_ID_SEGMENT` (registry_node.protocol.http.path_convertors): an application number
# may hold a `/` (sent as %2F), and an id with any other character must still reach this validator.
RightIdPath = Annotated[
    str,
    Path(
        alias="rightId",
        title="rightId",
        # no group names, and $ rather than Python's \Z: ECMA-262 tools and pydantic's Rust regex read it
        pattern=re.sub(r"\?P<\w+>", "", RIGHT_ID.pattern).replace("\\Z", "$"),
        description="`{ST.3 office}:{PAT|UM|TM|DES}:{application number}`, e.g. `EP:PAT:EP20190012345`.",
    ),
]
VersionPath = Annotated[int, Path(ge=1, le=MAX_VERSION, description="The right's version, from 1.")]
RootPath = Annotated[
    str,
    Path(
        alias="root",
        title="root",
        pattern=r"^(0x)?[0-9a-f]{64}$",
        description="An anchored Merkle root: 64 lower-case hex digits, with or without `0x`.",
    ),
]
