// The chat: channel list with unread counts, the active channel (named by the URL), the
// compose box, and the account actions. It renders a World and applies events to it.

import { del, post } from "./api.js";
import {
  clearErrors,
  clone,
  field,
  find,
  focusFirstError,
  onActions,
  onSubmit,
  paintAvatar,
  showError,
  slot,
} from "./dom.js";
import { Reads } from "./reads.js";
import { Timeline } from "./timeline.js";

const BODY_MAX = 8192;
const PASSWORD_MIN = 8;
// How long "Connecting…" may take before the banner says so (a normal start is quicker).
const CONNECTING_GRACE_MS = 2500;
// How long a "Delete" button waits for its confirming second press.
const CONFIRM_MS = 4000;

/**
 * @typedef {import("./world.js").World} World
 * @typedef {import("./world.js").Channel} Channel
 * @typedef {import("./world.js").Message} Message
 * @typedef {import("./sync.js").Status} Status
 */

export class Chat {
  /**
   * @param {HTMLElement} root
   * @param {World} world
   * @param {{loggedOut: (note?: string) => void, logOut: () => Promise<string | null>}} on
   */
  constructor(root, world, on) {
    this.root = root;
    this.world = world;
    this.on = on;
    this.view = clone("chat-view");
    /** @type {string | null} */
    this.active = null;
    /** @type {Map<string, HTMLLIElement>} */
    this.channelItems = new Map();
    this.reads = new Reads(world.me.id, () => this.#refreshUnread());
    /** @type {number | undefined} */
    this.connectingTimer = undefined;

    const v = this.view;
    this.channelList = /** @type {HTMLUListElement} */ (slot(v, "channels"));
    const onDelete = (/** @type {Message} */ m, /** @type {HTMLElement} */ li) =>
      this.#deleteMessage(m, li);
    const jump = find(v, ".jump");
    this.timeline = new Timeline(slot(v, "timeline"), slot(v, "scroller"), jump, onDelete);
    this.compose = /** @type {HTMLFormElement} */ (slot(v, "compose"));
    this.textarea = /** @type {HTMLTextAreaElement} */ (this.compose.elements.namedItem("body"));
    this.newChannelForm = /** @type {HTMLFormElement} */ (find(v, ".new-channel"));

    this.#wire();
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
    window.clearTimeout(this.connectingTimer);
    this.reads.close();
    for (const d of this.view.querySelectorAll("dialog")) d.close();
  }

  /** After booting again: the same person, a fresh world. @param {World} world */
  replaceWorld(world) {
    this.world = world;
    this.#start();
  }

  #start() {
    const { world } = this;
    slot(this.view, "me-name").textContent = world.me.name;
    paintAvatar(slot(this.view, "me-avatar"), world.me);
    this.reads.startIfNew(Array.from(world.channels.keys(), (id) => [id, world.newestTime(id)]));
    this.reads.prune(new Set(world.channels.keys()));
    this.channelList.replaceChildren();
    this.channelItems.clear();
    for (const c of world.channels.values()) this.#addChannelItem(c);
    this.route(true);
  }

  // --- routing ---

  /**
   * Shows the channel the URL names; at "/" picks the last one used, or the first.
   * @param {boolean} [rebuild] re-render the timeline even if the channel is unchanged
   */
  route(rebuild = false) {
    const match = location.pathname.match(/^\/channels\/([^/]+)\/?$/);
    let id = match ? decodeURIComponent(match[1]) : null;
    if (id === null) {
      id = this.#defaultChannel();
      if (id !== null) history.replaceState(null, "", channelPath(id));
    }
    const changed = id !== this.active;
    this.active = id;
    if (changed || rebuild) this.#renderRoom();
    this.view.classList.toggle("list-open", id === null);
  }

  /** @param {string} id */
  #go(id, { replace = false } = {}) {
    if (replace) history.replaceState(null, "", channelPath(id));
    else if (location.pathname !== channelPath(id)) history.pushState(null, "", channelPath(id));
    this.route();
    this.view.classList.remove("list-open");
  }

  #defaultChannel() {
    const last = recall(this.#lastKey());
    if (last && this.world.channels.has(last)) return last;
    const first = this.world.channels.keys().next();
    return first.done ? null : first.value;
  }

  #lastKey() {
    return `parlour.last-channel.${this.world.me.id}`;
  }

  // --- the room ---

  #renderRoom() {
    const channel = this.active ? this.world.channels.get(this.active) : undefined;
    for (const [id, li] of this.channelItems) {
      const a = /** @type {HTMLElement} */ (li.firstElementChild);
      if (id === this.active) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    showError(this.view, "channel", "");
    showError(this.compose, "body", "");
    const title = slot(this.view, "room-title");
    if (channel) {
      title.replaceChildren(hash(), channel.name);
      remember(this.#lastKey(), channel.id);
      slot(this.view, "compose-label").textContent = `Message #${channel.name}`;
      this.textarea.placeholder = `Message #${channel.name}`;
    } else {
      title.textContent = this.world.channels.size ? "No such channel" : "Welcome";
    }
    this.compose.hidden = !channel;
    this.timeline.show(this.world, channel ? channel.id : null);
    this.#updateRoomState();
    this.#markActiveRead();
    this.#refreshUnread();
  }

  /** The parts of the room that depend on whether it holds messages. */
  #updateRoomState() {
    const channel = this.active ? this.world.channels.get(this.active) : undefined;
    const count = channel ? this.world.timeline(channel.id).length : 0;
    const deleteButton = find(this.view, '[data-action="delete-channel"]');
    deleteButton.hidden = !channel || count > 0;
    const empty = slot(this.view, "room-empty");
    empty.hidden = count > 0;
    const emptyTitle = slot(this.view, "room-empty-title");
    const emptyText = slot(this.view, "room-empty-text");
    slot(this.view, "first-channel").hidden = this.world.channels.size > 0;
    if (channel) {
      emptyTitle.replaceChildren("This is the start of ", hash(), channel.name, ".");
      emptyText.textContent = "No messages yet. Say hello!";
    } else if (this.world.channels.size === 0) {
      emptyTitle.textContent = "No channels yet.";
      emptyText.textContent = "Make the first one, then invite people to talk in it.";
    } else {
      emptyTitle.textContent = "This channel does not exist.";
      emptyText.textContent = "It may have been deleted. Pick another from the list.";
    }
  }

  // --- channel list and unread counts ---

  /** @param {Channel} channel */
  #addChannelItem(channel) {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.className = "channel";
    a.href = channelPath(channel.id);
    a.dataset.channel = channel.id;
    const name = document.createElement("span");
    name.className = "channel-name";
    name.textContent = channel.name;
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.hidden = true;
    a.append(hash(), name, badge);
    li.append(a);
    this.channelList.append(li);
    this.channelItems.set(channel.id, li);
    slot(this.view, "no-channels").hidden = true;
  }

  #refreshUnread() {
    let total = 0;
    for (const [id, li] of this.channelItems) {
      const reading = id === this.active && isVisible();
      const n = reading ? 0 : this.world.unreadSince(id, this.reads.mark(id));
      total += n;
      const badge = find(li, ".badge");
      badge.hidden = n === 0;
      const label = document.createElement("span");
      label.className = "visually-hidden";
      label.textContent = " unread";
      badge.replaceChildren(String(n), label);
      li.classList.toggle("unread", n > 0);
    }
    slot(this.view, "no-channels").hidden = this.channelItems.size > 0;
    // On a phone the list is out of sight: the way back to it says what waits there.
    const elsewhere = slot(this.view, "elsewhere");
    elsewhere.hidden = total === 0;
    elsewhere.textContent = String(total);
    elsewhere.title = `${total} unread elsewhere`;
    const channel = this.active ? this.world.channels.get(this.active) : undefined;
    document.title = `${total ? `(${total}) ` : ""}${channel ? `#${channel.name} · ` : ""}parlour`;
  }

  #markActiveRead() {
    if (!this.active || !isVisible() || !this.world.channels.has(this.active)) return;
    this.reads.markRead(this.active, this.world.newestTime(this.active));
    this.#refreshUnread();
  }

  // --- events ---

  /** @param {any} data one event from the stream */
  applyEvent(data) {
    const change = this.world.apply(data);
    if (change) this.#show(change);
  }

  /** @param {import("./world.js").Change} change */
  #show(change) {
    switch (change.kind) {
      case "message-sent":
        if (change.message.channel === this.active) {
          this.timeline.add(change.message, change.confirmed);
          this.#updateRoomState();
          this.#markActiveRead();
        }
        this.#refreshUnread();
        break;
      case "message-deleted":
        if (change.channel === this.active) {
          this.timeline.remove(change.id);
          this.#updateRoomState();
        }
        this.#refreshUnread();
        break;
      case "channel-created":
        this.#addChannelItem(change.channel);
        if (this.active === change.channel.id || this.active === null) this.route(true);
        else this.#updateRoomState();
        this.#refreshUnread();
        break;
      case "channel-deleted": {
        this.channelItems.get(change.channel.id)?.remove();
        this.channelItems.delete(change.channel.id);
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
        break;
    }
  }

  /** @param {Status} status */
  setStatus(status) {
    const banner = slot(this.view, "banner");
    window.clearTimeout(this.connectingTimer);
    if (status === "live") {
      banner.hidden = true;
      banner.textContent = "";
    } else if (status === "reconnecting") {
      banner.textContent = "Reconnecting… new messages will appear once the connection is back.";
      banner.hidden = false;
    } else {
      this.connectingTimer = window.setTimeout(() => {
        banner.textContent = "Connecting…";
        banner.hidden = false;
      }, CONNECTING_GRACE_MS);
    }
  }

  // --- user actions ---

  #wire() {
    const v = this.view;
    this.channelList.addEventListener("click", (event) => {
      const a = /** @type {HTMLElement} */ (event.target).closest("a[data-channel]");
      if (!a || !(event instanceof MouseEvent)) return;
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
      if (event.altKey) return; // a new tab, a download: the browser's own business
      event.preventDefault();
      this.#go(/** @type {HTMLElement} */ (a).dataset.channel ?? "");
      if (matchMedia("(pointer: fine)").matches && !this.compose.hidden) this.textarea.focus();
    });

    onActions(v, {
      "new-channel": () => this.#toggleNewChannel(true),
      "first-channel": () => this.#toggleNewChannel(true),
      "cancel-channel": () => this.#toggleNewChannel(false),
      "delete-channel": () => this.#deleteChannel(),
      "show-channels": () => {
        v.classList.add("list-open");
        const current = v.querySelector(".channel[aria-current]") ?? v.querySelector(".channel");
        /** @type {HTMLElement | null} */ (current)?.focus();
      },
      jump: () => this.timeline.toBottom(),
      invite: () => this.#invite(),
      "another-invite": () => this.#makeInvite(),
      "copy-invite": () => this.#copyInvite(),
      password: () => this.#openPassword(),
      "close-password": () => slot(v, "password-dialog").close(),
      logout: () => this.#logOut(),
    });

    this.newChannelForm.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.#toggleNewChannel(false);
    });
    onSubmit(this.newChannelForm, () => this.#createChannel());

    this.textarea.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.shiftKey) return;
      // An input method editor uses Enter to pick a word: not a send (229: Safari's way).
      if (event.isComposing || event.keyCode === 229) return;
      if (event.ctrlKey || event.altKey || event.metaKey) return;
      event.preventDefault();
      this.compose.requestSubmit();
    });
    this.textarea.addEventListener("input", () => this.#fitTextarea());
    onSubmit(this.compose, () => this.#send());

    const passwordForm = find(slot(v, "password-dialog"), "form");
    onSubmit(passwordForm, () => this.#changePassword(passwordForm));
  }

  #fitTextarea() {
    const t = this.textarea;
    t.style.height = "auto";
    t.style.height = `${t.scrollHeight + 2}px`;
  }

  async #send() {
    const channelId = this.active;
    const body = this.textarea.value;
    showError(this.compose, "body", "");
    if (!channelId || body.trim() === "") return;
    if (Array.from(body).length > BODY_MAX) {
      const length = Array.from(body).length;
      showError(
        this.compose,
        "body",
        `A message can be at most ${BODY_MAX} characters; this one has ${length}.`,
      );
      return;
    }
    const reply = await post(`/api/channels/${encodeURIComponent(channelId)}`, { body });
    if (reply.status === 202) {
      if (this.textarea.value === body) this.textarea.value = "";
      this.#fitTextarea();
      const change = this.world.addOwn(reply.data);
      if (change) this.#show(change);
      this.timeline.toBottom();
      return;
    }
    if (reply.status === 401) return this.on.loggedOut("Your session has ended. Log in again.");
    showError(
      this.compose,
      "body",
      reply.status === 404
        ? "This channel no longer exists; your message was not sent."
        : reply.status === 0
          ? "Not sent: can't reach the server. Your message is still here; try again."
          : `Not sent: ${reply.detail}`,
    );
  }

  /** @param {Message} message @param {HTMLElement} li */
  async #deleteMessage(message, li) {
    const button = find(li, ".msg-delete");
    const error = find(li, ".msg-error");
    if (button.dataset.confirming !== "yes") {
      const label = button.getAttribute("aria-label") ?? "";
      button.dataset.confirming = "yes";
      button.textContent = "Confirm delete";
      button.setAttribute("aria-label", label.replace(/^Delete/, "Confirm: delete"));
      button.classList.add("danger");
      window.setTimeout(() => {
        button.dataset.confirming = "";
        button.textContent = "Delete";
        button.setAttribute("aria-label", label);
        button.classList.remove("danger");
      }, CONFIRM_MS);
      return;
    }
    error.textContent = "";
    const reply = await del(`/api/messages/${encodeURIComponent(message.id)}`);
    if (reply.status === 202 || reply.status === 404) {
      const change = this.world.removeMessage(message.id, message.channel);
      if (change) this.#show(change);
      return;
    }
    if (reply.status === 401) return this.on.loggedOut("Your session has ended. Log in again.");
    error.textContent =
      reply.status === 403
        ? "You can only delete your own messages."
        : `Not deleted: ${reply.detail}`;
  }

  /** @param {boolean} open */
  #toggleNewChannel(open) {
    const form = this.newChannelForm;
    const toggle = find(this.view, '[data-action="new-channel"]');
    form.hidden = !open;
    toggle.hidden = open;
    toggle.setAttribute("aria-expanded", String(open));
    clearErrors(form);
    if (open) {
      this.view.classList.add("list-open");
      /** @type {HTMLInputElement} */ (form.elements.namedItem("name")).focus();
    } else {
      form.reset();
      toggle.focus();
    }
  }

  async #createChannel() {
    const form = this.newChannelForm;
    clearErrors(form);
    const name = field(form, "name").trim();
    if (!name) {
      showError(form, "name", "Enter a name for the channel.");
      focusFirstError(form);
      return;
    }
    const reply = await post("/api/channels", { name });
    if (reply.status === 202) {
      const channel = reply.data;
      this.applyEvent({ type: "channel", event: "created", ...channel });
      form.reset();
      this.#toggleNewChannel(false);
      this.#go(channel.id);
      if (!this.compose.hidden) this.textarea.focus();
      return;
    }
    if (reply.status === 401) return this.on.loggedOut("Your session has ended. Log in again.");
    if (reply.status === 409) {
      const existing = this.world.channelNamed(name);
      showError(
        form,
        "name",
        existing
          ? `Name taken: there is already a channel called “${existing.name}”.`
          : "Name taken: pick another name.",
      );
    } else {
      showError(form, "name", reply.detail);
    }
    focusFirstError(form);
  }

  async #deleteChannel() {
    const id = this.active;
    const channel = id ? this.world.channels.get(id) : undefined;
    if (!id || !channel) return;
    showError(this.view, "channel", "");
    const reply = await del(`/api/channels/${encodeURIComponent(id)}`);
    if (reply.status === 202 || reply.status === 404) {
      this.applyEvent({ type: "channel", event: "deleted", id });
      return;
    }
    if (reply.status === 401) return this.on.loggedOut("Your session has ended. Log in again.");
    showError(
      this.view,
      "channel",
      reply.status === 409
        ? "Not deleted: someone has just written here. Only empty channels can be deleted."
        : `Not deleted: ${reply.detail}`,
    );
  }

  #invite() {
    const dialog = /** @type {HTMLDialogElement} */ (slot(this.view, "invite-dialog"));
    dialog.showModal();
    this.#makeInvite();
  }

  async #makeInvite() {
    const dialog = slot(this.view, "invite-dialog");
    const status = slot(dialog, "invite-status");
    const ready = slot(dialog, "invite-ready");
    const again = find(dialog, '[data-action="another-invite"]');
    const copy = find(dialog, '[data-action="copy-invite"]');
    showError(dialog, "invite", "");
    slot(dialog, "copy-status").textContent = "";
    status.hidden = false;
    status.textContent = "Making a link…";
    ready.hidden = true;
    copy.hidden = true;
    const reply = await post("/api/invite");
    status.hidden = true;
    if (reply.status === 200) {
      const link = slot(dialog, "invite-link");
      link.value = new URL(`/invite/${encodeURIComponent(reply.data.id)}`, location.origin).href;
      ready.hidden = false;
      again.hidden = false;
      copy.hidden = false;
      link.focus();
      link.select();
      link.scrollLeft = 0;
    } else if (reply.status === 401) {
      this.on.loggedOut("Your session has ended. Log in again.");
    } else {
      showError(dialog, "invite", `No link made: ${reply.detail}`);
    }
  }

  async #copyInvite() {
    const dialog = slot(this.view, "invite-dialog");
    const link = /** @type {HTMLInputElement} */ (slot(dialog, "invite-link"));
    const said = slot(dialog, "copy-status");
    try {
      await navigator.clipboard.writeText(link.value);
      said.textContent = "Copied. Paste it into a message to the person you invite.";
    } catch {
      link.focus();
      link.select();
      said.textContent =
        "Copying is not allowed here: the link is selected, press Ctrl+C (or ⌘C).";
    }
  }

  #openPassword() {
    const dialog = /** @type {HTMLDialogElement} */ (slot(this.view, "password-dialog"));
    const form = find(dialog, "form");
    form.reset();
    clearErrors(form);
    slot(dialog, "pw-user").value = this.world.me.name;
    slot(dialog, "password-done").textContent = "";
    find(dialog, '[data-action="close-password"]').textContent = "Cancel";
    dialog.showModal();
    /** @type {HTMLInputElement} */ (form.elements.namedItem("current")).focus();
  }

  /** @param {HTMLFormElement} form */
  async #changePassword(form) {
    clearErrors(form);
    const done = slot(form, "password-done");
    done.textContent = "";
    const current = field(form, "current");
    const to = field(form, "to");
    if (!current) showError(form, "current", "Enter your current password.");
    if (Array.from(to).length < PASSWORD_MIN) {
      showError(form, "to", `Use at least ${PASSWORD_MIN} characters.`);
    } else if (field(form, "again") !== to) {
      showError(form, "again", "The two new passwords are different.");
    }
    if (form.querySelector("[aria-invalid]")) {
      focusFirstError(form);
      return;
    }
    const reply = await post("/api/password", { password: current, to });
    if (reply.status === 200) {
      form.reset();
      done.textContent = "Password changed. Your other sessions have been logged out.";
      const close = find(form, '[data-action="close-password"]');
      close.textContent = "Close";
      close.focus();
      return;
    }
    if (reply.status === 401) return this.on.loggedOut("Your session has ended. Log in again.");
    if (reply.status === 403) showError(form, "current", "That is not your current password.");
    else if (reply.status === 400 && /password/i.test(reply.detail))
      showError(form, "to", reply.detail);
    else showError(form, "form", reply.detail);
    focusFirstError(form);
  }

  async #logOut() {
    showError(this.view, "logout", "");
    const problem = await this.on.logOut();
    if (problem) showError(this.view, "logout", problem);
  }
}

/** @param {string} id */
function channelPath(id) {
  return `/channels/${encodeURIComponent(id)}`;
}

function hash() {
  const mark = document.createElement("span");
  mark.className = "hash";
  mark.setAttribute("aria-hidden", "true");
  mark.textContent = "#";
  return mark;
}

/** localStorage, where the browser allows it (some private modes throw). */
function recall(/** @type {string} */ key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function remember(/** @type {string} */ key, /** @type {string} */ value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Not remembered: "/" opens the first channel instead.
  }
}

function isVisible() {
  return document.visibilityState === "visible";
}
