// The connection banner at the top of the chat. It exists so that nobody takes silence for
// "no new messages" while the event stream is down: it says so while reconnecting, and says
// "Connecting…" only when a first connection takes longer than a normal start (no flash).

// How long "Connecting…" may take before the banner says so (a normal start is quicker).
const CONNECTING_GRACE_MS = 2500;

/** @typedef {import("./sync.js").Status} Status */

export class Banner {
  /** @param {HTMLElement} el the banner (a role=status element, hidden while live) */
  constructor(el) {
    this.el = el;
    /** @type {number | undefined} */
    this.timer = undefined;
  }

  /** @param {Status} status */
  show(status) {
    window.clearTimeout(this.timer);
    if (status === "live") {
      this.el.hidden = true;
      this.el.textContent = "";
    } else if (status === "reconnecting") {
      this.el.textContent =
        "Reconnecting… new messages will appear once the connection is back.";
      this.el.hidden = false;
    } else {
      this.timer = window.setTimeout(() => {
        this.el.textContent = "Connecting…";
        this.el.hidden = false;
      }, CONNECTING_GRACE_MS);
    }
  }

  close() {
    window.clearTimeout(this.timer);
  }
}
