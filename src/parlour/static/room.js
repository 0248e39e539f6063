// The active channel's view: its title, who is in it (for a private channel or a direct
// conversation: a button that opens its members, channel-people.js), its messages (the
// Timeline) with, above them, older ones loading as the reader scrolls up or the mark of the
// channel's beginning, what an empty channel or an unknown one says instead, and the room's
// own tools, as the server allows them: "Delete channel" (for an empty channel; for an
// admin, any channel but a direct one: one that holds messages is deleted with them), and
// "Delete" on one's own messages (an admin's: on anyone's). Each deletion is confirmed first
// in a dialog that says what will go, for whom, and that it cannot be undone (confirm.js),
// so that a slip of the finger deletes nothing.
// A message's other actions start here too: "Edit" (edit.js does the editing in place) and
// "React" (the picker, and toggling a reaction: reactions.js).

import { del } from "./api.js";
import { channelMark, find, hashMark, onActions, showError, slot } from "./dom.js";
import { Editor } from "./edit.js";
import { ReactionPicker, sendReaction } from "./reactions.js";
import { Timeline } from "./timeline.js";

// How much of a message the question before deleting it quotes.
const PREVIEW_CHARS = 60;

/**
 * @typedef {import("./world.js").World} World
 * @typedef {import("./world.js").Channel} Channel
 * @typedef {import("./world.js").Message} Message
 * @typedef {import("./confirm.js").Question} Question
 */

/**
 * "a", "a and b", "a, b and c".
 * @param {string[]} items
 */
function andList(items) {
  if (items.length < 2) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/**
 * @typedef {{
 *   messageDeleted: (message: Message) => void,
 *   channelDeleted: (channelId: string) => void,
 *   confirm: (question: Question) => Promise<boolean>,
 *   sessionEnded: () => void,
 *   people: () => void,
 *   load: (channelId: string) => void,
 *   loading: (channelId: string) => boolean,
 *   failed: (channelId: string) => string | null,
 *   changed: (event: any) => void,
 *   scrolled: () => void,
 *   local?: (message: Message, li: HTMLElement) => void,
 * }} RoomHandlers
 *   people: show who is in the channel; load: fetch the page the channel needs next;
 *   loading and failed: whether a page is on its way, and why the last one did not come;
 *   changed: the server took an edit or a reaction (the event it makes, to show at once);
 *   scrolled: the reader moved through the messages
 */

// How many members' names the room's header shows before "and N others".
const NAMES_SHOWN = 4;

export class Room {
  /**
   * @param {HTMLElement} view the chat view (the room is its <main>)
   * @param {RoomHandlers} on what the server confirmed (or the session's end)
   */
  constructor(view, on) {
    this.el = find(view, "section.room");
    this.on = on;
    /** @type {World | null} */
    this.world = null;
    /** @type {Channel | undefined} */
    this.channel = undefined;
    const jump = find(this.el, ".jump");
    const list = slot(this.el, "timeline", HTMLOListElement);
    this.timeline = new Timeline(list, slot(this.el, "scroller"), jump, {
      delete: (message, li) => this.#deleteMessage(message, li),
      edit: (id, button) => this.edit(id, button),
      react: (id, li, button) => this.picker.open(li, id, button),
      toggleReaction: (id, emoji) => this.#toggleReaction(id, emoji),
      nearTop: () => this.#loadIfNear(),
      scrolled: () => this.on.scrolled(),
      local: (message, li) => this.on.local?.(message, li),
    });
    this.editor = new Editor({
      people: (id) => this.world?.mentionable(id) ?? [],
      nameOf: (id) => this.world?.userName(id) ?? "someone",
      edited: (event) => this.on.changed(event),
      sessionEnded: () => this.on.sessionEnded(),
    });
    this.picker = new ReactionPicker((id, emoji) => this.#react(id, emoji, true));
    this.top = slot(this.el, "timeline-top");
    this.people = slot(this.el, "room-people");
    this.deleteButton = find(this.el, '[data-action="delete-channel"]');
    onActions(this.el, {
      "delete-channel": () => this.#deleteChannel(),
      jump: () => this.timeline.toBottom(),
      people: () => this.on.people(),
      "load-again": () => {
        if (this.channel) this.on.load(this.channel.id);
      },
    });
  }

  /**
   * Shows a channel from scratch; undefined shows why there is none (no channels at all, or
   * an address naming one that does not exist).
   * @param {World} world
   * @param {Channel | undefined} channel
   */
  show(world, channel) {
    this.editor.stop(false);
    this.picker.close(false);
    this.world = world;
    this.channel = channel;
    showError(this.el, "channel", "");
    this.#showHead();
    this.timeline.show(world, channel ? channel.id : null);
    this.update();
  }

  /** The channel changed (its members), or someone in it was renamed. */
  refresh() {
    const { world, channel } = this;
    if (!world || !channel) return;
    this.channel = world.channels.get(channel.id) ?? channel;
    this.#showHead();
    this.update();
  }

  /** The title, and who is in a private channel or a direct conversation. */
  #showHead() {
    const { world, channel } = this;
    if (!world) return;
    const title = slot(this.el, "room-title");
    if (channel) title.replaceChildren(...channelMark(channel), world.label(channel));
    else title.textContent = world.channels.size ? "No such channel" : "Welcome";
    const members = channel?.members;
    this.people.hidden = !members;
    if (!members) return;
    const names = members.map((id) => (id === world.me.id ? "you" : world.userName(id)));
    // Oneself last: "Bob, Carol and you".
    names.sort((a, b) => Number(a === "you") - Number(b === "you"));
    const shown = names.length > NAMES_SHOWN + 1 ? names.slice(0, NAMES_SHOWN) : names;
    const rest = names.length - shown.length;
    const text = rest ? `${shown.join(", ")} and ${rest} others` : andList(shown);
    this.people.textContent = text.charAt(0).toUpperCase() + text.slice(1);
    this.people.setAttribute("aria-label", `Members (${members.length}): ${text}`);
  }

  /** The parts of the room that depend on whether it holds messages, or channels exist. */
  update() {
    const { world, channel } = this;
    if (!world) return;
    const count = channel ? world.timeline(channel.id).length : 0;
    const span = channel ? world.span(channel.id) : undefined;
    // Messages exist beyond those held, or (not loaded yet) may.
    const more = span ? !span.loaded || span.older : false;
    this.deleteButton.hidden =
      !channel || channel.kind === "direct" || ((count > 0 || more) && !world.isAdmin());
    slot(this.el, "room-empty").hidden = count > 0 || more;
    const emptyTitle = slot(this.el, "room-empty-title");
    const emptyText = slot(this.el, "room-empty-text");
    slot(this.el, "first-channel").hidden = world.channels.size > 0;
    if (channel) {
      emptyTitle.replaceChildren("This is the start of ", ...this.#called(channel), ".");
      emptyText.textContent = "No messages yet. Say hello!";
    } else if (world.channels.size === 0) {
      emptyTitle.textContent = "No channels yet.";
      emptyText.textContent = "Make the first one, then invite people to talk in it.";
    } else {
      emptyTitle.textContent = "This channel does not exist.";
      emptyText.textContent = "It may have been deleted. Pick another from the list.";
    }
    this.#showTop(count, span);
    this.#loadIfNear();
  }

  /**
   * What shows above the oldest message held: older ones loading (or why they did not),
   * or the channel's beginning. The reader's view does not move when it changes.
   * @param {number} count
   * @param {import("./world.js").Span | undefined} span
   */
  #showTop(count, span) {
    const { channel } = this;
    /** @type {(Node | string)[]} */
    let content = [];
    let kind = "";
    const failed = channel ? this.on.failed(channel.id) : null;
    if (!channel || !span || (span.loaded && !span.older && count === 0)) {
      kind = "";
    } else if (failed) {
      kind = "failed";
      const again = document.createElement("button");
      again.type = "button";
      again.className = "quiet small";
      again.dataset.action = "load-again";
      again.textContent = "Try again";
      const text = document.createElement("span");
      text.className = "error";
      text.textContent = failed;
      content = [text, " ", again];
    } else if (!span.loaded || span.older) {
      kind = "loading";
      content = [span.loaded ? "Loading older messages…" : "Loading messages…"];
    } else {
      kind = "start";
      content = ["This is the beginning of ", ...this.#called(channel), "."];
    }
    if (this.top.dataset.kind === kind && kind !== "failed") return;
    this.timeline.keepPlace(() => {
      this.top.dataset.kind = kind;
      this.top.replaceChildren(...content);
      this.top.hidden = kind === "";
    });
  }

  /**
   * The channel as running text names it: "#general", "plans", "your conversation with Bob".
   * @param {Channel} channel
   * @returns {(Node | string)[]}
   */
  #called(channel) {
    const world = /** @type {World} */ (this.world);
    if (channel.kind === "public") return [hashMark(), channel.name ?? ""];
    if (channel.kind === "private") return [channel.name ?? ""];
    const label = world.label(channel);
    return [label === "You" ? "your notes to yourself" : `your conversation with ${label}`];
  }

  /** Asks for older messages when the reader is near the top of those held. */
  #loadIfNear() {
    const { world, channel } = this;
    if (!world || !channel || this.on.failed(channel.id)) return;
    const span = world.span(channel.id);
    if (!span || (span.loaded && !span.older)) return;
    if (!span.loaded || this.timeline.isNearTop()) this.on.load(channel.id);
  }

  /**
   * A history page joined the channel shown: its messages go in place, the view stays.
   * @param {Message[]} messages
   */
  paged(messages) {
    this.timeline.insert(messages);
    this.update();
  }

  /** A fetch for the channel shown started, ended or failed. */
  loadState() {
    this.update();
  }

  /** @param {Message} message */
  edited(message) {
    this.timeline.edited(message);
  }

  /** @param {Message} message */
  reacted(message) {
    this.timeline.reacted(message);
  }

  /**
   * A message arrived in the shown channel, or one shown early was confirmed.
   * @param {Message} message
   * @param {boolean} confirmed
   * @param {string} [replaces] the id of the message shown while sending it
   */
  add(message, confirmed, replaces) {
    this.timeline.add(message, confirmed, replaces);
    this.update();
  }

  /** Whether the channel's newest message is on screen now. */
  seesNewest() {
    return this.channel !== undefined && this.timeline.seesNewest();
  }

  /**
   * Starts editing one's message in place.
   * @param {string} messageId
   * @param {HTMLElement | null} returnTo where the focus goes when editing ends
   * @returns {boolean} whether it could be edited (held, shown, one's own)
   */
  edit(messageId, returnTo) {
    const { world, channel } = this;
    const message = world && channel ? world.message(channel.id, messageId) : undefined;
    const li = this.timeline.item(messageId);
    if (!world || !message || !li || message.local || message.sender !== world.me.id) return false;
    this.picker.close(false);
    this.editor.start(li, message, returnTo);
    return true;
  }

  /**
   * Adds or takes back one's reaction to a message.
   * @param {string} messageId
   * @param {string} emoji
   * @param {boolean} add
   * @returns {Promise<string | null>} why it was refused, or null when done
   */
  async #react(messageId, emoji, add) {
    const { world, channel } = this;
    const message = world && channel ? world.message(channel.id, messageId) : undefined;
    if (!world || !message) return "This message no longer exists.";
    const mine = message.reactions.some((r) => r.emoji === emoji && r.users.includes(world.me.id));
    if (add === mine) return null; // so already
    const result = await sendReaction(message, emoji, world.me.id, add);
    if ("ended" in result) {
      this.on.sessionEnded();
      return null;
    }
    if ("problem" in result) return result.problem;
    this.on.changed(result.event);
    return null;
  }

  /** A reaction under a message was pressed. @param {string} messageId @param {string} emoji */
  async #toggleReaction(messageId, emoji) {
    const { world, channel } = this;
    const message = world && channel ? world.message(channel.id, messageId) : undefined;
    if (!world || !message) return;
    const mine = message.reactions.some((r) => r.emoji === emoji && r.users.includes(world.me.id));
    const problem = await this.#react(messageId, emoji, !mine);
    const error = this.timeline.item(messageId)?.querySelector(".msg-error");
    if (error) error.textContent = problem ?? "";
  }

  /** @param {string} messageId */
  remove(messageId) {
    this.timeline.remove(messageId);
    this.update();
  }

  toBottom() {
    this.timeline.toBottom();
  }

  /** Focuses the messages: the one holding their Tab stop, or the empty list's place. */
  focusMessages() {
    if (!this.timeline.focus.focus()) slot(this.el, "scroller").focus();
  }

  /** @param {{id: string, name: string}} user */
  renamed(user) {
    this.timeline.renamed(user);
  }

  /** @param {Message} message @param {HTMLElement} li */
  async #deleteMessage(message, li) {
    const { world, channel } = this;
    if (!world) return;
    const own = message.sender === world.me.id;
    const whose = own ? "your message" : `${world.userName(message.sender)}'s message`;
    const where = channel ? ` in ${world.title(channel)}` : "";
    const button = li.querySelector(".msg-delete");
    await this.on.confirm({
      title: own ? "Delete your message?" : `Delete ${whose}?`,
      text:
        `“${preview(message.body)}” will be deleted for everyone${where}, with its ` +
        "reactions. This cannot be undone.",
      go: "Delete message",
      danger: true,
      run: async () => {
        const reply = await del(`/api/messages/${encodeURIComponent(message.id)}`);
        if (reply.status === 202 || reply.status === 404) {
          this.on.messageDeleted(message);
          return null;
        }
        if (reply.status === 401) {
          this.on.sessionEnded();
          return null;
        }
        return reply.status === 403
          ? "You can only delete your own messages."
          : `Not deleted: ${reply.detail}`;
      },
      focusAfter: () =>
        button instanceof HTMLElement && button.isConnected
          ? button
          : slot(this.el, "scroller"),
    });
  }

  async #deleteChannel() {
    const { world, channel } = this;
    if (!world || !channel || !world.channels.has(channel.id)) return;
    showError(this.el, "channel", "");
    const count = world.timeline(channel.id).length;
    const span = world.span(channel.id);
    const more = span ? !span.loaded || span.older : false;
    if (count === 0 && !more) {
      const name = world.title(channel);
      await this.on.confirm({
        title: `Delete ${name}?`,
        text: `${name} is empty. It will be deleted for everyone. This cannot be undone.`,
        go: "Delete channel",
        danger: true,
        run: () => this.#sendDeleteChannel(channel.id),
        focusAfter: () =>
          this.world?.channels.has(channel.id) ? this.deleteButton : slot(this.el, "scroller"),
      });
      return;
    }
    // An admin deleting a channel that holds messages: everyone's messages go with it. Only
    // the newest are held here, so beyond those the count is a lower bound.
    const name = world.title(channel);
    const one = count === 1 && !more;
    const messages = more
      ? count
        ? `more than ${count} messages`
        : "messages"
      : one
        ? "one message"
        : `${count} messages`;
    await this.on.confirm({
      title: `Delete ${name} and its messages?`,
      text:
        `${name} holds ${messages}. Deleting the channel deletes ` +
        `${one ? "it" : "all of them"} too, for everyone. This cannot be undone.`,
      go: "Delete channel and messages",
      danger: true,
      run: () => this.#sendDeleteChannel(channel.id),
      focusAfter: () =>
        this.world?.channels.has(channel.id) ? this.deleteButton : slot(this.el, "scroller"),
    });
  }

  /**
   * @param {string} id
   * @returns {Promise<string | null>} why it was refused, or null once deleted
   */
  async #sendDeleteChannel(id) {
    const reply = await del(`/api/channels/${encodeURIComponent(id)}`);
    if (reply.status === 202 || reply.status === 404) {
      this.on.channelDeleted(id);
      return null;
    }
    if (reply.status === 401) {
      this.on.sessionEnded();
      return null;
    }
    return reply.status === 409
      ? "Not deleted: someone has just written here. Only empty channels can be deleted."
      : `Not deleted: ${reply.detail}`;
  }
}

/** The start of a message, to name it in a sentence. @param {string} body */
function preview(body) {
  const chars = Array.from(body.trim());
  return chars.length > PREVIEW_CHARS
    ? `${chars.slice(0, PREVIEW_CHARS - 1).join("")}…`
    : chars.join("");
}
