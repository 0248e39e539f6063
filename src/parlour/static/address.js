// Where the chat is: the address bar names the active channel (/channels/{id}), so that a
// reload, the back button and a shared link open the same channel; "/" opens the channel
// this person used last in this browser (remembered per user in localStorage).

/** @param {string} id */
export function channelPath(id) {
  return `/channels/${encodeURIComponent(id)}`;
}

/** The channel the address names, or null (at "/", or on any other path). */
export function channelInAddress() {
  const match = location.pathname.match(/^\/channels\/([^/]+)\/?$/);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1]; // a malformed escape: no channel has that id, so "No such channel"
  }
}

/**
 * Shows a channel's address: a new history entry, or (replace) instead of the current one.
 * @param {string} id
 * @param {{replace?: boolean}} [how]
 */
export function goToChannel(id, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", channelPath(id));
  else if (location.pathname !== channelPath(id)) history.pushState(null, "", channelPath(id));
}

/** @param {string} userId */
const lastKey = (userId) => `parlour.last-channel.${userId}`;

/**
 * The channel this person used last here, where the browser allows storage (some private
 * modes throw).
 * @param {string} userId
 * @returns {string | null}
 */
export function lastChannel(userId) {
  try {
    return localStorage.getItem(lastKey(userId));
  } catch {
    return null;
  }
}

/** @param {string} userId @param {string} channelId */
export function rememberChannel(userId, channelId) {
  try {
    localStorage.setItem(lastKey(userId), channelId);
  } catch {
    // Not remembered: "/" opens the first channel instead.
  }
}
