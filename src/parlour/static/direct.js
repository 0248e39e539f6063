// Direct conversations: started from a person's row in the members view ("Message"), or
// with several people from "New message" under "Direct messages". There is one conversation
// per set of people: asking again for the same people opens the one that exists (the server
// answers 200 with it; 202 when it made a new one).

import { post } from "./api.js";
import { onActions, onSubmit, showError, slot } from "./dom.js";
import { refusedMember, UserPicker } from "./user-picker.js";

/**
 * @typedef {import("./world.js").World} World
 * @typedef {import("./world.js").User} User
 */

// The most people a direct conversation has besides oneself (the server's rule).
const MAX_OTHERS = 15;

/**
 * @typedef {{
 *   world: () => World,
 *   opened: (channel: any, created: boolean) => void,
 *   sessionEnded: () => void,
 * }} DirectHandlers
 *   opened: the server answered with the conversation (created: it is new)
 */

export class Direct {
  /**
   * @param {HTMLElement} view the chat view (holds the "New message" dialog)
   * @param {DirectHandlers} on
   */
  constructor(view, on) {
    this.on = on;
    this.dialog = slot(view, "direct-dialog", HTMLDialogElement);
    this.form = slot(this.dialog, "direct-form", HTMLFormElement);
    this.picker = new UserPicker(slot(this.dialog, "direct-picker"), "People");
    onActions(this.dialog, { "close-direct": () => this.dialog.close() });
    onSubmit(this.form, async () => {
      const chosen = this.picker.chosen();
      if (!chosen.length) {
        showError(this.form, "direct", "Tick the people to talk with first.");
        return;
      }
      const problem = await this.start(chosen);
      if (problem) showError(this.form, "direct", problem);
      else this.dialog.close();
    });
  }

  /** Opens "New message": everyone else, to pick from. */
  open() {
    const world = this.on.world();
    showError(this.form, "direct", "");
    this.picker.show(
      Array.from(world.users.values()).filter((u) => u.active && u.id !== world.me.id),
      "Nobody else is here yet: invite someone first.",
    );
    this.dialog.showModal();
    this.picker.focus();
  }

  /** Closes the dialog (the chat is going away). */
  close() {
    this.dialog.close();
  }

  /**
   * Opens the conversation with exactly these people (and oneself; none: with oneself).
   * @param {string[]} userIds
   * @returns {Promise<string | null>} why it could not be opened, or null once it is
   */
  async start(userIds) {
    const others = userIds.filter((id) => id !== this.on.world().me.id);
    if (others.length > MAX_OTHERS) {
      return (
        `A conversation has at most ${MAX_OTHERS} people besides you; make a private ` +
        "channel for more."
      );
    }
    const reply = await post("/api/direct", { members: others });
    if (reply.status === 200 || reply.status === 202) {
      this.on.opened(reply.data, reply.status === 202);
      return null;
    }
    if (reply.status === 401) {
      this.on.sessionEnded();
      return null;
    }
    const refused = reply.status === 400 ? refusedMember(reply.detail) : null;
    if (refused) {
      return `${this.on.world().userName(refused)} is no longer active: no conversation started.`;
    }
    return reply.status === 0
      ? "Can't reach the server: no conversation started."
      : `No conversation started: ${reply.detail}`;
  }
}
