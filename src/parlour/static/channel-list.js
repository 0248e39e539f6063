// The channel list in the sidebar, and the unread counts. Public and private channels are
// listed under "Channels" (a private one with a padlock), direct conversations under
// "Direct messages", named by the people in them. Each channel is a plain link (a middle
// click or Ctrl+click opens it in a new tab, as a link should), the active one is marked
// aria-current, and each shows how many messages from others wait in it and, apart, how many
// of those mention this person ("@2"): the counts come from the server's read state
// (reads.js), so every tab and device shows the same. The total also goes on the phone's
// "Channels" button (the list is out of sight there) and in the tab's title. A channel set
// to notify of nothing is drawn faintly, and its messages stay out of those totals: that is
// what asking for silence means.

import { channelPath } from "./address.js";
import { channelMark, find, slot } from "./dom.js";

/**
 * @typedef {import("./world.js").World} World
 * @typedef {import("./world.js").Channel} Channel
 */

export class ChannelList {
  /**
   * @param {HTMLElement} view the chat view: holds the list, its "No channels yet." and the
   *   "Channels" button's badge
   * @param {{pick: (channelId: string) => void}} on pick: a channel's link was clicked
   */
  constructor(view, on) {
    this.list = slot(view, "channels", HTMLUListElement);
    this.directs = slot(view, "directs", HTMLUListElement);
    this.none = slot(view, "no-channels");
    this.noDirects = slot(view, "no-directs");
    this.elsewhere = slot(view, "elsewhere");
    /** @type {Map<string, HTMLLIElement>} in creation order */
    this.items = new Map();
    const sidebar = find(view, ".sidebar-scroll");
    sidebar.addEventListener("click", (event) => {
      const a = /** @type {HTMLElement} */ (event.target).closest("a[data-channel]");
      if (!(a instanceof HTMLElement) || !(event instanceof MouseEvent)) return;
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
      if (event.altKey) return; // a new tab, a download: the browser's own business
      event.preventDefault();
      on.pick(a.dataset.channel ?? "");
    });
  }

  /** Lists the world's channels, and only these. @param {World} world */
  reset(world) {
    this.list.replaceChildren();
    this.directs.replaceChildren();
    this.items.clear();
    for (const c of world.channels.values()) this.add(world, c);
    this.#showNone();
  }

  /** @param {World} world @param {Channel} channel */
  add(world, channel) {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.className = "channel";
    a.href = channelPath(channel.id);
    a.dataset.channel = channel.id;
    a.dataset.kind = channel.kind;
    const name = document.createElement("span");
    name.className = "channel-name";
    name.textContent = world.label(channel);
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.hidden = true;
    const mentions = document.createElement("span");
    mentions.className = "mention-badge";
    mentions.hidden = true;
    if (channel.kind === "direct") {
      const at = document.createElement("span");
      at.className = "hash";
      at.setAttribute("aria-hidden", "true");
      at.textContent = "@";
      a.append(at);
    }
    a.append(...channelMark(channel), name);
    if (channel.kind === "private") {
      const kind = document.createElement("span");
      kind.className = "visually-hidden";
      kind.textContent = " (private)";
      a.append(kind);
    }
    a.append(mentions, badge);
    li.append(a);
    (channel.kind === "direct" ? this.directs : this.list).append(li);
    this.items.set(channel.id, li);
    this.#showNone();
  }

  /** @param {string} channelId */
  remove(channelId) {
    this.items.get(channelId)?.remove();
    this.items.delete(channelId);
    this.#showNone();
  }

  /** Names direct conversations again (someone in one was renamed). @param {World} world */
  relabel(world) {
    for (const [id, li] of this.items) {
      const channel = world.channels.get(id);
      if (channel) find(li, ".channel-name").textContent = world.label(channel);
    }
  }

  #showNone() {
    this.none.hidden = this.list.childElementCount > 0;
    this.noDirects.hidden = this.directs.childElementCount > 0;
  }

  /** @param {string | null} activeId */
  markCurrent(activeId) {
    for (const [id, li] of this.items) {
      const a = /** @type {HTMLElement} */ (li.firstElementChild);
      if (id === activeId) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
  }

  /** Focuses the active channel's link (or the first one), when the list comes into view. */
  focusCurrent() {
    const current =
      this.list.querySelector(".channel[aria-current]") ??
      this.directs.querySelector(".channel[aria-current]") ??
      this.list.querySelector(".channel") ??
      this.directs.querySelector(".channel");
    /** @type {HTMLElement | null} */ (current)?.focus();
  }

  /**
   * Shows what waits unread in each channel, the total (without the channel shown, on the
   * phone's "Channels" button) and the total in the tab's title.
   * @param {World} world
   * @param {string | null} activeId
   */
  refreshUnread(world, activeId) {
    let total = 0;
    let elsewhere = 0;
    for (const [id, li] of this.items) {
      const { unread, mentions } = world.unread(id);
      const muted = world.level(id) === "none";
      if (!muted) {
        total += unread;
        if (id !== activeId) elsewhere += unread;
      }
      const badge = find(li, ".badge");
      badge.hidden = unread === 0;
      badge.replaceChildren(String(unread), hidden(" unread"));
      const mention = find(li, ".mention-badge");
      mention.hidden = mentions === 0;
      mention.replaceChildren(
        hidden(" "),
        `@${mentions}`,
        hidden(mentions === 1 ? " mention" : " mentions"),
      );
      mention.title = mentions === 1 ? "1 mention of you" : `${mentions} mentions of you`;
      li.classList.toggle("unread", unread > 0);
      li.classList.toggle("muted-channel", muted);
    }
    this.elsewhere.hidden = elsewhere === 0;
    this.elsewhere.textContent = String(elsewhere);
    this.elsewhere.title = `${elsewhere} unread elsewhere`;
    const channel = activeId ? world.channels.get(activeId) : undefined;
    document.title =
      `${total ? `(${total}) ` : ""}${channel ? `${world.title(channel)} · ` : ""}parlour`;
  }
}

/** Words for screen readers only, beside a number. @param {string} text */
function hidden(text) {
  const span = document.createElement("span");
  span.className = "visually-hidden";
  span.textContent = text;
  return span;
}
