"""The gateway's descriptions of the problem statuses it answers, for its OpenAPI document, and the one error
of its own that every route can meet: a chain that does not answer (the format: protocol.http.problems)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from registry_node.protocol.chain import ChainError
from registry_node.protocol.http.problems import (
    FieldError,
    described_problems,
    install_error_handlers,
    problem_response,
)

_GATEWAY_PROBLEMS = {
    400: "Malformed path, query, body or cursor; `errors` names each field",
    404: "No such right, version, office, anchor or document in the index or on chain",
    409: "No receipt yet: the right is confidential (only its seal is on chain), the designation has no "
    "decision yet, or the stated block is not final",
    413: "Request body over the gateway's limit",
    502: "The competent office's deep link did not give the signed document the receipt needs",
    503: "The chain node did not answer; try again after Retry-After",
}


async def _chain_unreachable(request: Request, exc: Exception) -> JSONResponse:
    """The chain did not answer a check that needs it now; the index keeps answering what it has."""
    detail = "the chain node did not answer; try again shortly"
    errors = [FieldError(field="chain", reason=str(exc)[:300])]
    headers = {"Retry-After": "5"}
    return problem_response(503, "chain-unreachable", "Chain unreachable", detail, errors, headers)


def install_gateway_error_handlers(app: FastAPI) -> None:
    """Every error the gateway's API can meet, as problem+json."""
    install_error_handlers(app, "gateway", {ChainError: _chain_unreachable})


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these statuses, as the gateway means them."""
    return described_problems(_GATEWAY_PROBLEMS, *statuses)
