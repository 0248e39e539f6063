// Fetching channels' history pages (GET /api/channels/{id}/messages): the page below what a
// channel holds as the reader scrolls up, or the newest page of a channel this tab has not
// loaded (one the user was added to after boot). At most one page per channel is on its way;
// the World joins it to what it holds (world.js says why that leaves no gap and nothing
// stale). A page for a channel that has meanwhile gone from view answers 404: the event that
// removed it is on its way, and nothing is said.

import { get } from "./api.js";
import { nextPaint } from "./dom.js";

// Messages per page: the server's default, a few screens.
const PAGE_SIZE = 50;

/**
 * @typedef {import("./world.js").World} World
 * @typedef {import("./world.js").Change} Change
 */

/**
 * @typedef {{
 *   world: () => World,
 *   joined: (change: Change) => void,
 *   state: (channelId: string) => void,
 *   sessionEnded: () => void,
 * }} HistoryHandlers
 *   joined: a page joined the world; state: a channel's fetch started, ended or failed
 */

export class History {
  /** @param {HistoryHandlers} on */
  constructor(on) {
    this.on = on;
    /** @type {Map<string, World>} channels with a page on its way, and for which world */
    this.busy = new Map();
    /** @type {Map<string, string>} why the last fetch of a channel failed */
    this.failures = new Map();
  }

  /** @param {string} channelId */
  loading(channelId) {
    return this.busy.get(channelId) === this.on.world();
  }

  /** @param {string} channelId @returns {string | null} */
  failed(channelId) {
    return this.failures.get(channelId) ?? null;
  }

  /**
   * Fetches the next page a channel needs (none if it holds everything, or one is on its
   * way already).
   * @param {string} channelId
   */
  async load(channelId) {
    const world = this.on.world();
    if (this.busy.get(channelId) === world) return;
    const fetch = world.beginFetch(channelId);
    if (!fetch) return;
    this.busy.set(channelId, world);
    this.failures.delete(channelId);
    this.on.state(channelId);
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (fetch.before !== null) query.set("before", String(fetch.before));
    const reply = await get(`/api/channels/${encodeURIComponent(channelId)}/messages?${query}`);
    // Every page waits for the next paint: on a first load, the page asked for at once
    // comes back while boot's messages are still being drawn, and they show first.
    await nextPaint();
    if (this.busy.get(channelId) === world) this.busy.delete(channelId);
    if (this.on.world() !== world) return; // booted again meanwhile: this world is gone
    if (reply.status === 200) {
      const change = world.endFetch(fetch, reply.data);
      if (change) this.on.joined(change);
    } else {
      world.dropFetch(fetch);
      if (reply.status === 401) {
        this.on.sessionEnded();
        return;
      }
      if (reply.status !== 404) {
        this.failures.set(
          channelId,
          reply.status === 0
            ? "Can't reach the server to load messages."
            : `Messages did not load: ${reply.detail}`,
        );
      }
    }
    this.on.state(channelId);
  }

  /** Forgets failures (after booting again, say). */
  reset() {
    this.busy.clear();
    this.failures.clear();
  }
}
