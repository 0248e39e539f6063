// parlour's service worker (served at /sw.js, scope "/"): shows a Web Push as a
// notification, and opens its channel when the notification is clicked (docs/api/push.md).
// A classic script, not a module (not every browser runs module service workers); wrapped
// in a block so that nothing in it is global to the client's other files.
//
// The push's payload, decrypted by the browser: {"channel", "message", "title", "body"}.

/**
 * The few parts of the service worker's world used here (the TypeScript checks of the
 * client know the page's world, not a worker's).
 * @typedef {{waitUntil(promise: Promise<unknown>): void}} SwExtendableEvent
 * @typedef {SwExtendableEvent & {data: {json(): unknown} | null}} SwPushEvent
 * @typedef {SwExtendableEvent & {notification: Notification}} SwNotificationEvent
 * @typedef {SwExtendableEvent & {oldSubscription: PushSubscription | null}} SwSubscriptionEvent
 * @typedef {{url: string, focus(): Promise<unknown>, navigate(url: string): Promise<unknown>}} SwWindow
 * @typedef {{
 *   matchAll(options: {type: "window", includeUncontrolled: boolean}): Promise<SwWindow[]>,
 *   openWindow(url: string): Promise<unknown>,
 *   claim(): Promise<void>,
 * }} SwClients
 * @typedef {{
 *   registration: ServiceWorkerRegistration,
 *   clients: SwClients,
 *   location: Location,
 *   skipWaiting(): Promise<void>,
 *   addEventListener(type: string, listener: (event: any) => void): void,
 * }} SwScope
 */

{
  const worker = /** @type {SwScope} */ (/** @type {unknown} */ (globalThis));

  /**
   * The payload, or a plain one if it is not what parlour sends (a push must always show
   * something: browsers penalise a push that shows nothing).
   * @param {SwPushEvent} event
   * @returns {{channel: string, title: string, body: string}}
   */
  const readPush = (event) => {
    try {
      const data = /** @type {any} */ (event.data?.json());
      if (data && typeof data.channel === "string") {
        return {
          channel: data.channel,
          title: typeof data.title === "string" ? data.title : "parlour",
          body: typeof data.body === "string" ? data.body : "",
        };
      }
    } catch {
      // fall through
    }
    return { channel: "", title: "parlour", body: "New message" };
  };

  worker.addEventListener("install", () => {
    void worker.skipWaiting();
  });

  worker.addEventListener("activate", (/** @type {SwExtendableEvent} */ event) => {
    event.waitUntil(worker.clients.claim());
  });

  worker.addEventListener("push", (/** @type {SwPushEvent} */ event) => {
    const push = readPush(event);
    event.waitUntil(
      worker.registration.showNotification(push.title, {
        body: push.body,
        icon: "/static/icon.svg",
        // One notification per channel: a newer message replaces the older one.
        tag: push.channel ? `parlour-${push.channel}` : "parlour",
        data: { url: push.channel ? `/channels/${encodeURIComponent(push.channel)}` : "/" },
      }),
    );
  });

  /**
   * Focus a window already on `url`, else take any parlour window there, else open one.
   * @param {string} url
   */
  const openChannel = async (url) => {
    const target = new URL(url, worker.location.origin).href;
    const windows = await worker.clients.matchAll({ type: "window", includeUncontrolled: true });
    const same = windows.find((w) => w.url === target);
    if (same) {
      await same.focus();
      return;
    }
    for (const w of windows) {
      try {
        await w.navigate(target);
        await w.focus();
        return;
      } catch {
        // not controlled by this worker: try the next, or open a window
      }
    }
    await worker.clients.openWindow(target);
  };

  worker.addEventListener("notificationclick", (/** @type {SwNotificationEvent} */ event) => {
    event.notification.close();
    const data = /** @type {{url?: unknown} | null} */ (event.notification.data);
    event.waitUntil(openChannel(typeof data?.url === "string" ? data.url : "/"));
  });

  // The browser renewed the subscription (its push service rotated it): subscribe again
  // with the same key and hand the new one to the server, as the page would.
  worker.addEventListener("pushsubscriptionchange", (/** @type {SwSubscriptionEvent} */ event) => {
    const old = event.oldSubscription;
    if (!old) return;
    event.waitUntil(
      worker.registration.pushManager
        .subscribe({ userVisibleOnly: true, applicationServerKey: old.options.applicationServerKey })
        .then((fresh) => {
          const json = fresh.toJSON();
          return fetch("/api/push", {
            method: "POST",
            credentials: "same-origin",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ endpoint: fresh.endpoint, keys: json.keys }),
          });
        }),
    );
  });
}
