// What this tab knows: users, the channels this user may see, and for each channel the
// messages it holds, from a boot snapshot plus the events after it and the history pages it
// fetched (docs/api/events.md, "Boot + stream = truth"). No DOM here; apply() says what changed.
//
// Boot carries only each channel's newest messages, so per channel the world holds a
// contiguous stretch: every retained message from its oldest loaded one (`span.from`) up to
// the newest. An older page (GET …/messages?before=from) joins that stretch from below with
// no gap. A page reflects every event up to its `position`, and the server promises that
// position is never below an event already delivered here; but events that arrive while a
// page is on its way (a deletion, an edit, a reaction) may be newer than it. So each fetch
// keeps a journal of the events for its channel applied meanwhile, and those newer than the
// page's position are applied again to the messages it brought (docs/api/history.md).
//
// It also holds this user's read state per channel (reads.js counts it), and the messages
// this tab is sending: shown at once, before the server has answered, and known by their
// client_id (docs/api/channels-and-messages.md) when the answer or their event arrives, so
// that each shows once.

import {
  bootState,
  countHeld,
  counts,
  defaultLevel,
  fresh,
  levelOf,
  moveTo,
  position,
  raiseFloor,
} from "./reads.js";

/**
 * @typedef {{id: string, name: string, role: "admin" | "member", active: boolean}} User
 * @typedef {{
 *   id: string,
 *   name: string | null,
 *   created_at: string,
 *   kind: "public" | "private" | "direct",
 *   members?: string[],
 * }} Channel a direct channel has no name (it is shown by its members' names)
 * @typedef {{emoji: string, users: string[]}} Reaction
 * @typedef {{
 *   id: string,
 *   seq: number,
 *   channel: string,
 *   sender: string,
 *   body: string,
 *   sent_at: string,
 *   edited_at: string | null,
 *   mentions: string[],
 *   reactions: Reaction[],
 *   client_id: string | null,
 *   local?: boolean,
 * }} Message local: being sent by this tab, not yet answered (its id is made up here, and
 *   its seq is above every other)
 * @typedef {{loaded: boolean, older: boolean, from: number, epoch: number, joined: number}} Span
 *   loaded: the channel's newest messages are here (false for a channel the user was added
 *   to after boot, until its newest page arrives); older: the server holds messages below
 *   `from`; from: the sequence from which every retained message is held; epoch: changes
 *   whenever held pages are dropped, so that a page asked for before then is not joined;
 *   joined: for a channel the user was added to after boot, the sequence of the event that
 *   added them (what was said before it was said before their time), else 0
 * @typedef {{channel: string, before: number | null, epoch: number, journal: {seq: number,
 *   event: any}[]}} Fetch a history page on its way (before: null for the newest page)
 * @typedef {{kind: "message-sent", message: Message, confirmed: boolean, replaces?: string}
 *   | {kind: "message-deleted", id: string, channel: string}
 *   | {kind: "message-edited", message: Message}
 *   | {kind: "message-reacted", message: Message}
 *   | {kind: "page", channel: string, added: Message[], joined: number}
 *   | {kind: "channel-created", channel: Channel}
 *   | {kind: "channel-updated", channel: Channel, before: Channel}
 *   | {kind: "channel-deleted", channel: Channel}
 *   | {kind: "user-created", user: User}
 *   | {kind: "user-updated", user: User, before: User}
 *   | {kind: "read", channel: string}} Change
 *   page: a history page joined what was held (added: the messages it brought, in order;
 *   joined: as the channel's span says, when this is its first page, else 0);
 *   channel-created: a channel came into view (made, or the user was added to it);
 *   channel-deleted: it left view (deleted, or the user left or was removed);
 *   message-sent: replaces names the local message it takes the place of;
 *   read: the read position or the notification level of a channel changed
 * @typedef {import("./reads.js").ReadState} ReadState
 * @typedef {import("./reads.js").Level} Level
 */

// The sequence of a message shown before the server numbered it: after every other.
const LOCAL_SEQ = Number.MAX_SAFE_INTEGER;
// How many deleted message ids are remembered, to keep a page from bringing one back.
const DELETED_REMEMBERED = 2000;
// The events that change a message a page may bring in an older state.
const JOURNALED = new Set([
  "message.deleted",
  "message.edited",
  "reaction.added",
  "reaction.removed",
]);

export class World {
  /** @param {any} boot the body of GET /api/boot */
  constructor(boot) {
    /** @type {Map<string, User>} in creation order */
    this.users = new Map(boot.users.map((/** @type {any} */ u) => [u.id, userOf(u)]));
    /** @type {User} who is logged in here; replaced (not changed) when they change */
    this.me = this.users.get(boot.user.id) ?? userOf(boot.user);
    /** @type {Map<string, Channel>} in creation order */
    this.channels = new Map();
    /** @type {Map<string, Message[]>} per channel, held messages in sequence order */
    this.timelines = new Map();
    /** @type {Map<string, Span>} */
    this.spans = new Map();
    /** @type {Set<string>} ids of own messages shown from the POST answer, event pending */
    this.pending = new Set();
    /** @type {Set<string>} ids of messages deleted lately (oldest first) */
    this.deleted = new Set();
    /** @type {Set<Fetch>} */
    this.fetches = new Set();
    /** @type {Map<string, ReadState>} */
    this.reads = new Map();
    const older = boot.older ?? {};
    const resumePoint = Number(boot.resume_point) || 0;
    for (const c of boot.channels) {
      const channel = channelOf(c);
      this.channels.set(channel.id, channel);
      this.timelines.set(channel.id, []);
      this.spans.set(channel.id, {
        loaded: true,
        older: older[channel.id] === true,
        from: resumePoint + 1,
        epoch: 0,
        joined: 0,
      });
    }
    for (const m of boot.messages) {
      const list = this.timelines.get(m.channel);
      if (!list) continue;
      list.push(messageOf(m));
    }
    for (const [id, list] of this.timelines) {
      const span = /** @type {Span} */ (this.spans.get(id));
      if (list.length) span.from = list[0].seq;
      const channel = /** @type {Channel} */ (this.channels.get(id));
      const data = boot.reads?.[id];
      const held = countHeld(list, Number(data?.seq) || 0, Infinity, this.me.id);
      this.reads.set(id, bootState(data, channel.kind, resumePoint, span.from, held));
    }
  }

  /** The messages held for a channel, in sequence order. @param {string} channelId */
  timeline(channelId) {
    return this.timelines.get(channelId) ?? [];
  }

  /** @param {string} channelId @returns {Span | undefined} */
  span(channelId) {
    return this.spans.get(channelId);
  }

  /** @param {string} id */
  userName(id) {
    return this.users.get(id)?.name ?? "someone";
  }

  /** Whether the person logged in here is an admin (who may moderate and manage members). */
  isAdmin() {
    return this.me.role === "admin";
  }

  /** Whether this user may see a channel: any public one, others while a member. */
  canSee(/** @type {Channel} */ channel) {
    return channel.kind === "public" || (channel.members ?? []).includes(this.me.id);
  }

  /**
   * What a channel is called: its name, or for a direct one its members' names (oneself
   * left out; "You" for a conversation with oneself).
   * @param {Channel} channel
   */
  label(channel) {
    if (channel.name !== null) return channel.name;
    const others = (channel.members ?? []).filter((id) => id !== this.me.id);
    return others.length ? others.map((id) => this.userName(id)).join(", ") : "You";
  }

  /**
   * A channel in running text: "#general", "plans" (private), or the names of a direct
   * conversation's members.
   * @param {Channel} channel
   */
  title(channel) {
    return channel.kind === "public" ? `#${channel.name}` : this.label(channel);
  }

  /**
   * Shows an own message at once, from the answer to POST, before its event arrives.
   * @param {any} data the message the server answered with
   * @returns {Change | null}
   */
  addOwn(data) {
    const message = messageOf(data);
    const list = this.timelines.get(message.channel);
    if (!list) return null;
    const replaces = this.#dropLocal(list, message.client_id);
    if (this.deleted.has(message.id) || list.some((m) => m.id === message.id)) {
      return replaces ? { kind: "message-deleted", id: replaces, channel: message.channel } : null;
    }
    insertBySeq(list, message);
    this.pending.add(message.id);
    return { kind: "message-sent", message, confirmed: false, replaces: replaces ?? undefined };
  }

  /**
   * Shows a message this tab is sending, before the server answers: at the end, marked as
   * not sent yet. Its answer or its event takes its place (by client_id).
   * @param {{channel: string, body: string, mentions: string[], client_id: string}} draft
   * @returns {Change | null}
   */
  addLocal(draft) {
    const list = this.timelines.get(draft.channel);
    if (!list) return null;
    /** @type {Message} */
    const message = {
      id: localId(draft.client_id),
      seq: LOCAL_SEQ,
      channel: draft.channel,
      sender: this.me.id,
      body: draft.body,
      sent_at: new Date().toISOString(),
      edited_at: null,
      mentions: [...draft.mentions],
      reactions: [],
      client_id: draft.client_id,
      local: true,
    };
    list.push(message);
    return { kind: "message-sent", message, confirmed: false };
  }

  /**
   * Takes away a message shown while sending, which the server did not take.
   * @param {string} channelId
   * @param {string} clientId
   * @returns {Change | null}
   */
  removeLocal(channelId, clientId) {
    const list = this.timelines.get(channelId);
    const id = list ? this.#dropLocal(list, clientId) : null;
    return id ? { kind: "message-deleted", id, channel: channelId } : null;
  }

  /**
   * Removes the local message with this client_id, if any; returns its id.
   * @param {Message[]} list
   * @param {string | null} clientId
   * @returns {string | null}
   */
  #dropLocal(list, clientId) {
    if (clientId === null) return null;
    const at = list.findIndex((m) => m.local && m.client_id === clientId);
    if (at < 0) return null;
    const [dropped] = list.splice(at, 1);
    return dropped.id;
  }

  /**
   * Applies one event from the stream, or an answer made into one. Unknown kinds and fields
   * are ignored (docs/api/events.md).
   * @param {any} event
   * @param {number} [seq] its sequence, when it came from the stream
   * @returns {Change | null}
   */
  apply(event, seq) {
    if (seq !== undefined && JOURNALED.has(`${event.type}.${event.event}`)) {
      this.#journal(event, seq);
    }
    switch (`${event.type}.${event.event}`) {
      case "message.sent":
        return this.#sent(event);
      case "message.deleted":
        return this.removeMessage(event.id, event.channel);
      case "message.edited":
      case "reaction.added":
      case "reaction.removed": {
        const message = this.#find(event.channel, messageIdOf(event));
        if (!message || !changeMessage(message, event)) return null;
        return event.type === "reaction"
          ? { kind: "message-reacted", message }
          : { kind: "message-edited", message };
      }
      case "channel.created": {
        if (this.channels.has(event.id)) return null;
        const channel = channelOf(event);
        if (!this.canSee(channel)) return null;
        // A channel is empty when it is made: nothing older to ask for.
        this.#add(channel, true);
        return { kind: "channel-created", channel };
      }
      case "channel.updated":
        return this.#updated(channelOf(event), seq);
      case "channel.deleted": {
        const channel = this.channels.get(event.id);
        return channel ? this.#remove(channel) : null;
      }
      case "user.created": {
        if (this.users.has(event.id)) return null;
        const user = userOf(event);
        this.users.set(user.id, user);
        return { kind: "user-created", user };
      }
      case "read.updated": {
        const state = this.reads.get(event.channel);
        const seq = Number(event.seq);
        if (!state || !Number.isSafeInteger(seq)) return null;
        moveTo(state, seq);
        return { kind: "read", channel: event.channel };
      }
      case "notify.updated": {
        const state = this.reads.get(event.channel);
        const channel = this.channels.get(event.channel);
        if (!state || !channel) return null;
        state.notify = levelOf(event.level, channel.kind);
        return { kind: "read", channel: event.channel };
      }
      case "user.updated": {
        const before = this.users.get(event.id);
        if (!before) return null;
        const user = userOf(event);
        this.users.set(user.id, user);
        if (user.id === this.me.id) this.me = user;
        return { kind: "user-updated", user, before };
      }
      default:
        return null;
    }
  }

  /**
   * @param {Channel} channel
   * @param {number} [seq] the event's sequence (none: from an answer, made just now)
   * @returns {Change | null}
   */
  #updated(channel, seq) {
    const before = this.channels.get(channel.id);
    if (!this.canSee(channel)) return before ? this.#remove(before) : null;
    if (!before) {
      // Added to a channel that already has a history: its newest page must be fetched.
      this.#add(channel, false, seq ?? Number.MAX_SAFE_INTEGER);
      return { kind: "channel-created", channel };
    }
    this.channels.set(channel.id, channel);
    return { kind: "channel-updated", channel, before };
  }

  /** @param {Channel} channel @param {boolean} loaded @param {number} [joined] */
  #add(channel, loaded, joined = 0) {
    this.channels.set(channel.id, channel);
    // Read from the moment it came into view, as the server starts it (an answer's channel,
    // made just now, has nothing older).
    this.reads.set(channel.id, fresh(joined < LOCAL_SEQ ? joined : 0, channel.kind));
    this.timelines.set(channel.id, []);
    this.spans.set(channel.id, {
      loaded,
      older: false,
      from: Number.MAX_SAFE_INTEGER,
      epoch: 0,
      joined,
    });
  }

  /** @param {Channel} channel @returns {Change} */
  #remove(channel) {
    for (const m of this.timeline(channel.id)) this.pending.delete(m.id);
    this.channels.delete(channel.id);
    this.timelines.delete(channel.id);
    this.spans.delete(channel.id);
    this.reads.delete(channel.id);
    for (const fetch of this.fetches) if (fetch.channel === channel.id) this.fetches.delete(fetch);
    return { kind: "channel-deleted", channel };
  }

  /** @param {any} event @returns {Change | null} */
  #sent(event) {
    const message = messageOf(event);
    const list = this.timelines.get(message.channel);
    if (!list || this.deleted.has(message.id)) return null;
    // This tab's own message, still shown as being sent: the event takes its place.
    const replaces =
      (message.sender === this.me.id && this.#dropLocal(list, message.client_id)) || undefined;
    const at = list.findIndex((m) => m.id === message.id);
    if (this.pending.delete(message.id)) {
      if (at >= 0) list[at] = message;
      else insertBySeq(list, message);
      return { kind: "message-sent", message, confirmed: true, replaces };
    }
    if (at >= 0) return null;
    insertBySeq(list, message);
    return { kind: "message-sent", message, confirmed: true, replaces };
  }

  /** @param {string} channelId @param {string} id */
  #find(channelId, id) {
    return this.timelines.get(channelId)?.find((m) => m.id === id);
  }

  /**
   * A held message, as it is now.
   * @param {string} channelId
   * @param {string} id
   * @returns {Message | undefined}
   */
  message(channelId, id) {
    return this.#find(channelId, id);
  }

  /**
   * @param {string} id
   * @param {string} channelId
   * @returns {Change | null}
   */
  removeMessage(id, channelId) {
    this.#forget(id);
    const list = this.timelines.get(channelId);
    const at = list ? list.findIndex((m) => m.id === id) : -1;
    this.pending.delete(id);
    if (!list || at < 0) return null;
    list.splice(at, 1);
    return { kind: "message-deleted", id, channel: channelId };
  }

  /** Remembers a deleted message, so that no page brings it back. @param {string} id */
  #forget(id) {
    this.deleted.add(id);
    if (this.deleted.size > DELETED_REMEMBERED) {
      const oldest = this.deleted.values().next();
      if (!oldest.done) this.deleted.delete(oldest.value);
    }
  }

  /** @param {any} event @param {number} seq */
  #journal(event, seq) {
    for (const fetch of this.fetches) {
      if (fetch.channel === event.channel) fetch.journal.push({ seq, event });
    }
  }

  // --- history ---

  /**
   * Starts fetching a page: the newest one for a channel not loaded yet, else the one below
   * what is held. Null when there is nothing to fetch.
   * @param {string} channelId
   * @returns {Fetch | null}
   */
  beginFetch(channelId) {
    const span = this.spans.get(channelId);
    if (!span || (span.loaded && !span.older)) return null;
    /** @type {Fetch} */
    const fetch = {
      channel: channelId,
      before: span.loaded ? span.from : null,
      epoch: span.epoch,
      journal: [],
    };
    this.fetches.add(fetch);
    return fetch;
  }

  /** Forgets a fetch that failed. @param {Fetch} fetch */
  dropFetch(fetch) {
    this.fetches.delete(fetch);
  }

  /**
   * Joins a page to what is held. A page asked for before held pages were dropped, or for a
   * channel no longer in view, is not joined (null).
   * @param {Fetch} fetch
   * @param {{messages: any[], older: boolean, position: number}} page
   * @returns {Change | null}
   */
  endFetch(fetch, page) {
    if (!this.fetches.delete(fetch)) return null;
    const span = this.spans.get(fetch.channel);
    const list = this.timelines.get(fetch.channel);
    if (!span || !list || span.epoch !== fetch.epoch) return null;
    const held = new Set(list.map((m) => m.id));
    const added = page.messages
      .map(messageOf)
      .filter((m) => m.channel === fetch.channel && !held.has(m.id) && !this.deleted.has(m.id));
    const ids = new Set(added.map((m) => m.id));
    for (const { seq, event } of fetch.journal) {
      if (seq <= page.position) continue;
      if (event.type === "message" && event.event === "deleted") {
        ids.delete(event.id);
        continue;
      }
      const target = added.find((m) => m.id === messageIdOf(event));
      if (target) changeMessage(target, event);
    }
    const kept = added.filter((m) => ids.has(m.id));
    for (const m of kept) insertBySeq(list, m);
    // The page covers everything from its first message up (what it left out was deleted).
    const first = page.messages.length ? Number(page.messages[0].seq) : Infinity;
    const from = Math.min(first, list.length && !list[0].local ? list[0].seq : Infinity);
    const joined = fetch.before === null ? span.joined : 0;
    if (fetch.before === null) {
      span.loaded = true;
      span.from = Number.isFinite(from) ? from : page.position + 1;
    } else if (Number.isFinite(from)) {
      span.from = Math.min(span.from, from);
    }
    span.older = page.older;
    return { kind: "page", channel: fetch.channel, added: kept, joined };
  }

  /**
   * Drops all but a channel's newest messages (to keep memory bounded); they are fetched
   * again when needed. Pages on their way for it are then not joined.
   * @param {string} channelId
   * @param {number} keep
   */
  trim(channelId, keep) {
    const list = this.timelines.get(channelId);
    const span = this.spans.get(channelId);
    if (!list || !span || list.length <= keep) return;
    const state = this.reads.get(channelId);
    if (state) raiseFloor(state, list, list[list.length - keep].seq, this.me.id);
    list.splice(0, list.length - keep);
    span.older = true;
    span.from = list[0].seq;
    span.epoch++;
  }

  // --- reading ---

  /**
   * What waits unread in a channel: messages from others above the read position, and how
   * many of them mention this user.
   * @param {string} channelId
   * @returns {import("./reads.js").Counts}
   */
  unread(channelId) {
    const state = this.reads.get(channelId);
    if (!state) return { unread: 0, mentions: 0 };
    return counts(state, this.timeline(channelId), this.me.id);
  }

  /** @param {string} channelId @returns {Level} */
  level(channelId) {
    const state = this.reads.get(channelId);
    if (state) return state.notify;
    return defaultLevel(this.channels.get(channelId)?.kind ?? "public");
  }

  /** The read position counts start from. @param {string} channelId */
  readPosition(channelId) {
    const state = this.reads.get(channelId);
    return state ? position(state) : 0;
  }

  /**
   * This tab is asking the server to move the read position: counts start from it now.
   * @param {string} channelId
   * @param {number} seq
   */
  markingRead(channelId, seq) {
    const state = this.reads.get(channelId);
    if (state && seq > position(state)) state.marking = seq;
  }

  /**
   * The server did not take a position asked for: counts start from its own again.
   * @param {string} channelId
   * @param {number} seq
   */
  markFailed(channelId, seq) {
    const state = this.reads.get(channelId);
    if (state && state.marking === seq) state.marking = 0;
  }

  /** The sequence of the newest message the server has numbered, or 0. @param {string} channelId */
  newestSeq(channelId) {
    const list = this.timeline(channelId);
    for (let i = list.length - 1; i >= 0; i--) if (!list[i].local) return list[i].seq;
    return 0;
  }

  /**
   * This user's newest message in a channel that the server has taken (to edit), if held.
   * @param {string} channelId
   * @returns {Message | undefined}
   */
  lastOwn(channelId) {
    const list = this.timeline(channelId);
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i].sender === this.me.id && !list[i].local) return list[i];
    }
    return undefined;
  }

  /**
   * Who may be mentioned in a channel: the active users who see it (for a private channel or
   * a conversation, its members), oneself left out.
   * @param {string} channelId
   * @returns {User[]}
   */
  mentionable(channelId) {
    const channel = this.channels.get(channelId);
    if (!channel) return [];
    const members = channel.members ? new Set(channel.members) : null;
    return Array.from(this.users.values()).filter(
      (u) => u.active && u.id !== this.me.id && (members === null || members.has(u.id)),
    );
  }

  /** The public channel whose name matches, as the server compares names (roughly). */
  channelNamed(/** @type {string} */ name) {
    const key = name.normalize("NFKC").toLowerCase();
    for (const c of this.channels.values()) {
      if (c.kind === "public" && c.name?.normalize("NFKC").toLowerCase() === key) return c;
    }
    return null;
  }
}

/**
 * Changes a held message as an edit or reaction event says. Each is a plain "set" (a body,
 * a user's presence under an emoji), so applying one again changes nothing.
 * @param {Message} message
 * @param {any} event
 * @returns {boolean} whether anything changed
 */
function changeMessage(message, event) {
  if (event.type === "message" && event.event === "edited") {
    message.body = event.body;
    message.mentions = Array.isArray(event.mentions) ? event.mentions : [];
    message.edited_at = event.edited_at ?? message.edited_at;
    return true;
  }
  const at = message.reactions.findIndex((r) => r.emoji === event.emoji);
  if (event.event === "added") {
    if (at < 0) message.reactions.push({ emoji: event.emoji, users: [event.user] });
    else if (!message.reactions[at].users.includes(event.user)) {
      message.reactions[at].users.push(event.user);
    } else return false;
    return true;
  }
  if (event.event !== "removed" || at < 0) return false;
  const users = message.reactions[at].users.filter((u) => u !== event.user);
  if (users.length === message.reactions[at].users.length) return false;
  if (users.length) message.reactions[at].users = users;
  else message.reactions.splice(at, 1);
  return true;
}

/**
 * The message an edit or reaction event is about (a reaction names it `message`).
 * @param {any} event
 * @returns {string}
 */
function messageIdOf(event) {
  return event.type === "reaction" ? event.message : event.id;
}

/**
 * Puts a message in its place by sequence (most often at the end).
 * @param {Message[]} list
 * @param {Message} message
 */
function insertBySeq(list, message) {
  let at = list.length;
  while (at > 0 && list[at - 1].seq > message.seq) at--;
  list.splice(at, 0, message);
}

/**
 * A user from an answer or an event, with only the fields the client uses. A revision-1
 * server sends no role and no active flag: everyone is then an active member.
 * @param {any} data
 * @returns {User}
 */
function userOf(data) {
  return {
    id: data.id,
    name: data.name,
    role: data.role === "admin" ? "admin" : "member",
    active: data.active !== false,
  };
}

/**
 * A channel from an answer or an event (a revision-1 one is public).
 * @param {any} data
 * @returns {Channel}
 */
function channelOf(data) {
  const kind = data.kind === "private" || data.kind === "direct" ? data.kind : "public";
  /** @type {Channel} */
  const channel = {
    id: data.id,
    name: typeof data.name === "string" ? data.name : null,
    created_at: data.created_at,
    kind,
  };
  if (kind !== "public") channel.members = Array.isArray(data.members) ? data.members : [];
  return channel;
}

/**
 * A message from an answer, a page or an event (which carries more fields: dropped).
 * @param {any} data
 * @returns {Message}
 */
function messageOf(data) {
  return {
    id: data.id,
    seq: Number(data.seq) || 0,
    channel: data.channel,
    sender: data.sender,
    body: data.body,
    sent_at: data.sent_at,
    edited_at: data.edited_at ?? null,
    mentions: Array.isArray(data.mentions) ? data.mentions : [],
    reactions: Array.isArray(data.reactions)
      ? data.reactions.map((/** @type {any} */ r) => ({ emoji: r.emoji, users: [...r.users] }))
      : [],
    client_id: data.client_id ?? null,
  };
}

/** The made-up id of a message shown while it is being sent. @param {string} clientId */
export function localId(clientId) {
  return `local:${clientId}`;
}
