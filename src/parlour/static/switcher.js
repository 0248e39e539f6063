// The quick switcher (Ctrl+K, ⌘K on a Mac): a box to type part of a channel's or a person's
// name into, and the matches under it; Enter (or a click) goes there. A person opens the
// direct conversation with them, made if there is none yet (direct.js). ↑ and ↓ move
// through the matches, Esc closes (a modal <dialog> does that by itself). It is the combobox
// pattern of WAI-ARIA: the focus stays in the box, the active match is named by
// aria-activedescendant. Alt+↑ / Alt+↓, to the previous or next channel of the sidebar, are
// here too: both are ways to move between channels from the keyboard.

/** @typedef {{kind: "channel" | "person", id: string, label: string, detail: string}} Item */

// How many matches are shown at most (typing more narrows them).
const SHOWN = 12;

export class Switcher {
  /**
   * @param {{items: () => Item[], pick: (item: Item) => void}} on items: every channel and
   *   person one may go to, in the order they are offered; pick: go there
   */
  constructor(on) {
    this.on = on;
    /** @type {Item[]} */
    this.matches = [];
    this.active = 0;
    /** @type {Element | null} where the focus was, to go back to on Esc */
    this.returnTo = null;
    this.dialog = document.createElement("dialog");
    this.dialog.className = "dialog switcher";
    this.dialog.setAttribute("aria-label", "Go to a channel or a person");
    const label = document.createElement("label");
    label.htmlFor = "switcher-box";
    label.textContent = "Go to a channel or a person";
    this.box = document.createElement("input");
    this.box.id = "switcher-box";
    this.box.type = "text";
    this.box.autocomplete = "off";
    this.box.spellcheck = false;
    this.box.setAttribute("role", "combobox");
    this.box.setAttribute("aria-expanded", "true");
    this.box.setAttribute("aria-controls", "switcher-list");
    this.box.setAttribute("aria-autocomplete", "list");
    this.list = document.createElement("ul");
    this.list.id = "switcher-list";
    this.list.className = "switcher-list";
    this.list.setAttribute("role", "listbox");
    this.list.setAttribute("aria-label", "Matches");
    this.none = document.createElement("p");
    this.none.className = "muted";
    this.none.textContent = "Nothing matches.";
    this.none.hidden = true;
    this.dialog.append(label, this.box, this.list, this.none);
    document.body.append(this.dialog);

    this.box.addEventListener("input", () => this.#filter());
    this.box.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (!this.matches.length) return;
        const step = event.key === "ArrowDown" ? 1 : -1;
        this.#activate((this.active + step + this.matches.length) % this.matches.length);
      } else if (event.key === "Enter" && !event.isComposing) {
        event.preventDefault();
        const item = this.matches[this.active];
        if (item) this.#pick(item);
      }
    });
    this.list.addEventListener("click", (event) => {
      const li = /** @type {HTMLElement} */ (event.target).closest("li[data-index]");
      if (!(li instanceof HTMLElement)) return;
      const item = this.matches[Number(li.dataset.index)];
      if (item) this.#pick(item);
    });
    // Esc (the dialog's cancel) or a click outside: back to where one was.
    this.dialog.addEventListener("close", () => {
      if (this.returnTo instanceof HTMLElement && this.returnTo.isConnected) {
        this.returnTo.focus();
      }
      this.returnTo = null;
    });
    this.dialog.addEventListener("click", (event) => {
      if (event.target === this.dialog) this.dialog.close();
    });
  }

  get isOpen() {
    return this.dialog.open;
  }

  open() {
    if (this.dialog.open) {
      this.box.select();
      return;
    }
    this.returnTo = document.activeElement;
    this.box.value = "";
    this.#filter();
    this.dialog.showModal();
    this.box.focus();
  }

  close() {
    this.returnTo = null;
    if (this.dialog.open) this.dialog.close();
  }

  /** Takes the dialog away (the chat is going away). */
  destroy() {
    this.close();
    this.dialog.remove();
  }

  /** @param {Item} item */
  #pick(item) {
    this.close();
    this.on.pick(item);
  }

  #filter() {
    const query = this.box.value.trim().toLocaleLowerCase().replace(/^[#@]/, "");
    const items = this.on.items();
    /** @param {Item} item */
    const rank = (item) => {
      const name = item.label.toLocaleLowerCase().replace(/^#/, "");
      if (query === "") return 0;
      if (name.startsWith(query)) return 0;
      if (name.split(/[\s,]+/).some((word) => word.startsWith(query))) return 1;
      return name.includes(query) ? 2 : -1;
    };
    this.matches = items
      .map((item, at) => ({ item, at, rank: rank(item) }))
      .filter((m) => m.rank >= 0)
      .sort((a, b) => a.rank - b.rank || a.at - b.at)
      .slice(0, SHOWN)
      .map((m) => m.item);
    this.list.replaceChildren(
      ...this.matches.map((item, index) => {
        const li = document.createElement("li");
        li.id = `switcher-option-${index}`;
        li.className = "switcher-option";
        li.setAttribute("role", "option");
        li.dataset.index = String(index);
        const name = document.createElement("span");
        name.textContent = item.label;
        const detail = document.createElement("span");
        detail.className = "muted small";
        detail.textContent = ` ${item.detail}`;
        li.append(name, detail);
        return li;
      }),
    );
    this.none.hidden = this.matches.length > 0;
    this.#activate(0);
  }

  /** @param {number} index */
  #activate(index) {
    this.active = index;
    for (const li of this.list.children) {
      li.setAttribute("aria-selected", String(li.getAttribute("data-index") === String(index)));
    }
    const li = this.list.children[index];
    if (li) {
      this.box.setAttribute("aria-activedescendant", li.id);
      li.scrollIntoView({ block: "nearest" });
    } else {
      this.box.removeAttribute("aria-activedescendant");
    }
  }
}

/**
 * What the switcher offers: the channels one is in (as the sidebar orders them: channels,
 * then conversations), then the active people. A conversation with one other person is
 * offered as that person, once.
 * @param {import("./world.js").World} world
 * @returns {Item[]}
 */
export function switcherItems(world) {
  /** @type {Item[]} */
  const channels = [];
  /** @type {Item[]} */
  const directs = [];
  for (const channel of world.channels.values()) {
    const others = (channel.members ?? []).filter((id) => id !== world.me.id);
    if (channel.kind === "direct") {
      if (others.length === 1) continue;
      directs.push({
        kind: "channel",
        id: channel.id,
        label: world.title(channel),
        detail: "conversation",
      });
    } else {
      channels.push({
        kind: "channel",
        id: channel.id,
        label: world.title(channel),
        detail: channel.kind === "private" ? "private channel" : "channel",
      });
    }
  }
  const people = Array.from(world.users.values())
    .filter((u) => u.active && u.id !== world.me.id)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((u) => /** @type {Item} */ ({ kind: "person", id: u.id, label: u.name, detail: "person" }));
  return [...channels, ...directs, ...people];
}

/**
 * The channel before or after the active one in the sidebar (Alt+↑ / Alt+↓), if any.
 * @param {ParentNode} sidebar
 * @param {string | null} active
 * @param {1 | -1} step
 * @returns {string | null}
 */
export function nextChannel(sidebar, active, step) {
  const ids = Array.from(sidebar.querySelectorAll("a[data-channel]"), (a) =>
    a instanceof HTMLElement ? (a.dataset.channel ?? "") : "",
  ).filter((id) => id !== "");
  if (!ids.length) return null;
  const at = active === null ? -1 : ids.indexOf(active);
  if (at < 0) return step > 0 ? ids[0] : ids[ids.length - 1];
  return ids[at + step] ?? null;
}
