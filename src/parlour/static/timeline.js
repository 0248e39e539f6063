// The active channel's messages: one <li> per message, in sequence order, added and removed
// one at a time so the aria-live log announces only what is new, and the view stays at the
// newest message unless the reader has scrolled up to read older ones. Near the top it asks
// for older messages (history.js); when they arrive above, the message under the reader's
// eye stays where it was on the screen (its offset is measured before and restored after).

import { bodyNodes } from "./body.js";
import { clone, paintAvatar } from "./dom.js";

// Messages from one person within this long of each other are shown as one group.
const GROUP_MS = 5 * 60 * 1000;
// Closer than this to the bottom counts as "at the newest message".
const STICKY_PX = 48;
// Closer than this to the top (or than a screen's height, if more) asks for older messages,
// so that they are usually there before the reader reaches them.
const LOAD_AHEAD_PX = 400;

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
   * @param {() => void} nearTop the reader is close to the oldest message shown
   */
  constructor(list, scroller, jump, onDelete, nearTop) {
    this.list = list;
    this.scroller = scroller;
    this.jump = jump;
    this.onDelete = onDelete;
    this.nearTop = nearTop;
    /** @type {World | null} */
    this.world = null;
    /** @type {string | null} */
    this.channelId = null;
    /** @type {Map<string, HTMLElement>} */
    this.items = new Map();
    scroller.addEventListener("scroll", () => {
      if (this.atBottom()) this.jump.hidden = true;
      if (this.isNearTop()) this.nearTop();
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
      li.classList.toggle("pending", world.pending.has(m.id));
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
    if (!li) {
      li = this.#build(message);
      this.#place(li, message.seq);
    }
    li.classList.toggle("pending", !confirmed);
    this.#redecorateAround(li);
    if (stick) this.toBottom();
    else this.jump.hidden = false;
  }

  /**
   * Messages from a history page (most often all older than those shown), each put in its
   * place; the reader's view does not move.
   * @param {Message[]} messages in sequence order
   */
  insert(messages) {
    if (!this.world || !messages.length) return;
    this.keepPlace(() => {
      /** @type {HTMLElement[]} */
      const added = [];
      let after = /** @type {HTMLElement | null} */ (this.list.firstElementChild);
      for (const m of messages) {
        if (m.channel !== this.channelId || this.items.has(m.id)) continue;
        while (after && Number(after.dataset.seq) < m.seq) {
          after = /** @type {HTMLElement | null} */ (after.nextElementSibling);
        }
        const li = this.#build(m);
        this.list.insertBefore(li, after);
        added.push(li);
      }
      for (const li of added) this.#redecorateAround(li);
    });
  }

  /**
   * Makes a change above what the reader is looking at (older messages, the note at the top)
   * without moving it: the message nearest the top of the view stays where it was on the
   * screen. A reader at the newest message stays there.
   * @param {() => void} change
   */
  keepPlace(change) {
    if (this.atBottom()) {
      change();
      this.toBottom();
      return;
    }
    const anchor = this.#anchor();
    const before = anchor?.getBoundingClientRect().top ?? 0;
    change();
    if (anchor?.isConnected) {
      this.scroller.scrollTop += anchor.getBoundingClientRect().top - before;
    }
  }

  /** The body of the first message whose body shows at the top of the view, if any. */
  #anchor() {
    const top = this.scroller.getBoundingClientRect().top;
    for (const li of this.list.children) {
      const body = li.querySelector(".msg-body");
      if (body instanceof HTMLElement && body.getBoundingClientRect().bottom > top) return body;
    }
    return null;
  }

  /**
   * A message's body or its "edited" mark changed (an edit).
   * @param {Message} message
   */
  edited(message) {
    const li = this.items.get(message.id);
    if (!li) return;
    const body = /** @type {HTMLElement} */ (li.querySelector(".msg-body"));
    body.replaceChildren(...bodyNodes(message.body));
    if (message.edited_at) body.append(editedMark(message.edited_at));
  }

  /** Whether the view is close enough to its top to want older messages. */
  isNearTop() {
    return this.scroller.scrollTop < Math.max(LOAD_AHEAD_PX, this.scroller.clientHeight);
  }

  /**
   * Puts a new message's item before the first one with a greater sequence (most often: at
   * the end).
   * @param {HTMLElement} li
   * @param {number} seq
   */
  #place(li, seq) {
    let next = null;
    let at = /** @type {HTMLElement | null} */ (this.list.lastElementChild);
    while (at && Number(at.dataset.seq) > seq) {
      next = at;
      at = /** @type {HTMLElement | null} */ (at.previousElementSibling);
    }
    this.list.insertBefore(li, next);
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
    li.dataset.seq = String(m.seq);
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
    const body = /** @type {HTMLElement} */ (li.querySelector(".msg-body"));
    body.append(...bodyNodes(m.body));
    if (m.edited_at) body.append(editedMark(m.edited_at));
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

/**
 * The "(edited)" after an edited message's text; the time of the edit shows on hover.
 * @param {string} editedAt
 */
function editedMark(editedAt) {
  const mark = document.createElement("span");
  mark.className = "msg-edited";
  mark.textContent = " (edited)";
  mark.title = `Edited ${fullFormat.format(new Date(editedAt))}`;
  return mark;
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
