// parlour's web client: decides which view the state demands (setup on 503, login on 401,
// an invitation at /invite/{id}, a password-reset link at /reset/{id}, else the chat) and
// connects the chat to the event stream.

import { get, post } from "./api.js";
import { Chat } from "./chat.js";
import { showInvite, showLogin, showReset, showSetup, showUnreachable } from "./gates.js";
import { serverLimits } from "./limits.js";
import { keepShellForOffline } from "./offline.js";
import { Sync } from "./sync.js";
import { World } from "./world.js";

// How many of each channel's newest messages boot brings: the last few lines of every
// channel, so that a switch shows something at once; the channel on screen fills itself
// with a page (history.js) when they do not fill the view, and older ones come as the
// reader scrolls up. Few, because boot's size grows with this times the channels: 100
// channels of 5 stay well under 256 KiB (docs/benchmarks.md, history_boot). Unread counts
// come from the server's read state, whatever boot brings (reads.js).
const BOOT_MESSAGES = 5;
// After a failed boot while the chat is open, try again after this long.
const REBOOT_RETRY_MS = 3000;
// What the login form says when the session ends, as far as this tab can tell why
// (docs/client.md, "Why you were logged out"). A deactivation comes as an event before the
// stream ends, and a logout in another tab of this browser over the tabs' channel (sync.js);
// anything else is a 401 that is the same whatever ended the session (docs/api/sessions.md:
// a logout on another device, a password changed or reset elsewhere, expiry after days
// unused, or a deactivation this tab did not hear while it was offline), so it names them
// all rather than guess.
const SESSION_ENDED =
  "Your session has ended, and parlour does not say why: you logged out on another device, " +
  "your password was changed or reset elsewhere, the session went unused for too long, or " +
  "an admin deactivated your account. Log in again.";
const DEACTIVATED = "An admin has deactivated your account, so you have been logged out.";
const LOGGED_OUT = "You logged out in another tab of this browser.";
// The pages a link opens, which keep what is typed in them when another tab logs in.
const LINK_PAGE = /^\/(invite|reset)\//;

const root = /** @type {HTMLElement} */ (document.getElementById("app"));
/** @type {Chat | null} */
let chat = null;
// Each start() gets a number; an answer that arrives after a newer start() is dropped.
let starts = 0;
/** @type {() => void} */
let cancelRetry = () => {};
// The note the login form shows, while it is what this tab shows (else undefined).
/** @type {string | undefined} */
let loginNote;

const sync = new Sync({
  event: (data, seq) => chat?.applyEvent(data, seq),
  status: (status) => chat?.setStatus(status),
  reboot: () => start(),
  loggedOut: (why) => {
    // A logout in another tab can be heard after this tab found its session ended (its
    // stream ended first): it says why, so it replaces the note that could not.
    const clearer = why === "logged-out" && loginNote === SESSION_ENDED;
    if (chat || clearer) leaveChat(why === "session-ended" ? SESSION_ENDED : LOGGED_OUT);
  },
  // Tabs share the cookie: whoever logged in, this tab now shows them (an invitation or
  // reset page keeps what is typed in it).
  loggedIn: () => {
    if (!LINK_PAGE.test(location.pathname)) start();
  },
});

async function start() {
  const run = ++starts;
  loginNote = undefined;
  cancelRetry();
  // The server's limits, for the forms' checks: asked beside the boot (once: then it answers
  // from memory), and awaited only by a check that needs them.
  serverLimits();
  const invite = location.pathname.match(/^\/invite\/([^/]+)\/?$/);
  if (invite) {
    closeChat();
    sync.stop();
    await showInvite(root, decodeURIComponent(invite[1]), { done: joined });
    return;
  }
  const reset = location.pathname.match(/^\/reset\/([^/]+)\/?$/);
  if (reset) {
    closeChat();
    sync.stop();
    await showReset(root, decodeURIComponent(reset[1]), { done: joined });
    return;
  }
  sync.beginBoot();
  const reply = await get(`/api/boot?messages=${BOOT_MESSAGES}`);
  if (run !== starts) return;
  if (reply.status === 200) {
    const world = new World(reply.data);
    if (chat && chat.world.me.id === world.me.id) {
      chat.replaceWorld(world);
    } else {
      closeChat();
      chat = new Chat(root, world, {
        sessionEnded: () => leaveChat(SESSION_ENDED),
        // Every tab hears the event that says so: no need to tell the others.
        deactivated: () => leaveChat(DEACTIVATED),
        logOut,
        leading: () => sync.leading,
        othersVisible: () => sync.othersVisible(),
      });
      chat.mount();
    }
    chat.setStatus(sync.status);
    sync.endBoot(reply.data.resume_point, reply.data.heartbeat);
  } else if (reply.status === 401) {
    leaveChat();
  } else if (reply.status === 503) {
    closeChat();
    sync.stop();
    showSetup(root, {
      done: joined,
      setupDone: () => leaveChat("This server is already set up. Log in."),
    });
  } else if (chat) {
    // Keep what is on screen; say so, and try again.
    chat.setStatus("reconnecting");
    const timer = window.setTimeout(start, REBOOT_RETRY_MS);
    cancelRetry = () => window.clearTimeout(timer);
  } else {
    sync.stop();
    const detail = reply.status === 0 ? "parlour is not answering." : reply.detail;
    cancelRetry = showUnreachable(root, detail, start);
  }
}

/** Logged in by setup, login, an accepted invitation or a used reset link. */
function joined() {
  sync.announce("logged-in");
  if (LINK_PAGE.test(location.pathname)) history.replaceState(null, "", "/");
  start();
}

/** @param {string} [note] */
function leaveChat(note) {
  ++starts;
  closeChat();
  sync.stop();
  showLogin(root, { done: joined, note });
  loginNote = note;
}

function closeChat() {
  chat?.destroy();
  chat = null;
}

/** @returns {Promise<string | null>} a problem in words, or null when logged out */
async function logOut() {
  const reply = await post("/api/auth/logout");
  if (reply.status === 0) return "Not logged out: can't reach the server.";
  sync.announce("logged-out");
  if (location.pathname !== "/") history.replaceState(null, "", "/");
  leaveChat();
  return null;
}

window.addEventListener("popstate", () => {
  if (chat && !LINK_PAGE.test(location.pathname)) chat.route();
  else start();
});

start();
keepShellForOffline();
