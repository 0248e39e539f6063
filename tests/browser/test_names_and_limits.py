"""The client and the server's rules on names, passwords and messages.

Issue 10: the client keeps no copy of a server rule it can be told. It reads the length
limits from the OpenAPI document (GET /api/openapi.json) once, beside the boot, and leaves
what a name may contain to the server, whose 400 detail it shows next to the field
(defect 5: names with emoji sequences or a zero-width non-joiner are valid names).

To show that the limits come from the document, and not from a copy that happens to agree,
some tests let the real server answer and then change the numbers in its document on the way
to the page (Playwright's route.fetch); everything else is the real server.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from browser_fixtures import (  # noqa: F401 - the *_fixture names are pytest fixtures
    PASSWORD,
    Pages,
    api_client,
    bodies,
    browser_fixture,
    compose,
    create_channel,
    me,
    pages_fixture,
    room_title,
    send,
    set_up,
)
from playwright.sync_api import Page, Request, Route, expect

from conftest import ServerProcess

pytestmark = pytest.mark.timeout(30)

OPENAPI = re.compile(r"/api/openapi\.json$")

# SPEC revision 2 (defect 5): the zero-width joiner and non-joiner and the tag characters
# U+E0020 to U+E007F are allowed in names; every other format character stays refused.
TECHNOLOGIST = "👩\u200d💻 Ada"  # woman technologist: U+200D joins two emoji
CHANNEL_NAMES = [
    "🧗\u200d♂\ufe0f climbing",  # man climbing: a joiner, then a variation selector
    "🏳\ufe0f\u200d🌈 pride",  # rainbow flag
    "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f alba",  # Scotland: tags
    # Persian "half-space", written with a zero-width non-joiner (Arabic letters on purpose)
    "نیم\u200cفاصله",  # noqa: RUF001
]


def serve_limits(page: Page, change: dict[tuple[str, str, str], int | None]) -> None:
    """Serves the real OpenAPI document with some limits changed (None: removed)."""

    def handle(route: Route) -> None:
        document: dict[str, Any] = route.fetch().json()
        schemas = document["components"]["schemas"]
        for (schema, prop, key), value in change.items():
            field = schemas[schema]["properties"][prop]
            if value is None:
                field.pop(key, None)
            else:
                field[key] = value
        route.fulfill(json=document)

    page.route(OPENAPI, handle)


def test_names_with_emoji_sequences_and_a_zero_width_non_joiner_are_accepted(
    server: ServerProcess, pages: Pages
) -> None:
    page = pages.page()
    set_up(page, server, name=TECHNOLOGIST)
    for name in CHANNEL_NAMES:
        create_channel(page, name)
    expect(page.locator(".channel-list .channel-name")).to_have_text(CHANNEL_NAMES)
    send(page, "سلام")
    expect(bodies(page)).to_have_text(["سلام"])
    page.reload()
    expect(me(page)).to_have_text(TECHNOLOGIST)
    expect(room_title(page)).to_have_text(f"#{CHANNEL_NAMES[-1]}")


def test_a_name_the_server_refuses_is_explained_in_its_words_next_to_the_field(
    server: ServerProcess, pages: Pages
) -> None:
    page = pages.page()
    set_up(page, server)
    refused = "zero\u200bwidth"  # U+200B ZERO WIDTH SPACE: a format character still refused
    reply = api_client(server, "Alice").post("/api/channels", json={"name": refused})
    assert reply.status_code == 400, reply.text
    page.get_by_role("button", name="New channel").click()
    name = page.get_by_label("Channel name")
    name.fill(refused)
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator("#new-channel-error")).to_have_text(reply.json()["detail"])
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_be_focused()
    expect(page.locator(".channel-list .channel")).to_have_count(0)


def test_the_forms_check_the_limits_the_server_publishes(
    server: ServerProcess, pages: Pages
) -> None:
    page = pages.page()
    serve_limits(
        page,
        {
            ("Credentials", "name", "maxLength"): 10,
            ("Credentials", "password", "minLength"): 12,
            ("PasswordChange", "to", "minLength"): 14,
            ("NewChannel", "name", "maxLength"): 10,
            ("NewMessage", "body", "maxLength"): 20,
        },
    )
    page.goto(server.url)
    expect(page.locator("#setup-password-hint")).to_have_text("At least 12 characters.")
    page.get_by_label("Your name").fill("Bartholomew")  # 11 characters
    page.get_by_label("Password", exact=True).fill("eleven char")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#setup-name-error")).to_have_text("A name can be at most 10 characters.")
    expect(page.locator("#setup-password-error")).to_have_text("Use at least 12 characters.")
    expect(page.get_by_label("Your name")).to_be_focused()
    set_up(page, server, name="Bart")

    # Counted as the server counts, in code points: ten emoji are 20 UTF-16 units.
    create_channel(page, "😀" * 10)
    page.get_by_role("button", name="New channel").click()
    page.get_by_label("Channel name").fill("😀" * 11)
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator("#new-channel-error")).to_have_text(
        "A channel name can be at most 10 characters."
    )
    page.get_by_label("Channel name").press("Escape")

    compose(page).fill("x" * 21)
    compose(page).press("Enter")
    expect(page.locator("#compose-error")).to_have_text(
        "A message can be at most 20 characters; this one has 21."
    )
    expect(compose(page)).to_have_value("x" * 21)
    send(page, "x" * 20)
    expect(bodies(page)).to_have_text(["x" * 20])

    page.get_by_role("button", name="Change password").click()
    dialog = page.get_by_role("dialog", name="Change password")
    expect(dialog.locator("#pw-new-hint")).to_contain_text("At least 14 characters.")
    dialog.get_by_label("Current password").fill(PASSWORD)
    dialog.get_by_label("New password", exact=True).fill("thirteen char")
    dialog.get_by_label("New password again").fill("thirteen char")
    dialog.get_by_role("button", name="Change password").click()
    expect(dialog.locator("#pw-new-error")).to_have_text("Use at least 14 characters.")


def test_limits_missing_from_the_document_fall_back_to_checks_that_still_work(
    server: ServerProcess, pages: Pages
) -> None:
    page = pages.page()
    serve_limits(
        page,
        {
            ("Credentials", "name", "maxLength"): None,
            ("Credentials", "password", "minLength"): None,
            ("Credentials", "password", "maxLength"): None,
        },
    )
    page.goto(server.url)
    expect(page.locator("#setup-password-hint")).to_have_text(
        re.compile(r"^At least \d+\s+characters")
    )
    page.get_by_label("Your name").fill("Alice")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#setup-password-error")).to_have_text(
        re.compile(r"^Use at least \d+ characters\.$")
    )
    set_up(page, server)


def test_the_limits_are_asked_once_and_the_first_page_does_not_wait_for_them(
    server: ServerProcess, pages: Pages
) -> None:
    page = pages.page()
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)  # unanswered until released below

    page.route(OPENAPI, hold)
    asked: list[Request] = []
    page.on("request", lambda r: asked.append(r) if OPENAPI.search(r.url) else None)
    page.goto(server.url)
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
    expect(page.locator("#setup-password-hint")).to_have_text(
        re.compile(r"^At least \d+\s+characters")
    )
    assert len(held) == 1, "asked at start, beside the boot"
    held[0].continue_()
    page.unroute(OPENAPI)
    page.get_by_label("Your name").fill("Alice")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(me(page)).to_have_text("Alice")
    create_channel(page, "general")
    send(page, "hello")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert len(asked) == 1, [r.url for r in asked]
