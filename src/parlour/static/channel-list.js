// The channel list in the sidebar, and the unread counts. Each channel is a plain link (a
// middle click or Ctrl+click opens it in a new tab, as a link should), the active one is
// marked aria-current, and each shows how many messages from others wait in it; the total
// also goes on the phone's "Channels" button (the list is out of sight there) and in the
// tab's title.

import { channelPath } from "./address.js";
import { find, hashMark, slot } from "./dom.js";

/**
 * @typedef {import("./world.js").World} World
 * @typedef {import("./world.js").Channel} Channel
 * @typedef {import("./reads.js").Reads} Reads
 */

export class ChannelList {
  /**
   * @param {HTMLElement} view the chat view: holds the list, its "No channels yet." and the
   *   "Channels" button's badge
   * @param {{pick: (channelId: string) => void}} on pick: a channel's link was clicked
   */
  constructor(view, on) {
    this.list = slot(view, "channels", HTMLUListElement);
    this.none = slot(view, "no-channels");
    this.elsewhere = slot(view, "elsewhere");
    /** @type {Map<string, HTMLLIElement>} in creation order */
    this.items = new Map();
    this.list.addEventListener("click", (event) => {
      const a = /** @type {HTMLElement} */ (event.target).closest("a[data-channel]");
      if (!(a instanceof HTMLElement) || !(event instanceof MouseEvent)) return;
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
      if (event.altKey) return; // a new tab, a download: the browser's own business
      event.preventDefault();
      on.pick(a.dataset.channel ?? "");
    });
  }

  /** Lists these channels, and only these. @param {Iterable<Channel>} channels */
  reset(channels) {
    this.list.replaceChildren();
    this.items.clear();
    for (const c of channels) this.add(c);
  }

  /** @param {Channel} channel */
  add(channel) {
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
    a.append(hashMark(), name, badge);
    li.append(a);
    this.list.append(li);
    this.items.set(channel.id, li);
    this.none.hidden = true;
  }

  /** @param {string} channelId */
  remove(channelId) {
    this.items.get(channelId)?.remove();
    this.items.delete(channelId);
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
      this.list.querySelector(".channel[aria-current]") ?? this.list.querySelector(".channel");
    /** @type {HTMLElement | null} */ (current)?.focus();
  }

  /**
   * Counts what waits unread in each channel: messages from others after the channel's
   * read mark. The channel being read (active, in a visible tab) counts none.
   * @param {World} world
   * @param {Reads} reads
   * @param {string | null} activeId
   * @param {boolean} visible
   */
  refreshUnread(world, reads, activeId, visible) {
    let total = 0;
    for (const [id, li] of this.items) {
      const reading = id === activeId && visible;
      const n = reading ? 0 : world.unreadSince(id, reads.mark(id));
      total += n;
      const badge = find(li, ".badge");
      badge.hidden = n === 0;
      const label = document.createElement("span");
      label.className = "visually-hidden";
      label.textContent = " unread";
      badge.replaceChildren(String(n), label);
      li.classList.toggle("unread", n > 0);
    }
    this.none.hidden = this.items.size > 0;
    this.elsewhere.hidden = total === 0;
    this.elsewhere.textContent = String(total);
    this.elsewhere.title = `${total} unread elsewhere`;
    const channel = activeId ? world.channels.get(activeId) : undefined;
    document.title = `${total ? `(${total}) ` : ""}${channel ? `#${channel.name} · ` : ""}parlour`;
  }
}
