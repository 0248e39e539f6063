// Talking to parlour's JSON API. Every call resolves to a Reply; only programming errors
// throw. A network failure is status 0, so callers handle every outcome in one place.

/**
 * @typedef {{status: number, data: any, detail: string, retryAfter: number | null}} Reply
 */

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<Reply>}
 */
export async function call(method, path, body) {
  /** @type {RequestInit} */
  const init = { method, credentials: "same-origin", headers: { accept: "application/json" } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { ...init.headers, "content-type": "application/json" };
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    return { status: 0, data: null, detail: "Can't reach the server.", retryAfter: null };
  }
  let data = null;
  const type = response.headers.get("content-type") ?? "";
  if (type.includes("json")) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  const retry = Number(response.headers.get("retry-after"));
  return {
    status: response.status,
    data,
    detail: response.ok ? "" : (data?.detail ?? `The server answered ${response.status}.`),
    retryAfter: Number.isFinite(retry) && retry > 0 ? retry : null,
  };
}

export const get = (/** @type {string} */ path) => call("GET", path);
export const post = (/** @type {string} */ path, /** @type {unknown} */ body = {}) =>
  call("POST", path, body);
export const del = (/** @type {string} */ path) => call("DELETE", path);
