// What this tab knows: users, channels and messages, from a boot snapshot plus the events
// after it (SPEC "Boot + stream = truth"). No DOM here; apply() says what changed.

/**
 * @typedef {{id: string, name: string, role: "admin" | "member", active: boolean}} User
 * @typedef {{id: string, name: string, created_at: string}} Channel
 * @typedef {{id: string, channel: string, sender: string, body: string, sent_at: string}} Message
 * @typedef {{kind: "message-sent", message: Message, confirmed: boolean}
 *   | {kind: "message-deleted", id: string, channel: string}
 *   | {kind: "channel-created", channel: Channel}
 *   | {kind: "channel-deleted", channel: Channel}
 *   | {kind: "user-created", user: User}
 *   | {kind: "user-updated", user: User, before: User}} Change
 */

export class World {
  /** @param {any} boot the body of GET /api/boot */
  constructor(boot) {
    /** @type {Map<string, User>} in creation order */
    this.users = new Map(boot.users.map((/** @type {any} */ u) => [u.id, userOf(u)]));
    /** @type {User} who is logged in here; replaced (not changed) when they change */
    this.me = this.users.get(boot.user.id) ?? userOf(boot.user);
    /** @type {Map<string, Channel>} in creation order */
    this.channels = new Map(boot.channels.map((/** @type {Channel} */ c) => [c.id, c]));
    /**
     * Per channel, messages in sequence order, then this tab's own sends whose event has not
     * arrived yet (pending), so that a late event from someone else lands before them.
     * @type {Map<string, Message[]>}
     */
    this.timelines = new Map();
    /** @type {Set<string>} ids of own messages shown from the POST answer, event pending */
    this.pending = new Set();
    for (const c of this.channels.keys()) this.timelines.set(c, []);
    for (const m of boot.messages) this.timeline(m.channel).push(m);
  }

  /** @param {string} channelId @returns {Message[]} */
  timeline(channelId) {
    let list = this.timelines.get(channelId);
    if (!list) {
      list = [];
      this.timelines.set(channelId, list);
    }
    return list;
  }

  /** @param {string} id */
  userName(id) {
    return this.users.get(id)?.name ?? "someone";
  }

  /** Whether the person logged in here is an admin (who may moderate and manage members). */
  isAdmin() {
    return this.me.role === "admin";
  }

  /**
   * Shows an own message at once, from the answer to POST, before its event arrives.
   * @param {Message} message
   * @returns {Change | null}
   */
  addOwn(message) {
    const list = this.timeline(message.channel);
    if (list.some((m) => m.id === message.id)) return null;
    list.push(message);
    this.pending.add(message.id);
    return { kind: "message-sent", message, confirmed: false };
  }

  /**
   * Applies one event from the stream. Unknown kinds and fields are ignored (SPEC).
   * @param {any} event
   * @returns {Change | null}
   */
  apply(event) {
    switch (`${event.type}.${event.event}`) {
      case "message.sent":
        return this.#sent(event);
      case "message.deleted":
        return this.removeMessage(event.id, event.channel);
      case "channel.created": {
        if (this.channels.has(event.id)) return null;
        /** @type {Channel} */
        const channel = { id: event.id, name: event.name, created_at: event.created_at };
        this.channels.set(channel.id, channel);
        this.timeline(channel.id);
        return { kind: "channel-created", channel };
      }
      case "channel.deleted": {
        const channel = this.channels.get(event.id);
        if (!channel) return null;
        this.channels.delete(event.id);
        this.timelines.delete(event.id);
        return { kind: "channel-deleted", channel };
      }
      case "user.created": {
        if (this.users.has(event.id)) return null;
        const user = userOf(event);
        this.users.set(user.id, user);
        return { kind: "user-created", user };
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

  /** @param {any} event @returns {Change | null} */
  #sent(event) {
    /** @type {Message} */
    const message = {
      id: event.id,
      channel: event.channel,
      sender: event.sender,
      body: event.body,
      sent_at: event.sent_at,
    };
    const list = this.timeline(message.channel);
    if (this.pending.delete(message.id)) {
      // Move it from the pending tail to its place in sequence order.
      const at = list.findIndex((m) => m.id === message.id);
      if (at >= 0) list.splice(at, 1);
      list.splice(this.#firstPending(list), 0, message);
      return { kind: "message-sent", message, confirmed: true };
    }
    if (list.some((m) => m.id === message.id)) return null;
    list.splice(this.#firstPending(list), 0, message);
    return { kind: "message-sent", message, confirmed: true };
  }

  /** @param {Message[]} list */
  #firstPending(list) {
    const at = list.findIndex((m) => this.pending.has(m.id));
    return at < 0 ? list.length : at;
  }

  /**
   * @param {string} id
   * @param {string} channelId
   * @returns {Change | null}
   */
  removeMessage(id, channelId) {
    const list = this.timelines.get(channelId);
    const at = list ? list.findIndex((m) => m.id === id) : -1;
    this.pending.delete(id);
    if (!list || at < 0) return null;
    list.splice(at, 1);
    return { kind: "message-deleted", id, channel: channelId };
  }

  /**
   * Messages in a channel from others, sent after a time (ms since the epoch).
   * @param {string} channelId
   * @param {number} since
   */
  unreadSince(channelId, since) {
    const list = this.timelines.get(channelId) ?? [];
    let n = 0;
    for (let i = list.length - 1; i >= 0; i--) {
      const m = list[i];
      if (Date.parse(m.sent_at) <= since) break;
      if (m.sender !== this.me.id) n++;
    }
    return n;
  }

  /** @param {string} channelId the time of the newest message, or 0 */
  newestTime(channelId) {
    const list = this.timelines.get(channelId) ?? [];
    return list.length ? Date.parse(list[list.length - 1].sent_at) : 0;
  }

  /** The channel whose name matches, as the server compares names (roughly: case-folded). */
  channelNamed(/** @type {string} */ name) {
    const key = name.normalize("NFKC").toLowerCase();
    for (const c of this.channels.values()) {
      if (c.name.normalize("NFKC").toLowerCase() === key) return c;
    }
    return null;
  }
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
