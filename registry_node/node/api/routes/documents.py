"""Public deep links: the signed canonical record of a published version, for anyone to verify.

A confidential version and one that does not exist get the same 404, after the same store lookup, so
neither the wording nor the timing tells them apart.
"""

from __future__ import annotations

import base64
import json
from typing import Annotated

from fastapi import APIRouter, Query, Response

from registry_node.node.anchors import inclusion_proof
from registry_node.node.api.deps import StoreDep
from registry_node.node.api.errors import DocumentNotFound, problem_responses
from registry_node.node.api.models import AnchorProofPublic, DocumentPublic, SignaturePublic
from registry_node.node.api.routes.params import RightIdPath, VersionPath
from registry_node.node.store import Store, StoredVersion
from registry_node.protocol.http.path_convertors import RIGHT_ID_SEGMENT

router = APIRouter(prefix="/v1/documents", tags=["documents"])

# A published version never changes.
IMMUTABLE = "public, max-age=86400, immutable"


@router.get(
    "",
    operation_id="findDocument",
    response_model=DocumentPublic,
    responses=problem_responses(400, 404),
    summary="The signed record of a published version, found by its record hash (public deep link)",
)
def find_document(
    record_hash: Annotated[
        str,
        Query(
            alias="recordHash",
            pattern=r"^[0-9a-f]{64}$",
            description="SHA-256 of the canonical record, lower-case hex, as read on chain.",
        ),
    ],
    store: StoreDep,
    response: Response,
) -> DocumentPublic:
    return _public(store.version_by_hash(bytes.fromhex(record_hash)), store, response)


@router.get(
    f"/{RIGHT_ID_SEGMENT}/{{version}}",
    operation_id="readDocument",
    response_model=DocumentPublic,
    responses=problem_responses(400, 404),
    summary="The signed record of a published version (public deep link)",
)
def read_document(
    right_id: RightIdPath, version: VersionPath, store: StoreDep, response: Response
) -> DocumentPublic:
    return _public(store.version(right_id, version), store, response)


def _public(stored: StoredVersion | None, store: Store, response: Response) -> DocumentPublic:
    if stored is None or not stored.published:
        raise DocumentNotFound()
    response.headers["Cache-Control"] = IMMUTABLE
    return DocumentPublic(
        rightId=stored.right_id,
        version=stored.version,
        record=json.loads(stored.canonical),
        canonical=base64.b64encode(stored.canonical).decode("ascii"),
        signature=SignaturePublic.model_validate(stored.signature),
        recordHash=stored.record_hash.hex(),
        sourceXml=base64.b64encode(stored.source_xml).decode("ascii") if stored.source_xml else None,
        anchor=_anchor(stored, store),
    )


def _anchor(stored: StoredVersion, store: Store) -> AnchorProofPublic | None:
    """The root and inclusion proof of a version imported anchored."""
    anchor = store.anchor_of(stored.right_id, stored.version)
    if anchor is None:
        return None
    root = "0x" + anchor.root.hex()
    proof = ["0x" + node.hex() for node in inclusion_proof(anchor, stored.record_hash)]
    return AnchorProofPublic(root=root, proof=proof, manifestUrl=f"/v1/anchors/{root}")
