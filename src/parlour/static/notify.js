// System notifications (the Notification API) for a new message while parlour is out of
// sight. The browser's permission is asked only when the person clicks "Turn on
// notifications" (browsers ignore, or hold against a site, a request made on load). Which
// messages notify is the chat's choice (chat.js): a message from someone else that matches
// the channel's level, heard by the tab holding the event stream (sync.js) while no tab of
// parlour is visible, so each message notifies once.

// The most of a message's body a notification shows (as Web Push does: docs/api/reads.md).
const BODY_MAX = 200;

/**
 * @typedef {"granted" | "denied" | "default" | "unsupported"} Permission
 */

/** Whether this browser can show notifications at all. */
export function notificationsSupported() {
  return typeof window.Notification === "function";
}

/** @returns {Permission} */
export function notificationPermission() {
  return notificationsSupported() ? Notification.permission : "unsupported";
}

/**
 * Asks the browser for permission: call only from a click.
 * @returns {Promise<Permission>}
 */
export async function askForNotifications() {
  if (!notificationsSupported()) return "unsupported";
  try {
    return await Notification.requestPermission();
  } catch {
    return Notification.permission;
  }
}

/**
 * Shows a notification, if allowed. A newer one for the same channel takes the place of the
 * one before (one per channel on screen, not a pile after a busy hour away).
 * @param {{title: string, body: string, channel: string, open: () => void}} what
 *   open: what clicking it does (the tab is focused first)
 */
export function notify(what) {
  if (notificationPermission() !== "granted") return;
  const body = Array.from(what.body);
  let shown;
  try {
    shown = new Notification(what.title, {
      body: body.length > BODY_MAX ? `${body.slice(0, BODY_MAX - 1).join("")}…` : what.body,
      tag: `parlour-${what.channel}`,
      icon: "/static/icon.svg",
    });
  } catch {
    return; // Some browsers allow notifications only from a service worker: none, then.
  }
  shown.onclick = () => {
    window.focus();
    what.open();
    shown.close();
  };
}
