// The account actions in the sidebar's footer: "Invite someone" (a dialog that shows one's
// newest open one-use link, or makes one, with when it expires, and copies it), "Change name" (rename.js does the renaming), "Change
// password" (a dialog: the current password, and the new one twice, checked against the
// server's length limits: limits.js), "Log out", and "Turn on notifications" (shown while
// the browser has not been asked, or has allowed notifications but this browser does not
// yet receive this person's pushes: the question comes only from this click, never on load,
// notify.js; the pushes, for when no page of parlour is open, push.js). They are here
// together because each acts on the person logged in, not on a channel.

import { get, post } from "./api.js";
import {
  clearErrors,
  field,
  find,
  focusFirstError,
  onActions,
  onSubmit,
  showError,
  slot,
} from "./dom.js";
import { passwordLength, serverLimits, showLimits } from "./limits.js";
import { askForNotifications, notificationPermission } from "./notify.js";
import { enablePush, pushState, resumePush } from "./push.js";
import { expiryText } from "./invitations.js";
import { copyLink, showLink } from "./share-link.js";

/**
 * @typedef {{
 *   me: () => import("./world.js").User,
 *   rename: () => void,
 *   invited: () => void,
 *   invitations: () => void,
 *   sessionEnded: () => void,
 *   logOut: () => Promise<string | null>,
 * }} AccountHandlers
 *   rename: open the rename dialog for oneself; invited: a link was issued;
 *   invitations: show the list of open invitations
 */

export class Account {
  /**
   * @param {HTMLElement} view the chat view (holds the footer's buttons and both dialogs)
   * @param {AccountHandlers} on logOut: a problem in words, or null once logged out
   */
  constructor(view, on) {
    this.view = view;
    this.on = on;
    this.inviteDialog = slot(view, "invite-dialog", HTMLDialogElement);
    this.passwordDialog = slot(view, "password-dialog", HTMLDialogElement);
    this.passwordForm = find(this.passwordDialog, "form", HTMLFormElement);
    showLimits(this.passwordForm);
    onActions(view, {
      invite: () => this.#invite(),
      "another-invite": () => this.#makeInvite(),
      "copy-invite": () => this.#copyInvite(),
      "open-invitations": () => {
        this.inviteDialog.close();
        this.on.invitations();
      },
      "rename-me": () => this.on.rename(),
      password: () => this.#openPassword(),
      "close-password": () => this.passwordDialog.close(),
      logout: () => this.#logOut(),
      notifications: () => this.#turnOnNotifications(),
    });
    onSubmit(this.passwordForm, () => this.#changePassword());
    this.notificationsButton = slot(view, "notifications");
    this.notificationsStatus = slot(view, "notifications-status");
    // Set when subscribing failed on this page: the button does not offer it again.
    this.pushFailed = false;
    this.#showNotifications();
    // Hands the server this browser's subscription again, if this person turned pushes on
    // here (a new session starts with none). Never prompts.
    void resumePush(on.me().id);
  }

  /**
   * "Turn on notifications" shows while the browser could still be asked, or while it
   * allows notifications but could receive this person's pushes and does not (they were
   * allowed for someone else, or before parlour sent pushes).
   */
  #showNotifications() {
    const permission = notificationPermission();
    this.notificationsButton.hidden = permission !== "default";
    if (permission !== "granted" || this.pushFailed) return;
    void pushState().then((state) => {
      if (notificationPermission() === "granted" && !this.pushFailed) {
        this.notificationsButton.hidden = state !== "disabled";
      }
    });
  }

  async #turnOnNotifications() {
    const permission = await askForNotifications();
    let text = "";
    if (permission === "granted") {
      const pushed = await enablePush(this.on.me().id);
      this.pushFailed = !pushed.ok;
      text = pushed.ok
        ? "Notifications are on: new messages you follow show while parlour is out of " +
          "sight, and reach this browser while parlour is closed."
        : "Notifications are on while parlour is open here, out of sight. " +
          `This browser will not receive them while parlour is closed: ${pushReason(pushed)}`;
    } else if (permission === "denied") {
      text = "Notifications are blocked for this site; the browser's site settings can allow them.";
    }
    this.#showNotifications();
    this.notificationsStatus.textContent = text;
  }

  /** Closes the dialogs (the chat is going away). */
  close() {
    this.inviteDialog.close();
    this.passwordDialog.close();
  }

  /**
   * Opens "Invite someone" with one's newest open invitation, if there is one: opening the
   * dialog to copy the link again makes no new one (each would be one more way in, valid
   * for a day). "New link" makes another.
   */
  async #invite() {
    const dialog = this.inviteDialog;
    dialog.showModal();
    this.#showInvite(null, "Looking for your open invitations…");
    const reply = await get("/api/invites");
    if (!dialog.open) return;
    if (reply.status === 401) return this.on.sessionEnded();
    /** @type {{id: string, issuer: {id: string}, expires_at: string}[]} */
    const mine =
      reply.status === 200
        ? reply.data.invites.filter(
            (/** @type {any} */ i) => i.issuer.id === this.on.me().id && isLater(i.expires_at),
          )
        : [];
    if (!mine.length) {
      this.#makeInvite();
      return;
    }
    mine.sort((a, b) => Date.parse(b.expires_at) - Date.parse(a.expires_at));
    const others = mine.length - 1;
    this.#showInvite(
      mine[0],
      `This is your newest open invitation${
        others ? `; you have ${others === 1 ? "one other" : `${others} others`}` : ""
      }. “Open invitations” lists them; “New link” makes another.`,
    );
  }

  /**
   * Shows an invitation's link and expiry in the dialog, or (null) only a status.
   * @param {{id: string, expires_at: string} | null} invite
   * @param {string} said
   */
  #showInvite(invite, said) {
    const dialog = this.inviteDialog;
    const status = slot(dialog, "invite-status");
    const ready = slot(dialog, "invite-ready");
    showError(dialog, "invite", "");
    slot(dialog, "copy-status").textContent = "";
    status.hidden = said === "";
    status.textContent = said;
    ready.hidden = invite === null;
    find(dialog, '[data-action="copy-invite"]').hidden = invite === null;
    find(dialog, '[data-action="another-invite"]').hidden = invite === null;
    if (!invite) return;
    slot(dialog, "invite-expiry").textContent = `It expires ${expiryText(invite.expires_at)}.`;
    showLink(
      slot(dialog, "invite-link", HTMLInputElement),
      `/invite/${encodeURIComponent(invite.id)}`,
    );
  }

  async #makeInvite() {
    const dialog = this.inviteDialog;
    this.#showInvite(null, "Making a link…");
    const reply = await post("/api/invite");
    if (reply.status === 200) {
      this.#showInvite(reply.data, "");
      this.on.invited();
      return;
    }
    slot(dialog, "invite-status").hidden = true;
    if (reply.status === 401) {
      this.on.sessionEnded();
    } else if (reply.status === 403) {
      // The operator runs the server with `--who-can-invite admins`.
      showError(
        dialog,
        "invite",
        "Only admins may invite people to this server. Ask an admin for an invitation link.",
      );
    } else {
      // "New link" tries again.
      find(dialog, '[data-action="another-invite"]').hidden = false;
      showError(dialog, "invite", `No link made: ${reply.detail}`);
    }
  }

  async #copyInvite() {
    await copyLink(
      slot(this.inviteDialog, "invite-link", HTMLInputElement),
      slot(this.inviteDialog, "copy-status"),
      "Copied. Paste it into a message to the person you invite.",
    );
  }

  #openPassword() {
    const dialog = this.passwordDialog;
    const form = this.passwordForm;
    form.reset();
    clearErrors(form);
    // For password managers: which account the new password belongs to.
    slot(dialog, "pw-user", HTMLInputElement).value = this.on.me().name;
    slot(dialog, "password-done").textContent = "";
    find(dialog, '[data-action="close-password"]').textContent = "Cancel";
    dialog.showModal();
    const current = form.elements.namedItem("current");
    if (current instanceof HTMLInputElement) current.focus();
  }

  async #changePassword() {
    const form = this.passwordForm;
    clearErrors(form);
    const done = slot(form, "password-done");
    done.textContent = "";
    const current = field(form, "current");
    const to = field(form, "to");
    const { newPasswordMin, newPasswordMax } = await serverLimits();
    if (!current) showError(form, "current", "Enter your current password.");
    if (passwordLength(to) < newPasswordMin) {
      showError(form, "to", `Use at least ${newPasswordMin} characters.`);
    } else if (passwordLength(to) > newPasswordMax) {
      showError(form, "to", `Use at most ${newPasswordMax} characters.`);
    } else if (field(form, "again") !== to) {
      showError(form, "again", "The two new passwords are different.");
    }
    if (form.querySelector("[aria-invalid]")) {
      focusFirstError(form);
      return;
    }
    const reply = await post("/api/password", { password: current, to });
    if (reply.status === 200) {
      form.reset();
      done.textContent = "Password changed. Your other sessions have been logged out.";
      const close = find(form, '[data-action="close-password"]');
      close.textContent = "Close";
      close.focus();
      return;
    }
    if (reply.status === 401) return this.on.sessionEnded();
    if (reply.status === 403) showError(form, "current", "That is not your current password.");
    else if (reply.status === 400 && /password/i.test(reply.detail))
      showError(form, "to", reply.detail);
    else showError(form, "form", reply.detail);
    focusFirstError(form);
  }

  async #logOut() {
    showError(this.view, "logout", "");
    const problem = await this.on.logOut();
    if (problem) showError(this.view, "logout", problem);
  }
}

/** Whether a time is still to come. @param {string} iso */
function isLater(iso) {
  return Date.parse(iso) > Date.now();
}

/**
 * Why pushes could not be turned on, in words.
 * @param {import("./push.js").PushResult} result
 */
function pushReason(result) {
  if (result.ok) return "";
  if (result.state === "unsupported") return "it cannot receive pushes.";
  if (result.state === "off") return "this server does not send them.";
  return `subscribing failed (${result.detail}).`;
}
