"""Driving the web client in Debian's Chromium (Playwright): fixtures and the user's steps.

Test modules import the fixtures from here (a second conftest.py would shadow
tests/conftest.py); their functions are named *_fixture so that a test's `pages` argument
does not shadow an import. Without /usr/bin/chromium the browser tests skip, except under CI
(env CI set), where they fail: CI installs Chromium, so a missing one is a broken setup.
Every page fails its test if a script on it throws (`pageerror`).
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    ViewportSize,
    expect,
    sync_playwright,
)

from conftest import ServerProcess

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=375, height=740)
PASSWORD = "correct horse battery"
# How long an expectation waits: generous for a loaded CI machine, far below the test limit.
EXPECT_TIMEOUT_MS = 8000

expect.set_options(timeout=EXPECT_TIMEOUT_MS)


@pytest.fixture(scope="module", name="browser")
def browser_fixture() -> Iterator[Browser]:
    """One headless Chromium per test module (Playwright's sync API allows one per thread)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; CI must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True
        )
        yield launched
        launched.close()


@dataclass
class Pages:
    """Makes browser contexts (one per person: own cookies) and pages that report errors."""

    browser: Browser
    contexts: list[BrowserContext] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def context(self, viewport: ViewportSize = DESKTOP) -> BrowserContext:
        context = self.browser.new_context(viewport=viewport, locale="en-GB")
        context.set_default_timeout(EXPECT_TIMEOUT_MS)
        self.contexts.append(context)
        return context

    def page(self, context: BrowserContext | None = None) -> Page:
        page = (context or self.context()).new_page()
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture(name="pages")
def pages_fixture(browser: Browser) -> Iterator[Pages]:
    made = Pages(browser)
    yield made
    made.close()
    assert not made.errors, "scripts failed in the page:\n" + "\n".join(made.errors)


def free_port() -> int:
    """A port that was free a moment ago, for a server that must come back on the same one."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# --- what a person does ---


def set_up(page: Page, server: ServerProcess, name: str = "Alice") -> None:
    page.goto(server.url)
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(me(page)).to_have_text(name)


def log_in(page: Page, name: str, password: str = PASSWORD) -> None:
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def me(page: Page) -> Locator:
    return page.locator('[data-slot="me-name"]')


def create_channel(page: Page, name: str) -> str:
    """Creates a channel and returns its id (from the URL, which names the active channel)."""
    page.get_by_role("button", name="New channel").click()
    page.get_by_label("Channel name").fill(name)
    page.get_by_role("button", name="Create", exact=True).click()
    expect(room_title(page)).to_have_text(f"#{name}")
    match = re.search(r"/channels/([^/?#]+)$", page.url)
    assert match, page.url
    return match.group(1)


def room_title(page: Page) -> Locator:
    return page.locator("#room-title")


def open_channel(page: Page, name: str) -> None:
    page.locator(".channel-list").get_by_role("link", name=re.compile(rf"^#?\s*{name}\b")).click()
    expect(room_title(page)).to_have_text(f"#{name}")


def compose(page: Page) -> Locator:
    return page.locator("#compose-body")


def send(page: Page, text: str) -> None:
    compose(page).fill(text)
    compose(page).press("Enter")
    expect(compose(page)).to_have_value("")


def bodies(page: Page) -> Locator:
    """The bodies of the messages shown in the active channel, in order."""
    return page.locator(".timeline .msg-body")


def banner(page: Page) -> Locator:
    return page.locator('[data-slot="banner"]')


def make_invite_link(page: Page) -> str:
    page.get_by_role("button", name="Invite someone").click()
    link = page.get_by_label(re.compile("Send them this link"))
    expect(link).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/invite/I"))
    value = link.input_value()
    page.get_by_role("button", name="Close").click()
    return value


def accept_invite(page: Page, link: str, name: str) -> None:
    page.goto(link)
    expect(page.get_by_text("invited you to join")).to_be_visible()
    page.get_by_label("Choose a name").fill(name)
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Join").click()
    expect(me(page)).to_have_text(name)


# --- the same person through the API, for changes made from elsewhere ---


def api_client(server: ServerProcess, name: str, password: str = PASSWORD) -> httpx.Client:
    client = server.client()
    reply = client.post("/api/auth/login", json={"name": name, "password": password})
    assert reply.status_code == 200, reply.text
    return client


def api_send(client: httpx.Client, channel_id: str, body: str) -> str:
    reply = client.post(f"/api/channels/{channel_id}", json={"body": body})
    assert reply.status_code == 202, reply.text
    message_id: str = reply.json()["id"]
    return message_id


# --- members and administration (issue 11) ---


def open_members(page: Page) -> Locator:
    """Opens the members view from the sidebar; returns its dialog."""
    page.get_by_role("button", name="Members", exact=True).click()
    dialog = page.get_by_role("dialog", name="Members")
    expect(dialog).to_be_visible()
    return dialog


def member(page: Page, name: str) -> Locator:
    """A person's row in the members view."""
    return page.locator(".member").filter(
        has=page.locator(".member-name", has_text=re.compile(rf"^{re.escape(name)}$"))
    )


def confirmation(page: Page) -> Locator:
    """The dialog that asks before a weighty change."""
    return page.locator('[data-slot="confirm-dialog"]')


# --- what a page's event stream delivered ---

# Keeps, in window.heard, every event the page's stream delivers: the tab holding the stream
# passes each one to the others on the "parlour" BroadcastChannel (sync.js), and a second
# BroadcastChannel object in the same page hears it too. Nothing in the client changes.
_LISTEN = """
window.heard = [];
new BroadcastChannel("parlour").onmessage = (e) => {
  if (e.data && e.data.kind === "event") window.heard.push(e.data.data);
};
"""


def listen_to_stream(page: Page) -> None:
    """From the next navigation on, records the events the page hears (see heard_events)."""
    page.add_init_script(_LISTEN)


def heard_events(
    page: Page, until: Callable[[list[dict[str, Any]]], bool] = lambda _: True
) -> list[dict[str, Any]]:
    """The events the page's stream delivered so far, once `until` holds of them."""
    deadline = time.monotonic() + EXPECT_TIMEOUT_MS / 1000
    while True:
        events: list[dict[str, Any]] = page.evaluate("window.heard")
        if until(events) or time.monotonic() > deadline:
            assert until(events), events
            return events
        page.wait_for_timeout(50)


def eventually(read: Callable[[], Any], expected: Any, page: Page | None = None) -> None:
    """Waits until read() returns the expected value (Playwright's expect, for a value read
    from elsewhere: the server's state, what a page recorded). With a page, waits through
    it: Playwright's sync API runs route and request handlers only while the test is calling
    into Playwright, so a value those handlers record changes only then."""
    deadline = time.monotonic() + EXPECT_TIMEOUT_MS / 1000
    while True:
        value = read()
        if value == expected:
            return
        assert time.monotonic() < deadline, f"{value!r} is not {expected!r}"
        if page is None:
            time.sleep(0.05)
        else:
            page.wait_for_timeout(50)
