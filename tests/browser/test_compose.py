"""The compose box: line breaks on touch screens, a draft per channel, messages that wait for
the connection and are sent once, and typing while a message is on its way.

SPEC "The web client" and "Channels and messages" (client_id); issue 16, bugs 1-4. State
that is not under test is made through the API.
"""

from __future__ import annotations

import json
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
    open_channel,
    pages_fixture,
    room_title,
    send,
)
from playwright.sync_api import BrowserContext, Page, Route, expect

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


def unsent(page: Page) -> Any:
    """Messages in the outbox: being sent, or waiting to be sent again."""
    return page.locator(".timeline .msg", has=page.locator(".msg-outbox"))


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


# --- bug 4: typing while a message is on its way ---


def test_what_is_typed_while_a_message_is_on_its_way_is_the_next_message(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    general = owner.post("/api/channels", json={"name": "general"}).json()["id"]
    page = logged_in(pages, server)
    # The first send's answer is held back until "line two" has been typed and sent.
    held: list[Route] = []

    def hold_first(route: Route) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route(sends_to(general), hold_first)
    box = compose(page)
    box.fill("line one")
    box.press("Enter")
    expect(box).to_have_value("")
    eventually(lambda: len(held), 1, page)
    box.press_sequentially("line two")
    expect(box).to_have_value("line two")
    box.press("Enter")
    expect(box).to_have_value("")
    held[0].continue_()
    eventually(lambda: stored(owner, general), ["line one", "line two"], page)
    expect(bodies(page)).to_have_text(["line one", "line two"])
    expect(pending(page)).to_have_count(0)


# --- bug 2: a draft per channel ---


def test_each_channel_keeps_its_own_draft_across_switches_and_reloads(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    general = owner.post("/api/channels", json={"name": "general"}).json()["id"]
    random = owner.post("/api/channels", json={"name": "random"}).json()["id"]
    page = logged_in(pages, server)
    page.goto(f"{server.url}/channels/{general}")
    expect(room_title(page)).to_have_text("#general")
    compose(page).fill("half a thought for general")
    open_channel(page, "random")
    expect(compose(page)).to_have_value("")
    compose(page).fill("something for random")
    open_channel(page, "general")
    expect(compose(page)).to_have_value("half a thought for general")

    page.reload()
    expect(room_title(page)).to_have_text("#general")
    expect(compose(page)).to_have_value("half a thought for general")
    open_channel(page, "random")
    expect(compose(page)).to_have_value("something for random")
    # Sending empties the draft: it does not come back.
    compose(page).press("Enter")
    expect(bodies(page)).to_have_text(["something for random"])
    open_channel(page, "general")
    open_channel(page, "random")
    expect(compose(page)).to_have_value("")
    assert stored(owner, general) == []
    eventually(lambda: stored(owner, random), ["something for random"])


def test_the_draft_of_a_deleted_channel_is_kept_and_never_sent_elsewhere(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    general = owner.post("/api/channels", json={"name": "general"}).json()["id"]
    doomed = owner.post("/api/channels", json={"name": "doomed"}).json()["id"]
    page = logged_in(pages, server)
    page.goto(f"{server.url}/channels/{doomed}")
    expect(room_title(page)).to_have_text("#doomed")
    compose(page).fill("my unfinished words")

    assert owner.delete(f"/api/channels/{doomed}").status_code in (200, 202, 204)
    expect(room_title(page)).to_have_text("#general")
    expect(compose(page)).to_have_value("")
    kept = page.locator(".compose-orphan")
    expect(kept).to_contain_text("#doomed")
    expect(kept).to_contain_text("my unfinished words")
    compose(page).press("Enter")
    page.wait_for_timeout(300)
    assert stored(owner, general) == []

    # Still there after a reload; put into the box only when asked.
    page.reload()
    expect(kept).to_contain_text("my unfinished words")
    kept.get_by_role("button", name=re.compile("^Put your text")).click()
    expect(compose(page)).to_have_value("my unfinished words")
    expect(kept).to_have_count(0)


# --- bug 3: messages that wait for the connection ---


def test_a_message_sent_while_the_server_is_down_waits_and_goes_when_it_is_back(
    start_server: Any, pages: Pages
) -> None:
    server: ServerProcess = start_server("--port", str(free_port()))
    owner = server.set_up("Alice", PASSWORD)
    general = owner.post("/api/channels", json={"name": "general"}).json()["id"]
    page = logged_in(pages, server)
    server.stop()
    expect(banner(page)).to_contain_text("Reconnecting")
    compose(page).fill("written on the train")
    compose(page).press("Enter")
    expect(compose(page)).to_have_value("")
    expect(unsent(page)).to_have_count(1)
    expect(unsent(page)).to_contain_text("Not sent yet")
    expect(unsent(page)).to_contain_text("will be sent when the connection is back")

    server.start()  # the same database, on the same port
    expect(banner(page)).to_be_hidden(timeout=15000)
    owner = server.log_in("Alice", PASSWORD)
    eventually(lambda: stored(owner, general), ["written on the train"], page)
    expect(unsent(page)).to_have_count(0)
    expect(bodies(page)).to_have_text(["written on the train"])


def test_a_retry_after_a_lost_answer_posts_once(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    general = owner.post("/api/channels", json={"name": "general"}).json()["id"]
    page = pages.page()
    # No event stream: only the answers to the sends can tell the page what was posted.
    page.route(EVENTS, lambda route: route.abort())
    page.goto(server.url)
    log_in(page, "Alice", PASSWORD)
    expect(me(page)).to_have_text("Alice")
    tries: list[str] = []

    def lose_first_answer(route: Route) -> None:
        tries.append(json.loads(route.request.post_data or "{}")["client_id"])
        if len(tries) == 1:
            route.fetch()  # the server posts it; the answer never reaches the page
            route.abort()
        else:
            route.continue_()

    page.route(sends_to(general), lose_first_answer)
    compose(page).fill("only once")
    compose(page).press("Enter")
    expect(unsent(page)).to_contain_text("Not sent yet")
    eventually(lambda: stored(owner, general), ["only once"], page)
    unsent(page).get_by_role("button", name="Retry now").click()
    expect(unsent(page)).to_have_count(0)
    expect(bodies(page)).to_have_text(["only once"])
    assert len(tries) == 2
    assert tries[0] == tries[1]
    assert stored(owner, general) == ["only once"]


def test_an_unsent_message_survives_a_reload_and_can_be_discarded(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    general = owner.post("/api/channels", json={"name": "general"}).json()["id"]
    page = logged_in(pages, server)
    page.route(sends_to(general), lambda route: route.abort())
    send(page, "keep me")
    send(page, "drop me")
    expect(unsent(page)).to_have_count(2)
    expect(unsent(page).first).to_contain_text("Not sent yet")

    page.reload()
    expect(bodies(page)).to_have_text(["keep me", "drop me"])
    expect(unsent(page)).to_have_count(2)
    unsent(page).filter(has_text="drop me").get_by_role(
        "button", name="Discard this unsent message"
    ).click()
    expect(bodies(page)).to_have_text(["keep me"])
    page.unroute(sends_to(general))
    unsent(page).get_by_role("button", name="Retry now").click()
    eventually(lambda: stored(owner, general), ["keep me"], page)
    expect(unsent(page)).to_have_count(0)
    page.reload()
    expect(bodies(page)).to_have_text(["keep me"])
    assert stored(owner, general) == ["keep me"]


def test_a_message_waiting_for_a_channel_that_goes_is_kept_as_its_draft(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    general = owner.post("/api/channels", json={"name": "general"}).json()["id"]
    doomed = owner.post("/api/channels", json={"name": "doomed"}).json()["id"]
    page = logged_in(pages, server)
    page.goto(f"{server.url}/channels/{doomed}")
    expect(room_title(page)).to_have_text("#doomed")
    page.route(sends_to(doomed), lambda route: route.abort())
    send(page, "waiting for doomed")
    expect(unsent(page)).to_contain_text("Not sent yet")
    compose(page).fill("still typing")

    assert owner.delete(f"/api/channels/{doomed}").status_code in (200, 202, 204)
    expect(room_title(page)).to_have_text("#general")
    kept = page.locator(".compose-orphan")
    expect(kept).to_contain_text("#doomed")
    expect(kept).to_contain_text("still typing\nwaiting for doomed")
    page.unroute(sends_to(doomed))
    page.wait_for_timeout(300)
    assert stored(owner, general) == []
