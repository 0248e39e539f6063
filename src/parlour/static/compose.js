// The compose box under the active channel. Enter sends and Shift+Enter adds a line (but an
// input method's Enter picks a word, and sends nothing; on a touch screen Enter adds a line
// and the Send button sends: touch.js); the box grows with its text; "@" offers people to
// mention (mentions.js); ↑ in the empty box edits one's last message.
//
// A message shows at once, marked as being sent, and the box empties for the next one. Each
// composed message gets a client_id (docs/api/channels-and-messages.md): the server's answer
// and the message's event both carry it, so whichever comes first takes the place of the
// line shown while sending, and the message shows once. A message the server refuses, or
// that can't reach it, comes back into the box with the reason under it, so nothing typed is
// lost; sent again unchanged, it keeps its client_id, so that if the first try did reach the
// server after all, it is not posted twice. The length check uses the server's limit
// (limits.js).

import { post } from "./api.js";
import { onSubmit, showError, slot } from "./dom.js";
import { serverLimits, textLength } from "./limits.js";
import { MentionInput } from "./mentions.js";
import { followEnterMode, isSendingEnter } from "./touch.js";

// What the hint under the box says, as Enter sends or adds a line.
const HINT_KEYBOARD =
  "Enter sends · Shift+Enter adds a line · @ mentions someone · ↑ edits your last message";
const HINT_TOUCH = "The Send button sends · Enter adds a line · @ mentions someone";

/**
 * @typedef {import("./world.js").Channel} Channel
 * @typedef {import("./world.js").Message} Message
 * @typedef {import("./world.js").User} User
 * @typedef {{channel: string, body: string, mentions: string[], client_id: string}} Draft
 */

/**
 * @typedef {{
 *   channel: () => string | null,
 *   people: (channelId: string) => User[],
 *   sending: (draft: Draft) => void,
 *   sent: (message: Message) => void,
 *   unsent: (draft: Draft) => void,
 *   editLast: () => boolean,
 *   sessionEnded: () => void,
 * }} ComposeHandlers
 *   channel: where a message goes now; people: who may be mentioned there; sending: show
 *   this message while it is sent; sent: the server took it (its answer); unsent: it did
 *   not; editLast: edit one's last message in the channel (false: there is none)
 */

/** A new client_id: random, so that no two messages of this person ever share one. */
export function newClientId() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  // Outside a secure context (plain http on a LAN address) randomUUID is missing.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class Compose {
  /**
   * @param {HTMLElement} view the chat view (holds the compose form)
   * @param {ComposeHandlers} on
   */
  constructor(view, on) {
    this.form = slot(view, "compose", HTMLFormElement);
    this.label = slot(this.form, "compose-label");
    this.on = on;
    const body = this.form.elements.namedItem("body");
    if (!(body instanceof HTMLTextAreaElement)) throw new Error("no compose box");
    this.textarea = body;
    /** @type {Draft | null} the last message that did not go, while it is back in the box */
    this.unsent = null;
    // First: while its list is open, the keys below are its own.
    this.mentions = new MentionInput(this.textarea, this.form, () => {
      const channel = this.on.channel();
      return channel ? this.on.people(channel) : [];
    });

    this.textarea.addEventListener("keydown", (event) => {
      if (event.key === "ArrowUp" && this.textarea.value === "") {
        if (event.shiftKey || event.ctrlKey || event.altKey || event.metaKey) return;
        if (this.on.editLast()) event.preventDefault();
        return;
      }
      if (!isSendingEnter(event)) return;
      event.preventDefault();
      this.form.requestSubmit();
    });
    const hint = this.form.querySelector(".compose-hint");
    followEnterMode(this.textarea, (sends) => {
      if (hint) hint.textContent = sends ? HINT_KEYBOARD : HINT_TOUCH;
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
    this.mentions.close();
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
    const again = this.unsent;
    /** @type {Draft} */
    const draft = {
      channel: channelId,
      body,
      mentions: this.mentions.idsIn(body),
      client_id:
        again && again.channel === channelId && again.body === body
          ? again.client_id
          : newClientId(),
    };
    this.unsent = null;
    this.textarea.value = "";
    this.mentions.reset();
    this.#fit();
    this.on.sending(draft);
    const reply = await post(`/api/channels/${encodeURIComponent(channelId)}`, {
      body: draft.body,
      mentions: draft.mentions,
      client_id: draft.client_id,
    });
    // 200: the server had it already (a second try of one whose answer was lost).
    if (reply.status === 202 || reply.status === 200) {
      this.on.sent(reply.data);
      return;
    }
    this.on.unsent(draft);
    if (reply.status === 401) return this.on.sessionEnded();
    // Back into the box, unless something new is being typed there (then it would be lost
    // under it: the reason says what was not sent).
    const restored = this.textarea.value === "" && this.on.channel() === channelId;
    if (restored) {
      this.textarea.value = body;
      this.unsent = draft;
      this.#fit();
    }
    const what = restored ? "Your message is still here" : `“${preview(body)}” was not sent`;
    showError(
      this.form,
      "body",
      reply.status === 404
        ? "This channel no longer exists, or you are no longer in it; your message was not sent."
        : reply.status === 0
          ? `Not sent: can't reach the server. ${what}; try again.`
          : `Not sent: ${reply.detail}`,
    );
  }
}

/** The start of a message, to name it in a sentence. @param {string} body */
function preview(body) {
  const chars = Array.from(body.trim());
  return chars.length > 40 ? `${chars.slice(0, 39).join("")}…` : chars.join("");
}
