"""What people type stays text: no HTML from users, safe links, a strict page policy.

SPEC "The web client" (nothing a user types is ever inserted as HTML); issue 4.
"""

from __future__ import annotations

import re

import httpx
import pytest
from browser_fixtures import (  # noqa: F401 - the *_fixture names are pytest fixtures
    Pages,
    bodies,
    browser_fixture,
    create_channel,
    me,
    pages_fixture,
    room_title,
    send,
    set_up,
)
from playwright.sync_api import Dialog, expect

from conftest import ServerProcess

pytestmark = pytest.mark.timeout(30)

PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(2)</script>",
    '"><svg onload=alert(3)>',
    "[click](javascript:alert(4))",
]


def test_html_in_names_and_messages_is_shown_as_text_and_runs_nothing(
    server: ServerProcess, pages: Pages
) -> None:
    page = pages.page()
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    set_up(page, server, name="<b>Al</b>")
    create_channel(page, "<i>room</i>")
    for payload in PAYLOADS:
        send(page, payload)
    for _ in range(2):  # as sent, then as booted from the server
        expect(me(page)).to_have_text("<b>Al</b>")
        expect(room_title(page)).to_have_text("#<i>room</i>")
        expect(bodies(page)).to_have_text(PAYLOADS)
        expect(page.locator(".timeline .sender").first).to_have_text("<b>Al</b>")
        expect(page.locator("#app img, #app script, #app svg, #app b, #app i")).to_have_count(0)
        expect(page.locator(".timeline a")).to_have_count(0)
        page.reload()
    page.wait_for_timeout(300)  # an onerror handler would have run by now
    assert dialogs == []


def test_links_are_clickable_open_in_a_new_tab_and_only_for_http(
    server: ServerProcess, pages: Pages
) -> None:
    page = pages.page()
    set_up(page, server)
    create_channel(page, "links")
    send(
        page,
        "see https://example.com/page?q=1&r=2, or (https://example.org/wiki/A_(b)).\n"
        "not these: javascript:alert(1) data:text/html,hi ftp://example.net",
    )
    links = page.locator(".timeline .msg-body a")
    expect(links).to_have_count(2)
    expect(links.nth(0)).to_have_text("https://example.com/page?q=1&r=2")
    expect(links.nth(0)).to_have_attribute("href", "https://example.com/page?q=1&r=2")
    expect(links.nth(1)).to_have_text("https://example.org/wiki/A_(b)")
    for i in range(2):
        expect(links.nth(i)).to_have_attribute("target", "_blank")
        expect(links.nth(i)).to_have_attribute("rel", "noopener noreferrer")
    expect(bodies(page).first).to_contain_text("not these: javascript:alert(1) data:text/html")


def test_pages_allow_only_parlours_own_origin_and_files_are_revalidated(
    server: ServerProcess, pages: Pages
) -> None:
    for path in ("/", "/channels/Cxxxxxxxxxxxxxxxxxxx", "/invite/Ixxxxxxxxxxxxxxxxxxx"):
        reply = httpx.get(server.url + path)
        assert reply.status_code == 200
        policy = reply.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "style-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert reply.headers["referrer-policy"] == "no-referrer"
    script = httpx.get(server.url + "/static/bundle.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["cache-control"] == "no-cache", "an upgrade is never half-cached"

    page = pages.page()
    loaded: list[str] = []
    page.on("request", lambda r: loaded.append(r.url))
    blocked: list[str] = []
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    set_up(page, server)
    create_channel(page, "general")
    send(page, "hello https://example.com")
    page.reload()
    expect(bodies(page)).to_have_text(["hello https://example.com"])
    foreign = [url for url in loaded if not url.startswith(server.url + "/")]
    assert foreign == [], "everything comes from parlour itself"
    assert blocked == [], "nothing the client does is refused by its own policy"
    assert any(re.search(r"/static/bundle\.js$", url) for url in loaded)
