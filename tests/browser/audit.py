"""Measuring the web client against WCAG 2.2 AA in the browser: axe-core's rules, text
contrast, and the size of what a finger must hit on a phone (issue 16).

axe-core is pinned in package.json / package-lock.json and installed by tools/npm-tools (which
tools/check runs); it is injected into the page under test only, never served by parlour.
Without it the checks skip, except under CI (env CI set), where they fail: CI installs it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.2 AA for text (1.4.3): 4.5:1. Large text may go down to 3:1, but the client sets
# none of its text large enough to count, so every piece of text is held to 4.5:1.
MIN_CONTRAST = 4.5
# WCAG 2.5.5 (AAA; 2.5.8's 24 px is AA): 44 x 44 CSS pixels, the size Apple and Google
# recommend for a fingertip. Links inside running text are exempt, as WCAG says.
MIN_TARGET_PX = 44


def require_axe() -> None:
    if AXE.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{AXE} is missing; CI runs tools/check, which installs it")
    pytest.skip(f"{AXE} is missing: run tools/npm-tools (tools/check does)")


def axe_violations(page: Page) -> list[str]:
    """axe-core's violations on the page as it is now (every rule axe runs by default:
    WCAG 2.0-2.2 A and AA, and its best practices), one line each with the elements."""
    require_axe()
    if not page.evaluate("typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol: parlour's Content-Security-Policy refuses
        # inline scripts (rightly), and a test must not weaken it (add_script_tag would).
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    found: list[dict[str, Any]] = page.evaluate(
        """async () => {
          const results = await axe.run(document, { resultTypes: ["violations"] });
          return results.violations.map((v) => ({
            id: v.id,
            impact: v.impact,
            help: v.help,
            nodes: v.nodes.map((n) => n.target.join(" ") + " :: " + n.failureSummary),
          }));
        }"""
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"][:6])
        for v in found
    ]


def assert_accessible(page: Page, where: str) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe-core, {where}:\n" + "\n".join(violations)


# The contrast of an element's text with what is behind it: the first ancestor (itself
# included) with an opaque background colour, with translucent ones above it blended in,
# and the page's colour scheme's canvas beneath all. Opacity of the element and its
# ancestors fades the text towards what is behind it.
_CONTRAST = """
(el) => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const over = (top, under) => ({
    r: top.r * top.a + under.r * (1 - top.a),
    g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a),
    a: 1,
  });
  const layers = [];
  let opacity = 1;
  for (let e = el; e; e = e.parentElement) {
    const style = getComputedStyle(e);
    opacity *= Number(style.opacity);
    const bg = parse(style.backgroundColor);
    if (bg && bg.a > 0) {
      layers.push(bg);
      if (bg.a >= 1) break;
    }
  }
  const dark = matchMedia("(prefers-color-scheme: dark)").matches;
  let back = dark ? { r: 18, g: 18, b: 18, a: 1 } : { r: 255, g: 255, b: 255, a: 1 };
  for (const layer of layers.reverse()) back = over(layer, back);
  const text = parse(getComputedStyle(el).color);
  const front = over({ ...text, a: text.a * opacity }, back);
  const lum = (c) => {
    const f = (v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const [hi, lo] = [lum(front), lum(back)].sort((a, b) => b - a);
  return (hi + 0.05) / (lo + 0.05);
}
"""


def contrast_of(page: Page, selector: str) -> list[float]:
    """The text contrast of every element matching the selector (shown or not: a time shown
    only on hover is still read by someone)."""
    ratios: list[float] = page.locator(selector).evaluate_all(f"els => els.map({_CONTRAST})")
    return ratios


# Everything a finger may need to hit: visible, not inside running text, and not a radio or
# check box inside its label (the label is the target then).
_SMALL_TARGETS = """
(min) => {
  const selector =
    "a[href], button, input, textarea, select, summary, [role=button], [role=link], " +
    "[role^=menuitem], [role=option], [tabindex]:not([tabindex='-1'])";
  const small = [];
  for (const el of document.querySelectorAll(selector)) {
    let target = el;
    if (el.matches("input[type=radio], input[type=checkbox]")) {
      target = el.closest("label") || el;
    }
    if (el.closest(".msg-body, .fine-print") && el.matches("a")) continue;
    if (el.matches("input[type=hidden]") || el.closest("[hidden], [inert]")) continue;
    const box = target.getBoundingClientRect();
    const style = getComputedStyle(target);
    if (box.width === 0 || box.height === 0 || style.visibility === "hidden") continue;
    // Visually hidden (a skip link until focused): not a target until it shows.
    if (box.width <= 1 && box.height <= 1) continue;
    if (box.width < min - 0.5 || box.height < min - 0.5) {
      const name = (el.getAttribute("aria-label") || el.textContent || el.outerHTML)
        .trim().replace(/\\s+/g, " ").slice(0, 60);
      small.push(`${el.tagName.toLowerCase()}.${[...el.classList].join(".")} ` +
                 `"${name}": ${Math.round(box.width)} x ${Math.round(box.height)}`);
    }
  }
  return small;
}
"""


def small_targets(page: Page) -> list[str]:
    """The visible targets smaller than 44 x 44 CSS pixels, described."""
    found: list[str] = page.evaluate(_SMALL_TARGETS, MIN_TARGET_PX)
    return found
