// The chat, once logged in: it owns the World (what this tab knows) and which channel is
// active, applies each change to the parts that show it, and routes between channels. The
// parts each do one job in their own module: the channel list and unread counts
// (channel-list.js), the active channel (room.js), fetching history pages (history.js), who
// is in a private channel or a conversation (channel-people.js), the channel's notification
// level (channel-menu.js), the compose box with a draft per channel (compose.js, drafts.js),
// the messages on their way to the server (outbox.js), the "New channel" form
// (new-channel.js), direct conversations (direct.js), the account actions and dialogs
// (account.js), the members view with its invitations (members.js), renaming (rename.js),
// the confirmation asked before a weighty change (confirm.js), the connection banner
// (banner.js), system notifications (notify.js) and the keyboard's ways between channels
// (switcher.js: Ctrl/⌘+K, Alt+↑/↓). This module is where they meet, and
// decides two things of its own:
//
// - When a channel is read: when its newest message has been on screen, in a visible page
//   (not merely opened: not while the page is hidden, nor while the reader is scrolled up
//   to older messages). Then it moves the server's read position to that message
//   (docs/api/reads.md), and every tab and device of this person hears of it.
// - When a message notifies: it is from someone else, matches the channel's level, arrived
//   live on the stream held by this tab (so each message notifies in one tab only), and no
//   tab of parlour is in sight.

import { Account } from "./account.js";
import { channelInAddress, goToChannel, lastChannel, rememberChannel } from "./address.js";
import { Banner } from "./banner.js";
import { post } from "./api.js";
import { ChannelList } from "./channel-list.js";
import { ChannelMenu } from "./channel-menu.js";
import { ChannelPeople } from "./channel-people.js";
import { Compose } from "./compose.js";
import { Confirm } from "./confirm.js";
import { Direct } from "./direct.js";
import { clone, onActions, paintAvatar, showError, slot } from "./dom.js";
import { History } from "./history.js";
import { Members } from "./members.js";
import { NewChannel } from "./new-channel.js";
import { notificationPermission, notify } from "./notify.js";
import { Outbox, markPending } from "./outbox.js";
import { Rename } from "./rename.js";
import { Room } from "./room.js";
import { Switcher, nextChannel, switcherItems } from "./switcher.js";
import { localId } from "./world.js";

/**
 * @typedef {import("./world.js").World} World
 * @typedef {import("./world.js").Change} Change
 * @typedef {import("./sync.js").Status} Status
 */

// A channel left for another keeps at most this many of its newest messages: older pages are
// fetched again if the reader goes back and scrolls up (memory stays bounded however much
// they read).
const KEEP_INACTIVE = 100;
// How long read positions are gathered before they are sent (a burst of messages read as
// they come makes one request).
const READ_SEND_MS = 150;

export class Chat {
  /**
   * @param {HTMLElement} root
   * @param {World} world
   * @param {{
   *   sessionEnded: () => void,
   *   deactivated: () => void,
   *   logOut: () => Promise<string | null>,
   *   leading: () => boolean,
   *   othersVisible: () => Promise<boolean>,
   * }} on sessionEnded: the server answered 401 (this session is over); deactivated: an
   *   admin deactivated the person logged in here; leading: this tab holds the event stream;
   *   othersVisible: another tab of parlour is in sight
   */
  constructor(root, world, on) {
    this.root = root;
    this.world = world;
    this.on = on;
    this.view = clone("chat-view");
    /** @type {string | null} */
    this.active = null;
    /** @type {number | undefined} */
    this.readTimer = undefined;
    /** @type {Map<string, number>} read positions marked here, to send to the server */
    this.toSend = new Map();
    const sessionEnded = () => this.on.sessionEnded();
    /** The server accepted a change to a user: show it now, before its event. */
    const userChanged = (/** @type {import("./world.js").User} */ user) =>
      this.applyEvent({ type: "user", event: "updated", ...user });

    const v = this.view;
    this.banner = new Banner(slot(v, "banner"));
    this.confirm = new Confirm(v);
    this.history = new History({
      world: () => this.world,
      joined: (change) => this.#apply(change),
      state: (id) => {
        if (id === this.active) this.room.loadState();
      },
      sessionEnded,
    });
    this.rename = new Rename(v, {
      me: () => this.world.me,
      renamed: userChanged,
      sessionEnded,
    });
    this.members = new Members(v, {
      world: () => this.world,
      confirm: (question) => this.confirm.ask(question),
      rename: (user, returnTo) => this.rename.open(user, returnTo),
      changed: userChanged,
      message: (user) => this.direct.start(user.id === this.world.me.id ? [] : [user.id]),
      sessionEnded,
    });
    /** The server accepted a change to a channel's members: show it now, before its event. */
    const channelChanged = (/** @type {any} */ channel) =>
      this.applyEvent({ type: "channel", event: "updated", ...channel });
    this.people = new ChannelPeople(v, {
      world: () => this.world,
      confirm: (question) => this.confirm.ask(question),
      changed: channelChanged,
      sessionEnded,
    });
    this.direct = new Direct(v, {
      world: () => this.world,
      opened: (channel, created) => {
        // A new conversation is empty; one that exists but is unknown here has a history.
        if (created) this.applyEvent({ type: "channel", event: "created", ...channel });
        else if (!this.world.channels.has(channel.id)) channelChanged(channel);
        this.#go(channel.id);
        this.compose.focus();
      },
      sessionEnded,
    });
    this.channels = new ChannelList(v, {
      pick: (id) => {
        this.#go(id);
        if (matchMedia("(pointer: fine)").matches) this.compose.focus();
      },
    });
    this.room = new Room(v, {
      messageDeleted: (m) => this.#apply(this.world.removeMessage(m.id, m.channel)),
      channelDeleted: (id) => this.applyEvent({ type: "channel", event: "deleted", id }),
      confirm: (question) => this.confirm.ask(question),
      sessionEnded,
      people: () => {
        if (this.active) this.people.open(this.active);
      },
      load: (id) => this.history.load(id),
      loading: (id) => this.history.loading(id),
      failed: (id) => this.history.failed(id),
      changed: (event) => this.applyEvent(event),
      scrolled: () => this.#lookForRead(),
      local: (message, li) => this.#markPending(message.client_id, li),
    });
    this.channelMenu = new ChannelMenu(v, {
      world: () => this.world,
      changed: (event) => this.applyEvent(event),
      sessionEnded,
    });
    this.outbox = new Outbox({
      show: (draft) => this.#apply(this.world.addLocal(draft)),
      sent: (message) => this.#apply(this.world.addOwn(message)),
      refused: (draft, reply) => {
        this.#apply(this.world.removeLocal(draft.channel, draft.client_id));
        this.compose.refused(draft, reply);
      },
      discarded: (draft) => this.#apply(this.world.removeLocal(draft.channel, draft.client_id)),
      changed: (draft) => this.#markPending(draft.client_id),
      sessionEnded,
    });
    this.compose = new Compose(v, {
      channel: () => this.active,
      exists: (id) => this.world.channels.has(id),
      people: (id) => this.world.mentionable(id),
      send: (draft) => {
        this.#apply(this.world.addLocal(draft));
        this.room.toBottom();
        this.outbox.add(draft);
      },
      editLast: () => {
        const last = this.active ? this.world.lastOwn(this.active) : undefined;
        return last ? this.room.edit(last.id, this.compose.textarea) : false;
      },
    });
    this.newChannel = new NewChannel(v, {
      opening: () => this.view.classList.add("list-open"),
      created: (channel) => {
        this.applyEvent({ type: "channel", event: "created", ...channel });
        this.#go(channel.id);
        this.compose.focus();
      },
      named: (name) => this.world.channelNamed(name),
      others: () =>
        Array.from(this.world.users.values()).filter(
          (u) => u.active && u.id !== this.world.me.id,
        ),
      nameOf: (id) => this.world.userName(id),
      sessionEnded,
    });
    this.account = new Account(v, {
      me: () => this.world.me,
      rename: () => this.rename.open(this.world.me),
      invited: () => this.members.invited(),
      invitations: () => this.members.open("invitations"),
      sessionEnded,
      logOut: () => this.on.logOut(),
    });
    this.switcher = new Switcher({
      items: () => switcherItems(this.world),
      pick: (item) => {
        if (item.kind === "person") {
          // Not opened (the server out of reach, the person gone): said under the box.
          this.direct.start([item.id]).then((problem) => {
            if (problem) showError(this.compose.form, "body", problem);
          });
          return;
        }
        this.#go(item.id);
        this.compose.focus();
      },
    });
    this.onKey = (/** @type {KeyboardEvent} */ event) => this.#key(event);
    document.addEventListener("keydown", this.onKey);
    onActions(v, {
      members: () => this.members.open(),
      "new-channel": () => this.newChannel.show(true),
      "first-channel": () => this.newChannel.show(true),
      "cancel-channel": () => this.newChannel.show(false),
      "new-direct": () => this.direct.open(),
      "show-channels": () => {
        v.classList.add("list-open");
        this.channels.focusCurrent();
      },
      "skip-messages": (event) => {
        event.preventDefault();
        this.room.focusMessages();
      },
      "skip-compose": (event) => {
        event.preventDefault();
        this.compose.focus();
      },
    });

    this.onVisible = () => this.#lookForRead();
    document.addEventListener("visibilitychange", this.onVisible);
    window.addEventListener("focus", this.onVisible);
    window.addEventListener("resize", this.onVisible);
  }

  mount() {
    this.root.replaceChildren(this.view);
    this.#start();
    // Just logged in (or set up): where one writes. A touch screen would open its keyboard
    // over the messages, so there the focus goes to the channel's title instead.
    if (matchMedia("(pointer: fine)").matches) this.compose.focus();
    if (document.activeElement === this.compose.textarea) return;
    const first = slot(this.view, "first-channel");
    (first.hidden ? slot(this.view, "room-title") : first).focus();
  }

  destroy() {
    document.removeEventListener("keydown", this.onKey);
    this.switcher.destroy();
    document.removeEventListener("visibilitychange", this.onVisible);
    window.removeEventListener("focus", this.onVisible);
    window.removeEventListener("resize", this.onVisible);
    window.clearTimeout(this.readTimer);
    this.readTimer = undefined;
    this.toSend.clear();
    document.title = "parlour"; // no counts for whoever comes next
    this.banner.close();
    this.confirm.close();
    this.outbox.stop();
    this.rename.close();
    this.members.close();
    this.people.close();
    this.direct.close();
    this.account.close();
  }

  /** After booting again: the same person, a fresh world. @param {World} world */
  replaceWorld(world) {
    // Read positions marked in the old world and not sent yet: the new one marks them again.
    window.clearTimeout(this.readTimer);
    this.readTimer = undefined;
    this.toSend.clear();
    this.world = world;
    this.history.reset();
    this.#start();
  }

  #start() {
    const { world } = this;
    this.#showMe();
    forgetLocalReads(world.me.id);
    this.compose.start(world.me.id);
    this.channels.reset(world);
    this.route(true);
    this.members.refresh();
    this.people.refresh();
    // Messages not sent yet (by the world before this one, or a boot before a reload).
    this.outbox.start(world.me.id);
  }

  /**
   * Marks a message on its way to the server in the timeline (outbox.js).
   * @param {string | null} clientId
   * @param {HTMLElement} [li] its item, if just drawn
   */
  #markPending(clientId, li) {
    if (clientId === null) return;
    const item = li ?? this.room.timeline.item(localId(clientId));
    if (!item) return;
    markPending(item, this.outbox.state(clientId) ?? "sending", {
      retry: () => this.outbox.retry(),
      discard: () => this.outbox.discard(clientId),
    });
  }

  /** The footer's "Logged in as": name, initial, and whether an admin. */
  #showMe() {
    const { me } = this.world;
    slot(this.view, "me-name").textContent = me.name;
    paintAvatar(slot(this.view, "me-avatar"), me);
    slot(this.view, "me-admin").hidden = me.role !== "admin";
  }

  /**
   * The keys that work anywhere in the chat: Ctrl/⌘+K opens the quick switcher, Alt+↑/↓ go
   * to the previous or next channel of the sidebar, Esc closes the phone's channel list.
   * (Esc closes dialogs, menus and an edit where they are: each handles its own.) Not while
   * another dialog is open: its keys are its own.
   * @param {KeyboardEvent} event
   */
  #key(event) {
    if (event.defaultPrevented || event.isComposing) return;
    const dialog = document.querySelector("dialog[open]");
    if (dialog && dialog !== this.switcher.dialog) return;
    const mod = event.ctrlKey || event.metaKey;
    if (mod && !event.altKey && !event.shiftKey && event.key.toLowerCase() === "k") {
      event.preventDefault();
      this.switcher.open();
    } else if (
      event.altKey &&
      !mod &&
      !event.shiftKey &&
      (event.key === "ArrowUp" || event.key === "ArrowDown") &&
      !dialog
    ) {
      const next = nextChannel(this.view, this.active, event.key === "ArrowUp" ? -1 : 1);
      event.preventDefault();
      if (next === null) return;
      this.#go(next);
      if (this.view.contains(document.activeElement) || document.activeElement === document.body) {
        this.compose.focus();
      }
    } else if (event.key === "Escape" && !dialog && this.active !== null) {
      // A form in the sidebar (a new channel) closes itself on Esc, and keeps the list.
      const target = event.target;
      if (target instanceof Element && target.closest("form:not(.compose)")) return;
      if (this.view.classList.contains("list-open")) {
        this.view.classList.remove("list-open");
        this.compose.focus();
      }
    }
  }

  /** @param {Status} status */
  setStatus(status) {
    this.banner.show(status);
    // The stream is back: so is the server, most likely; what waits goes now.
    if (status === "live") this.outbox.retry();
  }

  // --- routing ---

  /**
   * Shows the channel the URL names; at "/" picks the last one used, or the first.
   * @param {boolean} [rebuild] re-render the timeline even if the channel is unchanged
   */
  route(rebuild = false) {
    let id = channelInAddress();
    if (id === null) {
      id = this.#defaultChannel();
      if (id !== null) goToChannel(id, { replace: true });
    }
    const changed = id !== this.active;
    if (changed && this.active !== null) this.world.trim(this.active, KEEP_INACTIVE);
    this.active = id;
    if (changed || rebuild) this.#renderRoom();
    this.view.classList.toggle("list-open", id === null);
  }

  /** @param {string} id @param {{replace?: boolean}} [how] */
  #go(id, how) {
    goToChannel(id, how);
    this.route();
    this.view.classList.remove("list-open");
    this.#lookForRead();
  }

  /** Opens a channel (a notification was clicked). @param {string} id */
  open(id) {
    if (this.world.channels.has(id)) this.#go(id);
  }

  #defaultChannel() {
    const last = lastChannel(this.world.me.id);
    if (last && this.world.channels.has(last)) return last;
    const first = this.world.channels.keys().next();
    return first.done ? null : first.value;
  }

  #renderRoom() {
    const channel = this.active ? this.world.channels.get(this.active) : undefined;
    this.channels.markCurrent(this.active);
    if (channel) rememberChannel(this.world.me.id, channel.id);
    this.compose.showFor(channel, channel && this.world.title(channel));
    this.room.show(this.world, channel);
    this.channelMenu.show(channel);
    this.#refreshUnread();
    this.#lookForRead();
  }

  // --- reading ---

  #refreshUnread() {
    this.channels.refreshUnread(this.world, this.active);
  }

  /**
   * Looks whether the active channel has been read: its newest message is on screen, in a
   * visible page, and messages from others wait unread. If so, its counts drop at once, and
   * the read position is sent to the server soon (a burst of messages or of scroll events
   * makes one request); the server's `read updated` tells the other tabs and devices.
   */
  #lookForRead() {
    const { world } = this;
    const id = this.active;
    if (!id || !isVisible() || !world.channels.has(id) || !this.room.seesNewest()) return;
    const newest = world.newestSeq(id);
    if (newest <= world.readPosition(id) || world.unread(id).unread === 0) return;
    world.markingRead(id, newest);
    this.#refreshUnread();
    this.toSend.set(id, newest);
    if (this.readTimer !== undefined) return;
    this.readTimer = window.setTimeout(() => {
      this.readTimer = undefined;
      this.#sendReads(world);
    }, READ_SEND_MS);
  }

  /** Sends the read positions marked since the last time. @param {World} world */
  async #sendReads(world) {
    const marks = Array.from(this.toSend);
    this.toSend.clear();
    if (this.world !== world) return; // booted again meanwhile: the new boot knows
    for (const [id, seq] of marks) {
      const reply = await post(`/api/channels/${encodeURIComponent(id)}/read`, { seq });
      if (this.world !== world) return;
      if (reply.status === 202) {
        const confirmed = Number(reply.data?.seq);
        this.applyEvent({
          type: "read",
          event: "updated",
          channel: id,
          seq: Number.isSafeInteger(confirmed) ? confirmed : seq,
        });
        continue;
      }
      // Not taken (the channel went, the server is out of reach): the counts come back,
      // and the next look tries again.
      world.markFailed(id, seq);
      this.#refreshUnread();
      if (reply.status === 401) {
        this.on.sessionEnded();
        return;
      }
    }
  }

  /**
   * Raises a system notification for a message heard live, if it calls for one (see the
   * top of this file).
   * @param {import("./world.js").Message} message
   */
  async #notify(message) {
    const { world } = this;
    const me = world.me.id;
    if (message.sender === me || isVisible() || !this.on.leading()) return;
    const level = world.level(message.channel);
    if (level === "none" || (level === "mentions" && !message.mentions.includes(me))) return;
    if (notificationPermission() !== "granted") return;
    if (await this.on.othersVisible()) return;
    const channel = world.channels.get(message.channel);
    if (!channel || this.world !== world) return;
    const who = world.userName(message.sender);
    const others = (channel.members ?? []).filter((id) => id !== me);
    const title =
      channel.kind === "direct" && others.length <= 1
        ? who
        : `${who} in ${world.title(channel)}`;
    notify({ title, body: message.body, channel: channel.id, open: () => this.open(channel.id) });
  }

  // --- changes ---

  /**
   * @param {any} data one event from the stream (or made from the server's answer)
   * @param {number} [seq] its sequence, when it came from the stream
   */
  applyEvent(data, seq) {
    const change = this.world.apply(data, seq);
    this.#apply(change);
    if (seq !== undefined && change?.kind === "message-sent" && change.confirmed) {
      this.#notify(change.message);
    }
  }

  /** Shows a change to the world, if there was one. @param {Change | null} change */
  #apply(change) {
    if (!change) return;
    switch (change.kind) {
      case "message-sent":
        // Its event came (perhaps sent by another tab): no need to send it again.
        if (change.confirmed) this.outbox.settled(change.message.client_id);
        if (change.message.channel === this.active) {
          this.room.add(change.message, change.confirmed, change.replaces);
          this.#lookForRead();
        }
        this.#refreshUnread();
        break;
      case "message-deleted":
        if (change.channel === this.active) this.room.remove(change.id);
        this.#refreshUnread();
        break;
      case "message-edited":
        if (change.message.channel === this.active) this.room.edited(change.message);
        this.#refreshUnread(); // an edit may add or take away a mention
        break;
      case "message-reacted":
        if (change.message.channel === this.active) this.room.reacted(change.message);
        break;
      case "read":
        if (change.channel === this.active) {
          this.channelMenu.show(this.world.channels.get(change.channel));
        }
        this.#refreshUnread();
        break;
      case "page":
        // (A channel joined after boot counts as read up to the moment it was joined, as
        // the server's read state starts there too: World.#add.)
        if (change.channel === this.active) {
          this.room.paged(change.added);
          this.#lookForRead();
        }
        this.#refreshUnread();
        break;
      case "channel-created":
        this.channels.add(this.world, change.channel);
        // Added to a channel with a history: its newest page, for its unread count too.
        if (!this.world.span(change.channel.id)?.loaded) this.history.load(change.channel.id);
        if (this.active === change.channel.id || this.active === null) this.route(true);
        else this.room.update();
        this.#refreshUnread();
        break;
      case "channel-updated":
        if (this.active === change.channel.id) {
          this.room.refresh();
          this.channelMenu.show(change.channel);
        }
        this.people.refresh();
        break;
      case "channel-deleted": {
        this.channels.remove(change.channel.id);
        this.outbox.channelGone(change.channel.id);
        this.people.refresh();
        if (this.active === change.channel.id) {
          this.active = null;
          const next = this.#defaultChannel();
          if (next) this.#go(next, { replace: true });
          else {
            history.replaceState(null, "", "/");
            this.route(true);
          }
        }
        this.#refreshUnread();
        break;
      }
      case "user-created":
        this.members.added(change.user);
        this.people.refresh();
        break;
      case "user-updated":
        this.#userUpdated(change.user, change.before);
        break;
    }
  }

  /**
   * @param {import("./world.js").User} user as now
   * @param {import("./world.js").User} before as it was
   */
  #userUpdated(user, before) {
    const me = user.id === this.world.me.id;
    if (me && !user.active) {
      this.on.deactivated();
      return;
    }
    if (user.name !== before.name) {
      this.room.renamed(user);
      // Direct conversations are named by their members; the header lists them.
      this.channels.relabel(this.world);
      this.room.refresh();
      this.#refreshUnread();
    }
    this.people.refresh();
    if (!me) {
      this.members.changed(user);
      return;
    }
    this.#showMe();
    if (user.role !== before.role) {
      // What one may do changed: delete buttons on others' messages, on channels that hold
      // messages, and the members' administration come or go.
      this.room.show(this.world, this.active ? this.world.channels.get(this.active) : undefined);
      this.members.refresh();
    } else {
      this.members.changed(user);
    }
  }
}

function isVisible() {
  return document.visibilityState === "visible";
}

/**
 * Read marks were kept in this browser's storage before the server kept read state: they
 * mean nothing now, so they go (nothing is carried over).
 * @param {string} userId
 */
function forgetLocalReads(userId) {
  try {
    localStorage.removeItem(`parlour.read.${userId}`);
  } catch {
    // Storage disabled: nothing was kept either.
  }
}
