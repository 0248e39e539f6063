"""Render the web app's PNG icons (the manifest's 192 and 512 px) from
src/parlour/static/icon.svg, with Debian's Chromium through Playwright (a test dependency):
no image library is needed at runtime or in CI. Run once after changing icon.svg, and commit
the PNGs:

    .venv/bin/python tools/make_icons.py
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import sync_playwright

STATIC = Path(__file__).resolve().parents[1] / "src" / "parlour" / "static"
SIZES = (192, 512)
CHROMIUM = "/usr/bin/chromium"


def main() -> None:
    svg = (STATIC / "icon.svg").read_text(encoding="utf-8")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        for size in SIZES:
            page = browser.new_page(viewport={"width": size, "height": size})
            sized = svg.replace("<svg ", f'<svg width="{size}" height="{size}" ', 1)
            page.set_content(f"<style>*{{margin:0}}svg{{display:block}}</style>{sized}")
            page.screenshot(path=str(STATIC / f"icon-{size}.png"), omit_background=True)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
