// Building the page from the templates in index.html. Text from users is only ever set
// with textContent or as attribute values; nothing here parses a string as HTML.

/**
 * A fresh copy of a <template>'s first element.
 * @param {string} id
 * @returns {HTMLElement}
 */
export function clone(id) {
  const template = find(document, `template#${id}`, HTMLTemplateElement);
  const copy = template.content.firstElementChild?.cloneNode(true);
  return ofKind(copy instanceof Element ? copy : null, HTMLElement, `template ${id}`);
}

/**
 * The element marked data-slot=name inside root. A missing one, or one of another kind than
 * the caller expects, is a bug in index.html: it throws at once rather than later, elsewhere.
 * @template {Element} [T=HTMLElement]
 * @param {ParentNode} root
 * @param {string} name
 * @param {new (...args: any[]) => T} [kind] the element's interface (HTMLElement if not given)
 * @returns {T}
 */
export function slot(root, name, kind) {
  return ofKind(root.querySelector(`[data-slot="${name}"]`), kind, `slot ${name}`);
}

/**
 * The first element matching a selector inside root; checked as slot() checks.
 * @template {Element} [T=HTMLElement]
 * @param {ParentNode} root
 * @param {string} selector
 * @param {new (...args: any[]) => T} [kind] the element's interface (HTMLElement if not given)
 * @returns {T}
 */
export function find(root, selector, kind) {
  return ofKind(root.querySelector(selector), kind, selector);
}

/**
 * @template {Element} T
 * @param {Element | null} found
 * @param {(new (...args: any[]) => T) | undefined} kind
 * @param {string} what
 * @returns {T}
 */
function ofKind(found, kind, what) {
  const want = kind ?? HTMLElement;
  if (!found) throw new Error(`nothing matches ${what}`);
  if (!(found instanceof want)) throw new Error(`${what} is not a ${want.name}`);
  return /** @type {T} */ (found);
}

/**
 * Calls handler(event, button) when a button marked data-action=name inside root is clicked.
 * @param {HTMLElement} root
 * @param {Record<string, (event: Event, target: HTMLElement) => void>} handlers
 */
export function onActions(root, handlers) {
  root.addEventListener("click", (event) => {
    const target = /** @type {HTMLElement | null} */ (
      /** @type {HTMLElement} */ (event.target).closest("[data-action]")
    );
    if (!target || !root.contains(target)) return;
    const handler = handlers[target.dataset.action ?? ""];
    if (handler) handler(event, target);
  });
}

/**
 * Shows an error under the field it is about (data-error=field), or clears it.
 * @param {ParentNode} root
 * @param {string} field
 * @param {string} text
 */
export function showError(root, field, text) {
  const place = root.querySelector(`[data-error="${field}"]`);
  if (place) place.textContent = text;
  const input = root.querySelector(`[name="${field}"]`);
  if (input) {
    if (text) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
}

/** @param {ParentNode} root */
export function clearErrors(root) {
  for (const place of root.querySelectorAll("[data-error]")) {
    place.textContent = "";
  }
  for (const input of root.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
  }
}

/**
 * Focuses the first field that shows an error.
 * @param {ParentNode} root
 */
export function focusFirstError(root) {
  const input = /** @type {HTMLElement | null} */ (root.querySelector("[aria-invalid]"));
  input?.focus();
}

/**
 * A value of a named form control.
 * @param {HTMLFormElement} form
 * @param {string} name
 * @returns {string}
 */
export function field(form, name) {
  const control = /** @type {HTMLInputElement | null} */ (form.elements.namedItem(name));
  return control?.value ?? "";
}

/**
 * Runs a submit handler with the submit button disabled, so a double Enter sends once.
 * @param {HTMLFormElement} form
 * @param {() => Promise<void>} handler
 */
export function onSubmit(form, handler) {
  let busy = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    busy = true;
    const buttons = form.querySelectorAll('button[type="submit"]');
    for (const b of buttons) b.setAttribute("aria-disabled", "true");
    try {
      await handler();
    } finally {
      busy = false;
      for (const b of buttons) b.removeAttribute("aria-disabled");
    }
  });
}

/** A stable, calm hue for a person, from their id. @param {string} id */
export function hueOf(id) {
  let h = 0;
  for (const ch of id) h = (h * 31 + (ch.codePointAt(0) ?? 0)) % 360;
  return h;
}

/**
 * Fills an avatar circle with a person's initial, tinted by their id.
 * @param {HTMLElement} el
 * @param {{id: string, name: string}} user
 */
export function paintAvatar(el, user) {
  el.textContent = Array.from(user.name.trim())[0]?.toUpperCase() ?? "?";
  el.dataset.hue = String(Math.floor(hueOf(user.id) / 30));
}

/** The "#" before a channel's name: drawn, but not read out (the name is enough). */
export function hashMark() {
  const mark = document.createElement("span");
  mark.className = "hash";
  mark.setAttribute("aria-hidden", "true");
  mark.textContent = "#";
  return mark;
}

const SVG = "http://www.w3.org/2000/svg";

/** The padlock before a private channel's name: drawn, not read out (its label says so). */
export function lockMark() {
  const mark = document.createElement("span");
  mark.className = "hash lock";
  mark.setAttribute("aria-hidden", "true");
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 16 16");
  svg.setAttribute("width", "0.8em");
  svg.setAttribute("height", "0.8em");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("fill", "currentColor");
  path.setAttribute(
    "d",
    "M4.5 7V5a3.5 3.5 0 0 1 7 0v2H13v8H3V7h1.5zm2 0h3V5a1.5 1.5 0 0 0-3 0v2z",
  );
  svg.append(path);
  mark.append(svg);
  return mark;
}

/**
 * What goes before a channel's name: "#" for a public one, a padlock for a private one,
 * nothing for a direct conversation (its members' names say what it is).
 * @param {{kind: string}} channel
 * @returns {Node[]}
 */
export function channelMark(channel) {
  if (channel.kind === "private") return [lockMark()];
  if (channel.kind === "direct") return [];
  return [hashMark()];
}

/**
 * Resolves once the next frame has been painted, or after `atMostMs` (a hidden tab paints
 * nothing): work that can wait lets what is ready show first (docs/benchmarks.md, "The web
 * client on a big channel").
 * @param {number} [atMostMs]
 * @returns {Promise<void>}
 */
export function nextPaint(atMostMs = 100) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, atMostMs);
    // A task queued from an animation frame runs after that frame is painted.
    requestAnimationFrame(() =>
      setTimeout(() => {
        clearTimeout(timer);
        resolve();
      }),
    );
  });
}
