// A message body as DOM nodes: text stays text, http(s) links become <a> elements that
// open in a new tab without telling the other site where they came from, and the "@Name" of
// each person the message mentions is a marked span (mentions.js). Line breaks are kept by
// CSS (white-space: pre-wrap), so no markup is ever built from the body.

import { mentionNodes } from "./mentions.js";

// A run of characters that may be a link; trailing punctuation is trimmed below.
const CANDIDATE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING = /[.,;:!?'"\])}>*_]$/;

/**
 * @param {string} body
 * @param {Map<string, boolean>} [mentioned] the names of the people the message mentions,
 *   each with whether it is the person reading
 * @returns {Node[]}
 */
export function bodyNodes(body, mentioned = new Map()) {
  /** @param {string} text */
  const text = (text) =>
    mentioned.size ? mentionNodes(text, mentioned) : [document.createTextNode(text)];
  /** @type {Node[]} */
  const nodes = [];
  let done = 0;
  for (const match of body.matchAll(CANDIDATE)) {
    const start = match.index ?? 0;
    const raw = trimTrailing(match[0]);
    const link = linkTo(raw);
    if (!link) continue;
    if (start > done) nodes.push(...text(body.slice(done, start)));
    nodes.push(link);
    done = start + raw.length;
  }
  if (done < body.length) nodes.push(...text(body.slice(done)));
  return nodes;
}

/** Drops sentence punctuation after a link, but keeps a ')' that closes a '(' inside it. */
function trimTrailing(/** @type {string} */ text) {
  let url = text;
  while (TRAILING.test(url)) {
    if (url.endsWith(")") && count(url, "(") >= count(url, ")")) break;
    url = url.slice(0, -1);
  }
  return url;
}

function count(/** @type {string} */ text, /** @type {string} */ ch) {
  return text.split(ch).length - 1;
}

/**
 * An <a> for an http or https URL; null for anything else (javascript:, data:, junk).
 * @param {string} text
 * @returns {HTMLAnchorElement | null}
 */
export function linkTo(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  const a = document.createElement("a");
  a.href = url.href;
  a.textContent = text;
  a.target = "_blank";
  a.rel = "noopener noreferrer";
  return a;
}
