"""Public deep link of an anchored batch: its manifest, from which anyone rebuilds the Merkle tree, checks
the root anchored on chain and the manifestHash anchored with it."""

from __future__ import annotations

from fastapi import APIRouter, Response

from registry_node.node.anchors import manifest_of
from registry_node.node.api.deps import StoreDep
from registry_node.node.api.errors import AnchorNotFound, problem_responses
from registry_node.node.api.models import AnchorManifestPublic
from registry_node.node.api.routes.documents import IMMUTABLE
from registry_node.node.api.routes.params import RootPath

router = APIRouter(prefix="/v1/anchors", tags=["anchors"])


@router.get(
    "/{root}",
    operation_id="readAnchor",
    response_model=AnchorManifestPublic,
    responses=problem_responses(400, 404),
    summary="The manifest of an anchored batch (public deep link)",
)
def read_anchor(root: RootPath, store: StoreDep, response: Response) -> AnchorManifestPublic:
    anchor = store.anchor(bytes.fromhex(root.removeprefix("0x")))
    if anchor is None:
        raise AnchorNotFound()
    response.headers["Cache-Control"] = IMMUTABLE
    return AnchorManifestPublic.model_validate(manifest_of(anchor))
