"""The web client's pages and files, with headers that keep user content inert."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles

STATIC = Path(str(resources.files("parlour") / "static"))


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC)


async def get_page(request: Request) -> Response:
    """Every client URL (/, /invite/…, /channels/…) serves the one page; it routes itself."""
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})
