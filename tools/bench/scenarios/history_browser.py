"""history_browser (issue 12): from navigation to a rendered channel of 1,000,000 messages.

Debian's Chromium (headless, through Playwright) opens `/channels/{id}` of the channel that
`history_page` pages through, logged in as its admin (the session cookie is set in a fresh
browser context, so every navigation is a cold start of the page: no cached files, no
stored state). The clock runs from the navigation until the channel's newest message is
visible in the timeline: the page loaded, booted (`?messages=30`), and rendered. Measured
with every message unread, then after the admin has read the channel.

It measures and never asserts; without Chromium or Playwright it says so in a line with
`skipped` and goes on.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.context import Context
from bench.report import measurement
from bench.scenarios.history import READ_STATES, mark_all_read
from bench.scenarios.retained import seeded
from bench.seed import BODY
from bench.stats import latency_ms

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
WAIT_MS = 60_000

if TYPE_CHECKING:
    from playwright.sync_api import Browser


def navigate(
    url: str, path: str, token: str, newest: str, repeats: int, between: Callable[[str], None]
) -> dict[str, list[float]]:
    """Seconds from each navigation to the newest message shown, for each read state
    (`between(state)` makes it so); sync Playwright, so it runs on a thread of its own."""
    from playwright.sync_api import sync_playwright

    seconds: dict[str, list[float]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True
        )
        try:
            for state in READ_STATES:
                between(state)
                seconds[state] = []
                for _ in range(repeats):
                    seconds[state].append(navigation(browser, url, path, token, newest))
        finally:
            browser.close()
    return seconds


def navigation(browser: Browser, url: str, path: str, token: str, newest: str) -> float:
    """One cold navigation in a fresh context (no cache, no stored state) with the session."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        context.add_cookies([{"name": "identity", "value": token, "url": url}])
        page = context.new_page()
        shown = page.locator(".timeline .msg-body", has_text=newest)
        started = time.monotonic()
        page.goto(url + path, wait_until="commit", timeout=WAIT_MS)
        shown.wait_for(state="visible", timeout=WAIT_MS)
        return time.monotonic() - started
    finally:
        context.close()


def unavailable() -> str | None:
    """Why the browser cannot run here, if it cannot."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed"
    return None


async def run(ctx: Context) -> None:
    total = ctx.sizes.history_page_messages
    params: dict[str, Any] = {"messages": total}
    reason = unavailable()
    if reason is not None:
        ctx.reporter.note(f"history_browser skipped: {reason}")
        ctx.reporter.emit(measurement("history_browser", "parlour", params, {"skipped": reason}))
        return
    template, _, _ = await seeded(ctx, total)
    community = template.community
    token = community.admin.cookie.split("=", 1)[1]
    newest = BODY.format(total - 1)
    server = await ctx.workspace.start_parlour(template, "history-browser")
    loop = asyncio.get_running_loop()

    def between(state: str) -> None:
        ctx.reporter.note(f"history_browser: {total:,} messages, {state}")
        if state == "all read":
            marking = mark_all_read(server, community.admin.cookie, [community.channel])
            asyncio.run_coroutine_threadsafe(marking, loop).result()

    try:
        url = f"http://{server.host}:{server.port}"
        seconds = await asyncio.to_thread(
            navigate, url, f"/channels/{community.channel}", token, newest,
            ctx.sizes.history_browser_repeats, between,
        )  # fmt: skip
        for state, samples in seconds.items():
            figures: dict[str, Any] = latency_ms(samples)
            figures |= {
                "median_ms": round(statistics.median(samples) * 1000, 1),
                "all_ms": [round(s * 1000, 1) for s in samples],
                "server_rss_kib": server.rss_kib(),
                "server_problems": ctx.problems(server),
            }
            state_params = params | {"reads": state} | ctx.server_params(server)
            ctx.reporter.emit(measurement("history_browser", "parlour", state_params, figures))
    finally:
        await server.stop()
