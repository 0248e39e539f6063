// Following /api/events from many tabs at once with one connection.
//
// Browsers allow six HTTP/1.1 connections per host, so eight tabs each holding a stream
// would starve. One tab, the leader, holds the EventSource; it is elected with a Web Lock
// (released by the browser when the tab closes, so another takes over) and passes every
// event to the other tabs over a BroadcastChannel. Each tab keeps its own world from its own
// boot: while it boots it buffers what it hears, then applies only events after its boot's
// resume point. Event ids strictly increase on one stream, so "ignore ids <= the last one
// applied" removes the duplicates a new leader's replay may bring.
//
// Where Web Locks are missing (plain http on a non-local address is not a secure context),
// every tab holds its own stream: it still works, up to the browser's connection limit.
//
// The server ends a stream when its session is revoked (logout, a new password, a used
// reset link, deactivation by an admin). The browser would try again only after the
// stream's retry interval, so whenever the stream drops the leader asks at once whether the
// session still holds: a deactivated member's page drops to the login form at once.
//
// The leader also raises system notifications (notify.js), one per message; before it does,
// it asks the other tabs whether one of them is in sight (see othersVisible).

const LOCK_NAME = "parlour.events";
const CHANNEL_NAME = "parlour";
// After a failed check of why the stream closed, wait this long, doubling up to the cap.
const PROBE_RETRY_MS = 2000;
const PROBE_RETRY_CAP_MS = 30000;
const WATCHDOG_TICK_MS = 1000;
// How long the leader waits for a visible tab to answer "is anyone looking?": the tabs share
// one browser, where a BroadcastChannel message takes well under a millisecond.
const VISIBLE_ASK_MS = 150;

/**
 * @typedef {"connecting" | "live" | "reconnecting"} Status
 * @typedef {"logged-out" | "session-ended"} LoggedOut why: logged out in a tab here, or the
 *   server ended the session (it answered 401)
 * @typedef {{
 *   event: (data: any, seq: number) => void,
 *   status: (status: Status) => void,
 *   reboot: () => void,
 *   loggedOut: (why: LoggedOut) => void,
 *   loggedIn: () => void,
 * }} Handlers
 */

export class Sync {
  /** @param {Handlers} handlers */
  constructor(handlers) {
    this.handlers = handlers;
    this.bus = new BroadcastChannel(CHANNEL_NAME);
    this.bus.onmessage = (e) => this.#heard(e.data);
    /** @type {number | null} the sequence of the last event applied; null: not following */
    this.lastSeq = null;
    this.booting = false;
    /** @type {{seq: number, data: any}[]} */
    this.buffer = [];
    this.heartbeatMs = 30000;
    this.leading = false;
    /** @type {Status} */
    this.status = "connecting";
    /** @type {EventSource | null} */
    this.source = null;
    this.lastHeardAt = 0;
    /** @type {number | undefined} */
    this.watchdog = undefined;
    /** @type {number | undefined} */
    this.probeTimer = undefined;
    this.probeDelay = PROBE_RETRY_MS;
    /** a check of the session is under way (see #check) */
    this.checking = false;
    /** @type {AbortController | null} */
    this.lockRequest = null;
    /** @type {(() => void) | null} */
    this.releaseLock = null;
    /** @type {Map<string, () => void>} questions "is anyone looking?" awaiting an answer */
    this.asking = new Map();
    this.#markRole();
  }

  /**
   * Whether another tab of parlour in this browser is in sight now: asked when needed
   * (rather than tracked), so that a tab closed without a word never counts.
   * @returns {Promise<boolean>}
   */
  othersVisible() {
    const id = randomId();
    return new Promise((resolve) => {
      const timer = window.setTimeout(() => {
        this.asking.delete(id);
        resolve(false);
      }, VISIBLE_ASK_MS);
      this.asking.set(id, () => {
        window.clearTimeout(timer);
        this.asking.delete(id);
        resolve(true);
      });
      this.#post({ kind: "anyone-visible", id });
    });
  }

  /** Call before GET /api/boot: events heard from here on are kept until endBoot. */
  beginBoot() {
    this.booting = true;
    this.buffer = [];
    this.#closeSource();
  }

  /**
   * Call with the boot's resume point: applies what arrived meanwhile, then follows.
   * @param {number} resumePoint
   * @param {number} heartbeatSeconds
   */
  endBoot(resumePoint, heartbeatSeconds) {
    this.lastSeq = resumePoint;
    this.heartbeatMs = Math.max(1, heartbeatSeconds) * 1000;
    this.booting = false;
    const buffered = this.buffer;
    this.buffer = [];
    for (const { seq, data } of buffered) this.#accept(seq, data);
    if (this.leading) this.#open();
    else this.#elect();
    if (!this.leading) this.#post({ kind: "hello" });
  }

  /** Stop following (logged out): close the stream and let another tab lead later. */
  stop() {
    this.lastSeq = null;
    this.booting = false;
    this.buffer = [];
    this.#closeSource();
    this.lockRequest?.abort();
    this.lockRequest = null;
    this.releaseLock?.();
    this.releaseLock = null;
    this.leading = false;
    this.#setStatus("connecting");
    this.#markRole();
  }

  /** Tell the other tabs (they share the session cookie) that this one logged in or out. */
  announce(/** @type {"logged-in" | "logged-out"} */ kind) {
    this.#post({ kind, why: "logged-out" });
  }

  // --- every tab ---

  /** @param {number} seq @param {any} data */
  #accept(seq, data) {
    if (this.booting) {
      this.buffer.push({ seq, data });
      return;
    }
    if (this.lastSeq === null || !(seq > this.lastSeq)) return;
    this.lastSeq = seq;
    this.handlers.event(data, seq);
  }

  /** A message from another tab. @param {any} message */
  #heard(message) {
    switch (message?.kind) {
      case "event":
        if (this.lastSeq !== null || this.booting) this.#accept(message.seq, message.data);
        break;
      case "status":
        if (!this.leading) this.#setStatus(message.status);
        break;
      case "hello":
        if (this.leading) this.#post({ kind: "status", status: this.status });
        break;
      case "reboot":
        if (this.lastSeq !== null) this.handlers.reboot();
        break;
      case "logged-out":
        this.handlers.loggedOut(message.why === "session-ended" ? "session-ended" : "logged-out");
        break;
      case "logged-in":
        this.handlers.loggedIn();
        break;
      case "anyone-visible":
        if (document.visibilityState === "visible" && this.lastSeq !== null) {
          this.#post({ kind: "visible", id: message.id });
        }
        break;
      case "visible":
        this.asking.get(message.id)?.();
        break;
    }
  }

  /** @param {any} message */
  #post(message) {
    this.bus.postMessage(message);
  }

  /** @param {Status} status */
  #setStatus(status) {
    if (this.leading) this.#post({ kind: "status", status });
    if (status === this.status) return;
    this.status = status;
    this.handlers.status(status);
  }

  #markRole() {
    document.documentElement.dataset.stream = this.leading ? "leader" : "follower";
  }

  // --- the leader ---

  #elect() {
    if (this.lockRequest || this.leading) return;
    if (!navigator.locks) {
      this.#lead();
      return;
    }
    const request = new AbortController();
    this.lockRequest = request;
    navigator.locks
      .request(LOCK_NAME, { signal: request.signal }, () => {
        if (request.signal.aborted) return undefined;
        return new Promise((release) => {
          this.releaseLock = () => release(undefined);
          this.#lead();
        });
      })
      .catch(() => {
        // Aborted on logout: nothing to do.
      });
  }

  #lead() {
    this.leading = true;
    this.#markRole();
    if (!this.booting && this.lastSeq !== null) this.#open();
  }

  #open() {
    this.#closeSource();
    if (this.lastSeq === null) return;
    const source = new EventSource(`/api/events?resume_point=${this.lastSeq}`);
    this.source = source;
    this.lastHeardAt = Date.now();
    source.onopen = () => {
      if (source !== this.source) return;
      this.lastHeardAt = Date.now();
      this.probeDelay = PROBE_RETRY_MS;
      this.#setStatus("live");
    };
    source.onmessage = (e) => {
      if (source !== this.source) return;
      this.lastHeardAt = Date.now();
      const seq = Number(e.lastEventId);
      let data;
      try {
        data = JSON.parse(e.data);
      } catch {
        return;
      }
      if (!Number.isSafeInteger(seq)) return;
      this.#post({ kind: "event", seq, data });
      this.#accept(seq, data);
    };
    source.addEventListener("heartbeat", () => {
      if (source === this.source) this.lastHeardAt = Date.now();
    });
    source.onerror = () => {
      if (source !== this.source) return;
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (an HTTP error); EventSource does not say which. Ask.
        this.source = null;
        this.#setStatus("reconnecting");
        this.#probe();
      } else {
        // The browser reconnects by itself, sending Last-Event-ID; meanwhile, make sure the
        // stream did not end because the session did.
        this.#setStatus("reconnecting");
        this.#check();
      }
    };
    this.watchdog = window.setInterval(() => {
      if (Date.now() - this.lastHeardAt > 2 * this.heartbeatMs) {
        // Silence for two heartbeats: the connection is dead without knowing it.
        this.#setStatus("reconnecting");
        this.#open();
      }
    }, WATCHDOG_TICK_MS);
  }

  #closeSource() {
    this.source?.close();
    this.source = null;
    window.clearInterval(this.watchdog);
    window.clearTimeout(this.probeTimer);
  }

  /**
   * How the server would answer the stream's request now: HEAD gets the status GET would,
   * without opening a stream (0: no answer).
   * @param {number} seq
   */
  async #ask(seq) {
    try {
      const response = await fetch(`/api/events?resume_point=${seq}`, {
        method: "HEAD",
        headers: { accept: "text/event-stream" },
      });
      return response.status;
    } catch {
      return 0;
    }
  }

  /** The session has ended (401): this tab and every other one go to the login form. */
  #sessionEnded() {
    this.#post({ kind: "logged-out", why: "session-ended" });
    this.handlers.loggedOut("session-ended");
  }

  /**
   * The stream dropped, and the browser will reconnect by itself: checks at once whether
   * the session still holds, rather than a retry interval later. Any other answer is left
   * to the reconnection (and to #probe, if the browser then gives up).
   */
  async #check() {
    const seq = this.lastSeq;
    if (this.checking || seq === null || !this.leading) return;
    this.checking = true;
    const status = await this.#ask(seq);
    this.checking = false;
    if (status === 401 && this.leading && this.lastSeq === seq && !this.booting) {
      this.#closeSource();
      this.#sessionEnded();
    }
  }

  /** Finds out why the stream was refused, with a plain request to the same URL. */
  async #probe() {
    window.clearInterval(this.watchdog);
    const seq = this.lastSeq;
    if (seq === null || !this.leading) return;
    const status = await this.#ask(seq);
    if (!this.leading || this.lastSeq !== seq || this.booting) return;
    if (status === 200) {
      this.#open();
    } else if (status === 401) {
      this.#sessionEnded();
    } else if (status === 410 || status === 400 || status === 503) {
      // 410: events after our point were forgotten. 400: the server knows no such point
      // (a different database). 503: it needs setup. In every case: boot again.
      this.#post({ kind: "reboot" });
      this.handlers.reboot();
    } else {
      this.probeTimer = window.setTimeout(() => this.#probe(), this.probeDelay);
      this.probeDelay = Math.min(this.probeDelay * 2, PROBE_RETRY_CAP_MS);
    }
  }
}

/** A random id for a question to the other tabs. */
function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
