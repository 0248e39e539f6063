// The confirmation dialog that stands before a change which is hard to undo or that acts on
// someone else (deactivating a member, making them an admin, deleting a channel full of
// messages). It says in plain words what will happen, and only then asks the server: if the
// server refuses (the last admin, a name taken meanwhile), its reason shows in the dialog,
// where the person who asked is looking.

import { find, onActions, onSubmit, showError, slot } from "./dom.js";

/**
 * @typedef {{
 *   title: string,
 *   text: string,
 *   go: string,
 *   danger?: boolean,
 *   run: () => Promise<string | null>,
 *   focusAfter?: () => HTMLElement | null,
 * }} Question
 *   title and text: what is asked and what will happen; go: the button that does it;
 *   danger: it removes or shuts someone out (the button is red, and Cancel has the focus);
 *   run: does it, resolving to why it failed in words, or null once done;
 *   focusAfter: where focus goes when the dialog closes (the button that opened it may have
 *   been replaced meanwhile by a live update)
 */

export class Confirm {
  /** @param {HTMLElement} view the chat view (holds the dialog) */
  constructor(view) {
    this.dialog = slot(view, "confirm-dialog", HTMLDialogElement);
    this.form = find(this.dialog, "form", HTMLFormElement);
    this.go = slot(this.dialog, "confirm-go", HTMLButtonElement);
    this.cancel = find(this.dialog, '[data-action="confirm-cancel"]', HTMLButtonElement);
    /** @type {Question | null} */
    this.question = null;
    /** @type {(done: boolean) => void} */
    this.settle = () => {};
    onActions(this.dialog, { "confirm-cancel": () => this.dialog.close() });
    onSubmit(this.form, () => this.#run());
    this.dialog.addEventListener("close", () => {
      const question = this.question;
      this.question = null;
      this.settle(false);
      question?.focusAfter?.()?.focus();
    });
  }

  /**
   * Asks, and (if confirmed) runs the change.
   * @param {Question} question
   * @returns {Promise<boolean>} true once the change is done; false if cancelled or refused
   */
  ask(question) {
    if (this.dialog.open) this.dialog.close();
    this.question = question;
    slot(this.dialog, "confirm-title").textContent = question.title;
    slot(this.dialog, "confirm-text").textContent = question.text;
    showError(this.dialog, "confirm", "");
    this.go.textContent = question.go;
    this.go.hidden = false;
    this.go.classList.toggle("danger-fill", question.danger === true);
    this.cancel.textContent = "Cancel";
    this.dialog.showModal();
    (question.danger ? this.cancel : this.go).focus();
    return new Promise((resolve) => {
      this.settle = (done) => {
        this.settle = () => {};
        resolve(done);
      };
    });
  }

  /** Closes the dialog (the chat is going away). */
  close() {
    this.dialog.close();
  }

  async #run() {
    const question = this.question;
    if (!question) return;
    showError(this.dialog, "confirm", "");
    const problem = await question.run();
    if (this.question !== question) return; // closed meanwhile (logged out, say)
    if (problem === null) {
      this.settle(true);
      this.dialog.close();
      return;
    }
    // Refused: say why, and leave only the way out (asking again would be refused again).
    showError(this.dialog, "confirm", problem);
    this.go.hidden = true;
    this.cancel.textContent = "Close";
    this.cancel.focus();
  }
}
