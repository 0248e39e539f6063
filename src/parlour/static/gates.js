// The pages before the chat: setup (a new server), login, accepting an invitation, setting a
// new password through a reset link, and "can't reach the server". Each shows API errors
// next to the field they are about.

import { call, get, post } from "./api.js";
import {
  clearErrors,
  clone,
  field,
  find,
  focusFirstError,
  onActions,
  onSubmit,
  showError,
  slot,
} from "./dom.js";
import { expiryText } from "./invitations.js";
import { passwordLength, serverLimits, showLimits, textLength } from "./limits.js";

/**
 * Which field a 400's detail is about: the server says it in words ("A user name must…").
 * @param {string} detail
 */
function fieldOf(detail) {
  if (/password/i.test(detail)) return "password";
  if (/name/i.test(detail)) return "name";
  return "form";
}

/**
 * Checks a new name and password (typed twice) before asking the server: whether they are
 * there, and their lengths, against the server's limits (limits.js). What a name may
 * contain is left to the server, whose 400 detail then shows next to the field.
 * @param {HTMLFormElement} form
 * @returns {Promise<{name: string, password: string} | null>}
 */
async function newCredentials(form) {
  const name = field(form, "name").trim();
  const password = field(form, "password");
  const { nameMax, passwordMin, passwordMax } = await serverLimits();
  if (!name) showError(form, "name", "Enter a name.");
  else if (textLength(name) > nameMax)
    showError(form, "name", `A name can be at most ${nameMax} characters.`);
  if (passwordLength(password) < passwordMin)
    showError(form, "password", `Use at least ${passwordMin} characters.`);
  else if (passwordLength(password) > passwordMax)
    showError(form, "password", `Use at most ${passwordMax} characters.`);
  else if (field(form, "again") !== password)
    showError(form, "again", "The two passwords are different.");
  if (form.querySelector("[aria-invalid]")) {
    focusFirstError(form);
    return null;
  }
  return { name, password };
}

/** @param {HTMLElement} view */
function focusFirstField(view) {
  view.querySelector("input")?.focus();
}

/**
 * @param {HTMLElement} root
 * @param {{done: () => void, setupDone: () => void}} on
 */
export function showSetup(root, on) {
  const view = clone("setup-view");
  const form = find(view, "form", HTMLFormElement);
  showLimits(view);
  onSubmit(form, async () => {
    clearErrors(form);
    const credentials = await newCredentials(form);
    if (!credentials) return;
    const reply = await post("/api/setup", credentials);
    if (reply.status === 200) on.done();
    else if (reply.status === 409) on.setupDone();
    else if (reply.status === 400) showError(form, fieldOf(reply.detail), reply.detail);
    else showError(form, "form", reply.detail);
    focusFirstError(form);
  });
  root.replaceChildren(view);
  document.title = "Welcome · parlour";
  focusFirstField(view);
}

/**
 * @param {HTMLElement} root
 * @param {{done: () => void, note?: string}} on
 */
export function showLogin(root, on) {
  const view = clone("login-view");
  const form = find(view, "form", HTMLFormElement);
  if (on.note) {
    const note = slot(view, "note");
    note.textContent = on.note;
    note.hidden = false;
  }
  onSubmit(form, async () => {
    clearErrors(form);
    const name = field(form, "name").trim();
    const password = field(form, "password");
    if (!name) showError(form, "name", "Enter your name.");
    if (!password) showError(form, "password", "Enter your password.");
    if (!name || !password) {
      focusFirstError(form);
      return;
    }
    const reply = await post("/api/auth/login", { name, password });
    if (reply.status === 200) {
      on.done();
      return;
    }
    if (reply.status === 401) {
      showError(form, "password", "That name and password do not match.");
    } else if (reply.status === 429) {
      const minutes = Math.max(1, Math.ceil((reply.retryAfter ?? 300) / 60));
      const wait = minutes === 1 ? "a minute" : `${minutes} minutes`;
      showError(form, "form", `Too many failed attempts for this name. Try again in ${wait}.`);
    } else if (reply.status === 400) {
      showError(form, fieldOf(reply.detail), reply.detail);
    } else {
      showError(form, "form", reply.detail);
    }
    focusFirstError(form);
  });
  root.replaceChildren(view);
  document.title = "Log in · parlour";
  focusFirstField(view);
}

// What an invitation that can't be used says. The server answers the same 404 for a used,
// an expired and a revoked invitation (docs/api/invitations.md), so the page cannot say
// which, and names them all.
const DEAD_INVITE_TITLE = "This invitation can't be used";
const DEAD_INVITE =
  "It has already been used, has expired, or was taken back (parlour does not say which). " +
  "Ask the person who sent it for a new link.";

/**
 * The page an invitation link opens (/invite/{id}): who invites, until when, and the new
 * account's name and password. A dead link says so in its heading. Opened by someone
 * already logged in here, it warns that joining logs this browser in as the new account,
 * in every tab (they share the cookie: sync.js).
 * @param {HTMLElement} root
 * @param {string} inviteId
 * @param {{done: () => void}} on
 */
export async function showInvite(root, inviteId, on) {
  const view = clone("invite-view");
  const form = find(view, "form", HTMLFormElement);
  showLimits(view);
  const heading = find(view, "h1");
  const lede = slot(view, "lede");
  const fields = slot(view, "fields");
  root.replaceChildren(view);
  document.title = "Invitation · parlour";
  const path = `/api/invite/${encodeURIComponent(inviteId)}`;
  const dead = () => {
    heading.textContent = DEAD_INVITE_TITLE;
    document.title = `${DEAD_INVITE_TITLE} · parlour`;
    lede.textContent = DEAD_INVITE;
    fields.hidden = true;
  };
  const [reply, session] = await Promise.all([get(path), get("/api/boot?messages=0")]);
  if (reply.status === 200) {
    lede.replaceChildren(
      strong(reply.data.issuer.name),
      " invited you to join this parlour. Choose the name others will see, and a password.",
    );
    const until = document.createElement("p");
    until.className = "note";
    until.textContent = `This invitation works once, until ${expiryText(reply.data.expires_at)}.`;
    lede.after(until);
    if (session.status === 200) {
      const name = session.data.user.name;
      const warning = document.createElement("p");
      warning.className = "note invite-switch";
      warning.setAttribute("role", "note");
      warning.replaceChildren(
        "You are logged in here as ",
        strong(name),
        ". Joining makes a new account and logs this browser in as it: every parlour tab " +
          `open here switches to the new account, and ${name} is logged out here.`,
      );
      until.after(warning);
    }
    fields.hidden = false;
    focusFirstField(view);
  } else if (reply.status === 404) {
    dead();
  } else if (reply.status === 503) {
    lede.textContent = "This server is not set up yet, so it has no invitations.";
  } else {
    lede.textContent = `The invitation could not be checked: ${reply.detail} Reload to try again.`;
  }
  onSubmit(form, async () => {
    clearErrors(form);
    const credentials = await newCredentials(form);
    if (!credentials) return;
    const answer = await call("POST", path, credentials);
    if (answer.status === 200) {
      on.done();
      return;
    }
    if (answer.status === 409) {
      showError(form, "name", "That name is taken. Choose another.");
    } else if (answer.status === 404) {
      // Used (or run out) meanwhile: nothing typed here can help.
      dead();
      lede.setAttribute("tabindex", "-1");
      lede.focus();
      return;
    } else if (answer.status === 400) {
      showError(form, fieldOf(answer.detail), answer.detail);
    } else {
      showError(form, "form", answer.detail);
    }
    focusFirstError(form);
  });
}

/**
 * The page a password-reset link opens (/reset/{id}): says whose password it sets, takes
 * the new one twice, and logs in (the server's answer sets the cookie). The link itself is
 * the secret, so a dead one (used, replaced, expired, or its user deactivated) says only
 * that, and whom to ask.
 * @param {HTMLElement} root
 * @param {string} resetId
 * @param {{done: () => void}} on
 */
export async function showReset(root, resetId, on) {
  const view = clone("reset-view");
  const form = find(view, "form", HTMLFormElement);
  showLimits(view);
  const lede = slot(view, "lede");
  const fields = slot(view, "fields");
  root.replaceChildren(view);
  document.title = "New password · parlour";
  const path = `/api/reset/${encodeURIComponent(resetId)}`;
  const dead =
    "This link can't be used: it is unknown, already used, replaced by a newer one, or " +
    "expired. Ask an admin of this server for a new one.";
  const reply = await get(path);
  if (reply.status === 200) {
    const name = reply.data.user.name;
    lede.replaceChildren(
      "This link sets a new password for ",
      strong(name),
      ". Choose it, and you are logged in.",
    );
    // For password managers: which account the new password belongs to.
    slot(view, "reset-user", HTMLInputElement).value = name;
    fields.hidden = false;
    find(view, 'input[name="password"]').focus();
  } else if (reply.status === 404) {
    lede.textContent = dead;
  } else if (reply.status === 503) {
    lede.textContent = "This server is not set up yet, so it has no accounts.";
  } else {
    lede.textContent = `The link could not be checked: ${reply.detail} Reload to try again.`;
  }
  onSubmit(form, async () => {
    clearErrors(form);
    const password = field(form, "password");
    const { newPasswordMin, newPasswordMax } = await serverLimits();
    if (passwordLength(password) < newPasswordMin)
      showError(form, "password", `Use at least ${newPasswordMin} characters.`);
    else if (passwordLength(password) > newPasswordMax)
      showError(form, "password", `Use at most ${newPasswordMax} characters.`);
    else if (field(form, "again") !== password)
      showError(form, "again", "The two passwords are different.");
    if (form.querySelector("[aria-invalid]")) {
      focusFirstError(form);
      return;
    }
    const answer = await call("POST", path, { password });
    if (answer.status === 200) {
      on.done();
      return;
    }
    if (answer.status === 404) {
      fields.hidden = true;
      lede.textContent = dead;
      lede.focus();
      return;
    }
    if (answer.status === 400) showError(form, fieldOf(answer.detail), answer.detail);
    else showError(form, "form", answer.detail);
    focusFirstError(form);
  });
}

/**
 * @param {HTMLElement} root
 * @param {string} detail
 * @param {() => void} retry
 * @returns {() => void} cancels the automatic retry
 */
export function showUnreachable(root, detail, retry) {
  const view = clone("unreachable-view");
  const text = slot(view, "detail");
  text.textContent = `${detail} Trying again in a few seconds…`;
  const timer = window.setTimeout(retry, 5000);
  onActions(view, {
    retry: () => {
      window.clearTimeout(timer);
      retry();
    },
  });
  root.replaceChildren(view);
  document.title = "Offline · parlour";
  return () => window.clearTimeout(timer);
}

/** @param {string} text */
function strong(text) {
  const el = document.createElement("strong");
  el.textContent = text;
  return el;
}
