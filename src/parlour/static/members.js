// The members view: a dialog listing everyone on the server (name, admin or member,
// deactivated or not), kept current by the `user created` and `user updated` events, with
// the open invitations below it (invitations.js). For an admin, each member also has the
// administrator's actions: rename, make admin / make member, deactivate / reactivate (each
// asked first, in words saying what will happen: confirm.js), and a password-reset link to
// pass on by hand (share-link.js), as parlour sends no e-mail. Everyone active has a
// "Message" button that opens the direct conversation with them (direct.js).

import { post } from "./api.js";
import { find, onActions, paintAvatar, showError, slot } from "./dom.js";
import { Invitations } from "./invitations.js";
import { copyLink, showLink } from "./share-link.js";

/**
 * @typedef {import("./world.js").World} World
 * @typedef {import("./world.js").User} User
 * @typedef {import("./confirm.js").Question} Question
 */

/**
 * @typedef {{
 *   world: () => World,
 *   confirm: (question: Question) => Promise<boolean>,
 *   rename: (user: User, returnTo: () => HTMLElement | null) => void,
 *   changed: (user: User) => void,
 *   message: (user: User) => Promise<string | null>,
 *   sessionEnded: () => void,
 * }} MembersHandlers
 *   changed: the server accepted a change to a user (the answer, before its event arrives);
 *   message: open the direct conversation with a user (resolves to why not, or null)
 */

/** The per-member buttons, by the data-member key each carries. */
const ACTIONS = ["message", "rename", "role", "active", "reset"];

export class Members {
  /**
   * @param {HTMLElement} view the chat view (holds the members and reset-link dialogs)
   * @param {MembersHandlers} on
   */
  constructor(view, on) {
    this.on = on;
    this.dialog = slot(view, "members-dialog", HTMLDialogElement);
    this.list = slot(this.dialog, "member-list", HTMLUListElement);
    this.resetDialog = slot(view, "reset-dialog", HTMLDialogElement);
    this.invitations = new Invitations(this.dialog, {
      world: on.world,
      sessionEnded: on.sessionEnded,
    });
    /** @type {Map<string, HTMLLIElement>} */
    this.rows = new Map();
    onActions(this.dialog, { "close-members": () => this.dialog.close() });
    onActions(this.resetDialog, { "copy-reset": () => this.#copyReset() });
    this.list.addEventListener("click", (event) => {
      const button = /** @type {HTMLElement} */ (event.target).closest("button[data-member]");
      const row = button?.closest("li[data-user]");
      if (!(button instanceof HTMLElement) || !(row instanceof HTMLElement)) return;
      const user = this.on.world().users.get(row.dataset.user ?? "");
      if (user) this.#act(button.dataset.member ?? "", user);
    });
  }

  /**
   * Opens the dialog, listing everyone and asking for the open invitations.
   * @param {"members" | "invitations"} [at] which part to bring into view
   */
  open(at = "members") {
    this.#render();
    if (!this.dialog.open) this.dialog.showModal();
    this.invitations.load();
    const heading = find(this.dialog, at === "invitations" ? "#invitations-title" : "h2");
    heading.focus();
    heading.scrollIntoView({ block: "nearest" });
  }

  /** Closes both dialogs (the chat is going away). */
  close() {
    this.resetDialog.close();
    this.dialog.close();
  }

  /** Lists everyone again, if shown (after booting again, or when one's own role changed). */
  refresh() {
    if (!this.dialog.open) return;
    this.#render();
    this.invitations.load();
  }

  /** Someone joined. @param {User} user */
  added(user) {
    if (!this.dialog.open || this.rows.has(user.id)) return;
    const row = this.#row(user);
    this.list.append(row);
    this.rows.set(user.id, row);
    this.#count();
  }

  /**
   * Someone was renamed, made admin or member, deactivated or reactivated. Their row is
   * rebuilt; if focus was on one of its buttons, it moves to the same button of the new row.
   * @param {User} user
   */
  changed(user) {
    const old = this.rows.get(user.id);
    if (!this.dialog.open || !old) return;
    const focused = document.activeElement;
    const key =
      old.contains(focused) && focused instanceof HTMLElement ? focused.dataset.member : "";
    const row = this.#row(user);
    old.replaceWith(row);
    this.rows.set(user.id, row);
    this.#count();
    if (key) this.#button(user.id, key)?.focus();
  }

  /** The invitations changed here (one was issued): list them again, if shown. */
  invited() {
    if (this.dialog.open) this.invitations.load();
  }

  #render() {
    this.rows.clear();
    const rows = Array.from(this.on.world().users.values(), (user) => {
      const row = this.#row(user);
      this.rows.set(user.id, row);
      return row;
    });
    this.list.replaceChildren(...rows);
    this.#count();
    showError(this.dialog, "members", "");
  }

  #count() {
    const users = Array.from(this.on.world().users.values());
    const off = users.filter((u) => !u.active).length;
    slot(this.dialog, "members-count").textContent =
      `${plural(users.length, "member")}` + (off ? `, ${off} of them deactivated` : "");
  }

  /** @param {User} user */
  #row(user) {
    const world = this.on.world();
    const me = user.id === world.me.id;
    const li = document.createElement("li");
    li.className = "member";
    li.dataset.user = user.id;
    li.classList.toggle("inactive", !user.active);
    const avatar = document.createElement("span");
    avatar.className = "avatar";
    avatar.setAttribute("aria-hidden", "true");
    paintAvatar(avatar, user);
    const who = document.createElement("p");
    who.className = "member-who";
    const name = document.createElement("span");
    name.className = "member-name";
    name.textContent = user.name;
    who.append(name);
    if (me) who.append(" ", tag("you", ""));
    if (user.role === "admin") who.append(" ", tag("admin", "admin"));
    if (!user.active) who.append(" ", tag("deactivated", "off"));
    li.append(avatar, who);

    const actions = document.createElement("div");
    actions.className = "member-actions";
    const admin = world.isAdmin();
    if (user.active) {
      const label = me ? "Message yourself" : `Message ${user.name}`;
      actions.append(button("message", "Message", label));
    }
    if (admin || me) actions.append(button("rename", "Rename", `Rename ${user.name}`));
    if (admin) {
      const toAdmin = user.role !== "admin";
      actions.append(
        button(
          "role",
          toAdmin ? "Make admin" : "Make member",
          `${toAdmin ? "Make admin" : "Make member"}: ${user.name}`,
        ),
        button(
          "active",
          user.active ? "Deactivate" : "Reactivate",
          `${user.active ? "Deactivate" : "Reactivate"} ${user.name}`,
        ),
      );
      if (user.active) actions.append(button("reset", "Reset link", `Reset link for ${user.name}`));
    }
    if (actions.childElementCount) li.append(actions);
    return li;
  }

  /**
   * Where focus goes back to once a dialog opened from a member's button closes: that button
   * (in its row as rebuilt meanwhile), or the heading if the button is gone (after one's own
   * role changed, say).
   * @param {string} userId
   * @param {string} key
   * @returns {HTMLElement | null}
   */
  #returnTo(userId, key) {
    if (!this.dialog.open) return null;
    return this.#button(userId, key) ?? find(this.dialog, "h2");
  }

  /** @param {string} userId @param {string} key @returns {HTMLElement | null} */
  #button(userId, key) {
    const row = this.rows.get(userId);
    return row?.querySelector(`button[data-member="${key}"]`) ?? null;
  }

  /** @param {string} key @param {User} user */
  #act(key, user) {
    if (!ACTIONS.includes(key)) return;
    showError(this.dialog, "members", "");
    if (key === "message") this.#message(user);
    else if (key === "rename") this.on.rename(user, () => this.#returnTo(user.id, "rename"));
    else if (key === "role") this.#changeRole(user);
    else if (key === "active") this.#changeActive(user);
    else this.#resetLink(user);
  }

  /** @param {User} user */
  async #message(user) {
    const problem = await this.on.message(user);
    if (problem) showError(this.dialog, "members", problem);
    else this.dialog.close();
  }

  /** @param {User} user */
  #changeRole(user) {
    const me = user.id === this.on.world().me.id;
    const toAdmin = user.role !== "admin";
    const name = user.name;
    this.on.confirm({
      title: toAdmin
        ? `Make ${name} an admin?`
        : me
          ? "Stop being an admin?"
          : `Make ${name} a member?`,
      text: toAdmin
        ? `${name} will be able to rename, deactivate and reactivate members, make them ` +
          "admins, create password-reset links, see and revoke every invitation, and " +
          "delete any message or channel."
        : `${me ? "You" : name} will no longer be able to manage members or invitations, ` +
          "or delete other people's messages and channels. Only an admin can undo this.",
      go: toAdmin ? "Make admin" : "Make member",
      danger: !toAdmin,
      run: () => this.#change(user, { role: toAdmin ? "admin" : "member" }),
      focusAfter: () => this.#returnTo(user.id, "role"),
    });
  }

  /** @param {User} user */
  #changeActive(user) {
    const me = user.id === this.on.world().me.id;
    const name = user.name;
    const text = !user.active
      ? `${name} will be able to log in again, with their old password. Invitations and ` +
        "reset links they had before stay revoked."
      : me
        ? "You will be logged out everywhere at once, and cannot log in until another admin " +
          "reactivates you. Your messages stay."
        : `${name} will be logged out everywhere at once and cannot log in until reactivated; ` +
          "their messages stay, and so does their name. Their open invitations and " +
          "password-reset links stop working for good.";
    this.on.confirm({
      title: user.active ? `Deactivate ${me ? "your account" : name}?` : `Reactivate ${name}?`,
      text,
      go: user.active ? "Deactivate" : "Reactivate",
      danger: user.active,
      run: async () => {
        const problem = await this.#change(user, { active: !user.active });
        // Their invitations went with them: the list below must not offer them.
        if (problem === null) this.invitations.load();
        return problem;
      },
      focusAfter: () => this.#returnTo(user.id, "active"),
    });
  }

  /**
   * Asks the server for a change to a user.
   * @param {User} user
   * @param {{role?: string, active?: boolean}} change
   * @returns {Promise<string | null>} why it was refused, or null once done
   */
  async #change(user, change) {
    const reply = await post(`/api/users/${encodeURIComponent(user.id)}`, change);
    if (reply.status === 202) {
      this.on.changed(reply.data);
      return null;
    }
    if (reply.status === 401) {
      this.on.sessionEnded();
      return null;
    }
    if (reply.status === 404) return `${user.name} is not on this server any more.`;
    // 409: the last active admin, most often; 403: no longer an admin. The server's words.
    return `Not changed: ${reply.detail}`;
  }

  /** @param {User} user */
  async #resetLink(user) {
    const dialog = this.resetDialog;
    const status = slot(dialog, "reset-status");
    const ready = slot(dialog, "reset-ready");
    const copy = find(dialog, '[data-action="copy-reset"]');
    slot(dialog, "reset-title").textContent = `Password reset link for ${user.name}`;
    showError(dialog, "reset", "");
    slot(dialog, "reset-copy-status").textContent = "";
    status.hidden = false;
    status.textContent = "Making a link…";
    ready.hidden = true;
    copy.hidden = true;
    dialog.addEventListener("close", () => this.#returnTo(user.id, "reset")?.focus(), {
      once: true,
    });
    dialog.showModal();
    const reply = await post(`/api/users/${encodeURIComponent(user.id)}/reset`);
    status.hidden = true;
    if (reply.status === 200) {
      const until = new Date(reply.data.expires_at);
      slot(dialog, "reset-label").textContent =
        `Send this link to ${user.name}, and only to them: whoever opens it can set a new ` +
        `password for ${user.name} and log in as them. It works once, until ` +
        `${untilFormat.format(until)}; an older link for them stops working now. Their ` +
        "current password works until the link is used.";
      ready.hidden = false;
      copy.hidden = false;
      showLink(
        slot(dialog, "reset-link", HTMLInputElement),
        `/reset/${encodeURIComponent(reply.data.id)}`,
      );
    } else if (reply.status === 401) {
      this.on.sessionEnded();
    } else {
      showError(dialog, "reset", `No link made: ${reply.detail}`);
    }
  }

  async #copyReset() {
    await copyLink(
      slot(this.resetDialog, "reset-link", HTMLInputElement),
      slot(this.resetDialog, "reset-copy-status"),
      "Copied. Send it to them in a message only they can read.",
    );
  }
}

const untilFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** @param {number} n @param {string} noun */
function plural(n, noun) {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/**
 * A small label beside a name ("you", "admin", "deactivated").
 * @param {string} text
 * @param {string} kind a class for its colour
 */
function tag(text, kind) {
  const el = document.createElement("span");
  el.className = kind ? `tag ${kind}` : "tag";
  el.textContent = text;
  return el;
}

/**
 * @param {string} key which action (data-member)
 * @param {string} text what it shows
 * @param {string} label its accessible name: the text first (as shown), then whom it is for
 */
function button(key, text, label) {
  const el = document.createElement("button");
  el.type = "button";
  el.className = "quiet small";
  el.dataset.member = key;
  el.textContent = text;
  el.setAttribute("aria-label", label);
  return el;
}
