"""The web client's views, driven in Chromium: setup, channels, compose, account, phone.

SPEC "The web client"; issue 4.
"""

from __future__ import annotations

import re

import httpx
import pytest
from browser_fixtures import (  # noqa: F401 - the *_fixture names are pytest fixtures
    PASSWORD,
    PHONE,
    Pages,
    bodies,
    browser_fixture,
    compose,
    create_channel,
    log_in,
    me,
    open_channel,
    pages_fixture,
    room_title,
    send,
    set_up,
)
from playwright.sync_api import expect

from conftest import ServerProcess, invite_user

pytestmark = pytest.mark.timeout(30)


def test_setup_then_a_new_channel_then_a_message_with_sender_and_time(
    server: ServerProcess, pages: Pages
) -> None:
    page = pages.page()
    set_up(page, server)
    expect(page.get_by_text("No channels yet.").first).to_be_visible()

    channel_id = create_channel(page, "general")
    assert page.url == f"{server.url}/channels/{channel_id}"
    expect(page.get_by_text("This is the start of #general.")).to_be_visible()
    expect(compose(page)).to_be_focused()

    send(page, "Hello, everyone!")
    message = page.locator(".timeline .msg").last
    expect(message.locator(".msg-body")).to_have_text("Hello, everyone!")
    expect(message.locator(".sender")).to_have_text("Alice")
    expect(message.locator("time.msg-time")).to_have_text(re.compile(r"^\d{1,2}:\d{2}"))
    expect(page).to_have_title("#general · parlour")


def test_enter_sends_and_shift_enter_adds_a_line(server: ServerProcess, pages: Pages) -> None:
    page = pages.page()
    set_up(page, server)
    create_channel(page, "general")
    box = compose(page)
    box.press_sequentially("first line")
    box.press("Shift+Enter")
    box.press_sequentially("second line")
    expect(box).to_have_value("first line\nsecond line")
    box.press("Enter")
    expect(box).to_have_value("")
    expect(bodies(page)).to_have_text(["first line\nsecond line"])
    # White space only is not a message: nothing is sent.
    box.fill("   ")
    box.press("Enter")
    expect(bodies(page)).to_have_count(1)


def test_reload_keeps_the_active_channel(server: ServerProcess, pages: Pages) -> None:
    page = pages.page()
    set_up(page, server)
    create_channel(page, "general")
    random_id = create_channel(page, "random")
    send(page, "in random")
    open_channel(page, "general")
    general = page.url
    page.reload()
    expect(room_title(page)).to_have_text("#general")
    assert page.url == general
    page.go_back()
    expect(room_title(page)).to_have_text("#random")
    expect(bodies(page)).to_have_text(["in random"])
    page.goto(server.url)  # "/" opens the channel used last
    expect(room_title(page)).to_have_text("#random")
    assert page.url.endswith(f"/channels/{random_id}")


def test_a_taken_channel_name_is_reported_next_to_the_name_field(
    server: ServerProcess, pages: Pages
) -> None:
    page = pages.page()
    set_up(page, server)
    create_channel(page, "Café")
    page.get_by_role("button", name="New channel").click()
    name = page.get_by_label("Channel name")
    name.fill("CAFÉ")
    page.get_by_role("button", name="Create", exact=True).click()
    error = page.locator("#new-channel-error")
    expect(error).to_have_text(re.compile("Name taken.*Café"))
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_be_focused()
    name.fill("   ")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(error).to_have_text("Enter a name for the channel.")
    name.press("Escape")
    expect(page.get_by_role("button", name="New channel")).to_be_focused()


def test_a_member_can_delete_an_empty_channel_but_not_one_with_messages(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    # A member: the admin made by setup may delete any channel (issue 11: test_members.py).
    invite_user(server, owner, "Bob")
    page = pages.page()
    page.goto(server.url)
    log_in(page, "Bob", "password Bob")
    create_channel(page, "keep")
    send(page, "something")
    delete = page.get_by_role("button", name="Delete channel")
    expect(delete).to_be_hidden()
    create_channel(page, "scratch")
    delete.click()
    page.get_by_role("dialog", name="Delete #scratch?").get_by_role(
        "button", name="Delete channel"
    ).click()
    expect(page.locator(".channel-list")).not_to_contain_text("scratch")
    expect(room_title(page)).to_have_text("#keep")


def test_wrong_login_is_explained_then_logout_returns_to_login(
    server: ServerProcess, pages: Pages
) -> None:
    page = pages.page()
    set_up(page, server)
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.reload()
    log_in(page, "alice", "not the password")
    expect(page.locator("#login-password-error")).to_have_text(
        "That name and password do not match."
    )
    log_in(page, "alice")  # names match as the server compares them
    expect(me(page)).to_have_text("Alice")


def test_change_password_checks_the_current_one(server: ServerProcess, pages: Pages) -> None:
    page = pages.page()
    set_up(page, server)
    page.get_by_role("button", name="Change password").click()
    dialog = page.get_by_role("dialog", name="Change password")
    dialog.get_by_label("Current password").fill("wrong password")
    dialog.get_by_label("New password", exact=True).fill("a new password")
    dialog.get_by_label("New password again").fill("a new password")
    dialog.get_by_role("button", name="Change password").click()
    expect(dialog.locator("#pw-current-error")).to_have_text("That is not your current password.")
    dialog.get_by_label("Current password").fill(PASSWORD)
    dialog.get_by_label("New password", exact=True).fill("a new password")
    dialog.get_by_label("New password again").fill("a new password")
    dialog.get_by_role("button", name="Change password").click()
    expect(dialog.get_by_text("Password changed.")).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Log out").click()
    log_in(page, "Alice", "a new password")
    expect(me(page)).to_have_text("Alice")


def test_setup_and_invitation_forms_check_passwords_before_asking(
    server: ServerProcess, pages: Pages
) -> None:
    page = pages.page()
    page.goto(server.url)
    page.get_by_label("Your name").fill("Alice")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#setup-password-error")).to_have_text("Use at least 8 characters.")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD + "!")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#setup-again-error")).to_have_text("The two passwords are different.")
    page.goto(f"{server.url}/invite/Inot-an-invitation-at-all")
    expect(page.get_by_text("This server is not set up yet")).to_be_visible()


def test_on_a_phone_the_channel_list_and_the_channel_take_turns(
    server: ServerProcess, pages: Pages
) -> None:
    page = pages.page(pages.context(viewport=PHONE))
    set_up(page, server)
    create_channel(page, "general")
    channels = page.locator(".channel-list")
    expect(channels).to_be_hidden()
    page.get_by_role("button", name="Channels").click()
    create_channel(page, "random")
    expect(channels).to_be_hidden()
    send(page, "a message that is rather long, so that it has to wrap on a narrow screen")
    page.get_by_role("button", name="Channels").click()
    expect(channels).to_be_visible()
    expect(compose(page)).to_be_hidden()
    open_channel(page, "general")
    expect(channels).to_be_hidden()
    expect(compose(page)).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "nothing may scroll sideways on a phone"
