// The service worker (sw.js) for loads while the server is unreachable, registered on every
// load (push.js registers the same worker when notifications are turned on). The first load
// ran before the worker controlled the page, so the page names the files it loaded for the
// worker to keep: a reload offline then shows parlour's own "Can't reach the server" screen.

const WORKER = "/sw.js";

export function keepShellForOffline() {
  if (!("serviceWorker" in navigator) || !window.isSecureContext) return;
  navigator.serviceWorker
    .register(WORKER, { scope: "/" })
    .then(() => navigator.serviceWorker.ready)
    .then((registration) => {
      const files = performance
        .getEntriesByType("resource")
        .map((entry) => new URL(entry.name))
        .filter((url) => url.origin === location.origin && url.pathname.startsWith("/static/"))
        .map((url) => url.pathname);
      registration.active?.postMessage({ keep: ["/", ...new Set(files)] });
    })
    .catch(() => {
      // No worker (a private window may refuse one): loads offline show the browser's page.
    });
}
