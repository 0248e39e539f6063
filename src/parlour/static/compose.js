// The compose box under the active channel. Enter sends and Shift+Enter adds a line (but an
// input method's Enter picks a word, and sends nothing); the box grows with its text; a
// message the server refuses, or that can't reach it, stays in the box with the reason under
// it, so nothing typed is lost. The length check uses the server's limit (limits.js).

import { post } from "./api.js";
import { onSubmit, showError, slot } from "./dom.js";
import { serverLimits, textLength } from "./limits.js";

/**
 * @typedef {import("./world.js").Channel} Channel
 * @typedef {import("./world.js").Message} Message
 */

/**
 * @typedef {{
 *   channel: () => string | null,
 *   sent: (message: Message) => void,
 *   sessionEnded: () => void,
 * }} ComposeHandlers
 */

export class Compose {
  /**
   * @param {HTMLElement} view the chat view (holds the compose form)
   * @param {ComposeHandlers} on channel: where a message goes now; sent: the server took it
   */
  constructor(view, on) {
    this.form = slot(view, "compose", HTMLFormElement);
    this.label = slot(this.form, "compose-label");
    this.on = on;
    const body = this.form.elements.namedItem("body");
    if (!(body instanceof HTMLTextAreaElement)) throw new Error("no compose box");
    this.textarea = body;

    this.textarea.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.shiftKey) return;
      // An input method editor uses Enter to pick a word: not a send (229: Safari's way).
      if (event.isComposing || event.keyCode === 229) return;
      if (event.ctrlKey || event.altKey || event.metaKey) return;
      event.preventDefault();
      this.form.requestSubmit();
    });
    this.textarea.addEventListener("input", () => this.#fit());
    onSubmit(this.form, () => this.#send());
  }

  /**
   * Addresses the box to a channel, or hides it when there is none.
   * @param {Channel | undefined} channel
   * @param {string} [title] the channel as running text names it ("#general", "Bob")
   */
  showFor(channel, title = "") {
    showError(this.form, "body", "");
    if (channel) {
      this.label.textContent = `Message ${title}`;
      this.textarea.placeholder = `Message ${title}`;
    }
    this.form.hidden = !channel;
  }

  /** Focuses the box if it is shown. */
  focus() {
    if (!this.form.hidden) this.textarea.focus();
  }

  #fit() {
    const t = this.textarea;
    t.style.height = "auto";
    t.style.height = `${t.scrollHeight + 2}px`;
  }

  async #send() {
    const channelId = this.on.channel();
    const body = this.textarea.value;
    showError(this.form, "body", "");
    if (!channelId || body.trim() === "") return;
    const { bodyMax } = await serverLimits();
    const length = textLength(body);
    if (length > bodyMax) {
      showError(
        this.form,
        "body",
        `A message can be at most ${bodyMax} characters; this one has ${length}.`,
      );
      return;
    }
    const reply = await post(`/api/channels/${encodeURIComponent(channelId)}`, { body });
    if (reply.status === 202) {
      if (this.textarea.value === body) this.textarea.value = "";
      this.#fit();
      this.on.sent(reply.data);
      return;
    }
    if (reply.status === 401) return this.on.sessionEnded();
    showError(
      this.form,
      "body",
      reply.status === 404
        ? "This channel no longer exists, or you are no longer in it; your message was not sent."
        : reply.status === 0
          ? "Not sent: can't reach the server. Your message is still here; try again."
          : `Not sent: ${reply.detail}`,
    );
  }
}
