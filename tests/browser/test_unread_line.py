"""The "New messages" line: where the unread part of a channel began when it was opened,
from the server's read position (boot's `reads`), so that one sees where one left off
(issue 16, "Reading"). Messages that arrive while the reader is scrolled up stay unread:
tests/browser/test_unread_counts.py."""

from __future__ import annotations

import re

import httpx
import pytest
from audit import MIN_CONTRAST, contrast_of
from browser_fixtures import (  # noqa: F401 - the *_fixture names are pytest fixtures
    Pages,
    api_send,
    bodies,
    browser_fixture,
    log_in,
    me,
    open_channel,
    pages_fixture,
    room_title,
)
from playwright.sync_api import Locator, Page, expect

from conftest import ServerProcess, invite_user

pytestmark = pytest.mark.timeout(60)


def line(page: Page) -> Locator:
    return page.locator(".timeline .unread-mark")


def first_unread(page: Page) -> Locator:
    return page.locator(".timeline li.unread-start .msg-body")


def seq_of(client: httpx.Client, channel: str, message_id: str) -> int:
    page = client.get(f"/api/channels/{channel}/messages", params={"limit": 200}).json()
    return int(next(m["seq"] for m in page["messages"] if m["id"] == message_id))


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_line_marks_where_the_unread_part_began(
    server: ServerProcess, owner: httpx.Client, pages: Pages, scheme: str
) -> None:
    general = owner.post("/api/channels", json={"name": "general"}).json()["id"]
    random = owner.post("/api/channels", json={"name": "random"}).json()["id"]
    bob = invite_user(server, owner, "Bob")
    api_send(owner, random, "elsewhere")
    read = [api_send(owner, general, f"read {n}") for n in range(3)]
    bob.post(f"/api/channels/{general}/read", json={"seq": seq_of(bob, general, read[-1])})
    api_send(bob, general, "my own, after my read position")
    for n in range(4):
        api_send(owner, general, f"unread {n}")

    page = pages.page()
    page.emulate_media(color_scheme="dark" if scheme == "dark" else "light")
    page.goto(server.url)
    log_in(page, "Bob", "password Bob")
    expect(me(page)).to_have_text("Bob")
    open_channel(page, "general")
    expect(bodies(page)).to_have_count(8)
    # Above the first message from someone else after the read position, own ones skipped.
    expect(line(page)).to_have_count(1)
    expect(line(page)).to_have_text("New messages")
    expect(first_unread(page)).to_have_text("unread 0")
    # The first unread message shows its sender again, below the line.
    expect(page.locator(".timeline li.unread-start")).not_to_have_class(re.compile("continued"))
    assert min(contrast_of(page, ".unread-mark")) >= MIN_CONTRAST

    # It stays while the channel is shown (reading moves the position, not the line), and a
    # live message adds none.
    api_send(owner, general, "live")
    expect(bodies(page)).to_have_count(9)
    expect(line(page)).to_have_count(1)
    expect(first_unread(page)).to_have_text("unread 0")

    # Everything read: back in the channel there is no line.
    open_channel(page, "random")
    expect(room_title(page)).to_have_text(re.compile("random"))
    open_channel(page, "general")
    expect(bodies(page)).to_have_count(9)
    expect(line(page)).to_have_count(0)

    # Away, someone writes: back, the line is above their message.
    open_channel(page, "random")
    expect(room_title(page)).to_have_text(re.compile("random"))
    api_send(owner, general, "while you were away")
    expect(page.locator(".channel-list a", has_text="general")).to_contain_text("1")
    open_channel(page, "general")
    expect(first_unread(page)).to_have_text("while you were away")


def test_after_a_reload_the_line_comes_from_the_servers_read_position(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    general = owner.post("/api/channels", json={"name": "general"}).json()["id"]
    invite_user(server, owner, "Bob")
    page = pages.page()
    page.goto(server.url)
    log_in(page, "Bob", "password Bob")
    expect(room_title(page)).to_have_text(re.compile("general"))
    api_send(owner, general, "seen")
    expect(bodies(page)).to_have_count(1)
    page.wait_for_timeout(1500)  # the read position reaches the server
    page.goto("about:blank")
    api_send(owner, general, "not seen")
    page.goto(server.url)
    expect(bodies(page)).to_have_count(2)
    expect(first_unread(page)).to_have_text("not seen")
