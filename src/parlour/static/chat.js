// The chat, once logged in: it owns the World (what this tab knows) and which channel is
// active, applies each change to the parts that show it, and routes between channels. The
// parts each do one job in their own module: the channel list and unread counts
// (channel-list.js), the active channel (room.js), fetching history pages (history.js), who
// is in a private channel or a conversation (channel-people.js), the compose box
// (compose.js), the "New channel" form (new-channel.js), direct conversations (direct.js),
// the account actions and dialogs (account.js), the members view with its invitations
// (members.js), renaming (rename.js), the confirmation asked before a weighty change
// (confirm.js) and the connection banner (banner.js). This module is where they meet, and
// nothing more.

import { Account } from "./account.js";
import { channelInAddress, goToChannel, lastChannel, rememberChannel } from "./address.js";
import { Banner } from "./banner.js";
import { ChannelList } from "./channel-list.js";
import { ChannelPeople } from "./channel-people.js";
import { Compose } from "./compose.js";
import { Confirm } from "./confirm.js";
import { Direct } from "./direct.js";
import { clone, onActions, paintAvatar, slot } from "./dom.js";
import { History } from "./history.js";
import { Members } from "./members.js";
import { NewChannel } from "./new-channel.js";
import { Reads } from "./reads.js";
import { Rename } from "./rename.js";
import { Room } from "./room.js";

/**
 * @typedef {import("./world.js").World} World
 * @typedef {import("./world.js").Change} Change
 * @typedef {import("./sync.js").Status} Status
 */

// A channel left for another keeps at most this many of its newest messages: older pages are
// fetched again if the reader goes back and scrolls up (memory stays bounded however much
// they read).
const KEEP_INACTIVE = 100;

export class Chat {
  /**
   * @param {HTMLElement} root
   * @param {World} world
   * @param {{
   *   sessionEnded: () => void,
   *   deactivated: () => void,
   *   logOut: () => Promise<string | null>,
   * }} on sessionEnded: the server answered 401 (this session is over); deactivated: an
   *   admin deactivated the person logged in here
   */
  constructor(root, world, on) {
    this.root = root;
    this.world = world;
    this.on = on;
    this.view = clone("chat-view");
    /** @type {string | null} */
    this.active = null;
    this.reads = new Reads(world.me.id, () => this.#refreshUnread());
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
    });
    this.compose = new Compose(v, {
      channel: () => this.active,
      sent: (message) => {
        this.#apply(this.world.addOwn(message));
        this.room.toBottom();
      },
      sessionEnded,
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
    });

    this.onVisible = () => this.#markActiveRead();
    document.addEventListener("visibilitychange", this.onVisible);
    window.addEventListener("focus", this.onVisible);
  }

  mount() {
    this.root.replaceChildren(this.view);
    this.#start();
  }

  destroy() {
    document.removeEventListener("visibilitychange", this.onVisible);
    window.removeEventListener("focus", this.onVisible);
    this.banner.close();
    this.reads.close();
    this.confirm.close();
    this.rename.close();
    this.members.close();
    this.people.close();
    this.direct.close();
    this.account.close();
  }

  /** After booting again: the same person, a fresh world. @param {World} world */
  replaceWorld(world) {
    this.world = world;
    this.history.reset();
    this.#start();
  }

  #start() {
    const { world } = this;
    this.#showMe();
    this.reads.startIfNew(Array.from(world.channels.keys(), (id) => [id, world.newestTime(id)]));
    this.reads.prune(new Set(world.channels.keys()));
    this.channels.reset(world);
    this.route(true);
    this.members.refresh();
    this.people.refresh();
  }

  /** The footer's "Logged in as": name, initial, and whether an admin. */
  #showMe() {
    const { me } = this.world;
    slot(this.view, "me-name").textContent = me.name;
    paintAvatar(slot(this.view, "me-avatar"), me);
    slot(this.view, "me-admin").hidden = me.role !== "admin";
  }

  /** @param {Status} status */
  setStatus(status) {
    this.banner.show(status);
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
    this.#markActiveRead();
    this.#refreshUnread();
  }

  // --- reading ---

  #refreshUnread() {
    this.channels.refreshUnread(this.world, this.reads, this.active, isVisible());
  }

  #markActiveRead() {
    if (!this.active || !isVisible() || !this.world.channels.has(this.active)) return;
    this.reads.markRead(this.active, this.world.newestTime(this.active));
    this.#refreshUnread();
  }

  // --- changes ---

  /**
   * @param {any} data one event from the stream (or made from the server's answer)
   * @param {number} [seq] its sequence, when it came from the stream
   */
  applyEvent(data, seq) {
    this.#apply(this.world.apply(data, seq));
  }

  /** Shows a change to the world, if there was one. @param {Change | null} change */
  #apply(change) {
    if (!change) return;
    switch (change.kind) {
      case "message-sent":
        if (change.message.channel === this.active) {
          this.room.add(change.message, change.confirmed);
          this.#markActiveRead();
        }
        this.#refreshUnread();
        break;
      case "message-deleted":
        if (change.channel === this.active) this.room.remove(change.id);
        this.#refreshUnread();
        break;
      case "message-edited":
        if (change.message.channel === this.active) this.room.edited(change.message);
        break;
      case "message-reacted":
        break; // Reactions are not shown yet: the world keeps them.
      case "page":
        // Joined after boot: what was said before one could see the channel is not unread
        // (the server's read state starts there too).
        if (change.joined) {
          this.reads.markRead(change.channel, this.world.timeAt(change.channel, change.joined));
        }
        if (change.channel === this.active) this.room.paged(change.added);
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
        if (this.active === change.channel.id) this.room.refresh();
        this.people.refresh();
        break;
      case "channel-deleted": {
        this.channels.remove(change.channel.id);
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
