// Building the page from the templates in index.html. Text from users is only ever set
// with textContent or as attribute values; nothing here parses a string as HTML.

/**
 * A fresh copy of a <template>'s first element.
 * @param {string} id
 * @returns {HTMLElement}
 */
export function clone(id) {
  const template = /** @type {HTMLTemplateElement} */ (document.getElementById(id));
  return /** @type {HTMLElement} */ (template.content.firstElementChild?.cloneNode(true));
}

/**
 * The element marked data-slot=name inside root.
 * @param {ParentNode} root
 * @param {string} name
 * @returns {any}
 */
export function slot(root, name) {
  const found = root.querySelector(`[data-slot="${name}"]`);
  if (!found) throw new Error(`no slot ${name}`);
  return found;
}

/**
 * The first element matching a selector inside root; a missing one is a bug in index.html.
 * @param {ParentNode} root
 * @param {string} selector
 * @returns {any}
 */
export function find(root, selector) {
  const found = root.querySelector(selector);
  if (!found) throw new Error(`nothing matches ${selector}`);
  return found;
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
