"""Members and administration in the web client: renaming.

SPEC "Members and administration" and "The web client"; issue 11. State that is not under
test is made through the API.
"""

from __future__ import annotations

import re

import pytest
from browser_fixtures import (  # noqa: F401 - the *_fixture names are pytest fixtures
    Pages,
    api_client,
    browser_fixture,
    create_channel,
    log_in,
    me,
    pages_fixture,
    send,
    set_up,
)
from playwright.sync_api import Page, expect

from conftest import ServerProcess, invite_user

pytestmark = pytest.mark.timeout(60)


def logged_in_page(pages: Pages, server: ServerProcess, name: str) -> Page:
    """A page (its own browser context) logged in as a user made with conftest.invite_user."""
    page = pages.page()
    page.goto(server.url)
    log_in(page, name, "password " + name)
    expect(me(page)).to_have_text(name)
    return page


def test_renaming_oneself_shows_at_once_in_another_persons_page(
    server: ServerProcess, pages: Pages
) -> None:
    alice = pages.page()
    set_up(alice, server)
    expect(alice.locator('[data-slot="me-admin"]')).to_have_text("admin")
    create_channel(alice, "general")
    invite_user(server, api_client(server, "Alice"), "Bob")
    bob = logged_in_page(pages, server, "Bob")
    expect(bob.locator('[data-slot="me-admin"]')).to_be_hidden()
    send(bob, "hi, I'm Bob")
    expect(alice.locator(".timeline .sender")).to_have_text(["Bob"])

    bob.get_by_role("button", name="Change name").click()
    renaming = bob.get_by_role("dialog", name="Change your name")
    name = renaming.get_by_label("Your name")
    expect(name).to_be_focused()
    expect(name).to_have_value("Bob")
    expect(renaming).to_contain_text("you log in with it from now on")
    name.fill("alice")  # taken, as names compare
    renaming.get_by_role("button", name="Save name").click()
    expect(renaming.get_by_text(re.compile("taken"))).to_be_visible()
    expect(name).to_be_focused()
    name.fill("Robert")
    name.press("Enter")
    expect(renaming).to_be_hidden()
    expect(bob.get_by_role("button", name="Change name")).to_be_focused()
    expect(me(bob)).to_have_text("Robert")
    expect(bob.locator(".timeline .sender")).to_have_text(["Robert"])
    expect(alice.locator(".timeline .sender")).to_have_text(["Robert"])
