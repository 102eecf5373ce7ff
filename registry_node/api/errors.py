"""Every error the API answers, as RFC 9457 problem+json, mapped from its type in this one place.

A problem names each offending field in `errors` (`{"field": "change.effectiveDate", "reason": ...}`), so
a client can point at what to fix. Body errors are 422, malformed paths, queries and JSON are 400.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from registry_node.errors import RegistryError
from registry_node.office import NotCompetent, OfficeError, UnknownRight, VersionConflict

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE = "urn:ipreg:problem:"


class FieldError(BaseModel):
    field: str = Field(description="The offending field: a body path (`change.assigneeBag[0].name`), a "
                                   "path or query parameter, or a header.")  # fmt: skip
    reason: str


class Problem(BaseModel):
    """An RFC 9457 problem detail."""

    type: str = Field(description="A URN naming the kind of problem, stable across versions.")
    title: str
    status: int
    detail: str
    errors: list[FieldError] = Field(default_factory=list)


class ApiError(RegistryError):
    """A refusal by the API layer itself (not by the office); `field` names what is wrong."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, field: str, reason: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.headers = dict(headers or {})


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


class PayloadTooLarge(StarletteHTTPException):
    """The request body is over the node's limit. An HTTPException, so FastAPI passes it on unchanged
    when it is raised while the body is being read."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than this node's limit of {limit} bytes")
        self.limit = limit


# Office refusals, by type: (problem slug, title).
_OFFICE_PROBLEMS: dict[type[OfficeError], tuple[str, str]] = {
    NotCompetent: ("not-competent", "Another office is competent for this right"),
    UnknownRight: ("unknown-right", "Unknown right"),
    VersionConflict: ("version-conflict", "Version conflict"),
    OfficeError: ("refused-change", "Change refused"),
}

_HTTP_PROBLEMS = {
    400: ("bad-request", "Bad request"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("payload-too-large", "Request body too large"),
}


def problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str,
    errors: Sequence[FieldError] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    problem = Problem(
        type=PROBLEM_TYPE + slug, title=title, status=status, detail=detail, errors=list(errors)
    )
    return JSONResponse(
        problem.model_dump(mode="json"),
        status_code=status,
        headers=dict(headers or {}),
        media_type=PROBLEM_JSON,
    )


def http_problem(status: int, detail: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    slug, title = _HTTP_PROBLEMS.get(status, (f"http-{status}", f"HTTP {status}"))
    field = "body" if status == 413 else "request"
    return problem_response(status, slug, title, detail, [FieldError(field=field, reason=detail)], headers)


async def _office_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OfficeError)
    slug, title = next(v for t, v in _OFFICE_PROBLEMS.items() if isinstance(exc, t))
    return problem_response(
        exc.status, slug, title, exc.reason, [FieldError(field=exc.field, reason=exc.reason)]
    )


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    errors = [FieldError(field=exc.field, reason=exc.reason)]
    return problem_response(exc.status, exc.slug, exc.title, exc.reason, errors, exc.headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return http_problem(exc.status_code, str(exc.detail), exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_field_error(e) for e in exc.errors()]
    in_body = any(e["loc"][:1] == ("body",) and e["type"] != "json_invalid" for e in exc.errors())
    status = 422 if in_body else 400
    detail = "; ".join(f"{e.field}: {e.reason}" for e in errors[:5])
    if len(errors) > 5:
        detail += f"; and {len(errors) - 5} more"
    return problem_response(status, "invalid-request", "Invalid request", detail, errors)


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


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """A bug: the client gets a problem without details; the server logs the traceback (Starlette
    re-raises the error once this answer is sent)."""
    return problem_response(500, "internal-error", "Internal error", "the node could not handle the request")


def _field_error(error: Mapping[str, Any]) -> FieldError:
    where, *path = error["loc"] or ("request",)
    if error["type"] == "json_invalid":
        return FieldError(field="body", reason=f"not valid JSON: {error.get('ctx', {}).get('error', '')}")
    if not path:
        field = str(where)
    else:
        field = ""
        for part in path:
            field += f"[{part}]" if isinstance(part, int) else f".{part}" if field else str(part)
    reason = re.sub(r"^(Value|Assertion) error, ", "", str(error["msg"]))
    if error["type"] == "extra_forbidden":
        reason = "unknown field"
    return FieldError(field=field, reason=reason)


def install_error_handlers(app: FastAPI) -> None:
    """Maps every error type the API can meet to problem+json."""
    app.add_exception_handler(OfficeError, _office_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(sqlite3.DatabaseError, _store_error)
    app.add_exception_handler(Exception, _unexpected_error)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` documenting these problem statuses (`install_problem_openapi` gives them their
    media type)."""
    return {status: {"model": Problem, "description": _describe(status)} for status in statuses}


def install_problem_openapi(app: FastAPI) -> None:
    """Documents every 4xx/5xx answer as application/problem+json with the Problem schema, in place of
    FastAPI's default 422 (which only operations with a body can answer; others answer 400)."""
    generate = app.openapi
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    responses = operation.get("responses", {})
                    if "requestBody" not in operation:
                        responses.pop("422", None)
                    for status, response in responses.items():
                        if status[0] in "45":
                            response["content"] = {PROBLEM_JSON: problem}
            schemas = schema.get("components", {}).get("schemas", {})
            for unused in ("HTTPValidationError", "ValidationError"):
                schemas.pop(unused, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _describe(status: int) -> str:
    return {
        400: "Malformed path, query or JSON",
        401: "Missing or wrong operator token",
        403: "Another office is competent for this right",
        404: "Not found",
        409: "The right is not at the expected version",
        413: "Request body over the node's limit",
        422: "Invalid body; `errors` names each field",
        503: "The office's store cannot write; the change was not accepted",
        507: "The office's store is full; the change was not accepted",
    }.get(status, "Problem")
