"""Installing the web client and loading it while the server is unreachable: a web app
manifest with PNG icons, and a service worker that keeps the app shell so that a reload
offline shows parlour's own "Can't reach the server" screen (issue 16, "Offline and
install"; docs/operations.md, "The web client")."""

from __future__ import annotations

import struct
from typing import Any

import httpx
import pytest
from browser_fixtures import (  # noqa: F401 - the *_fixture names are pytest fixtures
    Pages,
    browser_fixture,
    free_port,
    me,
    pages_fixture,
    set_up,
)
from playwright.sync_api import Page, expect

from conftest import ServerProcess

pytestmark = pytest.mark.timeout(90)

MANIFEST = "/static/manifest.webmanifest"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_manifest_makes_the_client_installable(server: ServerProcess, pages: Pages) -> None:
    answer = httpx.get(server.url + MANIFEST)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/manifest+json"
    manifest: dict[str, Any] = answer.json()
    assert manifest["name"] == "parlour"
    assert manifest["short_name"] == "parlour"
    assert manifest["start_url"] == "/"
    assert manifest["display"] == "standalone"
    sizes = {}
    for icon in manifest["icons"]:
        got = httpx.get(server.url + icon["src"])
        assert got.status_code == 200
        assert got.headers["content-type"] == icon["type"]
        if icon["type"] == "image/png":
            sizes[icon["sizes"]] = png_size(got.content)
    assert sizes == {"192x192": (192, 192), "512x512": (512, 512)}

    # Chromium reads the manifest the page links to and finds nothing wrong in it.
    page = pages.page()
    page.goto(server.url)
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
    cdp = page.context.new_cdp_session(page)
    found = cdp.send("Page.getAppManifest")
    assert found["url"] == server.url + MANIFEST
    assert found["errors"] == []


def wait_for_the_shell(page: Page) -> None:
    """The worker controls the page and has kept the page and the scripts it loaded."""
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.wait_for_function(
        """async () => {
          const names = await caches.keys();
          if (names.length === 0) return false;
          const cache = await caches.open(names[0]);
          return !!(await cache.match("/")) && !!(await cache.match("/static/bundle.js")) &&
                 !!(await cache.match("/static/parlour.css"));
        }"""
    )


def test_a_reload_while_the_server_is_down_shows_parlours_own_screen(
    start_server: Any, pages: Pages
) -> None:
    server: ServerProcess = start_server("--port", str(free_port()))
    page = pages.page()
    set_up(page, server)
    wait_for_the_shell(page)

    server.stop()
    page.reload()
    expect(page.get_by_role("heading", name="Can't reach the server")).to_be_visible()
    expect(page.get_by_role("button", name="Try now")).to_be_visible()

    # Back: the screen's retry finds it, and the chat returns.
    server.start()
    page.get_by_role("button", name="Try now").click()
    expect(me(page)).to_have_text("Alice")


def test_the_worker_leaves_the_api_to_the_network(server: ServerProcess, pages: Pages) -> None:
    """Answers are someone's, and the stream must not pass through a cache: nothing of
    /api/ is kept, and a page whose server answers is never served from the cache."""
    page = pages.page()
    set_up(page, server)
    wait_for_the_shell(page)
    page.reload()
    expect(me(page)).to_have_text("Alice")
    kept: list[str] = page.evaluate(
        """async () => {
          const cache = await caches.open((await caches.keys())[0]);
          return (await cache.keys()).map((r) => new URL(r.url).pathname);
        }"""
    )
    assert "/" in kept
    assert not [path for path in kept if path.startswith("/api/")]
    assert all(path == "/" or path.startswith("/static/") for path in kept)
