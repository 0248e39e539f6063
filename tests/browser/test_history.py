"""History in the web client: boot brings only each channel's newest messages, and older ones
load as the reader scrolls up, without moving what they are reading.

SPEC "Boot" (revision 2), "History", guarantee 4 (revision 2) and "The web client"; issue 12.
Messages are sent through the API: the sending is not under test here.
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from browser_fixtures import (  # noqa: F401 - the *_fixture names are pytest fixtures
    Pages,
    api_send,
    bodies,
    browser_fixture,
    heard_events,
    listen_to_stream,
    log_in,
    me,
    open_channel,
    pages_fixture,
    room_title,
)
from playwright.sync_api import APIResponse, Locator, Page, Request, Route, expect

from conftest import ServerProcess

pytestmark = pytest.mark.timeout(60)

HISTORY = re.compile(r"/api/channels/[^/]+/messages\b")
# How far (CSS pixels) the message being read may move when older ones arrive above it.
STILL_PX = 2


class Held:
    """History requests held back (Playwright routes), to look at the page while they are on
    their way, then let them through."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.routes: list[Route] = []
        self.requests: list[Request] = []
        page.route(HISTORY, self._hold)

    def _hold(self, route: Route) -> None:
        self.routes.append(route)
        self.requests.append(route.request)

    def wait(self, count: int) -> None:
        """Waits until this many requests have been held in all."""
        deadline = time.monotonic() + 8
        while len(self.requests) < count and time.monotonic() < deadline:
            self.page.wait_for_timeout(50)
        assert len(self.requests) >= count, f"{len(self.requests)} history requests, not {count}"

    def release(self) -> None:
        routes, self.routes = self.routes, []
        for route in routes:
            route.continue_()

    def stop(self) -> None:
        self.release()
        self.page.unroute(HISTORY)


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def make_channel(client: httpx.Client, name: str, count: int) -> str:
    reply = client.post("/api/channels", json={"name": name})
    assert reply.status_code == 202, reply.text
    channel: str = reply.json()["id"]
    for i in range(count):
        api_send(client, channel, f"message {i}")
    return channel


def scroller(page: Page) -> Locator:
    return page.locator('[data-slot="scroller"]')


def top_of(page: Page, body: str) -> float:
    """Where a message's text is on the screen (its top, in CSS pixels)."""
    box = page.locator(".timeline .msg-body", has_text=re.compile(f"^{body}$")).bounding_box()
    assert box is not None, f"{body!r} is not shown"
    return float(box["y"])


def beginning(page: Page) -> Locator:
    return page.locator('[data-slot="timeline-top"]')


def kinds(events: list[dict[str, Any]]) -> set[str]:
    return {f"{e['type']}.{e['event']}" for e in events}


def test_scrolling_up_loads_older_messages_and_the_one_being_read_stays_put(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    make_channel(owner, "general", 120)
    make_channel(owner, "random", 1)
    page = pages.page()
    boots: list[str] = []
    page.on("request", lambda r: boots.append(r.url) if "/api/boot" in r.url else None)
    held = Held(page)
    page.goto(server.url)
    log_in(page, "Alice")
    expect(room_title(page)).to_have_text("#general")
    # Boot brought only the newest messages, and asked for only a few per channel.
    expect(bodies(page).last).to_have_text("message 119")
    shown = bodies(page).count()
    assert 0 < shown < 50, shown
    assert all(0 < int(query(url)["messages"]) <= 50 for url in boots), boots
    expect(beginning(page)).to_have_text("Loading older messages…")

    # They fill less than two screens: the page below them is asked for at once.
    held.wait(1)
    first = query(held.requests[0].url)
    assert first["limit"] == "50"
    assert int(first["before"]) > 0
    held.release()
    expect(bodies(page)).to_have_count(shown + 50)
    expect(bodies(page).last).to_have_text("message 119")
    oldest = 120 - shown - 50
    expect(bodies(page).first).to_have_text(f"message {oldest}")

    # The reader scrolls to the top: the next page is asked for, and while it comes the
    # message at the top is the one being read.
    scroller(page).evaluate("s => { s.scrollTop = 0; }")
    held.wait(2)
    assert int(query(held.requests[1].url)["before"]) < int(first["before"])
    before = top_of(page, f"message {oldest}")
    held.release()
    expect(bodies(page)).to_have_count(min(120, shown + 100))
    after = top_of(page, f"message {oldest}")
    assert abs(after - before) <= STILL_PX, (before, after)
    assert scroller(page).evaluate("s => s.scrollTop") > 0, "the older messages are above"
    # Scrolling on to the top brings the rest, a page at a time.
    asked = 2
    while bodies(page).count() < 120:
        asked += 1
        scroller(page).evaluate("s => { s.scrollTop = 0; }")
        held.wait(asked)
        held.release()
        expect(bodies(page)).to_have_count(min(120, shown + 50 * asked))
    expect(bodies(page).first).to_have_text("message 0")
    expect(beginning(page)).to_have_text("This is the beginning of #general.")
    held.stop()

    # Memory stays bounded: a channel left keeps only its newest messages, and the others
    # are fetched again when the reader comes back for them.
    open_channel(page, "random")
    open_channel(page, "general")
    kept = bodies(page).count()
    assert 50 <= kept < 120, kept
    expect(bodies(page).last).to_have_text("message 119")
    scroller(page).evaluate("s => { s.scrollTop = 0; }")
    expect(bodies(page)).to_have_count(120)
    expect(beginning(page)).to_have_text("This is the beginning of #general.")


def test_a_page_on_its_way_brings_back_no_message_deleted_or_edited_meanwhile(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    channel = make_channel(owner, "general", 120)
    everything = owner.get(f"/api/channels/{channel}/messages", params={"limit": 200})
    ids = {m["body"]: m["id"] for m in everything.json()["messages"]}
    page = pages.page()
    listen_to_stream(page)
    answered: list[tuple[Route, APIResponse]] = []
    # The server answers the page at once; the page gets the answer only when let through.
    page.route(HISTORY, lambda route: answered.append((route, route.fetch())))
    page.goto(server.url)
    log_in(page, "Alice")
    expect(bodies(page).last).to_have_text("message 119")
    deadline = time.monotonic() + 8
    while not answered and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert answered, "the page below boot's messages is asked for"
    route, response = answered.pop()
    in_page = [m["body"] for m in response.json()["messages"]]
    assert len(in_page) == 50, in_page
    gone, fixed = in_page[0], in_page[10]

    # After the server read the page, but before it arrives: a deletion and an edit of
    # messages in it, which this page hears on its stream first.
    assert owner.delete(f"/api/messages/{ids[gone]}").status_code == 202
    edit = owner.post(f"/api/messages/{ids[fixed]}", json={"body": f"{fixed}, fixed"})
    assert edit.status_code == 202, edit.text
    heard_events(page, lambda events: {"message.deleted", "message.edited"} <= kinds(events))
    route.fulfill(response=response)

    expect(page.locator(".timeline .msg-body", has_text=re.compile(f"^{fixed}"))).to_have_text(
        f"{fixed}, fixed (edited)"
    )
    assert gone not in bodies(page).all_text_contents()
    page.unroute(HISTORY)
