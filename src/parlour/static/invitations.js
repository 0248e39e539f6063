// The open invitations, in the members dialog: the usable links one has issued (an admin
// sees everyone's), each with when it expires and a "Revoke" button. The server keeps no
// event for invitations, so the list is asked for whenever it is shown, and again after a
// link is issued or revoked here.

import { del, get } from "./api.js";
import { showError, slot } from "./dom.js";

/** @typedef {import("./world.js").World} World */

/**
 * @typedef {{id: string, issuer: {id: string, name: string}, issued_at: string,
 *   expires_at: string}} Invite
 */

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  dateStyle: "medium",
  timeStyle: "short",
});
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

export class Invitations {
  /**
   * @param {HTMLElement} dialog the members dialog (holds the list)
   * @param {{world: () => World, sessionEnded: () => void}} on
   */
  constructor(dialog, on) {
    this.dialog = dialog;
    this.on = on;
    this.list = slot(dialog, "invitation-list", HTMLUListElement);
    this.status = slot(dialog, "invitations-status");
    // Answers can cross: only the newest request's answer is shown.
    this.asked = 0;
    this.list.addEventListener("click", (event) => {
      const button = /** @type {HTMLElement} */ (event.target).closest("button[data-invite]");
      if (button instanceof HTMLButtonElement) this.#revoke(button);
    });
  }

  /** Asks for the open invitations and shows them. */
  async load() {
    const asked = ++this.asked;
    if (!this.list.childElementCount) this.status.textContent = "Looking for open invitations…";
    const reply = await get("/api/invites");
    if (asked !== this.asked) return;
    if (reply.status === 401) return this.on.sessionEnded();
    if (reply.status !== 200) {
      this.status.textContent = "";
      showError(this.dialog, "invitations", `The invitations could not be listed: ${reply.detail}`);
      return;
    }
    showError(this.dialog, "invitations", "");
    this.#show(reply.data.invites);
  }

  /** @param {Invite[]} invites */
  #show(invites) {
    const world = this.on.world();
    const focused = document.activeElement;
    const hadFocus = this.list.contains(focused);
    this.list.replaceChildren(...invites.map((invite) => this.#row(invite, world)));
    const whose = world.isAdmin() ? "on this server" : "that you issued";
    this.status.textContent = invites.length
      ? `${invites.length === 1 ? "One invitation" : `${invites.length} invitations`} ${whose} ` +
        "can still be used. Each works once, for one person."
      : `No open invitations ${whose}.`;
    if (hadFocus && !this.list.contains(document.activeElement)) {
      // The revoked row is gone: focus the next one's button, or the list's heading.
      const next = this.list.querySelector("button");
      const heading = /** @type {HTMLElement | null} */ (
        this.dialog.querySelector("#invitations-title")
      );
      (next ?? heading)?.focus();
    }
  }

  /** @param {Invite} invite @param {World} world */
  #row(invite, world) {
    const li = document.createElement("li");
    li.className = "invitation";
    li.dataset.id = invite.id;
    const issued = new Date(invite.issued_at);
    const expires = new Date(invite.expires_at);
    const mine = invite.issuer.id === world.me.id;
    const text = document.createElement("p");
    text.className = "invitation-text";
    const who = document.createElement("span");
    who.textContent = mine ? "You issued this link" : `Issued by ${invite.issuer.name}`;
    const when = timeElement(issued, sameDay(issued) ? timeFormat : dateTimeFormat);
    const ends = document.createElement("span");
    ends.className = "muted small";
    ends.append("Expires ", timeElement(expires, dateTimeFormat, relativeTo(expires)));
    text.append(who, " at ", when, document.createElement("br"), ends);
    const revoke = document.createElement("button");
    revoke.type = "button";
    revoke.className = "quiet small danger";
    revoke.dataset.invite = invite.id;
    revoke.textContent = "Revoke";
    revoke.setAttribute(
      "aria-label",
      `Revoke the invitation ${mine ? "you" : invite.issuer.name} issued at ` +
        dateTimeFormat.format(issued),
    );
    const error = document.createElement("p");
    error.className = "error invitation-error";
    error.setAttribute("role", "alert");
    li.append(text, revoke, error);
    return li;
  }

  /** @param {HTMLButtonElement} button */
  async #revoke(button) {
    const id = button.dataset.invite ?? "";
    const error = button.parentElement?.querySelector(".invitation-error");
    if (error) error.textContent = "";
    button.setAttribute("aria-disabled", "true");
    const reply = await del(`/api/invite/${encodeURIComponent(id)}`);
    button.removeAttribute("aria-disabled");
    if (reply.status === 401) return this.on.sessionEnded();
    if (reply.status === 204 || reply.status === 404) {
      // 404: used or expired meanwhile; either way it can no longer be used.
      await this.load();
      return;
    }
    if (error) error.textContent = `Not revoked: ${reply.detail}`;
  }
}

/**
 * @param {Date} date
 * @param {Intl.DateTimeFormat} format
 * @param {string} [text] shown instead of the formatted date (which is then its title)
 */
function timeElement(date, format, text) {
  const el = document.createElement("time");
  el.dateTime = date.toISOString();
  el.textContent = text ?? format.format(date);
  el.title = dateTimeFormat.format(date);
  return el;
}

/** @param {Date} date */
function sameDay(date) {
  return date.toDateString() === new Date().toDateString();
}

/** "in 23 hours", "in 5 minutes" @param {Date} date */
function relativeTo(date) {
  const seconds = (date.getTime() - Date.now()) / 1000;
  if (Math.abs(seconds) < 60) return relative.format(Math.round(seconds), "second");
  if (Math.abs(seconds) < 3600) return relative.format(Math.round(seconds / 60), "minute");
  if (Math.abs(seconds) < 86400 * 2) return relative.format(Math.round(seconds / 3600), "hour");
  return relative.format(Math.round(seconds / 86400), "day");
}

/**
 * When an invitation stops working, in words: "Sat, 29 Nov 2026, 11:27 (in 24 hours)".
 * @param {string} iso its expires_at
 */
export function expiryText(iso) {
  const date = new Date(iso);
  return `${dateTimeFormat.format(date)} (${relativeTo(date)})`;
}
