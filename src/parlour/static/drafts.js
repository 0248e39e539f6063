// What is half-written in each channel's compose box: one draft per channel, kept in this
// browser's storage per person, so that switching channels swaps the text (it does not
// follow the person into another channel) and a reload, a crash or a closed tab loses none.
//
// A draft outlives its channel: when the channel is deleted, or the person is removed from
// it, its draft is an orphan. Orphans are never put into another channel's box by
// themselves (that is how a message once landed in #general unasked): compose.js shows them,
// naming where they came from, and the person moves one into the box or discards it.

/** @typedef {{text: string, title: string, at: number}} Kept */

export class Drafts {
  /** @param {string} userId whose drafts (each person on a shared browser has their own) */
  constructor(userId) {
    this.key = `parlour.drafts.${userId}`;
  }

  /** The draft of a channel ("" if none). @param {string} channelId */
  get(channelId) {
    return this.#read()[channelId]?.text ?? "";
  }

  /**
   * Keeps a channel's draft; an empty (or only blank) text removes it.
   * @param {string} channelId
   * @param {string} text
   * @param {string} title how the channel is named in running text, to name it if it goes
   *   ("": as it was named before)
   */
  set(channelId, text, title) {
    const all = this.#read();
    if (text.trim() === "") {
      if (!(channelId in all)) return;
      delete all[channelId];
    } else {
      all[channelId] = { text, title: title || all[channelId]?.title || "", at: Date.now() };
    }
    this.#write(all);
  }

  /**
   * The drafts of channels that are gone (`exists` says which are still there), oldest first.
   * @param {(channelId: string) => boolean} exists
   * @returns {(Kept & {channel: string})[]}
   */
  orphans(exists) {
    return Object.entries(this.#read())
      .filter(([id]) => !exists(id))
      .map(([channel, kept]) => ({ channel, ...kept }))
      .sort((a, b) => a.at - b.at);
  }

  /** @returns {Record<string, Kept>} */
  #read() {
    try {
      const all = JSON.parse(localStorage.getItem(this.key) ?? "{}");
      if (!all || typeof all !== "object" || Array.isArray(all)) return {};
      /** @type {Record<string, Kept>} */
      const valid = {};
      for (const [id, kept] of Object.entries(all)) {
        if (kept && typeof kept.text === "string") {
          valid[id] = {
            text: kept.text,
            title: typeof kept.title === "string" ? kept.title : "",
            at: Number(kept.at) || 0,
          };
        }
      }
      return valid;
    } catch {
      return {};
    }
  }

  /** @param {Record<string, Kept>} all */
  #write(all) {
    try {
      if (Object.keys(all).length) localStorage.setItem(this.key, JSON.stringify(all));
      else localStorage.removeItem(this.key);
    } catch {
      // Storage full or disabled: the draft is not kept.
    }
  }
}
