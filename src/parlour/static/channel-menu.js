// The channel's menu, in the room's header: what this person wants to hear of the channel
// (POST /api/channels/{id}/notify: docs/api/reads.md). "All new messages", "Mentions of me"
// (the default for channels) or "Nothing" (muted: no notifications, and its unread messages
// stay out of the totals, channel-list.js). The level is the same in every tab and device:
// a change made elsewhere arrives as a `notify updated` event.

import { post } from "./api.js";
import { showError, slot } from "./dom.js";
import { Menu } from "./menu.js";

/**
 * @typedef {import("./world.js").World} World
 * @typedef {import("./world.js").Channel} Channel
 * @typedef {import("./reads.js").Level} Level
 */

/** What the button says for each level, and what it says to a screen reader: the word
 * shown is part of what is said (WCAG 2.5.3), so that voice control finds the button by it. */
const WORDS = Object.freeze({
  all: { short: "All", long: "all new messages" },
  mentions: { short: "Mentions", long: "mentions of you" },
  none: { short: "Muted", long: "nothing (muted)" },
});

/**
 * @typedef {{
 *   world: () => World,
 *   changed: (event: any) => void,
 *   sessionEnded: () => void,
 * }} ChannelMenuHandlers
 *   changed: the server took a new level (the event it makes, to show it at once)
 */

export class ChannelMenu {
  /**
   * @param {HTMLElement} view the chat view (the menu is in the room's header)
   * @param {ChannelMenuHandlers} on
   */
  constructor(view, on) {
    this.on = on;
    this.wrap = slot(view, "level");
    this.button = slot(view, "level-button");
    this.word = slot(view, "level-word");
    this.list = slot(view, "level-menu");
    this.menu = new Menu(this.button, this.list);
    /** @type {Channel | undefined} */
    this.channel = undefined;
    this.list.addEventListener("click", (event) => {
      const item = /** @type {HTMLElement} */ (event.target).closest("[data-level]");
      if (item instanceof HTMLElement) this.#choose(/** @type {Level} */ (item.dataset.level));
    });
  }

  /**
   * Shows a channel's level (nothing, when no channel is shown).
   * @param {Channel | undefined} channel
   */
  show(channel) {
    if (this.channel?.id !== channel?.id) {
      this.menu.close(false);
      showError(this.list, "level", "");
    }
    this.channel = channel;
    this.wrap.hidden = !channel;
    if (!channel) return;
    const level = this.on.world().level(channel.id);
    const words = WORDS[level];
    this.word.textContent = words.short;
    this.button.dataset.level = level;
    const label = `Notifications: ${words.long}`;
    this.button.setAttribute("aria-label", label);
    this.button.title = label;
    for (const item of this.list.querySelectorAll("[data-level]")) {
      const on = /** @type {HTMLElement} */ (item).dataset.level === level;
      item.setAttribute("aria-checked", String(on));
    }
  }

  /** @param {Level} level */
  async #choose(level) {
    const channel = this.channel;
    if (!channel) return;
    showError(this.list, "level", "");
    if (this.on.world().level(channel.id) === level) {
      this.menu.close();
      return;
    }
    const reply = await post(`/api/channels/${encodeURIComponent(channel.id)}/notify`, {
      level,
    });
    if (reply.status === 202) {
      this.on.changed({
        type: "notify",
        event: "updated",
        channel: channel.id,
        level: reply.data?.notify ?? level,
      });
      if (this.channel?.id === channel.id) this.menu.close();
      return;
    }
    if (reply.status === 401) return this.on.sessionEnded();
    showError(
      this.list,
      "level",
      reply.status === 0 ? "Not changed: can't reach the server." : `Not changed: ${reply.detail}`,
    );
  }
}
