"""Private channels and direct messages in the web client: made, joined, left, and never
shown (or even streamed) to anyone outside them.

SPEC "Private channels and direct messages", "Events" ("Who receives what") and "The web
client"; issue 13. State that is not under test is made through the API.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from browser_fixtures import (  # noqa: F401 - the *_fixture names are pytest fixtures
    Pages,
    api_client,
    api_send,
    bodies,
    browser_fixture,
    confirmation,
    heard_events,
    listen_to_stream,
    log_in,
    me,
    member,
    open_channel,
    open_members,
    pages_fixture,
    room_title,
    send,
)
from playwright.sync_api import BrowserContext, Locator, Page, Response, expect

from conftest import ServerProcess, invite_user

pytestmark = pytest.mark.timeout(60)


def logged_in(
    pages: Pages, server: ServerProcess, name: str, context: BrowserContext | None = None
) -> Page:
    """A page logged in as a user (Alice: the owner; others: made with invite_user)."""
    page = pages.page(context)
    listen_to_stream(page)
    page.goto(server.url)
    if context is None or not context.cookies():
        log_in(page, name, "correct horse battery" if name == "Alice" else "password " + name)
    expect(me(page)).to_have_text(name)
    return page


def user_id(client: httpx.Client) -> str:
    found: str = client.get("/api/boot").json()["user"]["id"]
    return found


def channels(page: Page) -> Locator:
    return page.locator(".channel-list")


def directs(page: Page) -> Locator:
    """The names of the direct conversations in the sidebar."""
    return page.locator(".direct-list .channel-name")


def open_private(page: Page, name: str) -> None:
    channels(page).get_by_role("link", name=re.compile(rf"^{name}\b")).click()
    expect(room_title(page)).to_have_text(name)


def people_button(page: Page) -> Locator:
    return page.locator('[data-slot="room-people"]')


def people_dialog(page: Page) -> Locator:
    return page.locator('[data-slot="people-dialog"]')


def mentions_of(events: list[dict[str, Any]], channel: str) -> list[dict[str, Any]]:
    """The events that name a channel: about it, or about its messages."""
    return [e for e in events if channel in (e.get("id"), e.get("channel"))]


def test_a_private_channel_is_seen_live_by_its_member_and_never_by_anyone_else(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    general = owner.post("/api/channels", json={"name": "general"}).json()["id"]
    invite_user(server, owner, "Bob")
    invite_user(server, owner, "Carol")
    alice = logged_in(pages, server, "Alice")
    bob = logged_in(pages, server, "Bob")
    carol = logged_in(pages, server, "Carol")

    alice.get_by_role("button", name="New channel").click()
    alice.get_by_label("Channel name").fill("plans")
    alice.get_by_label("Private").check()
    alice.get_by_role("group", name="Members").get_by_label("Bob").check()
    alice.get_by_role("button", name="Create", exact=True).click()
    expect(room_title(alice)).to_have_text("plans")
    plans = alice.url.rsplit("/", 1)[1]
    expect(people_button(alice)).to_have_text("Bob and you")
    send(alice, "the surprise party is on Friday")

    expect(channels(bob)).to_contain_text("plans")
    open_private(bob, "plans")
    expect(bodies(bob)).to_have_text(["the surprise party is on Friday"])
    expect(people_button(bob)).to_have_text("Alice and you")

    # Carol: a public message sent after everything above reaches her stream after it (one
    # stream is in order): by then she would have heard of the channel if it leaked.
    api_send(owner, general, "lunch, anyone?")
    expect(bodies(carol)).to_have_text(["lunch, anyone?"])
    expect(channels(carol)).not_to_contain_text("plans")
    heard = heard_events(carol)
    assert any(e.get("body") == "lunch, anyone?" for e in heard), heard
    assert mentions_of(heard, plans) == []
    # The stream Bob's page follows did carry it (the check above can see a leak).
    assert mentions_of(heard_events(bob), plans)

    carol.goto(f"{server.url}/channels/{plans}")
    expect(room_title(carol)).to_have_text("No such channel")
    expect(carol.locator(".timeline .msg")).to_have_count(0)


def test_someone_added_sees_the_channel_at_once_with_its_history(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    owner.post("/api/channels", json={"name": "general"})
    invite_user(server, owner, "Bob")
    plans = owner.post("/api/channels", json={"name": "plans", "kind": "private"}).json()["id"]
    for i in range(70):
        api_send(owner, plans, f"plan {i}")
    alice = logged_in(pages, server, "Alice")
    bob = logged_in(pages, server, "Bob")
    open_private(alice, "plans")
    expect(people_button(alice)).to_have_text("You")

    people_button(alice).click()
    dialog = people_dialog(alice)
    expect(dialog.get_by_role("heading", name="Members of plans")).to_be_visible()
    dialog.get_by_role("group", name="People to add").get_by_label("Bob").check()
    dialog.get_by_role("button", name="Add", exact=True).click()
    expect(dialog.locator(".member-name")).to_have_text(["Alice", "Bob"])
    alice.keyboard.press("Escape")
    expect(people_button(alice)).to_have_text("Bob and you")

    # Bob's page was open before: the channel comes with its newest messages, and the
    # older ones as he scrolls up, down to its beginning.
    expect(channels(bob)).to_contain_text("plans")
    # What was said before he joined is not unread; what is said after is.
    badge = channels(bob).locator("a", has_text="plans").locator(".badge")
    expect(badge).to_be_hidden()
    send(alice, "welcome, Bob")
    expect(badge).to_have_text("1 unread")
    open_private(bob, "plans")
    expect(bodies(bob).last).to_have_text("welcome, Bob")
    bob.locator('[data-slot="scroller"]').evaluate("s => { s.scrollTop = 0; }")
    expect(bodies(bob)).to_have_count(71)
    expect(bodies(bob).first).to_have_text("plan 0")
    expect(bob.locator('[data-slot="timeline-top"]')).to_have_text(
        "This is the beginning of plans."
    )


def test_a_member_removed_or_leaving_loses_the_channel_at_once_in_every_tab(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    owner.post("/api/channels", json={"name": "general"})
    bob_id = user_id(invite_user(server, owner, "Bob"))
    carol_id = user_id(invite_user(server, owner, "Carol"))
    plans = owner.post(
        "/api/channels", json={"name": "plans", "kind": "private", "members": [bob_id, carol_id]}
    ).json()["id"]
    api_send(owner, plans, "welcome, both")
    alice = logged_in(pages, server, "Alice")
    bob_context = pages.context()
    bob = [logged_in(pages, server, "Bob", bob_context) for _ in range(2)]
    carol_context = pages.context()
    carol = [logged_in(pages, server, "Carol", carol_context) for _ in range(2)]
    for tab in (*bob, *carol):
        tab.goto(f"{server.url}/channels/{plans}")
        expect(bodies(tab)).to_have_text(["welcome, both"])

    # An admin who is a member removes Bob.
    open_private(alice, "plans")
    people_button(alice).click()
    dialog = people_dialog(alice)
    member(alice, "Bob").get_by_role("button", name="Remove Bob").click()
    asked = confirmation(alice)
    expect(asked.get_by_role("heading")).to_have_text("Remove Bob from plans?")
    asked.get_by_role("button", name="Remove", exact=True).click()
    expect(dialog.locator(".member-name")).to_have_text(["Alice", "Carol"])
    for tab in bob:
        expect(channels(tab)).not_to_contain_text("plans")
        expect(room_title(tab)).to_have_text("#general")

    # Carol leaves, from one of her tabs, after saying yes.
    tab = carol[0]
    people_button(tab).click()
    people_dialog(tab).get_by_role("button", name="Leave channel").click()
    asked = confirmation(tab)
    expect(asked.get_by_role("heading")).to_have_text("Leave plans?")
    expect(asked).to_contain_text("someone in it must add you again")
    asked.get_by_role("button", name="Cancel").click()
    expect(channels(tab)).to_contain_text("plans")
    people_button(tab).click()
    people_dialog(tab).get_by_role("button", name="Leave channel").click()
    asked.get_by_role("button", name="Leave channel").click()
    for tab in carol:
        expect(channels(tab)).not_to_contain_text("plans")
        expect(room_title(tab)).to_have_text("#general")
    expect(people_button(alice)).to_have_text("You")


def test_a_direct_conversation_starts_from_the_member_list_and_is_found_again(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    owner.post("/api/channels", json={"name": "general"})
    invite_user(server, owner, "Bob")
    invite_user(server, owner, "Carol")
    alice = logged_in(pages, server, "Alice")
    bob = logged_in(pages, server, "Bob")
    carol = logged_in(pages, server, "Carol")
    answers: list[Response] = []
    alice.on("response", lambda r: answers.append(r) if r.url.endswith("/api/direct") else None)

    open_members(alice)
    member(alice, "Bob").get_by_role("button", name="Message Bob").click()
    expect(room_title(alice)).to_have_text("Bob")
    conversation = alice.url
    expect(directs(alice)).to_have_text(["Bob"])
    send(alice, "a word in private?")
    expect(directs(bob)).to_have_text(["Alice"])
    bob.locator(".direct-list").get_by_role("link", name="Alice").click()
    expect(bodies(bob)).to_have_text(["a word in private?"])
    expect(carol.get_by_text("No conversations yet.")).to_be_visible()

    # Again from the member list: the same conversation (the server answers 200).
    open_channel(alice, "general")
    open_members(alice)
    member(alice, "Bob").get_by_role("button", name="Message Bob").click()
    expect(room_title(alice)).to_have_text("Bob")
    assert alice.url == conversation
    expect(bodies(alice)).to_have_text(["a word in private?"])
    assert [r.status for r in answers] == [202, 200]

    # Several people at once, and oneself alone: named by the others, or "You".
    alice.get_by_role("button", name="New message", exact=True).click()
    picker = alice.get_by_role("dialog", name="New message")
    picker.get_by_label("Bob").check()
    picker.get_by_label("Carol").check()
    picker.get_by_role("button", name="Start conversation").click()
    expect(room_title(alice)).to_have_text("Bob, Carol")
    send(alice, "all three of us")
    expect(directs(carol)).to_have_text(["Alice, Bob"])
    open_members(alice)
    member(alice, "Alice").get_by_role("button", name="Message yourself").click()
    expect(room_title(alice)).to_have_text("You")
    expect(directs(alice)).to_have_text(["Bob", "Bob, Carol", "You"])
    expect(people_button(alice)).to_have_text("You")

    # A renamed member: every conversation shows the new name.
    bob_api = api_client(server, "Bob", "password Bob")
    reply = bob_api.post(f"/api/users/{user_id(bob_api)}", json={"name": "Robert"})
    assert reply.status_code == 202, reply.text
    expect(directs(alice)).to_have_text(["Robert", "Robert, Carol", "You"])
    expect(directs(carol)).to_have_text(["Alice, Robert"])
