"""The gateway's HTTP API: query routes over the read model, verification and receipts, all behind a
body size limit, a per-client rate limit and security headers; errors are RFC 9457 problem+json.

The auditors' web page is served at `/` (gateway/web/).

Route handlers are `async def` and hand what blocks (read-model queries, chain reads, deep-link fetches) to
the thread pool with `run_in_threadpool`: FastAPI runs a plain `def` handler in the pool and then hands its
response validation to the pool again, two hand-offs where one is needed.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from gateway.api.errors import install_gateway_error_handlers
from gateway.api.metrics import Metrics, RequestMetrics
from gateway.api.middleware import RateLimit, SecurityHeaders
from gateway.api.routes import (
    anchors,
    changes,
    consortium,
    designations,
    documents,
    family,
    keys,
    metrics,
    network,
    offices,
    page,
    receipts,
    rights,
    status,
    summary,
    verification,
)
from gateway.services import Services
from registry_node.protocol.http.body_limit import BodySizeLimit
from registry_node.protocol.http.problems import install_problem_openapi

API_VERSION = "1"


def create_app(services: Services) -> FastAPI:
    """The gateway's API over `services`."""
    settings = services.settings
    counted = Metrics(services.index)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with counted.watching():
            yield

    app = FastAPI(
        lifespan=lifespan,
        title="ipreg gateway",
        version=API_VERSION,
        description=(
            "Query and verification service of the Shared IP Registry: rights, their history and their "
            "state at a date, offices and their keys, anchors and document look-ups, from an index of the "
            "chain; verdicts and receipts checked against chain state. Errors are RFC 9457 problem+json."
        ),
    )
    app.state.services = services
    app.state.metrics = counted
    app.include_router(status.router)
    app.include_router(offices.router)
    app.include_router(network.router)
    app.include_router(summary.router)
    app.include_router(changes.router)
    app.include_router(consortium.router)
    # Routes under /v1/rights/{rightId}/… come before `rights`, whose `/v1/rights/{rightId}` (any characters,
    # `/` included: registry_node.protocol.http.path_convertors) would otherwise take their paths for right
    # ids.
    for router in (verification.router, receipts.router, designations.router, family.router, keys.router):
        app.include_router(router)
    app.include_router(rights.router)
    app.include_router(anchors.router)
    app.include_router(documents.router)
    app.include_router(page.router)
    app.include_router(metrics.router)
    app.mount("/static", page.static, name="static")
    install_gateway_error_handlers(app)
    install_problem_openapi(app)
    # The last added runs first: request metrics, security headers on every answer, then the rate limit,
    # CORS, body size.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET"],
            allow_headers=[],
            max_age=600,
        )
    app.add_middleware(RateLimit, rate_per_s=settings.rate_limit_per_s, burst=settings.rate_limit_burst)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestMetrics, metrics=counted)
    return app
