// The keyboard's way through a channel's messages (WAI-ARIA's roving tabindex): the list of
// messages is one stop of the Tab key, not one per message and button, so that Tab reaches
// the compose box from the header in a few presses however long the channel is.
//
// One message holds the stop (tabindex 0; every other message -1): the one last focused, or
// the newest while none has been. On a message, ↑/↓ move to the one before or after it,
// Home/End to the first or last shown, and Enter or Space open its actions: the focus goes
// to its first action (React, Edit, Delete), ←/→ move between them, and Esc goes back to the
// message. Only the message holding the stop has its actions, reactions and links in the Tab
// order; the others' wait until the focus comes to them.
//
// Each message is labelled for a screen reader by who wrote it, when, and how it begins
// ("Alice, 10:04: Is the hall booked…"), so that one tells them apart while moving.

// What a message's label quotes of its text.
const PREVIEW_CHARS = 120;
// The parts of a message that act: in the Tab order only in the message holding the stop.
const CONTROLS = ".msg-actions button, .reactions button, .msg-body a[href]";

/**
 * What a screen reader says of a message: "Alice, 10:04: Is the hall booked…".
 * @param {string} sender
 * @param {string} time as shown
 * @param {string} body
 * @param {boolean} edited
 */
export function messageLabel(sender, time, body, edited) {
  const text = body.replace(/\s+/g, " ").trim();
  const chars = Array.from(text);
  const preview =
    chars.length > PREVIEW_CHARS ? `${chars.slice(0, PREVIEW_CHARS - 1).join("")}…` : text;
  return `${sender}, ${time}: ${preview}${edited ? " (edited)" : ""}`;
}

export class MessageFocus {
  /**
   * @param {HTMLElement} list the list of messages (its items: li.msg)
   * @param {(li: HTMLElement) => void} opened a message's actions were opened from the keyboard
   */
  constructor(list, opened) {
    this.list = list;
    this.opened = opened;
    /** @type {HTMLElement | null} the message the reader last focused (null: none yet) */
    this.chosen = null;
    list.addEventListener("focusin", (event) => {
      const li = /** @type {HTMLElement} */ (event.target).closest("li.msg");
      if (li instanceof HTMLElement && list.contains(li) && li !== this.chosen) this.#choose(li);
    });
    list.addEventListener("keydown", (event) => this.#key(event));
  }

  /** Forgets the chosen message (another channel is shown). */
  reset() {
    this.chosen = null;
  }

  /**
   * A message's item was made, or its content remade: its place in the Tab order.
   * @param {HTMLElement} li
   */
  adopt(li) {
    const current = li === this.#stop();
    li.tabIndex = current ? 0 : -1;
    for (const control of li.querySelectorAll(CONTROLS)) {
      /** @type {HTMLElement} */ (control).tabIndex = current ? 0 : -1;
    }
  }

  /**
   * Messages came or went: the stop stays on the chosen message, or moves to the newest.
   * @param {{removed: HTMLElement, next: HTMLElement | null, hadFocus: boolean}} [gone] a
   *   message just taken out (and the one after it, and whether it held the focus): if it
   *   was the chosen one, the message that took its place is, and takes the focus it had
   */
  update(gone) {
    if (gone && gone.removed === this.chosen) {
      this.chosen = null;
      const heir = gone.next?.isConnected ? gone.next : this.#last();
      if (heir) {
        this.#choose(heir);
        if (gone.hadFocus) heir.focus();
      }
    }
    if (this.chosen && !this.chosen.isConnected) this.chosen = null;
    const stop = this.#stop();
    for (const li of this.list.querySelectorAll('li.msg[tabindex="0"]')) {
      if (li !== stop) this.adopt(/** @type {HTMLElement} */ (li));
    }
    if (stop && stop.tabIndex !== 0) this.adopt(stop);
  }

  /** Focuses the message holding the stop; false when no message is shown. */
  focus() {
    const stop = this.#stop();
    stop?.focus();
    return stop !== null;
  }

  /** The message holding the Tab stop, if any is shown. */
  current() {
    return this.#stop();
  }

  /** @returns {HTMLElement | null} */
  #stop() {
    return this.chosen?.isConnected ? this.chosen : this.#last();
  }

  #last() {
    const items = this.list.querySelectorAll("li.msg");
    return /** @type {HTMLElement | null} */ (items[items.length - 1] ?? null);
  }

  /** @param {HTMLElement} li */
  #choose(li) {
    const before = this.#stop();
    this.chosen = li;
    if (before && before !== li) this.adopt(before);
    this.adopt(li);
  }

  /** @param {KeyboardEvent} event */
  #key(event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    const target = /** @type {HTMLElement} */ (event.target);
    const li = target.closest("li.msg");
    if (!(li instanceof HTMLElement)) return;
    if (target === li) this.#onMessage(event, li);
    else if (target.closest(".msg-actions")) this.#onAction(event, li, target);
    else if (event.key === "Escape" && target.matches(CONTROLS)) {
      event.preventDefault();
      li.focus();
    }
  }

  /** @param {KeyboardEvent} event @param {HTMLElement} li */
  #onMessage(event, li) {
    /** @type {Element | null | undefined} */
    let to;
    if (event.key === "ArrowUp") to = sibling(li, -1);
    else if (event.key === "ArrowDown") to = sibling(li, 1);
    else if (event.key === "Home") to = this.list.querySelector("li.msg");
    else if (event.key === "End") to = this.#last();
    else if (event.key === "Enter" || event.key === " ") {
      const first = /** @type {HTMLElement | null} */ (li.querySelector(".msg-actions button"));
      if (!first) return;
      event.preventDefault();
      this.opened(li);
      first.focus();
      return;
    } else return;
    event.preventDefault();
    if (to instanceof HTMLElement) {
      to.focus();
      to.scrollIntoView({ block: "nearest" });
    }
  }

  /** @param {KeyboardEvent} event @param {HTMLElement} li @param {HTMLElement} button */
  #onAction(event, li, button) {
    const actions = Array.from(li.querySelectorAll(".msg-actions button"));
    const at = actions.indexOf(button);
    /** @type {Element | undefined} */
    let to;
    if (event.key === "ArrowRight") to = actions[(at + 1) % actions.length];
    else if (event.key === "ArrowLeft") to = actions[(at - 1 + actions.length) % actions.length];
    else if (event.key === "Escape" || event.key === "ArrowUp" || event.key === "ArrowDown") {
      to = li;
    } else return;
    event.preventDefault();
    if (to instanceof HTMLElement) to.focus();
  }
}

/**
 * The message before (-1) or after (1) an item, skipping anything that is not a message.
 * @param {HTMLElement} li
 * @param {-1 | 1} step
 */
function sibling(li, step) {
  let at = step < 0 ? li.previousElementSibling : li.nextElementSibling;
  while (at && !at.matches("li.msg")) at = step < 0 ? at.previousElementSibling : at.nextElementSibling;
  return at;
}
