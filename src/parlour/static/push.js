// Web Push from the browser's side (docs/api/push.md): register the service worker
// (/sw.js), ask permission, subscribe with the server's key, and tell the server. The chat
// calls `enablePush` from a click (browsers ask permission only from a user's gesture; never
// on load), `disablePush` to stop, `pushState` to label its button, and `resumePush` after
// each boot to hand the server this browser's current subscription again.

import { call, get } from "./api.js";

/**
 * What Web Push is for this browser and server:
 * - "unsupported": the browser has no service workers, Push API or notifications (or the
 *   page is not on HTTPS nor localhost);
 * - "off": the server has push turned off (`--push off`);
 * - "denied": the user blocked notifications for this site (only the browser's settings
 *   can undo that);
 * - "disabled": not subscribed (yet);
 * - "enabled": this browser receives pushes.
 * @typedef {"unsupported" | "off" | "denied" | "disabled" | "enabled"} PushState
 */

/** @typedef {{ok: true} | {ok: false, state: PushState, detail: string}} PushResult */

const WORKER = "/sw.js";
// Which user enabled push in this browser: `resumePush` re-registers only for them, so a
// different user logging in on the same browser is not subscribed without asking.
const OWNER_KEY = "parlour.push.user";

/** @returns {boolean} */
export function pushSupported() {
  return (
    window.isSecureContext &&
    "serviceWorker" in navigator &&
    "PushManager" in window &&
    "Notification" in window
  );
}

/** @returns {Promise<ServiceWorkerRegistration>} */
async function registration() {
  await navigator.serviceWorker.register(WORKER, { scope: "/" });
  return navigator.serviceWorker.ready;
}

/** @type {Promise<{key: string | null, detail: string}> | null} */
let keyAsked = null;

/**
 * The server's key, or null when push is off there (404). Asked once a page: the key never
 * changes (docs/api/push.md), and a load asks for it twice (the button's state, and handing
 * the subscription over again); a null answer is asked again next time.
 * @returns {Promise<{key: string | null, detail: string}>}
 */
async function serverKey() {
  keyAsked ??= askServerKey();
  const found = await keyAsked;
  if (found.key === null) keyAsked = null;
  return found;
}

/** @returns {Promise<{key: string | null, detail: string}>} */
async function askServerKey() {
  const reply = await get("/api/push");
  if (reply.status === 200 && typeof reply.data?.key === "string") {
    return { key: reply.data.key, detail: "" };
  }
  return { key: null, detail: reply.detail };
}

/**
 * base64url (as the server gives its key) → bytes (as PushManager.subscribe wants it).
 * @param {string} text
 * @returns {Uint8Array<ArrayBuffer>}
 */
function fromBase64Url(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  const bytes = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

/**
 * @param {ArrayBuffer | null} buffer
 * @returns {string}
 */
function toBase64Url(buffer) {
  if (buffer === null) return "";
  const raw = String.fromCharCode(...new Uint8Array(buffer));
  return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Whether `subscription` was made with `key` (a new server key invalidates it).
 * @param {PushSubscription} subscription
 * @param {string} key
 */
function madeWith(subscription, key) {
  return toBase64Url(subscription.options.applicationServerKey) === key;
}

/**
 * @param {PushSubscription} subscription
 * @returns {Promise<import("./api.js").Reply>}
 */
function register(subscription) {
  const json = subscription.toJSON();
  return call("POST", "/api/push", {
    endpoint: subscription.endpoint,
    keys: { p256dh: json.keys?.p256dh ?? "", auth: json.keys?.auth ?? "" },
  });
}

/**
 * The state to show on the chat's button (no prompt, no change).
 * @returns {Promise<PushState>}
 */
export async function pushState() {
  if (!pushSupported()) return "unsupported";
  if (Notification.permission === "denied") return "denied";
  const { key } = await serverKey();
  if (key === null) return "off";
  const existing = await navigator.serviceWorker.getRegistration("/");
  const subscription = await existing?.pushManager.getSubscription();
  return subscription && madeWith(subscription, key) && localStorage.getItem(OWNER_KEY)
    ? "enabled"
    : "disabled";
}

/**
 * Turn push on for this browser: call it from a click. Asks permission (the browser's
 * prompt), subscribes with the server's key, and registers the subscription for `userId`.
 * @param {string} userId the logged-in user
 * @returns {Promise<PushResult>}
 */
export async function enablePush(userId) {
  if (!pushSupported()) {
    return { ok: false, state: "unsupported", detail: "This browser cannot receive pushes." };
  }
  // Asked only when not yet granted (the chat's button has usually just asked).
  const permission =
    Notification.permission === "granted" ? "granted" : await Notification.requestPermission();
  if (permission !== "granted") {
    return {
      ok: false,
      state: permission === "denied" ? "denied" : "disabled",
      detail: "Notifications are not allowed for this site.",
    };
  }
  const { key, detail } = await serverKey();
  if (key === null) return { ok: false, state: "off", detail };
  try {
    const worker = await registration();
    let subscription = await worker.pushManager.getSubscription();
    if (subscription && !madeWith(subscription, key)) {
      await subscription.unsubscribe();
      subscription = null;
    }
    subscription ??= await worker.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: fromBase64Url(key),
    });
    const reply = await register(subscription);
    if (reply.status !== 204) return { ok: false, state: "disabled", detail: reply.detail };
  } catch (error) {
    return { ok: false, state: "disabled", detail: String(error) };
  }
  localStorage.setItem(OWNER_KEY, userId);
  return { ok: true };
}

/**
 * Turn push off for this browser: the server forgets it, and the browser unsubscribes.
 * @returns {Promise<PushResult>}
 */
export async function disablePush() {
  localStorage.removeItem(OWNER_KEY);
  if (!pushSupported()) return { ok: true };
  const existing = await navigator.serviceWorker.getRegistration("/");
  const subscription = await existing?.pushManager.getSubscription();
  if (!subscription) return { ok: true };
  const reply = await call("DELETE", "/api/push", { endpoint: subscription.endpoint });
  await subscription.unsubscribe();
  if (reply.status !== 204 && reply.status !== 404) {
    return { ok: false, state: "disabled", detail: reply.detail };
  }
  return { ok: true };
}

/**
 * After boot: if `userId` enabled push in this browser, register its subscription again.
 * A session's subscription ends with the session (logout, password change), and browsers
 * renew subscriptions now and then; this keeps the server's copy current. Never prompts.
 * @param {string} userId the logged-in user
 * @returns {Promise<void>}
 */
export async function resumePush(userId) {
  if (!pushSupported() || Notification.permission !== "granted") return;
  if (localStorage.getItem(OWNER_KEY) !== userId) return;
  const existing = await navigator.serviceWorker.getRegistration("/");
  const subscription = await existing?.pushManager.getSubscription();
  if (subscription) {
    const { key } = await serverKey();
    if (key !== null && madeWith(subscription, key)) {
      await register(subscription);
      return;
    }
  }
  await enablePush(userId);
}
