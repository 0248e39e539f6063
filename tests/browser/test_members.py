"""Members and administration in the web client: the members view, roles, deactivation,
password-reset links, renaming, invitations to revoke, and moderation.

SPEC "Members and administration", "Invitations" and "The web client"; issue 11. State that
is not under test is made through the API.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from browser_fixtures import (  # noqa: F401 - the *_fixture names are pytest fixtures
    PHONE,
    Pages,
    api_client,
    api_send,
    bodies,
    browser_fixture,
    confirmation,
    create_channel,
    log_in,
    me,
    member,
    open_channel,
    open_members,
    pages_fixture,
    room_title,
    send,
    set_up,
)
from playwright.sync_api import Page, expect

from conftest import ServerProcess, invite_user

pytestmark = pytest.mark.timeout(60)

NEW_PASSWORD = "a brand new passphrase"
# "At once": before the browser would try the ended stream again by itself (the server's
# `retry:` is 2 s), which is how the client used to find out (2.5 s, measured; with the
# check, 0.1-0.2 s).
AT_ONCE_MS = 1500


def logged_in_page(pages: Pages, server: ServerProcess, name: str) -> Page:
    """A page (its own browser context) logged in as a user made with conftest.invite_user."""
    page = pages.page()
    page.goto(server.url)
    log_in(page, name, "password " + name)
    expect(me(page)).to_have_text(name)
    return page


def user_id(client: httpx.Client) -> str:
    reply = client.get("/api/boot")
    assert reply.status_code == 200, reply.text
    found: str = reply.json()["user"]["id"]
    return found


def login_form(page: Page) -> Any:
    return page.get_by_role("heading", name="Log in")


def test_everyone_sees_the_members_and_a_role_change_shows_live_to_others(
    server: ServerProcess, pages: Pages
) -> None:
    alice = pages.page()
    set_up(alice, server)
    owner = api_client(server, "Alice")
    invite_user(server, owner, "Bob")
    carol_api = invite_user(server, owner, "Carol")
    channel = owner.post("/api/channels", json={"name": "general"}).json()["id"]
    api_send(carol_api, channel, "from Carol")

    bob = logged_in_page(pages, server, "Bob")
    expect(bodies(bob)).to_have_text(["from Carol"])
    expect(bob.locator(".msg-delete")).to_have_count(0)
    expect(bob.locator('[data-slot="me-admin"]')).to_be_hidden()

    carol = logged_in_page(pages, server, "Carol")
    members = open_members(carol)
    expect(members.locator(".member-name")).to_have_text(["Alice", "Bob", "Carol"])
    expect(member(carol, "Alice").locator(".tag")).to_have_text(["admin"])
    expect(member(carol, "Bob").locator(".tag")).to_have_count(0)
    expect(member(carol, "Carol").locator(".tag")).to_have_text(["you"])
    expect(members).to_contain_text("3 members")
    # A member administers nobody; they may rename only themselves.
    expect(
        members.get_by_role("button", name=re.compile("^(Make|Deactivate|Reset)"))
    ).to_have_count(0)
    # (Everyone may start a direct conversation with anyone active: issue 13.)
    expect(member(carol, "Bob").get_by_role("button")).to_have_text(["Message"])
    expect(member(carol, "Carol").get_by_role("button", name="Rename Carol")).to_be_visible()

    open_members(alice)
    member(alice, "Bob").get_by_role("button", name="Make admin: Bob").click()
    asked = confirmation(alice)
    expect(asked.get_by_role("heading")).to_have_text("Make Bob an admin?")
    expect(asked).to_contain_text("delete any message or channel")
    asked.get_by_role("button", name="Make admin").click()
    expect(asked).to_be_hidden()
    expect(member(alice, "Bob").get_by_role("button", name="Make member: Bob")).to_be_focused()

    # Live, elsewhere: Carol's list shows the badge; Bob's page gains an admin's tools.
    expect(member(carol, "Bob").locator(".tag")).to_have_text(["admin"])
    expect(bob.locator('[data-slot="me-admin"]')).to_be_visible()
    expect(
        bob.get_by_role("button", name=re.compile("^Delete Carol.s message from"))
    ).to_have_count(1)
    expect(bob.get_by_role("button", name="Delete channel")).to_be_visible()


def test_the_last_admin_is_told_why_they_cannot_step_down(
    server: ServerProcess, pages: Pages
) -> None:
    alice = pages.page()
    set_up(alice, server)
    expect(alice.locator('[data-slot="me-admin"]')).to_have_text("admin")
    open_members(alice)
    step_down = member(alice, "Alice").get_by_role("button", name="Make member: Alice")
    step_down.click()
    asked = confirmation(alice)
    expect(asked.get_by_role("heading")).to_have_text("Stop being an admin?")
    expect(asked.get_by_role("button", name="Cancel")).to_be_focused()  # a weighty step
    asked.get_by_role("button", name="Make member").click()
    expect(asked.get_by_role("alert")).to_contain_text("no active admin")
    expect(asked.get_by_role("button", name="Make member")).to_be_hidden()
    alice.keyboard.press("Escape")
    expect(asked).to_be_hidden()
    expect(step_down).to_be_focused()
    expect(member(alice, "Alice").locator(".tag.admin")).to_be_visible()


def test_deactivating_a_member_drops_their_open_page_to_the_login_form_at_once(
    server: ServerProcess, pages: Pages
) -> None:
    alice = pages.page()
    set_up(alice, server)
    invite_user(server, api_client(server, "Alice"), "Bob")
    bob_context = pages.context()
    bob = pages.page(bob_context)
    bob.goto(server.url)
    log_in(bob, "Bob", "password Bob")
    expect(me(bob)).to_have_text("Bob")
    second_tab = pages.page(bob_context)
    second_tab.goto(server.url)
    expect(me(second_tab)).to_have_text("Bob")

    open_members(alice)
    member(alice, "Bob").get_by_role("button", name="Deactivate Bob").click()
    asked = confirmation(alice)
    expect(asked.get_by_role("heading")).to_have_text("Deactivate Bob?")
    expect(asked).to_contain_text(
        "Bob will be logged out everywhere at once and cannot log in until reactivated; "
        "their messages stay"
    )
    asked.get_by_role("button", name="Deactivate").click()
    expect(asked).to_be_hidden()

    # The stream delivers the `user updated` that deactivated Bob before it ends (what was
    # committed with the revocation comes first), so his pages can say why.
    for tab in (bob, second_tab):
        expect(login_form(tab)).to_be_visible(timeout=AT_ONCE_MS)
        expect(tab.get_by_text("An admin has deactivated your account")).to_be_visible()
    row = member(alice, "Bob")
    expect(row.locator(".tag")).to_have_text(["deactivated"])
    expect(row.get_by_role("button", name="Reset link for Bob")).to_have_count(0)
    expect(alice.get_by_role("dialog", name="Members")).to_contain_text("1 of them deactivated")

    log_in(bob, "Bob", "password Bob")
    expect(bob.get_by_text("That name and password do not match.")).to_be_visible()

    row.get_by_role("button", name="Reactivate Bob").click()
    expect(confirmation(alice)).to_contain_text("log in again, with their old password")
    confirmation(alice).get_by_role("button", name="Reactivate").click()
    expect(row.locator(".tag")).to_have_count(0)
    bob.get_by_role("button", name="Log in").click()
    expect(me(bob)).to_have_text("Bob")


def test_a_reset_link_made_by_an_admin_sets_a_new_password_and_logs_in(
    server: ServerProcess, pages: Pages
) -> None:
    alice = pages.page()
    set_up(alice, server)
    create_channel(alice, "general")
    invite_user(server, api_client(server, "Alice"), "Bob")
    bob_elsewhere = logged_in_page(pages, server, "Bob")

    open_members(alice)
    member(alice, "Bob").get_by_role("button", name="Reset link for Bob").click()
    shown = alice.get_by_role("dialog", name="Password reset link for Bob")
    link_field = shown.get_by_label(re.compile("^Send this link to Bob"))
    expect(link_field).to_have_value(re.compile(rf"^{re.escape(server.url)}/reset/R"))
    expect(link_field).to_be_focused()
    link = link_field.input_value()
    shown.get_by_role("button", name="Close").click()
    expect(member(alice, "Bob").get_by_role("button", name="Reset link for Bob")).to_be_focused()

    bob = pages.page()  # another browser: nobody is logged in there
    bob.goto(link)
    expect(bob.get_by_text("This link sets a new password for Bob.")).to_be_visible()
    expect(bob.get_by_label("New password", exact=True)).to_be_focused()
    bob.get_by_label("New password", exact=True).fill("short")
    bob.get_by_label("New password again").fill("short")
    bob.get_by_role("button", name="Set password and log in").click()
    expect(bob.get_by_text("Use at least 8 characters.")).to_be_visible()
    bob.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    bob.get_by_label("New password again").fill(NEW_PASSWORD)
    bob.get_by_role("button", name="Set password and log in").click()
    expect(me(bob)).to_have_text("Bob")
    expect(room_title(bob)).to_have_text("#general")
    assert "/reset/" not in bob.url, "the used link is left behind"

    # The password changed, so Bob's other sessions end, and their page says so at once.
    expect(login_form(bob_elsewhere)).to_be_visible(timeout=AT_ONCE_MS)
    log_in(bob_elsewhere, "Bob", NEW_PASSWORD)
    expect(me(bob_elsewhere)).to_have_text("Bob")

    again = pages.page()
    again.goto(link)
    expect(again.get_by_text("This link can't be used")).to_be_visible()
    expect(again.get_by_label("New password", exact=True)).to_be_hidden()
    again.goto(f"{server.url}/reset/Rnot-a-link-at-all-xxxxxxxx")
    expect(again.get_by_text("This link can't be used")).to_be_visible()


def test_renaming_oneself_shows_at_once_in_another_persons_page(
    server: ServerProcess, pages: Pages
) -> None:
    alice = pages.page()
    set_up(alice, server)
    create_channel(alice, "general")
    invite_user(server, api_client(server, "Alice"), "Bob")
    bob = logged_in_page(pages, server, "Bob")
    send(bob, "hi, I'm Bob")
    expect(alice.locator(".timeline .sender")).to_have_text(["Bob"])
    open_members(alice)

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
    expect(alice.get_by_role("dialog", name="Members").locator(".member-name")).to_have_text(
        ["Alice", "Robert"]
    )
    expect(
        alice.get_by_role("button", name=re.compile("^Delete Robert.s message from"))
    ).to_have_count(1)


def test_an_admin_renames_a_member_who_sees_their_new_name(
    server: ServerProcess, pages: Pages
) -> None:
    alice = pages.page()
    set_up(alice, server)
    invite_user(server, api_client(server, "Alice"), "Bob")
    bob = logged_in_page(pages, server, "Bob")
    open_members(alice)
    member(alice, "Bob").get_by_role("button", name="Rename Bob").click()
    renaming = alice.get_by_role("dialog", name="Rename Bob")
    expect(renaming).to_contain_text("they log in with it from now on")
    renaming.get_by_label("New name").fill("Bobby")
    renaming.get_by_role("button", name="Save name").click()
    expect(renaming).to_be_hidden()
    expect(member(alice, "Bobby").get_by_role("button", name="Rename Bobby")).to_be_focused()
    expect(me(bob)).to_have_text("Bobby")


def test_invitations_are_listed_with_their_expiry_and_can_be_revoked(
    server: ServerProcess, pages: Pages
) -> None:
    alice = pages.page()
    set_up(alice, server)
    owner = api_client(server, "Alice")
    invite_user(server, owner, "Bob")
    assert owner.post("/api/invite", json={}).status_code == 200  # Alice's: not Bob's to see
    bob = logged_in_page(pages, server, "Bob")

    # Opening the dialog again shows the open link (issue 16); "New link" makes another.
    bob.get_by_role("button", name="Invite someone").click()
    field = bob.get_by_label(re.compile("Send them this link"))
    links: list[str] = []
    for _ in range(3):
        if links:
            bob.get_by_role("button", name="New link").click()
            expect(field).not_to_have_value(links[-1])
        expect(field).to_have_value(re.compile("/invite/I"))
        links.append(field.input_value())
    # From a fresh link, to the list of them.
    bob.get_by_role("button", name="Open invitations").click()
    members = bob.get_by_role("dialog", name="Members")
    expect(members).to_be_visible()
    expect(bob.get_by_role("heading", name="Open invitations")).to_be_focused()
    listed = bob.locator(".invitation")
    expect(listed).to_have_count(3)
    expect(listed.first).to_contain_text("You issued this link")
    expect(listed.first).to_contain_text(re.compile(r"Expires in 2[34] hours"))
    expect(members).to_contain_text("3 invitations that you issued can still be used")

    listed.first.get_by_role("button", name=re.compile("^Revoke the invitation you issued")).click()
    expect(listed).to_have_count(2)
    expect(listed.first.get_by_role("button")).to_be_focused()
    revoked = pages.page()
    revoked.goto(links[0])
    expect(revoked.get_by_text("This invitation can't be used")).to_be_visible()

    # Issued from the open list: the list shows it on return.
    members.get_by_role("button", name="Invite someone").click()
    expect(bob.get_by_role("dialog", name="Invite someone")).to_be_visible()
    bob.get_by_role("button", name="New link").click()
    expect(field).not_to_have_value(links[-1])
    bob.keyboard.press("Escape")
    expect(listed).to_have_count(3)

    open_members(alice)  # an admin sees everyone's
    all_listed = alice.locator(".invitation")
    expect(all_listed).to_have_count(4)
    expect(all_listed.first).to_contain_text("You issued this link")
    expect(all_listed.nth(1)).to_contain_text("Issued by Bob")
    all_listed.nth(1).get_by_role("button", name=re.compile("^Revoke the invitation Bob")).click()
    expect(all_listed).to_have_count(3)
    expect(alice.get_by_role("dialog", name="Members")).to_contain_text(
        "3 invitations on this server can still be used"
    )


def test_a_member_is_told_when_only_admins_may_invite(start_server: Any, pages: Pages) -> None:
    server: ServerProcess = start_server("--who-can-invite", "admins")
    alice = pages.page()
    set_up(alice, server)
    invite_user(server, api_client(server, "Alice"), "Bob")
    bob = logged_in_page(pages, server, "Bob")
    bob.get_by_role("button", name="Invite someone").click()
    expect(bob.get_by_role("alert").filter(has_text="Only admins may invite")).to_be_visible()
    expect(bob.get_by_label(re.compile("Send them this link"))).to_be_hidden()
    expect(bob.get_by_role("button", name="New link")).to_be_hidden()


def test_an_admin_deletes_anyones_message_and_a_channel_that_holds_messages(
    server: ServerProcess, pages: Pages
) -> None:
    alice = pages.page()
    set_up(alice, server)
    channel = create_channel(alice, "general")
    create_channel(alice, "random")
    open_channel(alice, "general")
    bob_api = invite_user(server, api_client(server, "Alice"), "Bob")
    for body in ("spam", "more spam", "a real message"):
        api_send(bob_api, channel, body)
    bob = logged_in_page(pages, server, "Bob")
    open_channel(bob, "general")
    expect(bodies(bob)).to_have_text(["spam", "more spam", "a real message"])
    # A member: no "Delete channel" while it holds messages, and only their own messages.
    expect(bob.get_by_role("button", name="Delete channel")).to_be_hidden()

    spam = alice.locator(".timeline .msg", has_text="more spam")
    spam.hover()
    spam.get_by_role("button", name=re.compile("^Delete Bob.s message from")).click()
    confirmation(alice).get_by_role("button", name="Delete message").click()
    expect(bodies(alice)).to_have_text(["spam", "a real message"])
    expect(bodies(bob)).to_have_text(["spam", "a real message"])

    alice.get_by_role("button", name="Delete channel").click()
    asked = confirmation(alice)
    expect(asked.get_by_role("heading")).to_have_text("Delete #general and its messages?")
    expect(asked).to_contain_text("#general holds 2 messages")
    expect(asked).to_contain_text("deletes all of them too, for everyone")
    asked.get_by_role("button", name="Cancel").click()
    expect(alice.get_by_role("button", name="Delete channel")).to_be_focused()
    expect(bodies(alice)).to_have_count(2)

    alice.get_by_role("button", name="Delete channel").click()
    asked.get_by_role("button", name="Delete channel and messages").click()
    expect(asked).to_be_hidden()
    for page in (alice, bob):
        expect(page.locator(".channel-list")).not_to_contain_text("general")
        expect(room_title(page)).to_have_text("#random")


def test_the_members_view_works_on_a_phone_in_dark_mode(
    server: ServerProcess, pages: Pages
) -> None:
    context = pages.context(PHONE)
    alice = pages.page(context)
    alice.emulate_media(color_scheme="dark")
    set_up(alice, server)
    invite_user(server, api_client(server, "Alice"), "A member with a rather long name indeed")
    members = open_members(alice)
    row = member(alice, "A member with a rather long name indeed")
    for label in ("Rename", "Make admin:", "Deactivate", "Reset link"):
        expect(row.get_by_role("button", name=re.compile(f"^{label}"))).to_be_in_viewport()
    fits = "d => d.scrollWidth <= d.clientWidth && d.getBoundingClientRect().right <= innerWidth"
    assert members.evaluate(fits), "nothing sticks out sideways"
    badge = member(alice, "Alice").locator(".tag.admin")
    colours = badge.evaluate(
        "b => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]"
    )
    assert colours[0] != colours[1]
    alice.get_by_role("button", name="Close").click()
    expect(members).to_be_hidden()
    expect(alice.get_by_role("button", name="Members", exact=True)).to_be_focused()
