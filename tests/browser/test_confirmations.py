"""Destructive actions ask first and say what will happen: deleting a message, deleting a
channel (even an empty one), deactivating a member.

SPEC "The web client" (reading: destructive actions confirm); issue 16. State that is not
under test is made through the API.
"""

from __future__ import annotations

import re

import httpx
import pytest
from browser_fixtures import (  # noqa: F401 - the *_fixture names are pytest fixtures
    Pages,
    bodies,
    browser_fixture,
    confirmation,
    log_in,
    me,
    member,
    open_members,
    pages_fixture,
    room_title,
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


def test_deleting_a_message_asks_and_says_what_will_go(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    general = owner.post("/api/channels", json={"name": "general"}).json()["id"]
    owner.post(f"/api/channels/{general}", json={"body": "a message to regret"})
    page = logged_in(pages, server)
    item = page.locator(".timeline .msg", has_text="a message to regret")
    item.hover()
    item.get_by_role("button", name=re.compile("^Delete your message")).click()
    asked = confirmation(page)
    expect(asked.get_by_role("heading")).to_have_text("Delete your message?")
    expect(asked).to_contain_text("“a message to regret” will be deleted for everyone in #general")
    expect(asked).to_contain_text("cannot be undone")
    asked.get_by_role("button", name="Cancel").click()
    expect(asked).to_be_hidden()
    expect(bodies(page)).to_have_text(["a message to regret"])

    item.hover()
    item.get_by_role("button", name=re.compile("^Delete your message")).click()
    asked.get_by_role("button", name="Delete message").click()
    expect(bodies(page)).to_have_count(0)
    assert owner.get(f"/api/channels/{general}/messages").json()["messages"] == []


def test_deleting_an_empty_channel_asks_too(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    owner.post("/api/channels", json={"name": "general"})
    scratch = owner.post("/api/channels", json={"name": "scratch"}).json()["id"]
    page = logged_in(pages, server)
    page.goto(f"{server.url}/channels/{scratch}")
    expect(room_title(page)).to_have_text("#scratch")
    page.get_by_role("button", name="Delete channel").click()
    asked = confirmation(page)
    expect(asked.get_by_role("heading")).to_have_text("Delete #scratch?")
    expect(asked).to_contain_text("deleted for everyone")
    page.keyboard.press("Escape")
    expect(asked).to_be_hidden()
    expect(page.locator(".channel-list")).to_contain_text("scratch")

    page.get_by_role("button", name="Delete channel").click()
    asked.get_by_role("button", name="Delete channel").click()
    expect(page.locator(".channel-list")).not_to_contain_text("scratch")
    expect(room_title(page)).to_have_text("#general")


def test_deactivating_a_member_asks_and_says_what_will_happen(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    owner.post("/api/channels", json={"name": "general"})
    invite = owner.post("/api/invite", json={}).json()["id"]
    reply = server.client().post(
        f"/api/invite/{invite}", json={"name": "Bob", "password": PASSWORD}
    )
    assert reply.status_code == 200, reply.text
    page = logged_in(pages, server)
    dialog = open_members(page)
    member(page, "Bob").get_by_role("button", name=re.compile("^Deactivate")).click()
    asked = confirmation(page)
    expect(asked.get_by_role("heading")).to_have_text("Deactivate Bob?")
    expect(asked).to_contain_text("logged out everywhere at once")
    asked.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_visible()
    assert owner.get("/api/boot").json()["users"][1]["active"] is True
