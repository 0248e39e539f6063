// Read state, kept by the server (docs/api/reads.md) so that every tab and device of a person
// agrees: per channel, the read position (a sequence: messages from others above it are
// unread), the notification level, and the counts. No DOM and no requests here: the World
// holds one ReadState per channel and asks these functions.
//
// Boot gives each channel's unread and mention counts, but the client holds only the newest
// messages, and the `read updated` event gives only the new position. So a count is split in
// two: the messages held from `floor` up, counted here whenever asked (a live message, a
// deletion, an edit that adds a mention: each counts at once, in every tab), plus `extra`,
// the server's count of unread messages below `floor` that this tab does not hold. A read
// position at or above floor - 1 leaves none of those (extra becomes 0); one below it (set
// through the API by hand, not by a client marking what it showed) keeps extra as it was: an
// over-count, never an under-count, until the next boot.

/**
 * @typedef {"all" | "mentions" | "none"} Level
 * @typedef {{
 *   seq: number,
 *   notify: Level,
 *   extra: number,
 *   extraMentions: number,
 *   floor: number,
 *   marking: number,
 * }} ReadState
 *   seq: the read position the server confirmed; notify: the level; extra, extraMentions:
 *   unread messages (and mentions among them) below floor, not held here; floor: held
 *   messages from this sequence up are counted one by one; marking: a position this tab
 *   has asked for and counts already (0 when none is on its way)
 * @typedef {{unread: number, mentions: number}} Counts
 */

/** @type {readonly Level[]} */
export const LEVELS = Object.freeze(["all", "mentions", "none"]);

/**
 * The level a channel has until its member chooses one: everything in a conversation,
 * mentions in a channel.
 * @param {string} kind
 * @returns {Level}
 */
export function defaultLevel(kind) {
  return kind === "direct" ? "all" : "mentions";
}

/**
 * A level from the server, or the default for the channel's kind.
 * @param {unknown} value
 * @param {string} kind
 * @returns {Level}
 */
export function levelOf(value, kind) {
  return LEVELS.find((level) => level === value) ?? defaultLevel(kind);
}

/**
 * A channel's read state at boot. Without `reads` (a server before revision 2's read state),
 * everything already said counts as read.
 * @param {any} data boot's reads[C], or undefined
 * @param {string} kind the channel's kind
 * @param {number} resumePoint the boot's resume point
 * @param {number} floor the sequence of the oldest message held (resumePoint + 1: none)
 * @param {Counts} held what the held messages count above the read position
 * @returns {ReadState}
 */
export function bootState(data, kind, resumePoint, floor, held) {
  if (!data || typeof data !== "object") {
    return fresh(resumePoint, kind);
  }
  const seq = Number(data.seq) || 0;
  return {
    seq,
    notify: levelOf(data.notify, kind),
    extra: Math.max(0, (Number(data.unread) || 0) - held.unread),
    extraMentions: Math.max(0, (Number(data.mentions) || 0) - held.mentions),
    floor,
    marking: 0,
  };
}

/**
 * The read state of a channel that came into view after boot: read up to the moment it did
 * (as the server starts it), and every message held counted.
 * @param {number} seq
 * @param {string} kind
 * @returns {ReadState}
 */
export function fresh(seq, kind) {
  return { seq, notify: defaultLevel(kind), extra: 0, extraMentions: 0, floor: 0, marking: 0 };
}

/** The position counts start from: the confirmed one, or one asked for meanwhile. */
export function position(/** @type {ReadState} */ state) {
  return Math.max(state.seq, state.marking);
}

/**
 * The server moved the read position (a `read updated` event, or the answer to our own
 * POST): it never moves back.
 * @param {ReadState} state
 * @param {number} seq
 */
export function moveTo(state, seq) {
  state.seq = Math.max(state.seq, seq);
  if (state.marking <= state.seq) state.marking = 0;
  if (state.seq >= state.floor - 1) {
    state.extra = 0;
    state.extraMentions = 0;
  }
}

/**
 * What waits unread in a channel.
 * @param {ReadState} state
 * @param {import("./world.js").Message[]} list the messages held, in sequence order
 * @param {string} me this user's id
 * @returns {Counts}
 */
export function counts(state, list, me) {
  const at = position(state);
  const held = countHeld(list, Math.max(at, state.floor - 1), Infinity, me);
  if (at >= state.floor - 1) return held;
  return {
    unread: held.unread + state.extra,
    mentions: held.mentions + state.extraMentions,
  };
}

/**
 * Held messages are about to be dropped below `floor` (to bound memory): those unread among
 * them join `extra`, so that the counts stay what they were.
 * @param {ReadState} state
 * @param {import("./world.js").Message[]} list the messages held, in sequence order
 * @param {number} floor the sequence of the oldest message that stays
 * @param {string} me this user's id
 */
export function raiseFloor(state, list, floor, me) {
  if (floor <= state.floor) return;
  const at = position(state);
  const dropped = countHeld(list, Math.max(at, state.floor - 1), floor, me);
  if (at < state.floor - 1) {
    state.extra += dropped.unread;
    state.extraMentions += dropped.mentions;
  } else {
    state.extra = dropped.unread;
    state.extraMentions = dropped.mentions;
  }
  state.floor = floor;
}

/**
 * Counts held messages from others (not only shown locally) with a sequence above `after`
 * and below `below`; mentions: those among them that name this user.
 * @param {import("./world.js").Message[]} list in sequence order
 * @param {number} after
 * @param {number} below
 * @param {string} me this user's id
 * @returns {Counts}
 */
export function countHeld(list, after, below, me) {
  let unread = 0;
  let mentions = 0;
  for (let i = list.length - 1; i >= 0; i--) {
    const m = list[i];
    if (m.local || m.seq >= below) continue;
    if (m.seq <= after) break;
    if (m.sender === me) continue;
    unread++;
    if (m.mentions.includes(me)) mentions++;
  }
  return { unread, mentions };
}
