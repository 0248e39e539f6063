// The active channel's messages: one <li> per message, in sequence order, added and removed
// one at a time so the aria-live log announces only what is new, and the view stays at the
// newest message unless the reader has scrolled up to read older ones. Near the top it asks
// for older messages (history.js); when they arrive above, the message under the reader's
// eye stays where it was on the screen (its offset is measured before and restored after).
//
// Each message shows its reactions under its text and, on hover or focus (always, on a touch
// screen), its actions: "React", and for one's own "Edit" and "Delete" (an admin's "Delete":
// on anyone's). A message that mentions the reader is marked. What the actions do is the
// room's business (room.js); this module only draws.

import { bodyNodes } from "./body.js";
import { clone, nextPaint, paintAvatar } from "./dom.js";
import { MessageFocus, messageLabel } from "./message-focus.js";
import { followReactions, showReactions, showWhoReacted } from "./reactions.js";

// Messages from one person within this long of each other are shown as one group.
const GROUP_MS = 5 * 60 * 1000;
// Closer than this to the bottom counts as "at the newest message".
const STICKY_PX = 48;
// Closer than this to the top (or than a screen's height, if more) asks for older messages,
// so that they are usually there before the reader reaches them.
const LOAD_AHEAD_PX = 400;
// A channel is shown with its newest this many held messages (more than a screenful on any
// screen), and the older ones it holds are drawn after that first paint: a switch then costs
// what a screen shows, not what the channel holds (docs/benchmarks.md, "The web client on a
// big channel").
const FIRST_PAINT_MESSAGES = 30;

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
 * @typedef {{
 *   delete: (message: Message, li: HTMLElement) => void,
 *   edit: (messageId: string, button: HTMLElement) => void,
 *   react: (messageId: string, li: HTMLElement, button: HTMLElement) => void,
 *   toggleReaction: (messageId: string, emoji: string) => void,
 *   nearTop: () => void,
 *   scrolled: () => void,
 *   local?: (message: Message, li: HTMLElement) => void,
 * }} TimelineHandlers
 *   delete, edit, react: a message's action was pressed; toggleReaction: a reaction under it
 *   was; nearTop: the reader is close to the oldest message shown; scrolled: the view moved;
 *   local: a message being sent was drawn (to mark how its sending goes: outbox.js)
 */

export class Timeline {
  /**
   * @param {HTMLOListElement} list
   * @param {HTMLElement} scroller
   * @param {HTMLElement} jump the "new messages" button
   * @param {TimelineHandlers} on
   */
  constructor(list, scroller, jump, on) {
    this.list = list;
    this.scroller = scroller;
    this.jump = jump;
    this.on = on;
    /** @type {World | null} */
    this.world = null;
    /** @type {string | null} */
    this.channelId = null;
    /** @type {Map<string, HTMLElement>} */
    this.items = new Map();
    // The read position when the channel was opened: the "New messages" line goes above the
    // first message from someone else after it, and stays there while the channel is shown
    // (reading moves the position, not the line), so that one sees where one left off.
    /** @type {number | null} */
    this.readAt = null;
    // The older held messages still to be drawn after a switch's first paint (see show):
    // a token of that show, null when none are; a later show replaces an earlier one's.
    /** @type {object | null} */
    this.rest = null;
    // The keyboard's way through the messages: one Tab stop (message-focus.js).
    this.focus = new MessageFocus(list, (li) => li.classList.add("actions-open"));
    scroller.addEventListener("scroll", () => {
      if (this.atBottom()) this.jump.hidden = true;
      if (this.isNearTop()) this.on.nearTop();
      this.on.scrolled();
    });
    // A tap on a message (not on something in it that acts) shows its actions on a phone,
    // where they wait out of sight (parlour.css); a tap on another message moves them there.
    list.addEventListener("click", (event) => {
      const target = /** @type {HTMLElement} */ (event.target);
      if (target.closest("button, a, input, textarea, form, .reaction-picker")) return;
      const li = target.closest("li.msg");
      if (!(li instanceof HTMLElement)) return;
      const open = li.classList.contains("actions-open");
      for (const other of list.querySelectorAll("li.actions-open")) {
        other.classList.remove("actions-open");
      }
      li.classList.toggle("actions-open", !open);
    });
    followReactions(
      list,
      (button) => {
        const li = button.closest("li.msg");
        if (li instanceof HTMLElement && li.dataset.id) {
          this.on.toggleReaction(li.dataset.id, button.dataset.emoji ?? "");
        }
      },
      showWhoReacted,
    );
  }

  /**
   * Shows a channel from scratch (or nothing, for null).
   * @param {World} world
   * @param {string | null} channelId
   */
  show(world, channelId) {
    const same = this.channelId === channelId && this.world === world;
    const keep = same && !this.atBottom() ? this.scroller.scrollTop : null;
    if (!same) {
      this.focus.reset();
      this.readAt = channelId ? world.readPosition(channelId) : null;
    }
    this.world = world;
    this.channelId = channelId;
    this.items.clear();
    this.list.setAttribute("aria-busy", "true");
    this.list.replaceChildren();
    const held = channelId ? world.timeline(channelId) : [];
    // The reader's place is kept only when it is in what is drawn first.
    const first = keep === null ? held.slice(-FIRST_PAINT_MESSAGES) : held;
    this.#drawRestLater(held.length - first.length);
    for (const m of first) this.list.append(this.#build(m));
    for (const li of this.items.values()) this.#decorate(li);
    this.#markUnread();
    this.focus.update();
    this.list.removeAttribute("aria-busy");
    this.jump.hidden = true;
    if (keep === null) this.toBottom();
    else this.scroller.scrollTop = keep;
  }

  /**
   * After the next paint, draws the older messages held for the channel shown that show()
   * left out (`left` of them), as a history page is drawn: in place, the view unmoved.
   * @param {number} left
   */
  #drawRestLater(left) {
    const rest = left > 0 ? {} : null;
    this.rest = rest;
    if (!rest) return;
    nextPaint().then(() => {
      const { world, channelId } = this;
      if (rest !== this.rest || !world || !channelId) return;
      this.rest = null;
      this.insert(world.timeline(channelId).filter((m) => !this.items.has(m.id)));
      if (this.isNearTop()) this.on.nearTop();
    });
  }

  /**
   * A message arrived or was confirmed.
   * @param {Message} message
   * @param {boolean} confirmed false: an own message shown before its event
   * @param {string} [replaces] the id of the message shown while sending it, which it replaces
   */
  add(message, confirmed, replaces) {
    if (!this.world || message.channel !== this.channelId) return;
    const stick = this.atBottom() || message.sender === this.world.me.id;
    if (replaces) this.remove(replaces);
    let li = this.items.get(message.id);
    if (!li) {
      li = this.#build(message);
      this.#place(li, message.seq);
    }
    li.classList.toggle("pending", !confirmed);
    this.#redecorateAround(li);
    this.focus.update();
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
      this.#markUnread();
      this.focus.update();
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
   * A message's body, its mentions or its "edited" mark changed (an edit).
   * @param {Message} message
   */
  edited(message) {
    const li = this.items.get(message.id);
    if (!li) return;
    this.#showBody(li, message);
    this.focus.adopt(li);
  }

  /**
   * A message's reactions changed.
   * @param {Message} message
   */
  reacted(message) {
    const li = this.items.get(message.id);
    if (!li || !this.world) return;
    const stick = this.atBottom();
    showReactions(/** @type {HTMLElement} */ (li.querySelector(".reactions")), message, this.world);
    this.focus.adopt(li);
    if (stick) this.toBottom();
  }

  /** A message's item, if shown. @param {string} id */
  item(id) {
    return this.items.get(id);
  }

  /**
   * Whether the newest message is on screen: the view is at the bottom and can be seen
   * (not hidden behind the channel list on a phone).
   */
  seesNewest() {
    return this.scroller.clientHeight > 0 && this.atBottom();
  }

  /**
   * Fills a message's text: links, the mentions marked, "(edited)"; and marks the message
   * when it mentions the reader.
   * @param {HTMLElement} li
   * @param {Message} m
   */
  #showBody(li, m) {
    const world = /** @type {World} */ (this.world);
    /** @type {Map<string, boolean>} */
    const mentioned = new Map();
    for (const id of m.mentions) {
      const user = world.users.get(id);
      if (user) mentioned.set(user.name, id === world.me.id);
    }
    const body = /** @type {HTMLElement} */ (li.querySelector(".msg-body"));
    body.replaceChildren(...bodyNodes(m.body, mentioned));
    if (m.edited_at) body.append(editedMark(m.edited_at));
    const me = world.me.id;
    li.classList.toggle("mentions-me", m.mentions.includes(me) && m.sender !== me);
    const time = timeFormat.format(new Date(Number(li.dataset.time)));
    li.setAttribute("aria-label", messageLabel(world.userName(m.sender), time, m.body, !!m.edited_at));
  }

  /**
   * Whether the view is close enough to its top to want older messages: not while older
   * held ones are still to be drawn.
   */
  isNearTop() {
    if (this.rest) return false;
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
    const hadFocus = li.contains(document.activeElement);
    this.items.delete(id);
    li.remove();
    if (next) this.#decorate(next);
    if (li.classList.contains("unread-start")) this.#markUnread();
    this.focus.update({ removed: li, next, hadFocus });
  }

  /**
   * Puts the "New messages" line above the first message, held and numbered, from someone
   * else after the read position the channel was opened at; none when there is none. Live
   * messages do not add one: they come to a reader who is there (or are counted as unread).
   */
  #markUnread() {
    const { world, readAt } = this;
    const old = this.list.querySelector("li.unread-start");
    /** @type {HTMLElement | null} */
    let first = null;
    if (world && readAt !== null) {
      for (const li of this.items.values()) {
        if (li.dataset.sender === world.me.id) continue; // (own ones, sending ones too)
        const seq = Number(li.dataset.seq);
        if (seq > readAt && (!first || seq < Number(first.dataset.seq))) first = li;
      }
    }
    if (old === first) return;
    if (old) {
      old.classList.remove("unread-start");
      old.querySelector(".unread-mark")?.remove();
      this.#decorate(/** @type {HTMLElement} */ (old));
    }
    if (!first) return;
    first.classList.add("unread-start");
    const mark = document.createElement("p");
    mark.className = "unread-mark";
    const words = document.createElement("span");
    words.textContent = "New messages";
    mark.append(words);
    first.insertBefore(mark, first.querySelector(".msg-row"));
    this.#decorate(first);
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
    this.#showBody(li, m);
    showReactions(/** @type {HTMLElement} */ (li.querySelector(".reactions")), m, world);
    const own = m.sender === world.me.id;
    li.classList.toggle("own", own);
    li.classList.toggle("pending", world.pending.has(m.id) || m.local === true);
    this.items.set(m.id, li);
    // Shown while being sent: nothing to act on until the server has numbered it.
    if (m.local) {
      this.on.local?.(m, li);
      this.focus.adopt(li);
      return li;
    }
    const actions = /** @type {HTMLElement} */ (li.querySelector(".msg-actions"));
    const whose = own ? null : sender.name;
    const react = actionButton("React", "msg-react", reactLabel(whose, when));
    react.setAttribute("aria-haspopup", "true");
    react.addEventListener("click", () => this.on.react(m.id, li, react));
    actions.append(react);
    if (own) {
      const edit = actionButton("Edit", "msg-edit-button", editLabel(when));
      edit.addEventListener("click", () => this.on.edit(m.id, edit));
      actions.append(edit);
    }
    // Admins may delete anyone's message (moderation); others only their own.
    if (own || world.isAdmin()) {
      const del = actionButton("Delete", "msg-delete", deleteLabel(whose, when));
      del.addEventListener("click", () => this.on.delete(m, li));
      actions.append(del);
    }
    this.focus.adopt(li);
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
      const when = new Date(Number(li.dataset.time));
      const del = /** @type {HTMLElement | null} */ (li.querySelector(".msg-delete"));
      if (del && del.dataset.confirming !== "yes") {
        del.setAttribute("aria-label", deleteLabel(own ? null : user.name, when));
      }
      li.querySelector(".msg-react")?.setAttribute(
        "aria-label",
        reactLabel(own ? null : user.name, when),
      );
    }
    // Their name in who reacted, and their mentions marked (as the name now reads).
    for (const [id, li] of this.items) {
      const m = this.channelId ? this.world.message(this.channelId, id) : undefined;
      if (!m) continue;
      // (A message's label names its sender, so theirs are shown again too.)
      if (m.sender === user.id || m.mentions.includes(user.id)) this.#showBody(li, m);
      if (m.reactions.some((r) => r.users.includes(user.id))) {
        showReactions(/** @type {HTMLElement} */ (li.querySelector(".reactions")), m, this.world);
      }
      this.focus.adopt(li);
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
      !li.classList.contains("unread-start") &&
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
 * A message's action button.
 * @param {string} text
 * @param {string} kind its class
 * @param {string} label what it says to a screen reader (whose message, from when)
 */
function actionButton(text, kind, label) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = `quiet small msg-action ${kind}`;
  button.textContent = text;
  button.setAttribute("aria-label", label);
  return button;
}

/**
 * What a message's "React" button says to a screen reader.
 * @param {string | null} sender someone else's name, or null for one's own message
 * @param {Date} when
 */
function reactLabel(sender, when) {
  const whose = sender === null ? "your" : `${sender}’s`;
  return `React to ${whose} message from ${timeFormat.format(when)}`;
}

/** @param {Date} when */
function editLabel(when) {
  return `Edit your message from ${timeFormat.format(when)}`;
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
