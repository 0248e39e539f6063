"""The web client's pages and files, with headers that keep user content inert."""

from __future__ import annotations

import mimetypes
import os
from importlib import resources
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Receive, Scope, Send

from parlour.http.body import read_body
from parlour.http.errors import MethodNotAllowed

STATIC = Path(str(resources.files("parlour") / "static"))
# Browsers may reuse a file only after asking (ETag → 304): after an upgrade, a page must
# never run a cached mix of old and new modules.
REVALIDATE = "no-cache"
# What a file serves; any other method on a file gets 405, on a missing file 404.
FILE_METHODS = ("GET", "HEAD")
# The web app manifest's own type (browsers accept application/json too, but Python's
# table knows neither the extension nor this type on every platform).
mimetypes.add_type("application/manifest+json", ".webmanifest")
# The client bundle's source map (docs/client.md, "One script"): JSON, which Python's table
# does not know by this extension.
mimetypes.add_type("application/json", ".map")


class ClientFiles(StaticFiles):
    """The client's scripts, styles and icons, revalidated on every load.

    The checks run in the order every path has: 413, then 404 for a file that does not
    exist (whatever the method: Starlette answered 405 first), then 405.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await read_body(Request(scope, receive))
        await super().__call__(scope, receive, send)

    async def get_response(self, path: str, scope: Scope) -> Response:
        if scope["method"] in FILE_METHODS:
            return await super().get_response(path, scope)
        # Looked up as a GET, which raises 404 when there is no such file.
        await super().get_response(path, {**scope, "method": "GET"})
        raise MethodNotAllowed(scope["method"], scope["path"], list(FILE_METHODS))

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
