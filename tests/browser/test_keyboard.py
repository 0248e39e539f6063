"""The keyboard: the quick switcher (Ctrl/⌘+K), Alt+↑/↓ between channels, Esc closes what is
open, ↑ in the empty compose box edits one's last message.

SPEC "The web client" (keyboard); issue 16. State that is not under test is made through the
API.
"""

from __future__ import annotations

import re

import httpx
import pytest
from browser_fixtures import (  # noqa: F401 - the *_fixture names are pytest fixtures
    Pages,
    bodies,
    browser_fixture,
    compose,
    log_in,
    me,
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


def add_person(owner: httpx.Client, server: ServerProcess, name: str) -> str:
    invite = owner.post("/api/invite", json={}).json()["id"]
    reply = server.client().post(f"/api/invite/{invite}", json={"name": name, "password": PASSWORD})
    assert reply.status_code == 200, reply.text
    user_id: str = reply.json()["id"]
    return user_id


def switcher(page: Page) -> object:
    return page.get_by_role("dialog", name="Go to a channel or a person")


def test_ctrl_k_goes_to_a_channel_or_a_person(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    owner.post("/api/channels", json={"name": "general"})
    owner.post("/api/channels", json={"name": "random"})
    add_person(owner, server, "Bob")
    page = logged_in(pages, server)
    expect(room_title(page)).to_have_text("#general")

    page.keyboard.press("Control+k")
    dialog = page.get_by_role("dialog", name="Go to a channel or a person")
    expect(dialog).to_be_visible()
    box = page.get_by_role("combobox", name="Go to a channel or a person")
    expect(box).to_be_focused()
    box.press_sequentially("ran")
    expect(dialog.get_by_role("option")).to_have_count(1)
    box.press("Enter")
    expect(dialog).to_be_hidden()
    expect(room_title(page)).to_have_text("#random")
    expect(compose(page)).to_be_focused()

    # A person: their direct conversation, made on the way.
    page.keyboard.press("Control+k")
    box.press_sequentially("bo")
    expect(dialog.get_by_role("option", selected=True)).to_contain_text("Bob")
    box.press("Enter")
    expect(room_title(page)).to_have_text("Bob")
    expect(page.locator(".direct-list")).to_contain_text("Bob")

    # Esc closes it, and nothing changes.
    page.keyboard.press("Control+k")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(room_title(page)).to_have_text("Bob")


def test_alt_arrows_go_to_the_previous_and_next_channel(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    for name in ("general", "random", "zebra"):
        owner.post("/api/channels", json={"name": name})
    page = logged_in(pages, server)
    expect(room_title(page)).to_have_text("#general")
    compose(page).click()
    page.keyboard.press("Alt+ArrowDown")
    expect(room_title(page)).to_have_text("#random")
    page.keyboard.press("Alt+ArrowDown")
    expect(room_title(page)).to_have_text("#zebra")
    page.keyboard.press("Alt+ArrowDown")  # the last: it stays
    expect(room_title(page)).to_have_text("#zebra")
    page.keyboard.press("Alt+ArrowUp")
    expect(room_title(page)).to_have_text("#random")
    expect(compose(page)).to_be_focused()


def test_escape_closes_a_menu_a_dialog_and_an_edit_and_up_edits_the_last_message(
    server: ServerProcess, owner: httpx.Client, pages: Pages
) -> None:
    general = owner.post("/api/channels", json={"name": "general"}).json()["id"]
    owner.post(f"/api/channels/{general}", json={"body": "my last words"})
    page = logged_in(pages, server)
    expect(bodies(page)).to_have_text(["my last words"])

    page.get_by_role("button", name=re.compile("^Notifications")).click()
    menu = page.get_by_role("menu")
    expect(menu).to_be_visible()
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()

    page.get_by_role("button", name="Members", exact=True).click()
    dialog = page.get_by_role("dialog", name="Members")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    compose(page).click()
    compose(page).press("ArrowUp")
    editor = page.get_by_role("textbox", name="Edit your message")
    expect(editor).to_be_focused()
    expect(editor).to_have_value("my last words")
    editor.press("Escape")
    expect(editor).to_have_count(0)
    expect(bodies(page)).to_have_text(["my last words"])
