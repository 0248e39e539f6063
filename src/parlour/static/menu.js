// A menu that drops from a button (the ARIA menu button pattern): the button says whether it
// is open (aria-expanded); in the menu, ↑/↓/Home/End move between items, Esc closes it and
// puts the focus back on the button, Tab or a press elsewhere closes it.

export class Menu {
  /**
   * @param {HTMLElement} button
   * @param {HTMLElement} menu role=menu, holding the items (role=menuitem…)
   */
  constructor(button, menu) {
    this.button = button;
    this.menu = menu;
    button.setAttribute("aria-haspopup", "menu");
    button.setAttribute("aria-expanded", "false");
    button.addEventListener("click", () => (this.isOpen() ? this.close() : this.open()));
    button.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
      event.preventDefault();
      this.open(event.key === "ArrowUp" ? "last" : "chosen");
    });
    menu.addEventListener("keydown", (event) => this.#key(event));
    this.outside = (/** @type {Event} */ event) => {
      const target = /** @type {Node} */ (event.target);
      if (!menu.contains(target) && !button.contains(target)) this.close(false);
    };
  }

  isOpen() {
    return !this.menu.hidden;
  }

  /** @param {"chosen" | "last"} [focus] which item gets the focus: the checked one, or last */
  open(focus = "chosen") {
    this.menu.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    document.addEventListener("pointerdown", this.outside, true);
    const items = this.#items();
    const checked = items.find((item) => item.getAttribute("aria-checked") === "true");
    (focus === "last" ? items[items.length - 1] : (checked ?? items[0]))?.focus();
  }

  /** @param {boolean} [refocus] put the focus back on the button */
  close(refocus = true) {
    if (!this.isOpen()) return;
    this.menu.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    document.removeEventListener("pointerdown", this.outside, true);
    if (refocus) this.button.focus();
  }

  #items() {
    return Array.from(this.menu.querySelectorAll('[role^="menuitem"]'), (item) =>
      /** @type {HTMLElement} */ (item),
    ).filter((item) => !item.hidden);
  }

  /** @param {KeyboardEvent} event */
  #key(event) {
    const items = this.#items();
    const at = items.indexOf(/** @type {HTMLElement} */ (document.activeElement));
    /** @type {HTMLElement | undefined} */
    let next;
    if (event.key === "ArrowDown") next = items[(at + 1) % items.length];
    else if (event.key === "ArrowUp") next = items[(at - 1 + items.length) % items.length];
    else if (event.key === "Home") next = items[0];
    else if (event.key === "End") next = items[items.length - 1];
    else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      this.close();
      return;
    } else if (event.key === "Tab") {
      this.close(false);
      return;
    }
    if (!next) return;
    event.preventDefault();
    next.focus();
  }
}
