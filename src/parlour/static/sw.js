// parlour's service worker (served at /sw.js, scope "/"): shows a Web Push as a
// notification, and opens its channel when the notification is clicked (docs/api/push.md);
// and keeps the app shell (the page, its scripts, styles and icons) so that a load while the
// server is unreachable shows parlour's own "Can't reach the server" screen, which retries,
// rather than the browser's error page (docs/operations.md, "The web client").
//
// The shell is fetched from the network first, always: online, every load runs the files
// the server serves now (never a cached mix of old and new modules); only when the network
// fails does the copy kept from the last successful load answer. The API is never touched:
// its answers and the event stream go straight to the network.
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
 * @typedef {SwExtendableEvent & {request: Request, respondWith(r: Promise<Response>): void}} SwFetchEvent
 * @typedef {SwExtendableEvent & {data: unknown}} SwMessageEvent
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

  // The cache of the shell. A new name (when what is kept changes shape) drops the old one.
  const SHELL = "parlour-shell-1";

  worker.addEventListener("install", () => {
    void worker.skipWaiting();
  });

  worker.addEventListener("activate", (/** @type {SwExtendableEvent} */ event) => {
    const dropOld = caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n !== SHELL).map((n) => caches.delete(n))));
    event.waitUntil(Promise.all([dropOld, worker.clients.claim()]));
  });

  /**
   * Where a request's answer is kept, or null for a request left to the network alone: the
   * page (every client URL serves the same one, kept once as "/"), and the files under
   * /static/. Nothing of /api/: answers are someone's, and the stream must not pass here.
   * @param {Request} request
   * @returns {string | null}
   */
  const shellKey = (request) => {
    if (request.method !== "GET") return null;
    const url = new URL(request.url);
    if (url.origin !== worker.location.origin) return null;
    if (url.pathname.startsWith("/static/")) return url.pathname;
    if (request.mode === "navigate" && !url.pathname.startsWith("/api/") && url.pathname !== "/sw.js") {
      return "/";
    }
    return null;
  };

  /**
   * The network's answer, kept for later; the kept one when the network fails.
   * @param {SwExtendableEvent} event
   * @param {Request | string} request
   * @param {string} key
   */
  const networkFirst = async (event, request, key) => {
    const cache = await caches.open(SHELL);
    try {
      const response = await fetch(request);
      if (response.ok) event.waitUntil(cache.put(key, response.clone()));
      return response;
    } catch (error) {
      const kept = await cache.match(key);
      if (kept) return kept;
      throw error;
    }
  };

  worker.addEventListener("fetch", (/** @type {SwFetchEvent} */ event) => {
    const key = shellKey(event.request);
    if (key) event.respondWith(networkFirst(event, event.request, key));
  });

  // The page's first load came before this worker controlled it: the page names the files
  // it loaded (offline.js), and they are kept now, not only from the next load on.
  worker.addEventListener("message", (/** @type {SwMessageEvent} */ event) => {
    const data = /** @type {{keep?: unknown}} */ (event.data ?? {});
    if (!Array.isArray(data.keep)) return;
    /** @type {string[]} */
    const paths = data.keep
      .filter((u) => typeof u === "string")
      .map((u) => new URL(u, worker.location.origin))
      .filter((u) => u.origin === worker.location.origin)
      .map((u) => u.pathname)
      .filter((path) => path === "/" || path.startsWith("/static/"));
    const keep = async (/** @type {Cache} */ cache, /** @type {string} */ path) => {
      if (await cache.match(path)) return;
      const response = await fetch(path).catch(() => null);
      if (response?.ok) await cache.put(path, response);
    };
    event.waitUntil(
      caches.open(SHELL).then((cache) => Promise.all(paths.map((path) => keep(cache, path)))),
    );
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
