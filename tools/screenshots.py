#!/usr/bin/env python3
"""Screenshots of the web client for docs/images/, from a real server and Debian's Chromium.

Run from the repository root: `.venv/bin/python tools/screenshots.py [OUT_DIR]`.
It starts `parlour serve` on a throwaway database, fills it with a small club's
conversation through the API, and photographs each view at desktop (1280x800) and phone
(375x740) widths, in light and dark colour schemes.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Literal

import httpx
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
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
PASSWORD = "correct horse battery"  # noqa: S105 - a throwaway demo server's
Scheme = Literal["light", "dark"]
SCHEMES: list[tuple[Scheme, str]] = [("light", ""), ("dark", "-dark")]

CHANNELS = ["general", "book-club", "garden-plot", "saturday-walks"]
# (channel, sender, body); consecutive messages of one sender are shown as one group.
CONVERSATION = [
    ("general", "Margot", "Morning all! Is the hall booked for Thursday?"),
    ("general", "Theo", "Yes, 7 pm until late. I have the keys."),
    ("general", "Theo", "Can someone bring the kettle? Ours finally gave up."),
    ("general", "Alice", "I'll bring mine. And biscuits."),
    (
        "general",
        "Margot",
        "Lovely. The agenda is here: https://example.org/club/agenda-march\n"
        "1. Spring fair stalls\n2. The new notice board\n3. Anything else",
    ),
    ("general", "Priya", "Count me in. I'll be a little late, choir runs until 7:30."),
    ("general", "Alice", "No rush, we'll save you a seat."),
    ("book-club", "Theo", "Finished it last night. That ending!"),
    ("book-club", "Priya", "No spoilers, I'm on chapter 12"),
    ("garden-plot", "Margot", "The tomatoes need water if anyone passes by."),
]


def start_server(database: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "parlour", "serve", "--database", str(database), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=database.parent,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if m := re.search(r"listening on (http://\S+)", line):
            return proc, m.group(1)
    raise SystemExit("parlour did not start")


def populate(url: str) -> None:
    """Alice sets up; the others join by invitation; everyone talks."""
    people: dict[str, httpx.Client] = {"Alice": httpx.Client(base_url=url)}
    r = people["Alice"].post("/api/setup", json={"name": "Alice", "password": PASSWORD})
    r.raise_for_status()
    for name in ("Margot", "Theo", "Priya"):
        invite = people["Alice"].post("/api/invite", json={}).json()
        people[name] = httpx.Client(base_url=url)
        r = people[name].post(
            f"/api/invite/{invite['id']}", json={"name": name, "password": PASSWORD}
        )
        r.raise_for_status()
    ids = {}
    for name in CHANNELS:
        r = people["Alice"].post("/api/channels", json={"name": name})
        r.raise_for_status()
        ids[name] = r.json()["id"]
    for channel, sender, body in CONVERSATION:
        r = people[sender].post(f"/api/channels/{ids[channel]}", json={"body": body})
        r.raise_for_status()


def leave_unread(p: Page) -> None:
    """Shows the unread counts: read positions are the server's (revision 2), and Alice has
    read only the channel she looks at, so a reload shows the others' counts as they are."""
    p.reload()
    p.locator(".timeline .msg").first.wait_for()
    p.mouse.move(0, 0)
    p.wait_for_timeout(300)


def shoot(browser: Browser, url: str, out: Path) -> None:
    def page(viewport: ViewportSize, scheme: Scheme = "light") -> Page:
        context = browser.new_context(viewport=viewport, locale="en-GB", color_scheme=scheme)
        return context.new_page()

    def log_in(p: Page) -> None:
        p.goto(url)
        p.get_by_label("Name").fill("Alice")
        p.get_by_label("Password").fill(PASSWORD)
        p.get_by_role("button", name="Log in").click()
        p.locator(".timeline .msg").first.wait_for()

    p = page(DESKTOP)
    p.goto(url)
    p.get_by_role("heading", name="Log in").wait_for()
    p.screenshot(path=out / "login.png")

    for scheme, suffix in SCHEMES:
        p = page(DESKTOP, scheme)
        log_in(p)
        leave_unread(p)
        p.screenshot(path=out / f"chat-desktop{suffix}.png")

    p = page(DESKTOP)
    log_in(p)
    p.get_by_role("button", name="Invite someone").click()
    p.get_by_role("button", name="Copy link").wait_for()
    p.screenshot(path=out / "invite-dialog.png")
    link = p.get_by_label(re.compile("Send them this link")).input_value()

    p = page(DESKTOP)
    p.goto(link)
    p.get_by_label("Choose a name").wait_for()
    p.screenshot(path=out / "invite.png")

    for scheme, suffix in SCHEMES:
        p = page(PHONE, scheme)
        log_in(p)
        leave_unread(p)
        p.screenshot(path=out / f"chat-phone{suffix}.png")
    p.get_by_role("button", name="Channels").click()
    p.wait_for_timeout(200)
    p.screenshot(path=out / "channels-phone-dark.png")


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "images"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        proc, url = start_server(Path(tmp) / "parlour.db")
        try:
            setup = browser.new_context(viewport=DESKTOP, locale="en-GB").new_page()
            setup.goto(url)
            setup.get_by_role("heading", name="Welcome").wait_for()
            setup.screenshot(path=out / "setup.png")
            phone = browser.new_context(viewport=PHONE, locale="en-GB").new_page()
            phone.goto(url)
            phone.get_by_role("heading", name="Welcome").wait_for()
            phone.screenshot(path=out / "setup-phone.png")
            populate(url)
            shoot(browser, url, out)
        finally:
            proc.terminate()
            proc.wait(20)
            browser.close()
    print(f"screenshots written to {out}")


if __name__ == "__main__":
    main()
