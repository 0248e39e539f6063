// Mentions: "@" in a message box offers the people who may be mentioned there (the active
// users who see the channel: for a private channel or a conversation, its members), narrowed
// as one types; picking one writes "@Name" and records who it is. On sending, `mentions`
// carries the ids of the people whose "@Name" is still in the text (the server does not read
// bodies: docs/api/channels-and-messages.md). In a message shown, each "@Name" of someone it
// mentions is marked, as text in a span, never as HTML.
//
// The list of people is an ARIA listbox tied to the box with aria-activedescendant, so the
// focus stays in the box while ↑/↓ move through it, Enter or Tab picks and Esc closes it.

/** @typedef {import("./world.js").User} User */

// How many people the list offers at once (typing more narrows it).
const SHOWN = 8;
// A query longer than any name is not a mention being typed.
const QUERY_MAX = 64;

let lists = 0;

/**
 * Whether a character may continue a name, so that "@Bob" in "@Bobby" is not Bob.
 * @param {string | undefined} ch
 */
function continuesName(ch) {
  return ch !== undefined && /[\p{L}\p{N}\p{M}_]/u.test(ch);
}

/**
 * Finds "@Name" in a text for the given names: at each "@", the longest name that follows it
 * and is not followed by more of a word.
 * @param {string} text
 * @param {Iterable<string>} names
 * @returns {{start: number, end: number, name: string}[]} in order, not overlapping
 */
export function findMentions(text, names) {
  const sorted = Array.from(new Set(names))
    .filter((n) => n !== "")
    .sort((a, b) => b.length - a.length);
  /** @type {{start: number, end: number, name: string}[]} */
  const found = [];
  if (!sorted.length) return found;
  let at = text.indexOf("@");
  while (at >= 0) {
    const name = sorted.find(
      (n) => text.startsWith(n, at + 1) && !continuesName(text[at + 1 + n.length]),
    );
    if (name !== undefined) {
      found.push({ start: at, end: at + 1 + name.length, name });
      at = text.indexOf("@", at + 1 + name.length);
    } else {
      at = text.indexOf("@", at + 1);
    }
  }
  return found;
}

/**
 * Splits a piece of a message's text into text and marked mentions.
 * @param {string} text
 * @param {Map<string, boolean>} names the names mentioned, each with whether it is this user
 * @returns {Node[]}
 */
export function mentionNodes(text, names) {
  /** @type {Node[]} */
  const nodes = [];
  let done = 0;
  for (const { start, end, name } of findMentions(text, names.keys())) {
    if (start > done) nodes.push(document.createTextNode(text.slice(done, start)));
    const span = document.createElement("span");
    span.className = names.get(name) ? "mention mention-self" : "mention";
    span.textContent = text.slice(start, end);
    nodes.push(span);
    done = end;
  }
  if (done < text.length) nodes.push(document.createTextNode(text.slice(done)));
  return nodes;
}

/** A name as compared while typing: case and width folded. @param {string} text */
function fold(text) {
  return text.normalize("NFKC").toLowerCase();
}

export class MentionInput {
  /**
   * @param {HTMLTextAreaElement} box
   * @param {HTMLElement} host where the list goes (its position: the box's surroundings)
   * @param {() => User[]} people who may be mentioned here now
   */
  constructor(box, host, people) {
    this.box = box;
    this.people = people;
    /** @type {Map<string, string>} name → user id, of the people picked */
    this.picks = new Map();
    /** @type {User[]} offered now */
    this.offered = [];
    this.active = 0;
    /** @type {{start: number, end: number} | null} the "@query" being typed */
    this.query = null;
    /** set while this writes into the box itself (a pick is not a new "@" being typed) */
    this.writing = false;
    const id = `mention-list-${++lists}`;
    this.list = document.createElement("ul");
    this.list.className = "mention-list";
    this.list.id = id;
    this.list.setAttribute("role", "listbox");
    this.list.setAttribute("aria-label", "People to mention");
    this.list.hidden = true;
    this.status = document.createElement("p");
    this.status.className = "visually-hidden";
    this.status.setAttribute("role", "status");
    host.append(this.list, this.status);
    box.setAttribute("aria-autocomplete", "list");
    box.setAttribute("aria-controls", id);

    // Registered before the box's own keys (Enter sends, ↑ edits): when the list is open,
    // these keys are the list's, and nobody else hears them.
    box.addEventListener("keydown", (event) => this.#key(event));
    box.addEventListener("input", () => this.#look());
    box.addEventListener("click", () => this.#look());
    // Leaving the box closes the list, but a press on the list is not leaving: with a mouse
    // it does not take the focus (mousedown's default is prevented); a finger's tap may,
    // before its click arrives.
    let pressing = false;
    box.addEventListener("blur", () => {
      if (!pressing) this.close();
    });
    this.list.addEventListener("pointerdown", () => {
      pressing = true;
    });
    for (const end of ["pointerup", "pointercancel"]) {
      this.list.addEventListener(end, () => window.setTimeout(() => (pressing = false), 0));
    }
    this.list.addEventListener("mousedown", (event) => event.preventDefault());
    this.list.addEventListener("click", (event) => {
      const li = /** @type {HTMLElement} */ (event.target).closest("li[data-user]");
      if (li instanceof HTMLElement) this.#pick(Number(li.dataset.index));
    });
  }

  /** Whether the list is open (its keys are taken). */
  isOpen() {
    return !this.list.hidden;
  }

  /**
   * Starts afresh: nobody picked, or (editing a message) the people it mentions.
   * @param {{id: string, name: string}[]} [picked]
   */
  reset(picked = []) {
    this.picks = new Map(picked.map((u) => [u.name, u.id]));
    this.close();
  }

  /**
   * The ids of the people whose "@Name" is in the text: those picked, and anyone else who
   * may be mentioned here whose name was typed out in full.
   * @param {string} text
   * @returns {string[]}
   */
  idsIn(text) {
    /** @type {Map<string, string>} */
    const byName = new Map();
    for (const u of this.people()) byName.set(u.name, u.id);
    for (const [name, id] of this.picks) byName.set(name, id);
    const ids = findMentions(text, byName.keys()).map((m) => byName.get(m.name) ?? "");
    return Array.from(new Set(ids.filter((id) => id !== "")));
  }

  close() {
    if (this.list.hidden) return;
    this.list.hidden = true;
    this.list.replaceChildren();
    this.box.removeAttribute("aria-activedescendant");
    this.offered = [];
    this.query = null;
  }

  /** Looks at the text before the caret: is an "@name" being typed? */
  #look() {
    if (this.writing) return;
    const box = this.box;
    if (box.selectionStart !== box.selectionEnd) return this.close();
    const caret = box.selectionStart;
    const before = box.value.slice(Math.max(0, caret - QUERY_MAX - 1), caret);
    const at = before.lastIndexOf("@");
    if (at < 0) return this.close();
    const start = caret - before.length + at;
    const query = before.slice(at + 1);
    if (start > 0 && !/\s|[([{"'“‘]/u.test(box.value[start - 1])) return this.close();
    if (/[\n\r]/.test(query)) return this.close();
    const key = fold(query);
    const matches = this.people()
      .map((user) => {
        const name = fold(user.name);
        if (name.startsWith(key)) return { user, rank: 0 };
        if (name.split(/\s+/).some((word) => word.startsWith(key))) return { user, rank: 1 };
        return null;
      })
      .filter((m) => m !== null)
      .sort((a, b) => a.rank - b.rank || a.user.name.localeCompare(b.user.name));
    if (!matches.length) return this.close();
    this.query = { start, end: caret };
    const changed =
      matches.length !== this.offered.length ||
      matches.some((m, i) => m.user.id !== this.offered[i]?.id);
    if (!changed && this.isOpen()) return;
    this.offered = matches.slice(0, SHOWN).map((m) => m.user);
    this.active = 0;
    this.#render();
    this.status.textContent =
      matches.length === 1
        ? "1 person to mention: up and down arrows to choose, Enter to pick."
        : `${matches.length} people to mention: up and down arrows to choose, Enter to pick.`;
  }

  #render() {
    this.list.replaceChildren(
      ...this.offered.map((user, index) => {
        const li = document.createElement("li");
        li.id = `${this.list.id}-${index}`;
        li.setAttribute("role", "option");
        li.dataset.user = user.id;
        li.dataset.index = String(index);
        li.textContent = user.name;
        return li;
      }),
    );
    this.list.hidden = false;
    this.#highlight();
  }

  #highlight() {
    for (const li of this.list.children) {
      const on = Number(/** @type {HTMLElement} */ (li).dataset.index) === this.active;
      li.setAttribute("aria-selected", String(on));
      if (on) this.box.setAttribute("aria-activedescendant", li.id);
    }
  }

  /** @param {KeyboardEvent} event */
  #key(event) {
    if (!this.isOpen() || event.isComposing) return;
    const count = this.offered.length;
    let handled = true;
    if (event.key === "ArrowDown") this.active = (this.active + 1) % count;
    else if (event.key === "ArrowUp") this.active = (this.active - 1 + count) % count;
    else if ((event.key === "Enter" && !event.shiftKey) || event.key === "Tab") {
      this.#pick(this.active);
    } else if (event.key === "Escape") this.close();
    else handled = false;
    if (!handled) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    if (this.isOpen()) this.#highlight();
  }

  /** Writes "@Name " in place of what was typed, and remembers who. @param {number} index */
  #pick(index) {
    const user = this.offered[index];
    const query = this.query;
    if (!user || !query) return;
    const box = this.box;
    const text = `@${user.name} `;
    box.setRangeText(text, query.start, query.end, "end");
    this.picks.set(user.name, user.id);
    this.close();
    this.status.textContent = `${user.name} will be mentioned.`;
    box.focus();
    // Whoever follows the box's input (its height) hears of the change.
    this.writing = true;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    this.writing = false;
  }
}
