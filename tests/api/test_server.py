"""The server layer: what parlour.server's uvicorn protocol and the app's outer boundary do.

Regressions (issue 10):
* an unexpected error was logged twice, with two tracebacks: by the app's handler, which ran
  inside Starlette's error middleware, and again by uvicorn, to which that middleware
  re-raised it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import cast

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conftest import assert_problem
from parlour.app import create_app
from parlour.config import Config
from parlour.server import ParlourHttpProtocol


class Records(logging.Handler):
    """Every record logged under the loggers it is attached to."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def fail(request: Request) -> Response:
    raise RuntimeError("a bug in a handler")


@asynccontextmanager
async def uvicorn_serving(database: Path) -> AsyncIterator[str]:
    """parlour's app, plus a route that fails, on uvicorn with parlour's protocol, in this
    process (so the test can add the route and watch uvicorn's own logging); its URL."""
    running = await create_app(Config(database=str(database)))
    cast(Starlette, running.asgi.app).router.routes.insert(0, Route("/fail", fail))
    server = uvicorn.Server(
        uvicorn.Config(
            running.asgi,
            http=ParlourHttpProtocol,
            lifespan="off",
            ws="none",
            access_log=False,
            log_config=None,  # leave this process's logging alone; Records is attached
        )
    )
    sock = socket.create_server(("127.0.0.1", 0))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            assert not task.done(), "uvicorn did not start"
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        await running.close()
        sock.close()


@pytest.mark.sqlite_only
def test_an_unexpected_error_is_logged_once_and_answered_with_one_500_problem(
    tmp_path: Path,
) -> None:
    records = Records()
    loggers = [logging.getLogger("parlour"), logging.getLogger("uvicorn")]
    for logger in loggers:
        logger.addHandler(records)

    async def scenario() -> tuple[httpx.Response, httpx.Response]:
        async with (
            uvicorn_serving(tmp_path / "parlour.db") as url,
            httpx.AsyncClient(base_url=url) as client,
        ):
            failed = await client.get("/fail")
            after = await client.get("/api/openapi.json")
            return failed, after

    try:
        failed, after = asyncio.run(scenario())
    finally:
        for logger in loggers:
            logger.removeHandler(records)
    body = assert_problem(failed, 500)
    assert "a bug" not in body["detail"], "the client learns nothing of the server's code"
    assert failed.headers["x-content-type-options"] == "nosniff"
    assert after.status_code == 200, "the server goes on serving"
    tracebacks = [r for r in records.records if r.exc_info is not None]
    assert len(tracebacks) == 1, [f"{r.name}: {r.getMessage()}" for r in tracebacks]
    errors = [r for r in records.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [f"{r.name}: {r.getMessage()}" for r in errors]
    assert tracebacks[0].name.startswith("parlour")
