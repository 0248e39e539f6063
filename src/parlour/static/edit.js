// Editing one's own message in place: "Edit" in its actions, or ↑ in an empty compose box for
// one's newest message in the channel, as people expect. The text becomes a box with the
// message in it: Enter saves, Shift+Enter adds a line, Esc cancels. Mentions work as in the
// compose box (mentions.js); the message's own mentions stay while their "@Name" stays. The
// server keeps no edit history (docs/api/channels-and-messages.md); the message shows
// "(edited)", with the time of the edit on hover.

import { post } from "./api.js";
import { serverLimits, textLength } from "./limits.js";
import { MentionInput } from "./mentions.js";
import { enterSends, isSendingEnter } from "./touch.js";

/**
 * @typedef {import("./world.js").Message} Message
 * @typedef {import("./world.js").User} User
 */

let editors = 0;

/**
 * @typedef {{id: string, li: HTMLElement, form: HTMLFormElement, returnTo: HTMLElement | null}}
 *   Editing the message being edited, its item, the form in it, where the focus goes after
 */

/**
 * Sends an edit. Resolves to the event it makes (to show it at once; its own event follows),
 * or to why it was refused.
 * @param {Message} message
 * @param {string} body
 * @param {string[]} mentions
 * @returns {Promise<{event: any} | {problem: string} | {ended: true}>} ended: the session is
 *   over (401)
 */
async function sendEdit(message, body, mentions) {
  const reply = await post(`/api/messages/${encodeURIComponent(message.id)}`, {
    body,
    mentions,
  });
  if (reply.status === 202) {
    const m = reply.data;
    return {
      event: {
        type: "message",
        event: "edited",
        id: m.id,
        channel: m.channel,
        body: m.body,
        mentions: m.mentions,
        edited_at: m.edited_at,
      },
    };
  }
  if (reply.status === 401) return { ended: true };
  if (reply.status === 404) return { problem: "This message no longer exists." };
  if (reply.status === 403) return { problem: "You can only edit your own messages." };
  if (reply.status === 0) return { problem: "Not saved: can't reach the server. Try again." };
  return { problem: `Not saved: ${reply.detail}` };
}

/**
 * @typedef {{
 *   people: (channelId: string) => User[],
 *   nameOf: (userId: string) => string,
 *   edited: (event: any) => void,
 *   sessionEnded: () => void,
 * }} EditorHandlers
 *   people: who may be mentioned in a channel; edited: the server took an edit (the event
 *   it makes)
 */

export class Editor {
  /** @param {EditorHandlers} on */
  constructor(on) {
    this.on = on;
    /** @type {Editing | null} */
    this.open = null;
  }

  /** The id of the message being edited, if any. */
  editing() {
    return this.open?.form.isConnected ? this.open.id : null;
  }

  /**
   * Turns a message's text into a box to edit it.
   * @param {HTMLElement} li the message's item
   * @param {Message} message
   * @param {HTMLElement | null} returnTo where the focus goes when editing ends
   */
  start(li, message, returnTo) {
    this.stop(false);
    const body = /** @type {HTMLElement} */ (li.querySelector(".msg-body"));
    const n = ++editors;
    const form = document.createElement("form");
    form.className = "msg-edit";
    form.noValidate = true;
    const label = document.createElement("label");
    label.className = "visually-hidden";
    label.htmlFor = `edit-${n}`;
    label.textContent = "Edit your message";
    const box = document.createElement("textarea");
    box.id = `edit-${n}`;
    box.rows = 1;
    box.value = message.body;
    box.setAttribute("aria-describedby", `edit-${n}-hint edit-${n}-error`);
    const row = document.createElement("div");
    row.className = "row";
    const hint = document.createElement("p");
    hint.className = "hint push-left";
    hint.id = `edit-${n}-hint`;
    // On a touch screen Enter adds a line, and Save saves (touch.js).
    const sends = enterSends();
    box.enterKeyHint = sends ? "done" : "enter";
    hint.textContent = sends
      ? "Enter saves · Esc cancels · Shift+Enter adds a line"
      : "Enter adds a line";
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "quiet small";
    cancel.textContent = "Cancel";
    cancel.addEventListener("click", () => this.stop());
    const save = document.createElement("button");
    save.type = "submit";
    save.className = "primary small";
    save.textContent = "Save";
    row.append(hint, cancel, save);
    const error = document.createElement("p");
    error.className = "error";
    error.id = `edit-${n}-error`;
    error.setAttribute("role", "alert");
    form.append(label, box, error, row);

    const mentions = new MentionInput(box, form, () => this.on.people(message.channel));
    mentions.reset(message.mentions.map((id) => ({ id, name: this.on.nameOf(id) })));
    const fit = () => {
      box.style.height = "auto";
      box.style.height = `${box.scrollHeight + 2}px`;
    };
    box.addEventListener("input", fit);
    box.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        this.stop();
        return;
      }
      if (!isSendingEnter(event)) return;
      event.preventDefault();
      form.requestSubmit();
    });
    let busy = false;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (busy) return;
      busy = true;
      save.setAttribute("aria-disabled", "true");
      try {
        await this.#save(form, message, box.value, mentions.idsIn(box.value), error);
      } finally {
        busy = false;
        save.removeAttribute("aria-disabled");
      }
    });

    body.hidden = true;
    body.after(form);
    li.classList.add("editing");
    this.open = { id: message.id, li, form, returnTo };
    fit();
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
    li.scrollIntoView({ block: "nearest" });
  }

  /**
   * Ends editing without saving: the text is shown again.
   * @param {boolean} [refocus] put the focus back where editing started from
   */
  stop(refocus = true) {
    const open = this.open;
    this.open = null;
    if (!open) return;
    const hadFocus = open.form.contains(document.activeElement);
    open.form.remove();
    open.li.classList.remove("editing");
    const body = open.li.querySelector(".msg-body");
    if (body instanceof HTMLElement) body.hidden = false;
    if (refocus && hadFocus && open.returnTo?.isConnected) open.returnTo.focus();
  }

  /**
   * @param {HTMLFormElement} form
   * @param {Message} message as it was when editing began
   * @param {string} body
   * @param {string[]} mentions
   * @param {HTMLElement} error
   */
  async #save(form, message, body, mentions, error) {
    error.textContent = "";
    if (body.trim() === "") {
      error.textContent = "A message can't be empty. To remove it, delete it instead.";
      return;
    }
    const { bodyMax } = await serverLimits();
    const length = textLength(body);
    if (length > bodyMax) {
      error.textContent = `A message can be at most ${bodyMax} characters; this one has ${length}.`;
      return;
    }
    const same =
      body === message.body &&
      mentions.length === message.mentions.length &&
      mentions.every((id) => message.mentions.includes(id));
    if (same) {
      this.stop();
      return;
    }
    const result = await sendEdit(message, body, mentions);
    if (this.open?.form !== form) return; // ended meanwhile
    if ("ended" in result) {
      this.stop(false);
      this.on.sessionEnded();
    } else if ("problem" in result) {
      error.textContent = result.problem;
    } else {
      this.stop();
      this.on.edited(result.event);
    }
  }
}
