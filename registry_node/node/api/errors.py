"""The office node's own errors as problem+json: the office's refusals, a store that cannot write, the
operator token, and the node's descriptions of its statuses in OpenAPI (the format: protocol.http.problems).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from registry_node.node.international import ChainUnavailable
from registry_node.node.office import NotCompetent, OfficeError, UnknownRight, VersionConflict
from registry_node.protocol.http.problems import (
    ApiError,
    FieldError,
    described_problems,
    install_error_handlers,
    problem_response,
)


class NotAuthenticated(ApiError):
    status = 401
    slug = "not-authenticated"
    title = "Operator token required"

    def __init__(self, reason: str) -> None:
        super().__init__("Authorization", reason, {"WWW-Authenticate": 'Bearer realm="ipreg-node"'})


class DocumentNotFound(ApiError):
    """No published document at this address; the same answer whether the version is confidential or
    does not exist."""

    status = 404
    slug = "not-found"
    title = "Not found"

    def __init__(self) -> None:
        super().__init__("version", "no published document at this address")


class AnchorNotFound(ApiError):
    """This node anchored no batch under that root."""

    status = 404
    slug = "not-found"
    title = "Not found"

    def __init__(self) -> None:
        super().__init__("root", "this office anchored no batch under this root")


# Office refusals, by type: (problem slug, title).
_OFFICE_PROBLEMS: dict[type[OfficeError], tuple[str, str]] = {
    NotCompetent: ("not-competent", "Another office is competent for this right"),
    UnknownRight: ("unknown-right", "Unknown right"),
    VersionConflict: ("version-conflict", "Version conflict"),
    ChainUnavailable: ("chain-unavailable", "The chain could not be read; nothing was stored"),
    OfficeError: ("refused-change", "Change refused"),
}


async def _office_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OfficeError)
    slug, title = next(v for t, v in _OFFICE_PROBLEMS.items() if isinstance(exc, t))
    return problem_response(
        exc.status, slug, title, exc.reason, [FieldError(field=exc.field, reason=exc.reason)]
    )


# SQLite primary result codes (the low byte of an extended code) of a store that cannot write.
_SQLITE_FULL = 13
_STORE_CANNOT_WRITE = {8: "read-only", 10: "disk I/O error", 14: "cannot open"}  # READONLY, IOERR, CANTOPEN


async def _store_error(request: Request, exc: Exception) -> JSONResponse:
    """The office's store could not write, so the change was not accepted (nothing of it is kept): 507 when
    its disk is full, 503 when it cannot write at all. Anything else the database raises is a bug (500)."""
    assert isinstance(exc, sqlite3.DatabaseError)
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    if code == _SQLITE_FULL:
        status, slug, title = 507, "store-full", "The office's store is full"
        reason = "the node's store (node.sqlite) is full: free space in the node's data directory"
    elif code in _STORE_CANNOT_WRITE:
        status, slug, title = 503, "store-unavailable", "The office's store cannot write"
        reason = f"the node's store (node.sqlite) cannot write ({_STORE_CANNOT_WRITE[code]})"
    else:
        raise exc  # a bug: on to the catch-all, which answers 500 and logs the traceback
    detail = f"{reason}; this change was not accepted, and every change accepted before it is kept"
    return problem_response(status, slug, title, detail, [FieldError(field="store", reason=reason)])


_NODE_PROBLEMS = {
    400: "Malformed path, query or JSON",
    401: "Missing or wrong operator token",
    403: "Another office is competent for this right",
    404: "Not found",
    409: "The right is not at the expected version",
    413: "Request body over the node's limit",
    422: "Invalid body; `errors` names each field",
    503: "The office's store cannot write, or the chain could not be read; the change was not accepted",
    507: "The office's store is full; the change was not accepted",
}


def install_node_error_handlers(app: FastAPI) -> None:
    """Every error the node's API can meet, as problem+json."""
    install_error_handlers(app, "node", {OfficeError: _office_error, sqlite3.DatabaseError: _store_error})


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these statuses, as the node means them."""
    return described_problems(_NODE_PROBLEMS, *statuses)
