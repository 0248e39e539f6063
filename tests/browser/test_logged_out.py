"""Why you were logged out: each tab and device says what it can tell (docs/client.md).

SPEC "The web client" (why you were logged out); issue 16.
"""

from __future__ import annotations

import httpx
import pytest
from browser_fixtures import (  # noqa: F401 - the *_fixture names are pytest fixtures
    Pages,
    browser_fixture,
    log_in,
    me,
    pages_fixture,
)
from playwright.sync_api import BrowserContext, Page, expect

from conftest import ServerProcess

pytestmark = pytest.mark.timeout(60)

PASSWORD = "correct horse battery"


def logged_in(pages: Pages, server: ServerProcess, context: BrowserContext | None = None) -> Page:
    page = pages.page(context)
    page.goto(server.url)
    if context is None or len(context.pages) == 1:
        log_in(page, "Alice", PASSWORD)
    expect(me(page)).to_have_text("Alice")
    return page


def test_a_logout_in_another_tab_says_so(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    owner.post("/api/channels", json={"name": "general"})
    context = pages.context()
    tab = logged_in(pages, server, context)
    other = logged_in(pages, server, context)
    other.get_by_role("button", name="Log out").click()
    expect(other.get_by_role("heading", name="Log in")).to_be_visible()
    expect(tab.get_by_role("heading", name="Log in")).to_be_visible()
    expect(tab.get_by_text("You logged out in another tab of this browser.")).to_be_visible()


def test_a_password_changed_elsewhere_names_the_possible_reasons(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    owner.post("/api/channels", json={"name": "general"})
    laptop = logged_in(pages, server)
    # On another device: the laptop's session is revoked, and the server does not say why.
    reply = owner.post("/api/password", json={"password": PASSWORD, "to": PASSWORD + " 2"})
    assert reply.status_code == 200, reply.text
    expect(laptop.get_by_role("heading", name="Log in")).to_be_visible()
    said = laptop.get_by_text("Your session has ended")
    expect(said).to_contain_text("parlour does not say why")
    expect(said).to_contain_text("your password was changed or reset elsewhere")
    expect(said).to_contain_text("went unused for too long")
