"""client_switch (issue 16): the web client on a big channel with Chromium's CPU slowed 4x.

Debian's Chromium (headless, through Playwright) with the CPU throttled 4x through the
DevTools protocol (`Emulation.setCPUThrottlingRate`), the way issue 16 states its targets:

- `navigation`: from a cold navigation to `/channels/{big}` (a fresh context: no cache, no
  stored state, the session cookie set) until the channel's newest message is visible.
- `switch`: on that page, from the click on a small channel's link until its message shows
  (`to small`), and from the click back on the big channel's link until its newest message
  shows again (`to big`).
- `elements`: the page's elements after the navigation and after each switch into the big
  channel (the DOM stays bounded whatever the history: the client holds and shows the newest
  page, and older ones only as the reader scrolls up).

Each time is taken twice. As the driver sees it (`navigation`, `to small`, `to big`): from
Playwright's call until it hears that the message shows, which adds the driver's own work
(the DevTools protocol's round trips and, for a switch, the click's input events and the
locator's polling, in the same slowed page) to the client's. The navigation waits on the
page's own check rather than a locator: a locator's first use injects Playwright's selector
engine into the page as it loads, which cost the slowed main thread about 110 ms. And in
the page (`… in page`): from the navigation's start, or the click event's own time stamp,
until the end of the first frame in which the message is laid out (a check on each
animation frame; a task queued from it runs once that frame is painted): what the reader
waits for.

The big channel is the seeded one of `history_browser` at `client_switch_messages`; the small
one is made through the API with a message in it. It measures and never asserts; without
Chromium or Playwright it says so in a line with `skipped` and goes on.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from typing import TYPE_CHECKING, Any

from bench.context import Context
from bench.http1 import Connection
from bench.report import measurement
from bench.scenarios.history_browser import CHROMIUM, LAUNCH_ARGS, WAIT_MS, unavailable
from bench.scenarios.retained import seeded
from bench.seed import BODY
from bench.stats import latency_ms

THROTTLE = 4
SMALL_BODY = "the small channel's only message"
ELEMENTS = "document.getElementsByTagName('*').length"
# Installed before the page's own scripts: `__shownAt(text, since)` resolves with the
# milliseconds from `since` (performance.now()'s clock) to the end of the first frame that
# lays out a message with that text; `__navigation` is that for the newest, since the start.
WATCH = """(() => {
  window.__shownAt = (text, since) => new Promise((resolve) => {
    const check = () => {
      const shown = [...document.querySelectorAll(".timeline .msg-body")]
        .find((body) => body.textContent.includes(text) && body.getClientRects().length);
      if (shown) setTimeout(() => resolve(performance.now() - since));
      else requestAnimationFrame(check);
    };
    check();
  });
  window.__navigation = window.__shownAt(%s, 0);
})()"""
# Rejects after WAIT_MS, so that a page that never shows the message fails the run.
TIMEOUT_PROMISE = (
    f"new Promise((_, reject) => setTimeout(() => reject(new Error('not shown')), {WAIT_MS}))"
)
# Before a click: `__switched` resolves with the time from that click until its message shows.
ON_CLICK = """(text) => {
  window.__switched = new Promise((resolve) => document.addEventListener(
    "click", (event) => window.__shownAt(text, event.timeStamp).then(resolve),
    { capture: true, once: true }));
}"""

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def measure(
    url: str, big: str, small: str, token: str, newest: str, repeats: int
) -> dict[str, list[float]]:
    """Seconds (and element counts) for each figure; sync Playwright on a thread of its own."""
    from playwright.sync_api import sync_playwright

    found: dict[str, list[float]] = {
        "navigation": [], "to small": [], "to big": [],
        "navigation in page": [], "to small in page": [], "to big in page": [],
        "elements": [],
    }  # fmt: skip
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True
        )
        try:
            for _ in range(repeats):
                once(browser, url, big, small, token, newest, found)
        finally:
            browser.close()
    return found


def once(
    browser: Browser,
    url: str,
    big: str,
    small: str,
    token: str,
    newest: str,
    found: dict[str, list[float]],
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        context.add_cookies([{"name": "identity", "value": token, "url": url}])
        context.add_init_script(WATCH % json.dumps(newest))
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": THROTTLE})
        shown_big = page.locator(".timeline .msg-body", has_text=newest)
        shown_small = page.locator(".timeline .msg-body", has_text=SMALL_BODY)
        started = time.monotonic()
        page.goto(f"{url}/channels/{big}", wait_until="commit", timeout=WAIT_MS)
        # The page's own check, not a locator: a locator's first use injects Playwright's
        # selector engine into the page while it loads, on the same slowed main thread.
        in_page = page.evaluate(f"Promise.race([window.__navigation, {TIMEOUT_PROMISE}])")
        found["navigation"].append(time.monotonic() - started)
        found["navigation in page"].append(in_page / 1000)
        shown_big.wait_for(state="visible", timeout=WAIT_MS)
        found["elements"].append(page.evaluate(ELEMENTS))
        settle(page)
        for _ in range(3):
            switch(page, small, SMALL_BODY, shown_small, found, "to small")
            settle(page)
            switch(page, big, newest, shown_big, found, "to big")
            found["elements"].append(page.evaluate(ELEMENTS))
            settle(page)
    finally:
        context.close()


def settle(page: Page) -> None:
    """Lets the page finish what follows a switch (read positions, history) before the next."""
    page.wait_for_timeout(300)


def switch(
    page: Page, channel: str, text: str, shown: Any, found: dict[str, list[float]], what: str
) -> None:
    link = page.locator(f'.channel-list a[href="/channels/{channel}"]')
    page.evaluate(ON_CLICK, text)
    started = time.monotonic()
    link.click()
    shown.wait_for(state="visible", timeout=WAIT_MS)
    found[what].append(time.monotonic() - started)
    found[f"{what} in page"].append(page.evaluate("window.__switched") / 1000)


async def make_small_channel(host: str, port: int, cookie: str) -> str:
    conn = await Connection.open(host, port)
    try:
        made = await conn.request(
            "POST", "/api/channels", json_body={"name": "small"}, cookie=cookie
        )
        if made.status != 202:
            raise RuntimeError(f"making the small channel answered {made.status}")
        channel: str = made.json()["id"]
        sent = await conn.request(
            "POST", f"/api/channels/{channel}", json_body={"body": SMALL_BODY}, cookie=cookie
        )
        if sent.status != 202:
            raise RuntimeError(f"sending to the small channel answered {sent.status}")
        return channel
    finally:
        await conn.close()


async def run(ctx: Context) -> None:
    total = ctx.sizes.client_switch_messages
    params: dict[str, Any] = {"messages": total, "cpu_throttle": THROTTLE}
    reason = unavailable()
    if reason is not None:
        ctx.reporter.note(f"client_switch skipped: {reason}")
        ctx.reporter.emit(measurement("client_switch", "parlour", params, {"skipped": reason}))
        return
    template, _, _ = await seeded(ctx, total)
    community = template.community
    token = community.admin.cookie.split("=", 1)[1]
    newest = BODY.format(total - 1)
    server = await ctx.workspace.start_parlour(template, "client-switch")
    try:
        small = await make_small_channel(server.host, server.port, community.admin.cookie)
        ctx.reporter.note(f"client_switch: {total:,} messages, CPU slowed {THROTTLE}x")
        url = f"http://{server.host}:{server.port}"
        found = await asyncio.to_thread(
            measure, url, community.channel, small, token, newest,
            ctx.sizes.history_browser_repeats,
        )  # fmt: skip
        elements = found.pop("elements")
        for what, samples in found.items():
            figures: dict[str, Any] = latency_ms(samples)
            figures |= {
                "median_ms": round(statistics.median(samples) * 1000, 1),
                "all_ms": [round(s * 1000, 1) for s in samples],
                "max_elements": max(elements),
                "server_problems": ctx.problems(server),
            }
            run_params = params | {"run": what} | ctx.server_params(server)
            ctx.reporter.emit(measurement("client_switch", "parlour", run_params, figures))
    finally:
        await server.stop()
