// How far each channel has been read, per user, kept in localStorage so that unread counts
// survive a reload and agree across tabs. A mark is the send time (ms) of the newest
// message seen in that channel.

export class Reads {
  /**
   * @param {string} userId
   * @param {() => void} onChange called when another tab marks something read
   */
  constructor(userId, onChange) {
    this.key = `parlour.read.${userId}`;
    /** @type {Record<string, number> | null} null: this user never used this browser */
    this.marks = this.#load();
    this.listener = (/** @type {StorageEvent} */ e) => {
      if (e.key !== this.key) return;
      this.marks = this.#load();
      onChange();
    };
    window.addEventListener("storage", this.listener);
  }

  close() {
    window.removeEventListener("storage", this.listener);
  }

  /**
   * On a first visit, everything already said counts as read: a newcomer should not meet a
   * wall of badges. Channels made later start unread.
   * @param {Iterable<[string, number]>} newest channel id → newest message time
   */
  startIfNew(newest) {
    if (this.marks !== null) return;
    this.marks = Object.fromEntries(newest);
    this.#save();
  }

  /** @param {string} channelId */
  mark(channelId) {
    return this.marks?.[channelId] ?? 0;
  }

  /** @param {string} channelId @param {number} time */
  markRead(channelId, time) {
    if (this.marks === null) this.marks = {};
    if ((this.marks[channelId] ?? 0) >= time) return;
    this.marks[channelId] = time;
    this.#save();
  }

  /** @param {Set<string>} known keep marks only for channels that still exist */
  prune(known) {
    if (this.marks === null) return;
    const kept = Object.fromEntries(Object.entries(this.marks).filter(([id]) => known.has(id)));
    if (Object.keys(kept).length !== Object.keys(this.marks).length) {
      this.marks = kept;
      this.#save();
    }
  }

  /** @returns {Record<string, number> | null} */
  #load() {
    try {
      const raw = localStorage.getItem(this.key);
      const parsed = raw === null ? null : JSON.parse(raw);
      return parsed && typeof parsed === "object" ? parsed : null;
    } catch {
      return null;
    }
  }

  #save() {
    try {
      localStorage.setItem(this.key, JSON.stringify(this.marks));
    } catch {
      // Storage full or disabled: counts still work in this tab.
    }
  }
}
