"""Invitations as the person who receives one and the one who sends one sees them: a dead
link says so, a logged-in visitor is warned, the dialog shows the real expiry and reuses an
open link instead of making one on every open.

SPEC "The web client" (invitations); issue 16. State that is not under test is made through
the API.
"""

from __future__ import annotations

import re

import httpx
import pytest
from browser_fixtures import (  # noqa: F401 - the *_fixture names are pytest fixtures
    Pages,
    browser_fixture,
    log_in,
    me,
    pages_fixture,
)
from playwright.sync_api import Page, expect

from conftest import ServerProcess

pytestmark = pytest.mark.timeout(60)

PASSWORD = "correct horse battery"


def logged_in(pages: Pages, server: ServerProcess) -> Page:
    page = pages.page()
    page.goto(server.url)
    log_in(page, "Alice", PASSWORD)
    expect(me(page)).to_have_text("Alice")
    return page


def open_invites(owner: httpx.Client) -> list[str]:
    reply = owner.get("/api/invites")
    assert reply.status_code == 200, reply.text
    return [i["id"] for i in reply.json()["invites"]]


def test_a_used_invitation_says_so_instead_of_inviting(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    invite = owner.post("/api/invite", json={}).json()["id"]
    reply = server.client().post(
        f"/api/invite/{invite}", json={"name": "Bob", "password": PASSWORD}
    )
    assert reply.status_code == 200, reply.text
    page = pages.page()
    page.goto(f"{server.url}/invite/{invite}")
    expect(page.get_by_role("heading", level=1)).to_have_text("This invitation can't be used")
    expect(page.get_by_text("You're invited")).to_have_count(0)
    expect(page.get_by_text("already been used, has expired")).to_be_visible()
    expect(page.get_by_label("Choose a name")).to_be_hidden()


def test_an_invitation_opened_while_logged_in_warns_that_every_tab_switches(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    owner.post("/api/channels", json={"name": "general"})
    page = logged_in(pages, server)
    invite = owner.post("/api/invite", json={}).json()["id"]
    page.goto(f"{server.url}/invite/{invite}")
    expect(page.get_by_role("heading", level=1)).to_have_text("You're invited")
    expect(page.get_by_text("This invitation works once, until")).to_be_visible()
    warning = page.locator(".invite-switch")
    expect(warning).to_contain_text("You are logged in here as Alice")
    expect(warning).to_contain_text("every parlour tab open here switches to the new account")

    # Not logged in: no warning.
    stranger = pages.page()
    stranger.goto(f"{server.url}/invite/{invite}")
    expect(stranger.get_by_text("This invitation works once, until")).to_be_visible()
    expect(stranger.locator(".invite-switch")).to_have_count(0)


def test_the_invite_dialog_shows_the_expiry_and_reuses_an_open_link(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    owner.post("/api/channels", json={"name": "general"})
    page = logged_in(pages, server)
    dialog = page.get_by_role("dialog", name="Invite someone")
    link = page.get_by_label(re.compile("Send them this link"))

    page.get_by_role("button", name="Invite someone").click()
    expect(link).to_have_value(re.compile(r"/invite/I"))
    expect(dialog.locator("#invite-expiry")).to_have_text(
        re.compile(r"^It expires .*\(in \d+ hours\)\.$")
    )
    first = link.input_value()
    assert len(open_invites(owner)) == 1
    dialog.get_by_role("button", name="Close").click()

    page.get_by_role("button", name="Invite someone").click()
    expect(dialog).to_contain_text("This is your newest open invitation")
    expect(link).to_have_value(first)
    assert len(open_invites(owner)) == 1

    dialog.get_by_role("button", name="New link").click()
    expect(link).not_to_have_value(first)
    expect(link).to_have_value(re.compile(r"/invite/I"))
    assert len(open_invites(owner)) == 2
