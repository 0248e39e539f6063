"""The web client's pages and files, with headers that keep user content inert."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

STATIC = Path(str(resources.files("parlour") / "static"))
# Browsers may reuse a file only after asking (ETag → 304): after an upgrade, a page must
# never run a cached mix of old and new modules.
REVALIDATE = "no-cache"


class ClientFiles(StaticFiles):
    """The client's scripts, styles and icons, revalidated on every load."""

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = REVALIDATE
        return response


def static_files() -> StaticFiles:
    return ClientFiles(directory=STATIC)


async def get_page(request: Request) -> Response:
    """Every client URL (/, /invite/…, /channels/…) serves the one page; it routes itself."""
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": REVALIDATE})
