// "Rename": a dialog that changes one's own name (from the account actions), or, for an
// admin, someone else's (from the members view). Names are how people log in, so renaming
// oneself says so. The length is checked against the server's limit (limits.js); which
// characters a name may hold, and whether it is taken, only the server says, in its words.

import { post } from "./api.js";
import {
  clearErrors,
  field,
  find,
  focusFirstError,
  onActions,
  onSubmit,
  showError,
  slot,
} from "./dom.js";
import { serverLimits, showLimits, textLength } from "./limits.js";

/** @typedef {import("./world.js").User} User */

/**
 * @typedef {{
 *   me: () => User,
 *   renamed: (user: User) => void,
 *   sessionEnded: () => void,
 * }} RenameHandlers
 *   renamed: the server accepted the new name (its answer, before the event arrives)
 */

export class Rename {
  /**
   * @param {HTMLElement} view the chat view (holds the dialog)
   * @param {RenameHandlers} on
   */
  constructor(view, on) {
    this.on = on;
    this.dialog = slot(view, "rename-dialog", HTMLDialogElement);
    this.form = find(this.dialog, "form", HTMLFormElement);
    /** @type {User | null} */
    this.user = null;
    /** @type {() => HTMLElement | null} where focus goes back to on closing */
    this.returnTo = () => null;
    showLimits(this.form);
    onActions(this.dialog, { "close-rename": () => this.dialog.close() });
    onSubmit(this.form, () => this.#save());
    this.dialog.addEventListener("close", () => {
      this.returnTo()?.focus();
      this.returnTo = () => null;
    });
  }

  /**
   * Opens the dialog for a user (oneself, or anyone for an admin).
   * @param {User} user
   * @param {() => HTMLElement | null} [returnTo] where focus goes on closing, if not back to
   *   the element that had it (which a live update may have replaced meanwhile)
   */
  open(user, returnTo) {
    this.user = user;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    this.returnTo = returnTo ?? (() => (opener?.isConnected ? opener : null));
    const self = user.id === this.on.me().id;
    this.form.reset();
    clearErrors(this.form);
    slot(this.dialog, "rename-title").textContent = self
      ? "Change your name"
      : `Rename ${user.name}`;
    slot(this.dialog, "rename-label").textContent = self ? "Your name" : "New name";
    slot(this.dialog, "rename-self").hidden = !self;
    slot(this.dialog, "rename-other").hidden = self;
    const input = this.#input();
    input.value = user.name;
    this.dialog.showModal();
    input.focus();
    input.select();
  }

  /** Closes the dialog (the chat is going away). */
  close() {
    this.dialog.close();
  }

  #input() {
    return find(this.form, 'input[name="name"]', HTMLInputElement);
  }

  async #save() {
    const user = this.user;
    const form = this.form;
    if (!user) return;
    clearErrors(form);
    const name = field(form, "name").trim();
    const { nameMax } = await serverLimits();
    if (!name) showError(form, "name", "Enter a name.");
    else if (textLength(name) > nameMax)
      showError(form, "name", `A name can be at most ${nameMax} characters.`);
    if (form.querySelector("[aria-invalid]")) {
      focusFirstError(form);
      return;
    }
    if (name === user.name) {
      this.dialog.close();
      return;
    }
    const reply = await post(`/api/users/${encodeURIComponent(user.id)}`, { name });
    if (this.user !== user) return;
    if (reply.status === 202) {
      this.on.renamed(reply.data);
      this.dialog.close();
      return;
    }
    if (reply.status === 401) return this.on.sessionEnded();
    if (reply.status === 409 || reply.status === 400) showError(form, "name", reply.detail);
    else if (reply.status === 404) showError(form, "form", `${user.name} is no longer here.`);
    else showError(form, "form", `Not renamed: ${reply.detail}`);
    focusFirstError(form);
  }
}
