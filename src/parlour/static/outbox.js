// Messages on their way to the server, in the order they were composed. A message leaves the
// compose box the moment it is sent (what is typed next is the next message) and waits here
// until the server has it; the timeline shows it meanwhile, marked "Sending…".
//
// One message at a time, oldest first, so that messages arrive in the order they were
// written. When the server can't be reached (no answer, or a 5xx / 429 that asks for
// patience) the message and those behind it stay, marked "Not sent: will retry", with
// "Retry now" and "Discard"; they are sent again when the event stream is back, when the
// browser says it is online again, and on a slow timer meanwhile. Every try carries the
// message's client_id (docs/api/channels-and-messages.md): a try whose answer was lost did
// post the message, and the next one then posts nothing and gets the message back (200), so a
// retry never makes a second copy.
//
// Waiting messages are kept in this browser's storage (per person), so a reload or a
// closed tab loses none: the next boot of that person shows them again and sends them. Two
// tabs that both hold one send it twice at worst, and the server keeps one; each tab writes
// its own queue over what it read, leaving the other tabs' messages in place.
//
// A message the server refuses (4xx: too long, a mention no longer allowed, the channel gone)
// is not retried: it leaves the queue and goes back to whoever composed it (compose.js), with
// the reason.

import { post } from "./api.js";

/**
 * @typedef {import("./compose.js").Draft} Draft
 * @typedef {import("./api.js").Reply} Reply
 * @typedef {"sending" | "waiting"} State
 * @typedef {{draft: Draft, state: State}} Entry
 * @typedef {{
 *   show: (draft: Draft) => void,
 *   sent: (message: any) => void,
 *   refused: (draft: Draft, reply: Reply) => void,
 *   discarded: (draft: Draft) => void,
 *   changed: (draft: Draft, state: State) => void,
 *   sessionEnded: () => void,
 * }} OutboxHandlers
 *   show: draw a waiting message in its channel; sent: the server has it (its answer);
 *   refused: the server will not take it; discarded: the person gave it up; changed: its
 *   state changed (to redraw its mark)
 */

// The slow timer between tries while nothing else says the server is back.
const RETRY_FIRST_MS = 5000;
const RETRY_MAX_MS = 60000;

export class Outbox {
  /** @param {OutboxHandlers} on */
  constructor(on) {
    this.on = on;
    /** @type {Entry[]} */
    this.entries = [];
    /** @type {string | null} whose storage */
    this.user = null;
    /** @type {Set<string>} client_ids this tab saw go (sent, refused, discarded) */
    this.gone = new Set();
    this.flushing = false;
    /** @type {number | undefined} */
    this.timer = undefined;
    this.delay = RETRY_FIRST_MS;
    this.onOnline = () => this.retry();
    window.addEventListener("online", this.onOnline);
  }

  /**
   * Starts (or starts again, after a new boot) for a person: the messages kept from before
   * are shown again and sent.
   * @param {string} userId
   */
  start(userId) {
    if (this.user !== userId) {
      this.user = userId;
      /** @type {Map<string, Entry>} */
      const known = new Map(this.entries.map((e) => [e.draft.client_id, e]));
      for (const draft of readKept(userId)) {
        if (!known.has(draft.client_id)) known.set(draft.client_id, { draft, state: "waiting" });
      }
      this.entries = Array.from(known.values()).sort((a, b) => a.draft.at - b.draft.at);
    }
    for (const entry of this.entries) this.on.show(entry.draft);
    this.retry();
  }

  /** Sends a new message, after those before it. @param {Draft} draft */
  add(draft) {
    this.entries.push({ draft, state: "sending" });
    this.#keep();
    this.flush();
  }

  /** The state of a message still here, by its client_id. @param {string} clientId */
  state(clientId) {
    return this.entries.find((e) => e.draft.client_id === clientId)?.state;
  }

  /**
   * The server has a message (its event arrived, perhaps sent by another tab): it need not
   * be sent again.
   * @param {string | null} clientId
   */
  settled(clientId) {
    const at = this.entries.findIndex((e) => e.draft.client_id === clientId);
    if (at < 0 || this.entries[at].state === "sending") return;
    this.#drop(this.entries[at]);
  }

  /**
   * A channel went (deleted, or the person removed): what waits for it can never be sent,
   * and goes back to whoever composed it at once, as the server would refuse it (404).
   * @param {string} channelId
   */
  channelGone(channelId) {
    for (const entry of this.entries.filter((e) => e.draft.channel === channelId)) {
      if (entry.state === "sending") continue; // its answer will say
      this.#drop(entry);
      this.on.refused(entry.draft, {
        status: 404,
        data: null,
        detail: "The channel no longer exists, or you are no longer in it.",
        retryAfter: null,
      });
    }
  }

  /** Gives a waiting message up. @param {string} clientId */
  discard(clientId) {
    const at = this.entries.findIndex((e) => e.draft.client_id === clientId);
    if (at < 0 || this.entries[at].state === "sending") return;
    const entry = this.entries[at];
    this.#drop(entry);
    this.on.discarded(entry.draft);
  }

  /** Tries the waiting messages now (the connection is back, or the person asked). */
  retry() {
    window.clearTimeout(this.timer);
    this.timer = undefined;
    this.delay = RETRY_FIRST_MS;
    this.flush();
  }

  /** Sends what waits, one message at a time, until all went or the server can't be reached. */
  async flush() {
    if (this.flushing || this.user === null) return;
    this.flushing = true;
    try {
      for (;;) {
        const entry = this.entries[0];
        if (!entry) return;
        this.#set(entry, "sending");
        const { draft } = entry;
        const reply = await post(`/api/channels/${encodeURIComponent(draft.channel)}`, {
          body: draft.body,
          mentions: draft.mentions,
          client_id: draft.client_id,
        });
        if (!this.entries.includes(entry)) continue; // settled meanwhile
        if (reply.status === 401) {
          this.#waitAll();
          this.on.sessionEnded();
          return;
        }
        if (reply.status === 0 || reply.status === 429 || reply.status >= 500) {
          this.#waitAll();
          this.#later(reply.retryAfter);
          return;
        }
        this.#drop(entry);
        // 200: the server had it already (a try whose answer was lost).
        if (reply.status === 202 || reply.status === 200) this.on.sent(reply.data);
        else this.on.refused(draft, reply);
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Stops for good (logged out, or another person logged in): nothing more is sent. */
  stop() {
    window.clearTimeout(this.timer);
    window.removeEventListener("online", this.onOnline);
    this.entries = [];
    this.user = null;
  }

  /** @param {number | null} retryAfter seconds the server asked for, if it did */
  #later(retryAfter) {
    window.clearTimeout(this.timer);
    const wait = retryAfter ? retryAfter * 1000 : this.delay;
    this.delay = Math.min(this.delay * 2, RETRY_MAX_MS);
    this.timer = window.setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
  }

  #waitAll() {
    for (const entry of this.entries) this.#set(entry, "waiting");
  }

  /** @param {Entry} entry @param {State} state */
  #set(entry, state) {
    if (entry.state === state) return;
    entry.state = state;
    this.on.changed(entry.draft, state);
  }

  /** Takes a message out of the queue, for good. @param {Entry} entry */
  #drop(entry) {
    this.entries.splice(this.entries.indexOf(entry), 1);
    this.gone.add(entry.draft.client_id);
    this.#keep();
  }

  /**
   * Writes the queue to storage (what another boot of this person will send): this tab's
   * messages, and those of other tabs that this one has not seen go.
   */
  #keep() {
    if (this.user === null) return;
    try {
      const key = storageKey(this.user);
      const mine = new Set(this.entries.map((e) => e.draft.client_id));
      const kept = readKept(this.user)
        .filter((d) => !mine.has(d.client_id) && !this.gone.has(d.client_id))
        .concat(this.entries.map((e) => e.draft))
        .sort((a, b) => a.at - b.at);
      if (kept.length) localStorage.setItem(key, JSON.stringify(kept));
      else localStorage.removeItem(key);
    } catch {
      // Storage full or disabled: the queue still lives as long as the tab.
    }
  }
}

/** @param {string} userId */
function storageKey(userId) {
  return `parlour.outbox.${userId}`;
}

/**
 * The messages a person's earlier boot left unsent.
 * @param {string} userId
 * @returns {Draft[]}
 */
function readKept(userId) {
  try {
    const kept = JSON.parse(localStorage.getItem(storageKey(userId)) ?? "[]");
    if (!Array.isArray(kept)) return [];
    return kept.filter(
      (d) =>
        d &&
        typeof d.channel === "string" &&
        typeof d.body === "string" &&
        typeof d.client_id === "string" &&
        typeof d.at === "number" &&
        Array.isArray(d.mentions),
    );
  } catch {
    return [];
  }
}

/**
 * Marks a message of the outbox in the timeline: "Sending…", or why it has not gone yet with
 * "Retry now" and "Discard".
 * @param {HTMLElement} li the message's item
 * @param {State} state
 * @param {{retry: () => void, discard: () => void}} act
 */
export function markPending(li, state, act) {
  li.classList.toggle("unsent", state === "waiting");
  const main = li.querySelector(".msg-main");
  if (!main) return;
  let mark = main.querySelector(".msg-outbox");
  if (!mark) {
    mark = document.createElement("p");
    mark.className = "msg-outbox";
    mark.setAttribute("role", "status");
    main.append(mark);
  }
  if (state === "sending") {
    mark.replaceChildren("Sending…");
    return;
  }
  const retry = document.createElement("button");
  retry.type = "button";
  retry.textContent = "Retry now";
  retry.addEventListener("click", act.retry);
  const discard = document.createElement("button");
  discard.type = "button";
  discard.textContent = "Discard";
  discard.setAttribute("aria-label", "Discard this unsent message");
  discard.addEventListener("click", act.discard);
  mark.replaceChildren(
    "Not sent yet: can't reach the server. It will be sent when the connection is back. ",
    retry,
    " ",
    discard,
  );
}
