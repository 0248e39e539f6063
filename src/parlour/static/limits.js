// The server's limits on names, passwords and messages, read from its OpenAPI document
// (GET /api/openapi.json, served before setup and without login: docs/api/index.md).
//
// Why: the forms check lengths before asking, so that a mistake is explained at once and
// next to its field; a copy of the server's rules kept here by hand would drift from them
// and refuse what the server accepts. So the client asks the server once, at start, while it
// boots. The server still checks everything, and its 400 detail is shown where it refuses:
// that is the only check of which characters a name may hold (docs/api/index.md).

import { get } from "./api.js";

/**
 * @typedef {{
 *   nameMax: number,
 *   channelNameMax: number,
 *   passwordMin: number,
 *   passwordMax: number,
 *   newPasswordMin: number,
 *   newPasswordMax: number,
 *   bodyMax: number,
 * }} Limits
 */

/**
 * Used only for a value the document does not give (it always should): what the server
 * published when this client was written, so a form still checks sensibly.
 * @type {Readonly<Limits>}
 */
const FALLBACK = Object.freeze({
  nameMax: 64,
  channelNameMax: 64,
  passwordMin: 8,
  passwordMax: 1024,
  newPasswordMin: 8,
  newPasswordMax: 1024,
  bodyMax: 8192,
});

/** @type {Readonly<Limits>} */
let known = FALLBACK;
/** @type {Promise<Readonly<Limits>> | null} */
let asking = null;

/**
 * The server's limits: asks for them the first time (app.js does at start, beside the boot),
 * then answers from memory. Never rejects: if the server can't be reached, it resolves to
 * the fallbacks, and the next call asks again.
 * @returns {Promise<Readonly<Limits>>}
 */
export function serverLimits() {
  asking ??= get("/api/openapi.json").then((reply) => {
    if (reply.status !== 200) {
      asking = null;
      return known;
    }
    known = fromDocument(reply.data);
    return known;
  });
  return asking;
}

/** The limits known now (the fallbacks until the document has arrived). */
export function limitsNow() {
  return known;
}

/**
 * Writes the limits into a view: each element marked data-limit=key (a key of Limits) gets
 * that number, now and again when the document arrives.
 * @param {ParentNode} root
 */
export function showLimits(root) {
  const fill = (/** @type {Readonly<Limits>} */ limits) => {
    for (const el of root.querySelectorAll("[data-limit]")) {
      const key = /** @type {HTMLElement} */ (el).dataset.limit ?? "";
      if (key in limits) el.textContent = String(limits[/** @type {keyof Limits} */ (key)]);
    }
  };
  fill(known);
  serverLimits().then(fill);
}

/**
 * How long a name or message is, as the server counts: in code points after NFC.
 * @param {string} text
 */
export function textLength(text) {
  return Array.from(text.normalize("NFC")).length;
}

/**
 * How long a password is, as the server counts: in code points, exactly as typed.
 * @param {string} password
 */
export function passwordLength(password) {
  return Array.from(password).length;
}

/**
 * @param {any} document the OpenAPI document
 * @returns {Readonly<Limits>}
 */
function fromDocument(document) {
  const schemas = document?.components?.schemas;
  /**
   * @param {string} schema
   * @param {string} property
   * @param {"minLength" | "maxLength"} key
   * @param {number} fallback
   */
  const read = (schema, property, key, fallback) => {
    const value = schemas?.[schema]?.properties?.[property]?.[key];
    return Number.isSafeInteger(value) && value >= 0 ? value : fallback;
  };
  const passwordMin = read("Credentials", "password", "minLength", FALLBACK.passwordMin);
  const passwordMax = read("Credentials", "password", "maxLength", FALLBACK.passwordMax);
  return Object.freeze({
    nameMax: read("Credentials", "name", "maxLength", FALLBACK.nameMax),
    channelNameMax: read("NewChannel", "name", "maxLength", FALLBACK.channelNameMax),
    passwordMin,
    passwordMax,
    newPasswordMin: read("PasswordChange", "to", "minLength", passwordMin),
    newPasswordMax: read("PasswordChange", "to", "maxLength", passwordMax),
    bodyMax: read("NewMessage", "body", "maxLength", FALLBACK.bodyMax),
  });
}
