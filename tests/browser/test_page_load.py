"""The web client loads as one script (issue 16, "Speed with big channels"; docs/client.md,
"One script"): the bundle tools/bundle makes from app.js and every module it imports, whose
source map names those modules, served beside it. One request and one compile instead of a
waterfall of modules is most of what a cold load saved (docs/benchmarks.md)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from browser_fixtures import (  # noqa: F401 - the *_fixture names are pytest fixtures
    Pages,
    browser_fixture,
    create_channel,
    pages_fixture,
    send,
    set_up,
)
from playwright.sync_api import Request, expect

import parlour
from conftest import ServerProcess

pytestmark = pytest.mark.timeout(90)

STATIC = Path(parlour.__file__).parent / "static"
# Not part of the page's script: the service worker runs on its own (sw.js).
WORKER = "sw.js"


def test_the_client_loads_as_one_script_whose_map_names_every_module(
    server: ServerProcess, pages: Pages
) -> None:
    page = pages.page()
    scripts: list[str] = []

    def heard(request: Request) -> None:
        if request.resource_type == "script":
            scripts.append(urlsplit(request.url).path)

    page.on("request", heard)
    set_up(page, server)
    create_channel(page, "general")
    send(page, "hello")
    page.reload()
    expect(page.locator(".timeline .msg-body")).to_have_text(["hello"])
    assert set(scripts) == {"/static/bundle.js"}, "each load fetches the bundle alone"

    served = httpx.get(server.url + "/static/bundle.js.map")
    assert served.headers["content-type"].startswith("application/json")
    source_map = served.json()
    modules = {path.name for path in STATIC.glob("*.js")} - {"bundle.js", WORKER}
    # Every module is in the bundle (none is left out, none lies unused in the folder).
    assert sorted(source_map["sources"]) == sorted(modules)
    for name in source_map["sources"]:
        assert httpx.get(f"{server.url}/static/{name}").status_code == 200, name
