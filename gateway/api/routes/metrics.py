"""GET /metrics: the Prometheus text format (gateway/api/metrics.py says what is counted)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from gateway.api.metrics import Metrics

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def read_metrics(request: Request) -> Response:
    metrics: Metrics = request.app.state.metrics
    body = await run_in_threadpool(metrics.exposition)  # reads the read model and the workers' files
    return Response(body, media_type=CONTENT_TYPE_LATEST)
