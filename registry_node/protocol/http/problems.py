"""RFC 9457 problem+json, as both servers (an office node's API and the gateway) answer every error.

A problem names each offending field in `errors` (`{"field": "change.effectiveDate", "reason": ...}`), so a
client can point at what to fix. Body errors are 422, malformed paths, queries and JSON are 400. Each server
adds the handlers of its own errors and describes its own statuses (`install_error_handlers`,
`described_problems`): no text of one service appears in the other's answers or OpenAPI document.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from registry_node.protocol.errors import RegistryError

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE = "urn:ipreg:problem:"

ErrorHandler = Callable[[Request, Exception], Awaitable[JSONResponse]]


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


class PayloadTooLarge(StarletteHTTPException):
    """The request body is over the server's limit. An HTTPException, so FastAPI passes it on unchanged
    when it is raised while the body is being read."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than this server's limit of {limit} bytes")
        self.limit = limit


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


def install_error_handlers(
    app: FastAPI, server: str, handlers: Mapping[type[Exception], ErrorHandler] | None = None
) -> None:
    """Maps every error type the API can meet to problem+json: the request's own errors here, the server's
    own error types by `handlers`, and anything else to a 500 that names `server` and nothing more (the
    server logs the traceback: Starlette re-raises the error once this answer is sent)."""

    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(
            500, "internal-error", "Internal error", f"the {server} could not handle the request"
        )

    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for error_type, handler in (handlers or {}).items():
        app.add_exception_handler(error_type, handler)
    app.add_exception_handler(Exception, unexpected_error)


def described_problems(descriptions: Mapping[int, str], *statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` documenting these problem statuses with the server's own `descriptions`
    (`install_problem_openapi` gives them their media type)."""
    return {
        status: {"model": Problem, "description": descriptions.get(status, "Problem")} for status in statuses
    }


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
