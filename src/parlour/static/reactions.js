// Reactions under a message: each emoji with its count, pressed when one of them is one's
// own (pressing it takes it back; pressing another's adds one's own). Who reacted shows on
// hover (the title) and on a long press on a touch screen, where there is no hover. "React"
// in a message's actions opens a small picker: common emoji, or any other emoji or short word
// (1 to 32 characters: docs/api/channels-and-messages.md).

import { call } from "./api.js";
import { textLength } from "./limits.js";

/**
 * @typedef {import("./world.js").World} World
 * @typedef {import("./world.js").Message} Message
 * @typedef {import("./world.js").Reaction} Reaction
 */

/** The picker's emoji, most used first. */
export const COMMON = Object.freeze(["👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀"]);
// The longest a reaction may be, in characters after NFC.
const REACTION_MAX = 32;
// How long a touch must rest on a reaction to show who reacted, and how long that shows.
const LONG_PRESS_MS = 500;
const WHO_SHOWN_MS = 4000;
// A touch that moves further than this is a scroll, not a long press.
const PRESS_SLOP_PX = 10;

/**
 * "You", "You and Bob", "Alice, Bob and 3 others".
 * @param {Reaction} reaction
 * @param {World} world
 */
export function whoReacted(reaction, world) {
  const names = reaction.users.map((id) => (id === world.me.id ? "You" : world.userName(id)));
  // Oneself first: it is what one looks for.
  names.sort((a, b) => Number(b === "You") - Number(a === "You"));
  const shown = names.length > 6 ? names.slice(0, 5) : names;
  const rest = names.length - shown.length;
  if (rest) return `${shown.join(", ")} and ${rest} others`;
  if (shown.length < 2) return shown.join("");
  return `${shown.slice(0, -1).join(", ")} and ${shown[shown.length - 1]}`;
}

/**
 * Fills a message's row of reactions (hidden when there are none).
 * @param {HTMLElement} row
 * @param {Message} message
 * @param {World} world
 */
export function showReactions(row, message, world) {
  row.replaceChildren(
    ...message.reactions.map((reaction) => {
      const count = reaction.users.length;
      const mine = reaction.users.includes(world.me.id);
      const who = whoReacted(reaction, world);
      const button = document.createElement("button");
      button.type = "button";
      button.className = "reaction";
      button.dataset.emoji = reaction.emoji;
      button.setAttribute("aria-pressed", String(mine));
      button.title = `${who} reacted with ${reaction.emoji}`;
      button.setAttribute(
        "aria-label",
        `${reaction.emoji}: ${count} ${count === 1 ? "reaction" : "reactions"}, from ${who}`,
      );
      const emoji = document.createElement("span");
      emoji.className = "reaction-emoji";
      emoji.textContent = reaction.emoji;
      const number = document.createElement("span");
      number.className = "reaction-count";
      number.textContent = String(count);
      button.append(emoji, number);
      return button;
    }),
  );
  row.hidden = message.reactions.length === 0;
}

/**
 * Adds or takes back one's reaction. Resolves to the event that the change makes (to show it
 * at once; its own event follows), or to why it was refused.
 * @param {Message} message
 * @param {string} emoji
 * @param {string} me this user's id
 * @param {boolean} add
 * @returns {Promise<{event: any} | {problem: string} | {ended: true}>} ended: the session is
 *   over (401)
 */
export async function sendReaction(message, emoji, me, add) {
  const path = `/api/messages/${encodeURIComponent(message.id)}/reactions`;
  const reply = add
    ? await call("POST", path, { emoji })
    : await call("DELETE", `${path}/${encodeURIComponent(emoji)}`);
  const event = {
    type: "reaction",
    event: add ? "added" : "removed",
    message: message.id,
    channel: message.channel,
    user: me,
    emoji,
  };
  if (reply.status === 202) return { event };
  if (reply.status === 401) return { ended: true };
  // Already so (added, or taken back, from another tab meanwhile): what was asked for is the
  // case. (A 404 on taking back: not ours any more, or the message is gone; either way,
  // nothing of ours is left to show.)
  const known = message.reactions.some((r) => r.emoji === emoji);
  if (add && reply.status === 409 && known) return { event };
  if (!add && reply.status === 404) return { event };
  if (reply.status === 404) return { problem: "This message no longer exists." };
  if (reply.status === 409) {
    return { problem: "This message has as many different reactions as it can hold." };
  }
  if (reply.status === 0) return { problem: "Can't reach the server: no reaction sent." };
  return { problem: `Reaction not sent: ${reply.detail}` };
}

/**
 * Follows presses on reactions inside a list of messages: a click toggles (`toggle`), a long
 * touch shows who reacted instead (and the click that follows it is not a toggle).
 * @param {HTMLElement} list
 * @param {(button: HTMLElement) => void} toggle
 * @param {(button: HTMLElement) => void} showWho
 */
export function followReactions(list, toggle, showWho) {
  /** @type {number | undefined} */
  let timer;
  let start = { x: 0, y: 0 };
  /** @type {HTMLElement | null} */
  let swallow = null;
  const reactionOf = (/** @type {Event} */ event) => {
    const target = /** @type {HTMLElement} */ (event.target).closest(".reaction");
    return target instanceof HTMLElement && list.contains(target) ? target : null;
  };
  list.addEventListener("pointerdown", (event) => {
    window.clearTimeout(timer);
    const button = reactionOf(event);
    if (!button || event.pointerType !== "touch") return;
    start = { x: event.clientX, y: event.clientY };
    timer = window.setTimeout(() => {
      swallow = button;
      showWho(button);
    }, LONG_PRESS_MS);
  });
  list.addEventListener("pointermove", (event) => {
    if (Math.hypot(event.clientX - start.x, event.clientY - start.y) > PRESS_SLOP_PX) {
      window.clearTimeout(timer);
    }
  });
  for (const end of ["pointerup", "pointercancel"]) {
    list.addEventListener(end, () => window.clearTimeout(timer));
  }
  // A long touch opens the browser's own menu on some phones: here it shows who reacted.
  list.addEventListener("contextmenu", (event) => {
    if (reactionOf(event)) event.preventDefault();
  });
  list.addEventListener("click", (event) => {
    const button = reactionOf(event);
    if (!button) return;
    if (swallow === button) {
      swallow = null;
      return;
    }
    swallow = null;
    toggle(button);
  });
}

/**
 * Shows, under a row of reactions, who reacted with one of them (a long press's answer).
 * @param {HTMLElement} button the reaction
 */
export function showWhoReacted(button) {
  const row = button.parentElement;
  if (!row) return;
  row.parentElement?.querySelector(".reaction-who")?.remove();
  const note = document.createElement("p");
  note.className = "reaction-who";
  note.setAttribute("role", "status");
  note.textContent = button.title;
  row.after(note);
  const hide = () => {
    note.remove();
    document.removeEventListener("pointerdown", hide, true);
  };
  window.setTimeout(hide, WHO_SHOWN_MS);
  document.addEventListener("pointerdown", hide, true);
}

export class ReactionPicker {
  /**
   * @param {(messageId: string, emoji: string) => Promise<string | null>} react adds a
   *   reaction: why it was refused, or null
   */
  constructor(react) {
    this.react = react;
    /** @type {HTMLElement | null} */
    this.el = null;
    /** @type {HTMLElement | null} */
    this.opener = null;
    /** @type {string | null} */
    this.messageId = null;
  }

  /**
   * Opens the picker under a message (closing any other).
   * @param {HTMLElement} li the message's item
   * @param {string} messageId
   * @param {HTMLElement} opener where the focus goes back to
   */
  open(li, messageId, opener) {
    const again = this.messageId === messageId && this.el?.isConnected;
    this.close(false);
    if (again) {
      opener.focus();
      return;
    }
    this.opener = opener;
    this.messageId = messageId;
    const el = document.createElement("div");
    el.className = "reaction-picker";
    el.setAttribute("role", "group");
    el.setAttribute("aria-label", "Pick a reaction");
    const common = document.createElement("div");
    common.className = "reaction-common";
    for (const emoji of COMMON) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "quiet";
      b.textContent = emoji;
      b.setAttribute("aria-label", `React with ${emoji}`);
      b.addEventListener("click", () => this.#choose(emoji));
      common.append(b);
    }
    const form = document.createElement("form");
    form.className = "reaction-other";
    form.noValidate = true;
    const input = document.createElement("input");
    input.name = "emoji";
    input.autocomplete = "off";
    input.placeholder = "Other emoji or word";
    input.setAttribute("aria-label", "Another reaction: an emoji or a short word");
    const add = document.createElement("button");
    add.type = "submit";
    add.className = "quiet small";
    add.textContent = "Add";
    const close = document.createElement("button");
    close.type = "button";
    close.className = "quiet small";
    close.textContent = "Close";
    close.addEventListener("click", () => this.close());
    const error = document.createElement("p");
    error.className = "error";
    error.setAttribute("role", "alert");
    form.append(input, add, close);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const emoji = input.value.trim().normalize("NFC");
      const length = textLength(emoji);
      if (length === 0) error.textContent = "Type an emoji or a word first.";
      else if (length > REACTION_MAX) {
        error.textContent = `A reaction can be at most ${REACTION_MAX} characters.`;
      } else this.#choose(emoji);
    });
    el.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      event.preventDefault();
      event.stopPropagation();
      this.close();
    });
    el.append(common, form, error);
    const main = li.querySelector(".msg-main") ?? li;
    main.append(el);
    this.el = el;
    /** @type {HTMLElement} */ (common.firstElementChild).focus();
    el.scrollIntoView({ block: "nearest" });
  }

  /** @param {boolean} [refocus] put the focus back where it was before opening */
  close(refocus = true) {
    const { el, opener } = this;
    this.el = null;
    this.messageId = null;
    if (!el) return;
    const hadFocus = el.contains(document.activeElement);
    el.remove();
    if (refocus && hadFocus && opener?.isConnected) opener.focus();
  }

  /** @param {string} emoji */
  async #choose(emoji) {
    const { el, messageId } = this;
    if (!el || !messageId) return;
    const problem = await this.react(messageId, emoji);
    if (this.el !== el) return;
    if (problem === null) this.close();
    else {
      const error = el.querySelector(".error");
      if (error) error.textContent = problem;
    }
  }
}
