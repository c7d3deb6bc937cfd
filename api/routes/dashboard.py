"""GET /dashboard: a live operator page drawn in the browser from the JSON endpoints.

The page and its script and stylesheet (``api/static/``) are served by the app itself: no CDN,
no request leaves the API's origin (the Content-Security-Policy says so to the browser too).
The page polls ``/readyz``, ``/models``, ``/profile`` and ``/devices/silent``; it adds no
endpoint of its own. ``GET /`` redirects to it.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

#: Everything the page loads or calls is same-origin; inline code and styles are refused.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

router = APIRouter(tags=["dashboard"], include_in_schema=False)


class Assets(StaticFiles):
    """The dashboard's script and stylesheet; revalidated on each load, so upgrades show."""

    def __init__(self) -> None:
        super().__init__(directory=STATIC_DIR)

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = "no-cache"
        return response


@router.get("/")
def root() -> RedirectResponse:
    """The dashboard. Relative, so it also works behind a proxy that adds a path prefix."""
    return RedirectResponse("dashboard", status_code=307)


@router.api_route("/dashboard", methods=["GET", "HEAD"], response_class=FileResponse)
def dashboard() -> FileResponse:
    """The live dashboard page: models, metrics over time, freshness, stream profile."""
    return FileResponse(
        STATIC_DIR / "dashboard.html",
        media_type="text/html; charset=utf-8",
        headers={"Cache-Control": "no-cache", "Content-Security-Policy": CSP},
    )
