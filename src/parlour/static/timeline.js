// The active channel's messages: one <li> per message, added and removed one at a time so
// the aria-live log announces only what is new, and the view stays at the newest message
// unless the reader has scrolled up to read older ones.

import { bodyNodes } from "./body.js";
import { clone, paintAvatar } from "./dom.js";

// Messages from one person within this long of each other are shown as one group.
const GROUP_MS = 5 * 60 * 1000;
// Closer than this to the bottom counts as "at the newest message".
const STICKY_PX = 48;

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });
const dayFormat = new Intl.DateTimeFormat(undefined, {
  weekday: "long",
  month: "long",
  day: "numeric",
});
const dayYearFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "long" });

/**
 * @typedef {import("./world.js").Message} Message
 * @typedef {import("./world.js").World} World
 */

export class Timeline {
  /**
   * @param {HTMLOListElement} list
   * @param {HTMLElement} scroller
   * @param {HTMLElement} jump the "new messages" button
   * @param {(message: Message, li: HTMLElement) => void} onDelete
   */
  constructor(list, scroller, jump, onDelete) {
    this.list = list;
    this.scroller = scroller;
    this.jump = jump;
    this.onDelete = onDelete;
    /** @type {World | null} */
    this.world = null;
    /** @type {string | null} */
    this.channelId = null;
    /** @type {Map<string, HTMLElement>} */
    this.items = new Map();
    scroller.addEventListener("scroll", () => {
      if (this.atBottom()) this.jump.hidden = true;
    });
  }

  /**
   * Shows a channel from scratch (or nothing, for null).
   * @param {World} world
   * @param {string | null} channelId
   */
  show(world, channelId) {
    const same = this.channelId === channelId && this.world === world;
    const keep = same && !this.atBottom() ? this.scroller.scrollTop : null;
    this.world = world;
    this.channelId = channelId;
    this.items.clear();
    this.list.setAttribute("aria-busy", "true");
    this.list.replaceChildren();
    for (const m of channelId ? world.timeline(channelId) : []) {
      const li = this.#build(m);
      this.list.append(li);
    }
    for (const li of this.items.values()) this.#decorate(li);
    this.list.removeAttribute("aria-busy");
    this.jump.hidden = true;
    if (keep === null) this.toBottom();
    else this.scroller.scrollTop = keep;
  }

  /**
   * A message arrived or was confirmed.
   * @param {Message} message
   * @param {boolean} confirmed false: an own message shown before its event
   */
  add(message, confirmed) {
    if (!this.world || message.channel !== this.channelId) return;
    const stick = this.atBottom() || message.sender === this.world.me.id;
    let li = this.items.get(message.id);
    if (li) {
      li.classList.toggle("pending", !confirmed);
    } else {
      li = this.#build(message);
      li.classList.toggle("pending", !confirmed);
    }
    // Sequence order: confirmed messages go before any still-pending own sends.
    const firstPending = confirmed
      ? this.list.querySelector(`.msg.pending:not([data-id="${CSS.escape(message.id)}"])`)
      : null;
    if (firstPending) this.list.insertBefore(li, firstPending);
    else if (li.parentElement !== this.list || !confirmed) this.list.append(li);
    this.#redecorateAround(li);
    if (stick) this.toBottom();
    else this.jump.hidden = false;
  }

  /** @param {string} id */
  remove(id) {
    const li = this.items.get(id);
    if (!li) return;
    const next = /** @type {HTMLElement | null} */ (li.nextElementSibling);
    this.items.delete(id);
    li.remove();
    if (next) this.#decorate(next);
  }

  atBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < STICKY_PX;
  }

  toBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.jump.hidden = true;
  }

  /** @param {Message} m */
  #build(m) {
    const world = /** @type {World} */ (this.world);
    const li = clone("message-item");
    li.dataset.id = m.id;
    li.dataset.sender = m.sender;
    li.dataset.time = String(Date.parse(m.sent_at));
    li.id = `message-${m.id}`;
    const sender = world.users.get(m.sender) ?? { id: m.sender, name: world.userName(m.sender) };
    paintAvatar(/** @type {HTMLElement} */ (li.querySelector(".avatar")), sender);
    /** @type {HTMLElement} */ (li.querySelector(".sender")).textContent = sender.name;
    const when = new Date(m.sent_at);
    for (const time of li.querySelectorAll("time")) {
      time.dateTime = m.sent_at;
      time.textContent = timeFormat.format(when);
      time.title = fullFormat.format(when);
    }
    /** @type {HTMLElement} */ (li.querySelector(".msg-body")).append(...bodyNodes(m.body));
    const own = m.sender === world.me.id;
    li.classList.toggle("own", own);
    // Admins may delete anyone's message (moderation); others only their own.
    if (own || world.isAdmin()) {
      const del = document.createElement("button");
      del.type = "button";
      del.className = "quiet small msg-delete";
      del.textContent = "Delete";
      del.setAttribute("aria-label", deleteLabel(own ? null : sender.name, when));
      del.addEventListener("click", () => this.onDelete(m, li));
      /** @type {HTMLElement} */ (li.querySelector(".msg-actions")).append(del);
    }
    this.items.set(m.id, li);
    return li;
  }

  /**
   * Someone's name changed: their messages show the new one (and their avatar its initial).
   * @param {{id: string, name: string}} user
   */
  renamed(user) {
    if (!this.world) return;
    const own = user.id === this.world.me.id;
    for (const li of this.items.values()) {
      if (li.dataset.sender !== user.id) continue;
      /** @type {HTMLElement} */ (li.querySelector(".sender")).textContent = user.name;
      paintAvatar(/** @type {HTMLElement} */ (li.querySelector(".avatar")), user);
      const del = /** @type {HTMLElement | null} */ (li.querySelector(".msg-delete"));
      if (del && del.dataset.confirming !== "yes") {
        del.setAttribute(
          "aria-label",
          deleteLabel(own ? null : user.name, new Date(Number(li.dataset.time))),
        );
      }
    }
  }

  /** @param {HTMLElement} li */
  #redecorateAround(li) {
    this.#decorate(li);
    const next = /** @type {HTMLElement | null} */ (li.nextElementSibling);
    if (next) this.#decorate(next);
  }

  /**
   * Groups a message with the one before it (same person, same day, within minutes), and
   * puts a day heading before the first message of each day.
   * @param {HTMLElement} li
   */
  #decorate(li) {
    const prev = /** @type {HTMLElement | null} */ (li.previousElementSibling);
    const time = Number(li.dataset.time);
    const day = dayKey(time);
    const sameDay = prev !== null && dayKey(Number(prev.dataset.time)) === day;
    const grouped =
      sameDay &&
      prev.dataset.sender === li.dataset.sender &&
      time - Number(prev.dataset.time) < GROUP_MS;
    li.classList.toggle("continued", grouped);
    let heading = li.querySelector(".day");
    if (sameDay) {
      heading?.remove();
    } else if (!heading) {
      heading = document.createElement("p");
      heading.className = "day";
      const label = document.createElement("span");
      label.textContent = dayLabel(time);
      heading.append(label);
      li.prepend(heading);
    }
  }
}

/**
 * What a message's "Delete" button says to a screen reader: whose message, from when.
 * @param {string | null} sender someone else's name, or null for one's own message
 * @param {Date} when
 */
function deleteLabel(sender, when) {
  const whose = sender === null ? "your" : `${sender}’s`;
  return `Delete ${whose} message from ${timeFormat.format(when)}`;
}

/** @param {number} time */
function dayKey(time) {
  const d = new Date(time);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/** @param {number} time */
function dayLabel(time) {
  const d = new Date(time);
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (dayKey(time) === dayKey(today.getTime())) return "Today";
  if (dayKey(time) === dayKey(yesterday.getTime())) return "Yesterday";
  return d.getFullYear() === today.getFullYear() ? dayFormat.format(d) : dayYearFormat.format(d);
}
