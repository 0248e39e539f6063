"""Read state and notifications in the web client: counts from the server that agree across
browsers, a channel read only once its newest message was on screen, the mention badge, the
unread total in the title, the notification level, and system notifications.

SPEC "Read state and notifications" and "The web client"; issue 14. State that is not under
test is made through the API.
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
    eventually,
    log_in,
    me,
    pages_fixture,
    room_title,
)
from playwright.sync_api import BrowserContext, Locator, Page, expect

from conftest import ServerProcess, invite_user

pytestmark = pytest.mark.timeout(60)

# Replaces the Notification API with a recorder (headless Chromium shows no notifications),
# and lets the test hide the page: document.visibilityState follows window.__setHidden.
FAKE_NOTIFICATIONS = """
window.__notes = [];
window.__asked = 0;
class RecordedNotification {
  static permission = "default";
  static async requestPermission() {
    window.__asked++;
    RecordedNotification.permission = "granted";
    return "granted";
  }
  constructor(title, options) {
    this.title = title;
    this.options = options || {};
    this.onclick = null;
    this.closed = false;
    window.__notes.push(this);
  }
  close() { this.closed = true; }
}
window.Notification = RecordedNotification;
let hidden = false;
Object.defineProperty(document, "visibilityState", {
  configurable: true, get: () => (hidden ? "hidden" : "visible"),
});
Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
window.__setHidden = (value) => {
  hidden = value;
  document.dispatchEvent(new Event("visibilitychange"));
};
"""


def logged_in(pages: Pages, server: ServerProcess, name: str, context: BrowserContext) -> Page:
    """A page logged in as a user made with invite_user (Alice: the owner)."""
    page = pages.page(context)
    page.goto(server.url)
    if not context.cookies():
        log_in(page, name, "correct horse battery" if name == "Alice" else "password " + name)
    expect(me(page)).to_have_text(name)
    return page


def user_id(client: httpx.Client) -> str:
    found: str = client.get("/api/boot").json()["user"]["id"]
    return found


def reads(client: httpx.Client, channel: str) -> dict[str, Any]:
    """The user's read state of a channel, as a fresh boot gives it."""
    state: dict[str, Any] = client.get("/api/boot?messages=0").json()["reads"][channel]
    return state


def link(page: Page, name: str) -> Locator:
    return page.locator(".channel-list a", has_text=name)


def unread(page: Page, name: str) -> Locator:
    return link(page, name).locator(".badge")


def mention_badge(page: Page, name: str) -> Locator:
    return link(page, name).locator(".mention-badge")


def open_channel(page: Page, name: str) -> None:
    link(page, name).click()
    expect(room_title(page)).to_have_text(f"#{name}")


def scroller(page: Page) -> Locator:
    return page.locator('[data-slot="scroller"]')


def stream_role(page: Page) -> str:
    role: str = page.evaluate("document.documentElement.dataset.stream")
    return role


def notes(page: Page) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate(
        "window.__notes.map(n => ({title: n.title, body: n.options.body, tag: n.options.tag}))"
    )
    return found


def test_counts_agree_across_two_browsers_of_one_person_and_show_in_the_title(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    general = owner.post("/api/channels", json={"name": "general"}).json()["id"]
    random = owner.post("/api/channels", json={"name": "random"}).json()["id"]
    bob = invite_user(server, owner, "Bob")
    laptop = logged_in(pages, server, "Bob", pages.context())
    phone = logged_in(pages, server, "Bob", pages.context(PHONE))
    open_channel(laptop, "general")
    phone.get_by_role("button", name=re.compile("Channels")).click()
    open_channel(phone, "general")

    for i in range(3):
        api_send(owner, random, f"over here {i}")
    for page in (laptop, phone):
        expect(unread(page, "random")).to_have_text("3 unread")
        expect(page).to_have_title("(3) #general · parlour")
    expect(phone.locator('[data-slot="elsewhere"]')).to_have_text("3")
    assert reads(bob, random)["unread"] == 3

    # Read on the laptop: the phone's badge and title clear through its own stream.
    open_channel(laptop, "random")
    expect(bodies(laptop)).to_have_text([f"over here {i}" for i in range(3)])
    expect(unread(laptop, "random")).to_be_hidden()
    expect(laptop).to_have_title("#random · parlour")
    expect(unread(phone, "random")).to_be_hidden()
    expect(phone).to_have_title("#general · parlour")
    expect(phone.locator('[data-slot="elsewhere"]')).to_be_hidden()
    state = reads(bob, random)
    assert state["unread"] == 0
    newest = owner.get(f"/api/channels/{random}/messages").json()["messages"][-1]["seq"]
    assert state["seq"] == newest

    # The phone shows its list of channels (the room is out of sight): a new message in the
    # channel it had open stays unread in both; a reload gets the same count from the server.
    phone.get_by_role("button", name=re.compile("Channels")).click()
    expect(link(phone, "general")).to_be_visible()
    api_send(owner, general, "and in general")
    for page in (laptop, phone):
        expect(unread(page, "general")).to_have_text("1 unread")
    laptop.reload()
    expect(unread(laptop, "general")).to_have_text("1 unread")
    expect(laptop).to_have_title("(1) #random · parlour")
    assert reads(bob, general)["unread"] == 1
    # Back in the room, the phone reads it, and the laptop hears.
    open_channel(phone, "general")
    expect(unread(laptop, "general")).to_be_hidden()
    expect(laptop).to_have_title("#random · parlour")


def test_a_channel_is_read_only_once_its_newest_message_was_on_screen(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    general = owner.post("/api/channels", json={"name": "general"}).json()["id"]
    bob = invite_user(server, owner, "Bob")
    page = logged_in(pages, server, "Bob", pages.context())
    for i in range(40):
        api_send(owner, general, f"message {i}")
    expect(bodies(page)).to_have_count(40)
    expect(unread(page, "general")).to_be_hidden()  # shown at the bottom: read
    eventually(lambda: reads(bob, general)["unread"], 0)

    # Scrolled up to read older messages: a new one is not on screen, so it stays unread.
    scroller(page).evaluate("s => { s.scrollTop = 0; }")
    newest = api_send(owner, general, "while you were reading")
    expect(page.get_by_role("button", name="New messages")).to_be_visible()
    expect(unread(page, "general")).to_have_text("1 unread")
    expect(page).to_have_title("(1) #general · parlour")
    page.wait_for_timeout(1000)
    assert reads(bob, general)["unread"] == 1

    page.get_by_role("button", name="New messages").click()
    expect(unread(page, "general")).to_be_hidden()
    expect(page).to_have_title("#general · parlour")
    eventually(lambda: reads(bob, general)["unread"], 0)
    seq = next(m["seq"] for m in owner.get("/api/boot").json()["messages"] if m["id"] == newest)
    assert reads(bob, general)["seq"] == seq


def test_opening_a_channel_in_a_hidden_page_does_not_read_it(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    general = owner.post("/api/channels", json={"name": "general"}).json()["id"]
    random = owner.post("/api/channels", json={"name": "random"}).json()["id"]
    bob = invite_user(server, owner, "Bob")
    context = pages.context()
    context.add_init_script(FAKE_NOTIFICATIONS)
    page = logged_in(pages, server, "Bob", context)
    open_channel(page, "general")
    api_send(owner, random, "unseen")
    expect(unread(page, "random")).to_have_text("1 unread")

    page.evaluate("window.__setHidden(true)")
    open_channel(page, "random")  # e.g. a link opened in a background tab
    expect(bodies(page)).to_have_text(["unseen"])
    page.wait_for_timeout(800)
    expect(unread(page, "random")).to_have_text("1 unread")
    assert reads(bob, random)["unread"] == 1
    assert reads(bob, general)["unread"] == 0

    page.evaluate("window.__setHidden(false)")
    expect(unread(page, "random")).to_be_hidden()
    eventually(lambda: reads(bob, random)["unread"], 0)


def test_mentions_have_their_own_badge_and_mark_the_message(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    owner.post("/api/channels", json={"name": "general"})
    random = owner.post("/api/channels", json={"name": "random"}).json()["id"]
    bob = invite_user(server, owner, "Bob")
    bob_id = user_id(bob)
    page = logged_in(pages, server, "Bob", pages.context())
    open_channel(page, "general")

    api_send(owner, random, "just chatting")
    reply = owner.post(
        f"/api/channels/{random}", json={"body": "@Bob what do you think?", "mentions": [bob_id]}
    )
    assert reply.status_code == 202, reply.text
    expect(unread(page, "random")).to_have_text("2 unread")
    expect(mention_badge(page, "random")).to_have_text("@1 mention")
    assert reads(bob, random)["mentions"] == 1
    page.reload()
    expect(mention_badge(page, "random")).to_have_text("@1 mention")

    open_channel(page, "random")
    mentioned = page.locator(".timeline .msg.mentions-me")
    expect(mentioned).to_have_count(1)
    expect(mentioned.locator(".mention-self")).to_have_text("@Bob")
    expect(mention_badge(page, "random")).to_be_hidden()
    expect(unread(page, "random")).to_be_hidden()
    eventually(lambda: reads(bob, random)["mentions"], 0)


def test_the_level_is_chosen_in_the_channels_menu_and_agrees_across_browsers(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    general = owner.post("/api/channels", json={"name": "general"}).json()["id"]
    random = owner.post("/api/channels", json={"name": "random"}).json()["id"]
    bob = invite_user(server, owner, "Bob")
    page = logged_in(pages, server, "Bob", pages.context())
    other = logged_in(pages, server, "Bob", pages.context())
    open_channel(page, "random")
    open_channel(other, "random")

    button = page.get_by_role("button", name=re.compile("^Notifications"))
    expect(button).to_have_accessible_name("Notifications: mentions of you")  # the default
    button.click()
    menu = page.get_by_role("menu")
    expect(menu.get_by_role("menuitemradio", name="Mentions of me")).to_have_attribute(
        "aria-checked", "true"
    )
    expect(menu.get_by_role("menuitemradio", name="Mentions of me")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(menu).to_be_hidden()
    expect(button).to_have_accessible_name("Notifications: nothing (muted)")
    expect(button).to_be_focused()
    eventually(lambda: reads(bob, random)["notify"], "none")
    other_button = other.get_by_role("button", name=re.compile("^Notifications"))
    expect(other_button).to_have_accessible_name("Notifications: nothing (muted)")

    # A muted channel's messages stay out of the title's total; others count.
    open_channel(page, "general")
    api_send(owner, random, "muted chatter")
    expect(unread(page, "random")).to_have_text("1 unread")
    expect(link(page, "random").locator("xpath=..")).to_have_class(re.compile("muted-channel"))
    expect(page).to_have_title("#general · parlour")

    button.click()
    page.get_by_role("menuitemradio", name="All new messages").click()
    expect(button).to_have_accessible_name("Notifications: all new messages")
    eventually(lambda: reads(bob, general)["notify"], "all")
    assert reads(bob, random)["notify"] == "none"
    page.keyboard.press("Escape")
    button.click()
    expect(page.get_by_role("menu")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("menu")).to_be_hidden()
    expect(button).to_be_focused()


def test_a_matching_message_notifies_once_while_the_page_is_hidden(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    general = owner.post("/api/channels", json={"name": "general"}).json()["id"]
    random = owner.post("/api/channels", json={"name": "random"}).json()["id"]
    bob = invite_user(server, owner, "Bob")
    bob_id = user_id(bob)
    context = pages.context()
    context.grant_permissions(["notifications"])
    context.add_init_script(FAKE_NOTIFICATIONS)
    page = logged_in(pages, server, "Bob", context)
    second = logged_in(pages, server, "Bob", context)  # a second tab: it follows the first
    open_channel(page, "general")

    # Asked only from a click, never on load.
    turn_on = page.get_by_role("button", name="Turn on notifications")
    expect(turn_on).to_be_visible()
    assert page.evaluate("window.__asked") == 0
    assert second.evaluate("window.__asked") == 0
    turn_on.click()
    expect(turn_on).to_be_hidden()
    assert page.evaluate("window.__asked") == 1
    second.evaluate("Notification.permission = 'granted'")  # the browser's answer, per site

    # Nothing while the pages are in sight.
    api_send(owner, general, "seen as it comes")
    expect(bodies(page).last).to_have_text("seen as it comes")
    eventually(lambda: reads(bob, general)["unread"], 0)
    for tab in (page, second):
        tab.evaluate("window.__setHidden(true)")

    # The level decides: a public channel notifies of mentions (its default)...
    api_send(owner, random, "no mention here")
    api_send(owner, general, "nor here")
    mention = owner.post(
        f"/api/channels/{random}", json={"body": "@Bob are you there?", "mentions": [bob_id]}
    )
    assert mention.status_code == 202, mention.text
    # ...a conversation of everything.
    direct = owner.post("/api/direct", json={"members": [bob_id]}).json()["id"]
    api_send(owner, direct, "a word in private")
    expected = [
        {"title": "Alice in #random", "body": "@Bob are you there?", "tag": f"parlour-{random}"},
        {"title": "Alice", "body": "a word in private", "tag": f"parlour-{direct}"},
    ]
    eventually(lambda: notes(page) + notes(second), expected)
    # The channel shown in a hidden page is not read meanwhile.
    expect(unread(page, "general")).to_have_text("1 unread")
    # A muted conversation is quiet; so is a message in a channel that does not mention Bob.
    reply = bob.post(f"/api/channels/{direct}/notify", json={"level": "none"})
    assert reply.status_code == 202, reply.text
    api_send(owner, direct, "shh")
    api_send(owner, random, "last word")
    expect(unread(page, "random")).to_have_text("3 unread")
    page.wait_for_timeout(600)
    titles = [n["title"] for n in notes(page) + notes(second)]
    assert titles == ["Alice in #random", "Alice"], titles

    # Its click opens the channel, in the tab that raised it.
    raiser = page if notes(page) else second
    raiser.evaluate("window.__notes[0].onclick()")
    expect(room_title(raiser)).to_have_text("#random")
    assert raiser.evaluate("window.__notes[0].closed")
    raiser.evaluate("window.__setHidden(false)")
    expect(unread(raiser, "random")).to_be_hidden()
    eventually(lambda: reads(bob, random)["unread"], 0)


def test_no_notification_while_another_tab_is_in_sight(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    owner.post("/api/channels", json={"name": "general"})
    bob = invite_user(server, owner, "Bob")
    bob_id = user_id(bob)
    context = pages.context()
    context.add_init_script(FAKE_NOTIFICATIONS + "RecordedNotification.permission = 'granted';")
    first = logged_in(pages, server, "Bob", context)
    second = logged_in(pages, server, "Bob", context)
    eventually(lambda: sorted(stream_role(tab) for tab in (first, second)), ["follower", "leader"])
    leader, follower = (first, second) if stream_role(first) == "leader" else (second, first)
    leader.evaluate("window.__setHidden(true)")  # the follower stays in sight
    direct = owner.post("/api/direct", json={"members": [bob_id]}).json()["id"]
    api_send(owner, direct, "you can see this one")
    expect(follower.locator(".direct-list")).to_contain_text("Alice")
    leader.wait_for_timeout(600)
    assert notes(leader) == []
    assert notes(follower) == []

    follower.evaluate("window.__setHidden(true)")
    api_send(owner, direct, "now nobody looks")
    eventually(
        lambda: notes(leader),
        [{"title": "Alice", "body": "now nobody looks", "tag": f"parlour-{direct}"}],
    )
    assert notes(follower) == []


@pytest.mark.parametrize("push", ["on", "off"])
def test_a_browser_that_allows_notifications_is_offered_pushes_if_the_server_sends_them(
    start_server: Any, pages: Pages, push: str
) -> None:
    """Notifications allowed for the site (for someone else, or before parlour sent pushes)
    do not make this browser receive this person's pushes: the button offers them while the
    server sends pushes. Headless Chromium has no push service, so subscribing fails there,
    and the page says so rather than claim pushes will come."""
    server = start_server("--push", push)
    server.set_up()
    context = pages.context()
    context.grant_permissions(["notifications"])
    page = pages.page(context)
    with page.expect_response(lambda r: r.url.endswith("/api/push")) as asked:
        page.goto(server.url)
        log_in(page, "Alice", "correct horse battery")
    assert asked.value.status == (200 if push == "on" else 404)
    turn_on = page.get_by_role("button", name="Turn on notifications")
    if push == "off":
        page.wait_for_timeout(300)  # the answer above is applied in the page's next task
        expect(turn_on).to_be_hidden()
        return
    expect(turn_on).to_be_visible()
    turn_on.click()
    expect(page.get_by_role("status").filter(has_text="Notifications are on")).to_contain_text(
        "will not receive them while parlour is closed: subscribing failed"
    )
    expect(turn_on).to_be_hidden()
