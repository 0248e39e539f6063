// The compose box under the active channel. Enter sends and Shift+Enter adds a line (but an
// input method's Enter picks a word, and sends nothing; on a touch screen Enter adds a line
// and the Send button sends: touch.js); the box grows with its text; "@" offers people to
// mention (mentions.js); ↑ in the empty box edits one's last message.
//
// Each channel has its own draft (drafts.js): switching channels swaps the box's text, a
// reload keeps it, and the draft of a channel that goes (deleted, or the person removed from
// it) is kept and shown above the box, named by where it came from, until the person puts it
// into the box or discards it: it is never sent anywhere by itself.
//
// A message leaves the box the moment it is sent, so what is typed next, even before the
// server has answered, is the next message; the message waits in the outbox (outbox.js),
// shown in the timeline as being sent, until the server has it. A message the server refuses
// comes back into the box with the reason under it (if the box is empty; else the reason
// quotes it), so nothing typed is lost. The length check uses the server's limit
// (limits.js).

import { Drafts } from "./drafts.js";
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
 * @typedef {import("./api.js").Reply} Reply
 * @typedef {{
 *   channel: string, body: string, mentions: string[], client_id: string, at: number,
 * }} Draft a composed message; at: when it was sent (ms), to keep the outbox in order
 */

/**
 * @typedef {{
 *   channel: () => string | null,
 *   exists: (channelId: string) => boolean,
 *   people: (channelId: string) => User[],
 *   send: (draft: Draft) => void,
 *   editLast: () => boolean,
 * }} ComposeHandlers
 *   channel: where a message goes now; exists: whether a channel is still there (to tell its
 *   draft from an orphan); people: who may be mentioned there; send: send this message (the
 *   outbox); editLast: edit one's last message in the channel (false: there is none)
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
    /** @type {Draft | null} the last message refused, while it is back in the box */
    this.unsent = null;
    /** @type {Drafts | null} this person's drafts (set by start) */
    this.drafts = null;
    /** @type {string | null} the channel whose draft the box holds */
    this.current = null;
    this.title = "";
    // Drafts of channels that went, shown above the box (see the top of this file).
    this.orphans = document.createElement("div");
    this.orphans.className = "compose-orphans";
    this.orphans.hidden = true;
    this.form.prepend(this.orphans);
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
    this.textarea.addEventListener("input", () => {
      this.#fit();
      this.#keepDraft();
    });
    onSubmit(this.form, () => this.#send());
  }

  /** Starts for a person (after login or a new boot): their drafts. @param {string} userId */
  start(userId) {
    this.drafts = new Drafts(userId);
    this.current = null;
  }

  #keepDraft() {
    if (this.current) this.drafts?.set(this.current, this.textarea.value, this.title);
  }

  /**
   * Addresses the box to a channel, or hides it when there is none.
   * @param {Channel | undefined} channel
   * @param {string} [title] the channel as running text names it ("#general", "Bob")
   */
  showFor(channel, title = "") {
    const id = channel ? channel.id : null;
    if (id !== this.current) {
      // The text goes with its channel (kept as it was typed; again here, in case it was
      // changed without an input event) and the next channel's draft comes in.
      this.#keepDraft();
      showError(this.form, "body", "");
      this.mentions.close();
      this.unsent = null;
      this.current = id;
      this.textarea.value = id ? (this.drafts?.get(id) ?? "") : "";
      this.mentions.reset();
      this.#fit();
    }
    this.title = title;
    if (channel) {
      this.label.textContent = `Message ${title}`;
      this.textarea.placeholder = `Message ${title}`;
    }
    this.form.hidden = !channel;
    this.showOrphans();
  }

  /** Shows the drafts of channels that went, each with what can be done with it. */
  showOrphans() {
    const exists = this.on.exists;
    const orphans = this.drafts ? this.drafts.orphans((id) => exists(id)) : [];
    this.orphans.replaceChildren();
    this.orphans.hidden = orphans.length === 0 || this.form.hidden;
    for (const orphan of orphans) {
      const row = document.createElement("div");
      row.className = "compose-orphan";
      const text = document.createElement("p");
      const where = orphan.title || "a channel";
      text.textContent =
        `Your unsent text in ${where} is kept here: that channel was deleted, or you are ` +
        `no longer in it. “${preview(orphan.text)}”`;
      const put = document.createElement("button");
      put.type = "button";
      put.textContent = "Put it in the box";
      put.setAttribute("aria-label", `Put your text from ${where} in the box`);
      put.addEventListener("click", () => {
        const box = this.textarea;
        box.value = box.value.trim() === "" ? orphan.text : `${box.value}\n${orphan.text}`;
        this.#keepDraft();
        this.drafts?.set(orphan.channel, "", "");
        this.#fit();
        this.showOrphans();
        box.focus();
      });
      const drop = document.createElement("button");
      drop.type = "button";
      drop.textContent = "Discard";
      drop.setAttribute("aria-label", `Discard your text from ${where}`);
      drop.addEventListener("click", () => {
        this.drafts?.set(orphan.channel, "", "");
        this.showOrphans();
        this.focus();
      });
      row.append(text, put, drop);
      this.orphans.append(row);
    }
  }

  /** Focuses the box if it is shown. */
  focus() {
    if (!this.form.hidden) this.textarea.focus();
  }

  #fit() {
    const t = this.textarea;
    t.style.height = "auto";
    // Empty, the box is as high as it should be already; measuring it would lay out the
    // whole page at once, on every load and every switch between channels, for nothing.
    if (t.value === "") return;
    // Its text's height, plus its borders (so that no scroll bar shows).
    t.style.height = `${t.scrollHeight + t.offsetHeight - t.clientHeight}px`;
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
    // Whatever was typed while the limits were asked for stays for the next message.
    if (this.on.channel() !== channelId || !this.textarea.value.startsWith(body)) return;
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
      at: Date.now(),
    };
    this.unsent = null;
    this.textarea.value = this.textarea.value.slice(body.length);
    this.mentions.reset();
    this.#fit();
    this.#keepDraft();
    this.on.send(draft);
  }

  /**
   * The server refused a message (not a lost connection: that is retried). It comes back
   * into the box if the box is empty and shows its channel; otherwise it is kept as that
   * channel's draft if it has none, and the reason names it.
   * @param {Draft} draft
   * @param {Reply} reply
   */
  refused(draft, reply) {
    const here = this.current === draft.channel;
    const gone = reply.status === 404 || !this.on.exists(draft.channel);
    let where = "";
    if (here && (this.textarea.value.trim() === "" || gone)) {
      // (Into a gone channel's box even after what is typed there: it all stays its draft.)
      const typed = this.textarea.value;
      this.textarea.value = typed.trim() === "" ? draft.body : `${typed}\n${draft.body}`;
      this.unsent = typed.trim() === "" ? draft : null;
      this.#fit();
      this.#keepDraft();
      where = "Your message is back in the box";
    } else if (this.drafts && !here) {
      // Kept as its channel's draft (after the one there, if any): nothing is lost.
      const before = this.drafts.get(draft.channel);
      this.drafts.set(draft.channel, before ? `${before}\n${draft.body}` : draft.body, "");
      where = "It is kept as that channel's draft";
    }
    if (gone) {
      this.showOrphans();
      if (!here) return; // its draft, above the box, says what happened
    }
    const what = where ? `${where}.` : `“${preview(draft.body)}” was not sent.`;
    showError(
      this.form,
      "body",
      gone
        ? `This channel no longer exists, or you are no longer in it: your message was not sent. ${what}`
        : `Not sent: ${reply.detail} ${what}`,
    );
  }
}

/** The start of a message, to name it in a sentence. @param {string} body */
function preview(body) {
  const chars = Array.from(body.trim());
  return chars.length > 40 ? `${chars.slice(0, 39).join("")}…` : chars.join("");
}
