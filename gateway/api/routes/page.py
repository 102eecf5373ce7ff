"""The auditors' web page at `/`, and its script and style under `/static/` (files in gateway/web/).

Plain HTML, CSS and JavaScript served by the gateway itself: no build step, no CDN, so it works offline
and under the gateway's same-origin Content-Security-Policy.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

WEB = Path(__file__).resolve().parents[2] / "web"

router = APIRouter(include_in_schema=False)
static = StaticFiles(directory=WEB)


@router.get("/")
def auditor_page() -> FileResponse:
    return FileResponse(WEB / "index.html", media_type="text/html; charset=utf-8")
