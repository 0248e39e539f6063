// Choosing people: a list of checkboxes, one per person, with a box that narrows it by name
// (a server may have thousands of members). Used to pick a private channel's members, the
// people to add to one, and those in a new direct conversation. What is ticked stays ticked
// while the list is narrowed.

import { paintAvatar } from "./dom.js";

/** @typedef {import("./world.js").User} User */

export class UserPicker {
  /**
   * Builds the picker inside a container (which holds nothing else).
   * @param {HTMLElement} container
   * @param {string} label what the list is for, e.g. "Members"
   */
  constructor(container, label) {
    this.container = container;
    container.classList.add("picker");
    this.filter = document.createElement("input");
    this.filter.type = "search";
    this.filter.autocomplete = "off";
    this.filter.placeholder = "Find people by name";
    this.filter.setAttribute("aria-label", `${label}: find people by name`);
    this.list = document.createElement("ul");
    this.list.className = "picker-list";
    // The people ticked are one group, named for what they are picked for; the list inside
    // it stays a list (a <ul> given another role would leave its items orphaned).
    const group = document.createElement("div");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", label);
    group.append(this.list);
    this.none = document.createElement("p");
    this.none.className = "muted small";
    this.none.hidden = true;
    this.emptyText = "";
    container.replaceChildren(this.filter, group, this.none);
    this.filter.addEventListener("input", () => this.#narrow());
    // Enter in the filter box ticks the only person left, rather than submitting the form.
    this.filter.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      const shown = this.#boxes().filter((box) => !box.closest("li")?.hidden);
      if (shown.length === 1) shown[0].checked = !shown[0].checked;
    });
  }

  /**
   * Offers these people.
   * @param {User[]} users
   * @param {string} empty what to say when there is nobody to offer
   * @param {string[] | null} [keep] offered again while open (someone joined, say): these
   *   stay ticked, and the filter stays; null: a fresh start, nobody ticked
   */
  show(users, empty, keep = null) {
    if (keep === null) this.filter.value = "";
    const ticked = new Set(keep ?? []);
    this.list.replaceChildren(
      ...users.map((user) => {
        const li = document.createElement("li");
        li.dataset.name = user.name.normalize("NFKC").toLowerCase();
        const label = document.createElement("label");
        label.className = "picker-item";
        const box = document.createElement("input");
        box.type = "checkbox";
        box.value = user.id;
        box.checked = ticked.has(user.id);
        const avatar = document.createElement("span");
        avatar.className = "avatar small-avatar";
        avatar.setAttribute("aria-hidden", "true");
        paintAvatar(avatar, user);
        const name = document.createElement("span");
        name.textContent = user.name;
        label.append(box, avatar, name);
        li.append(label);
        return li;
      }),
    );
    this.emptyText = empty;
    this.filter.hidden = users.length < 8;
    this.#narrow();
  }

  /** The ids of the people ticked, in the order listed. */
  chosen() {
    return this.#boxes()
      .filter((box) => box.checked)
      .map((box) => box.value);
  }

  /** Focuses the filter box, or the first checkbox when there is no filter. */
  focus() {
    if (!this.filter.hidden) this.filter.focus();
    else this.#boxes()[0]?.focus();
  }

  #boxes() {
    return Array.from(this.list.querySelectorAll('input[type="checkbox"]'), (box) =>
      /** @type {HTMLInputElement} */ (box),
    );
  }

  #narrow() {
    const key = this.filter.value.trim().normalize("NFKC").toLowerCase();
    let shown = 0;
    for (const li of /** @type {HTMLCollectionOf<HTMLElement>} */ (this.list.children)) {
      li.hidden = key !== "" && !(li.dataset.name ?? "").includes(key);
      if (!li.hidden) shown++;
    }
    this.none.hidden = shown > 0;
    this.none.textContent = this.list.childElementCount ? "Nobody by that name." : this.emptyText;
  }
}

/**
 * The user a 400 answer refused as a member ("No active user has the id 'U…'"), if that is
 * what it says.
 * @param {string} detail
 * @returns {string | null}
 */
export function refusedMember(detail) {
  return detail.match(/'(U[^']+)'/)?.[1] ?? null;
}
