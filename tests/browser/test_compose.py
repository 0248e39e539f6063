"""The compose box: line breaks on touch screens, a draft per channel, messages that wait for
the connection and are sent once, and typing while a message is on its way.

SPEC "The web client" and "Channels and messages" (client_id); issue 16, bugs 1-4. State
that is not under test is made through the API.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from browser_fixtures import (  # noqa: F401 - the *_fixture names are pytest fixtures
    PHONE,
    Pages,
    banner,
    bodies,
    browser_fixture,
    compose,
    eventually,
    free_port,
    log_in,
    me,
    pages_fixture,
    room_title,
)
from playwright.sync_api import BrowserContext, Page, expect

from conftest import ServerProcess

pytestmark = pytest.mark.timeout(60)

EVENTS = re.compile(r"/api/events\b")
PASSWORD = "correct horse battery"


def logged_in(pages: Pages, server: ServerProcess, context: BrowserContext | None = None) -> Page:
    """A page logged in as Alice, the owner."""
    page = pages.page(context)
    page.goto(server.url)
    log_in(page, "Alice", PASSWORD)
    expect(me(page)).to_have_text("Alice")
    return page


def touch_context(pages: Pages) -> BrowserContext:
    """A phone: a touch screen (a coarse pointer), no mouse, no hardware keyboard."""
    context = pages.browser.new_context(
        viewport=PHONE, has_touch=True, is_mobile=True, locale="en-GB"
    )
    pages.contexts.append(context)
    return context


def stored(owner: httpx.Client, channel: str) -> list[str]:
    """The bodies the server holds in a channel, oldest first."""
    reply = owner.get(f"/api/channels/{channel}/messages")
    assert reply.status_code == 200, reply.text
    return [m["body"] for m in reply.json()["messages"]]


def sends_to(channel: str) -> re.Pattern[str]:
    return re.compile(rf"/api/channels/{channel}$")


def pending(page: Page) -> Any:
    return page.locator(".timeline .msg.pending")


# --- bug 1: on a phone Enter adds a line ---


def test_on_a_touch_screen_enter_adds_a_line_and_the_button_sends(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    general = owner.post("/api/channels", json={"name": "general"}).json()["id"]
    phone = logged_in(pages, server, touch_context(pages))
    box = compose(phone)
    expect(box).to_have_attribute("enterkeyhint", "enter")
    box.tap()
    box.press_sequentially("line one")
    box.press("Enter")
    box.press_sequentially("line two")
    expect(box).to_have_value("line one\nline two")
    phone.wait_for_timeout(300)
    expect(bodies(phone)).to_have_count(0)
    assert stored(owner, general) == []
    phone.get_by_role("button", name="Send", exact=True).tap()
    expect(box).to_have_value("")
    expect(bodies(phone)).to_have_text(["line one\nline two"])
    eventually(lambda: stored(owner, general), ["line one\nline two"])
    # The hint does not promise what Enter no longer does.
    expect(phone.locator("#compose-hint")).not_to_contain_text("Enter sends")

    # With a mouse and a keyboard: Enter sends, Shift+Enter adds a line.
    desk = logged_in(pages, server)
    box = compose(desk)
    expect(box).to_have_attribute("enterkeyhint", "send")
    expect(desk.locator("#compose-hint")).to_contain_text("Enter sends")
    box.press_sequentially("first")
    box.press("Shift+Enter")
    box.press_sequentially("second")
    box.press("Enter")
    expect(box).to_have_value("")
    expect(bodies(desk)).to_have_text(["line one\nline two", "first\nsecond"])


def test_on_a_touch_screen_enter_adds_a_line_when_editing_too(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    general = owner.post("/api/channels", json={"name": "general"}).json()["id"]
    owner.post(f"/api/channels/{general}", json={"body": "helo"})
    phone = logged_in(pages, server, touch_context(pages))
    item = phone.locator(".timeline .msg", has_text="helo")
    item.locator(".msg-body").tap()
    item.get_by_role("button", name=re.compile("^Edit your message")).tap()
    editor = phone.get_by_role("textbox", name="Edit your message")
    expect(editor).to_have_attribute("enterkeyhint", "enter")
    editor.press("End")
    editor.press("Enter")
    editor.press_sequentially("world")
    expect(editor).to_have_value("helo\nworld")
    phone.get_by_role("button", name="Save").tap()
    expect(editor).to_have_count(0)
    eventually(lambda: stored(owner, general), ["helo\nworld"])
