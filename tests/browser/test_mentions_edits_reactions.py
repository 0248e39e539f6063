"""Mentions, edits, reactions and client_id in the web client.

SPEC "Mentions, edits and reactions", "Channels and messages" (client_id) and "The web
client"; issues 14 and 15. State that is not under test is made through the API.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from browser_fixtures import (  # noqa: F401 - the *_fixture names are pytest fixtures
    PHONE,
    Pages,
    api_send,
    bodies,
    browser_fixture,
    compose,
    eventually,
    log_in,
    me,
    pages_fixture,
    room_title,
    send,
)
from playwright.sync_api import BrowserContext, Locator, Page, Request, Route, expect

from conftest import ServerProcess, invite_user

pytestmark = pytest.mark.timeout(60)


def logged_in(
    pages: Pages, server: ServerProcess, name: str, context: BrowserContext | None = None
) -> Page:
    """A page logged in as a user made with invite_user (Alice: the owner)."""
    page = pages.page(context)
    page.goto(server.url)
    log_in(page, name, "correct horse battery" if name == "Alice" else "password " + name)
    expect(me(page)).to_have_text(name)
    return page


def user_id(client: httpx.Client) -> str:
    found: str = client.get("/api/boot").json()["user"]["id"]
    return found


def message(page: Page, text: str) -> Locator:
    return page.locator(".timeline .msg", has_text=text)


def options(page: Page) -> Locator:
    return page.get_by_role("listbox", name="People to mention").get_by_role("option")


def body_of(request: Request) -> dict[str, Any]:
    """A request's JSON body."""
    body = request.post_data_json
    assert isinstance(body, dict), body
    return body


def in_sight(action: Locator) -> bool:
    """Whether a message's action shows: its row of actions takes more than a pixel (what
    is clipped keeps its own size)."""
    shown: bool = action.evaluate(
        "e => e.closest('.msg-actions').getBoundingClientRect().width > 1"
    )
    return shown


def sends(page: Page) -> list[dict[str, Any]]:
    """Records the bodies of the messages the page sends (POST /api/channels/{id})."""
    sent: list[dict[str, Any]] = []

    def seen(request: Request) -> None:
        if request.method == "POST" and re.search(r"/api/channels/C[^/]+$", request.url):
            sent.append(body_of(request))

    page.on("request", seen)
    return sent


def test_at_offers_the_people_here_and_fills_mentions(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    owner.post("/api/channels", json={"name": "general"})
    bob = invite_user(server, owner, "Bob")
    carol = invite_user(server, owner, "Carol")
    invite_user(server, owner, "Cassandra")
    dave = invite_user(server, owner, "Dave")
    dave_id = user_id(dave)
    assert owner.post(f"/api/users/{dave_id}", json={"active": False}).status_code == 202
    carol_id = user_id(carol)
    page = logged_in(pages, server, "Bob")
    carol_page = logged_in(pages, server, "Carol")
    sent = sends(page)

    box = compose(page)
    box.press_sequentially("hi @ca")
    expect(options(page)).to_have_text(["Carol", "Cassandra"])
    expect(box).to_have_attribute("aria-activedescendant", re.compile("mention-list"))
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")  # picks, does not send
    expect(options(page)).to_have_count(0)
    expect(box).to_have_value("hi @Carol ")
    box.press_sequentially("lunch?")
    box.press("Enter")
    expect(box).to_have_value("")
    expect(bodies(page)).to_have_text(["hi @Carol lunch?"])
    eventually(lambda: len(sent), 1, page)
    assert sent[0]["mentions"] == [carol_id]
    assert re.fullmatch(r"[0-9a-f-]{32,36}", sent[0]["client_id"]), sent[0]

    # Shown marked, as text; the person mentioned sees their own name marked, and the message.
    expect(message(page, "lunch?").locator(".mention")).to_have_text("@Carol")
    expect(message(page, "lunch?")).not_to_have_class(re.compile("mentions-me"))
    expect(message(carol_page, "lunch?").locator(".mention-self")).to_have_text("@Carol")
    expect(message(carol_page, "lunch?")).to_have_class(re.compile("mentions-me"))

    # A name picked, then deleted from the text: nobody is mentioned. Deactivated people and
    # oneself are not offered; a click picks too.
    box.press_sequentially("@d")
    expect(options(page)).to_have_count(0)
    box.fill("")
    box.press_sequentially("@")
    expect(options(page)).to_have_text(["Alice", "Carol", "Cassandra"])
    options(page).filter(has_text="Cassandra").click()
    expect(box).to_have_value("@Cassandra ")
    expect(box).to_be_focused()
    box.fill("never mind")
    box.press("Enter")
    eventually(lambda: len(sent), 2, page)
    assert sent[1]["mentions"] == []
    assert sent[1]["client_id"] != sent[0]["client_id"]
    box.press_sequentially("@Car")
    page.keyboard.press("Escape")
    expect(options(page)).to_have_count(0)
    expect(box).to_have_value("@Car")

    # In a private channel, only its members are offered.
    plans = bob.post(
        "/api/channels", json={"name": "plans", "kind": "private", "members": [carol_id]}
    ).json()["id"]
    page.goto(f"{server.url}/channels/{plans}")
    expect(room_title(page)).to_have_text("plans")
    box.press_sequentially("@")
    expect(options(page)).to_have_text(["Carol"])


def test_up_arrow_edits_ones_last_message_in_place(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    general = owner.post("/api/channels", json={"name": "general"}).json()["id"]
    invite_user(server, owner, "Bob")
    carol_id = user_id(invite_user(server, owner, "Carol"))
    page = logged_in(pages, server, "Bob")
    alice = logged_in(pages, server, "Alice")
    send(page, "first")
    send(page, "helo wrold")
    api_send(owner, general, "someone else's")
    expect(bodies(page)).to_have_text(["first", "helo wrold", "someone else's"])

    box = compose(page)
    box.press("ArrowUp")
    editor = page.get_by_role("textbox", name="Edit your message")
    expect(editor).to_be_focused()
    expect(editor).to_have_value("helo wrold")
    editor.fill("hello world")
    editor.press("Enter")
    expect(editor).to_have_count(0)
    expect(box).to_be_focused()
    for p in (page, alice):
        expect(message(p, "hello world").locator(".msg-body")).to_have_text("hello world (edited)")
        mark = message(p, "hello world").locator(".msg-edited")
        expect(mark).to_have_attribute("title", re.compile(r"^Edited "))

    # Esc cancels; ↑ in a box with text moves the caret, as in any text box.
    box.press("ArrowUp")
    editor.fill("something else entirely")
    editor.press("Escape")
    expect(editor).to_have_count(0)
    expect(bodies(page)).to_have_text(["first", "hello world (edited)", "someone else's"])
    box.fill("draft")
    box.press("ArrowUp")
    expect(editor).to_have_count(0)

    # "Edit" in the message's actions, with a mention added while editing.
    first = message(page, "first")
    first.hover()
    first.get_by_role("button", name=re.compile("^Edit your message")).click()
    expect(editor).to_have_value("first")
    editor.press("End")
    editor.press_sequentially(" @Car")
    page.keyboard.press("Enter")  # picks Carol
    with page.expect_request(lambda r: r.method == "POST" and "/api/messages/" in r.url) as info:
        page.get_by_role("button", name="Save").click()
    assert info.value.post_data_json == {"body": "first @Carol ", "mentions": [carol_id]}
    expect(message(alice, "first").locator(".mention")).to_have_text("@Carol")
    # Only one's own messages have "Edit".
    expect(message(page, "someone else's").locator(".msg-edit-button")).to_have_count(0)


def test_on_a_phone_a_tap_shows_a_messages_actions_under_it(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    general = owner.post("/api/channels", json={"name": "general"}).json()["id"]
    api_send(owner, general, "one")
    api_send(owner, general, "two")
    page = logged_in(pages, server, "Alice", pages.context(PHONE))
    one, two = message(page, "one"), message(page, "two")
    edit = one.get_by_role("button", name=re.compile("^Edit your message"))
    # Out of sight (clipped to a pixel, which Playwright still calls visible), not gone: a
    # screen reader still finds them.
    expect(edit).to_have_count(1)
    eventually(lambda: in_sight(edit), False, page)
    body_width = one.locator(".msg-body").evaluate("b => b.getBoundingClientRect().width")
    assert body_width > 250, "the text has the width of the screen, not a narrow column"

    one.locator(".msg-body").click()
    eventually(lambda: in_sight(edit), True, page)
    two.locator(".msg-body").click()
    eventually(lambda: in_sight(edit), False, page)
    assert in_sight(two.get_by_role("button", name=re.compile("^React to")))
    two.get_by_role("button", name=re.compile("^Edit your message")).click()
    editor = page.get_by_role("textbox", name="Edit your message")
    expect(editor).to_have_value("two")
    editor.fill("two, edited")
    page.get_by_role("button", name="Save").click()
    expect(bodies(page)).to_have_text(["one", "two, edited (edited)"])


def test_reactions_toggle_and_show_counts_and_who(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    general = owner.post("/api/channels", json={"name": "general"}).json()["id"]
    invite_user(server, owner, "Bob")
    api_send(owner, general, "cake in the kitchen")
    bob = logged_in(pages, server, "Bob")
    touch = pages.browser.new_context(has_touch=True, locale="en-GB")
    pages.contexts.append(touch)
    alice = logged_in(pages, server, "Alice", touch)

    item = message(bob, "cake")
    item.hover()
    item.get_by_role("button", name=re.compile("^React to Alice\u2019s message")).click()
    picker = bob.get_by_role("group", name="Pick a reaction")
    expect(picker.get_by_role("button", name="React with 👍")).to_be_focused()
    picker.get_by_role("button", name="React with 🎉").click()
    expect(picker).to_be_hidden()
    mine = item.locator(".reaction", has_text="🎉")
    expect(mine).to_have_text("🎉1")
    expect(mine).to_have_attribute("aria-pressed", "true")
    expect(mine).to_have_attribute("title", "You reacted with 🎉")

    theirs = message(alice, "cake").locator(".reaction", has_text="🎉")
    expect(theirs).to_have_text("🎉1")
    expect(theirs).to_have_attribute("aria-pressed", "false")
    expect(theirs).to_have_attribute("title", "Bob reacted with 🎉")
    theirs.click()  # Alice adds hers
    expect(theirs).to_have_text("🎉2")
    expect(theirs).to_have_attribute("aria-pressed", "true")
    expect(theirs).to_have_attribute("title", "You and Bob reacted with 🎉")
    expect(mine).to_have_text("🎉2")
    expect(mine).to_have_attribute("title", "You and Alice reacted with 🎉")

    # A long press on a touch screen shows who reacted (and does not toggle).
    theirs.dispatch_event("pointerdown", {"pointerType": "touch", "isPrimary": True})
    alice.wait_for_timeout(700)
    theirs.dispatch_event("pointerup", {"pointerType": "touch", "isPrimary": True})
    theirs.dispatch_event("click")
    expect(message(alice, "cake").locator(".reaction-who")).to_have_text(
        "You and Bob reacted with 🎉"
    )
    expect(theirs).to_have_text("🎉2")

    mine.click()  # Bob takes his back
    expect(mine).to_have_text("🎉1")
    expect(mine).to_have_attribute("aria-pressed", "false")
    expect(theirs).to_have_attribute("title", "You reacted with 🎉")

    # Free text: a short word or any emoji.
    item.hover()
    item.get_by_role("button", name=re.compile("^React to")).click()
    other = picker.get_by_label("Another reaction")
    other.fill("x" * 33)
    other.press("Enter")
    expect(picker.get_by_role("alert")).to_have_text("A reaction can be at most 32 characters.")
    other.fill("+1")
    other.press("Enter")
    expect(item.locator(".reaction")).to_have_text(["🎉1", "+11"])
    expect(message(alice, "cake").locator(".reaction")).to_have_text(["🎉1", "+11"])
    item.hover()
    item.get_by_role("button", name=re.compile("^React to")).click()
    bob.keyboard.press("Escape")
    expect(picker).to_be_hidden()

    # The server holds the same: taking one back by its percent-encoded emoji worked.
    reactions = owner.get("/api/boot").json()["messages"][0]["reactions"]
    assert [(r["emoji"], len(r["users"])) for r in reactions] == [("🎉", 1), ("+1", 1)]


def test_the_sending_tab_shows_its_message_once_whichever_comes_first(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    general = owner.post("/api/channels", json={"name": "general"}).json()["id"]
    context = pages.context()
    page = logged_in(pages, server, "Alice", context)
    other_tab = pages.page(context)
    other_tab.goto(f"{server.url}/channels/{general}")
    expect(room_title(other_tab)).to_have_text("#general")

    # The answer to the send is held back until the message's event has been shown.
    held: list[tuple[Route, Any]] = []
    sent = re.compile(rf"/api/channels/{general}$")
    page.route(sent, lambda route: held.append((route, route.fetch())))
    compose(page).fill("event first")
    compose(page).press("Enter")
    expect(compose(page)).to_have_value("")
    expect(bodies(page)).to_have_text(["event first"])
    eventually(lambda: len(held), 1, page)
    expect(bodies(other_tab)).to_have_text(["event first"])
    expect(page.locator(".timeline .msg.pending")).to_have_count(0)
    route, answer = held[0]
    assert answer.json()["client_id"] == body_of(route.request)["client_id"]
    route.fulfill(response=answer)
    page.unroute(sent)
    page.wait_for_timeout(300)
    expect(bodies(page)).to_have_text(["event first"])

    # A send that can't reach the server waits in the timeline (issue 16); sent again, it
    # keeps its client_id.
    tries: list[dict[str, Any]] = []

    def refuse_once(route: Route) -> None:
        tries.append(body_of(route.request))
        if len(tries) == 1:
            route.abort()
        else:
            route.continue_()

    page.route(sent, refuse_once)
    compose(page).fill("second try")
    compose(page).press("Enter")
    waiting = page.locator(".timeline .msg-outbox")
    expect(waiting).to_contain_text("Not sent yet")
    expect(compose(page)).to_have_value("")
    page.get_by_role("button", name="Retry now").click()
    expect(bodies(page)).to_have_text(["event first", "second try"])
    assert len(tries) == 2
    assert tries[0]["client_id"] == tries[1]["client_id"]
    expect(bodies(other_tab)).to_have_text(["event first", "second try"])
    assert [m["body"] for m in owner.get("/api/boot").json()["messages"]] == [
        "event first",
        "second try",
    ]
