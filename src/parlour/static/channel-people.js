// Who is in a private channel or a direct conversation: a dialog opened from the room's
// header, listing its members. In a private channel any member may add people and leave
// (asked first: to come back, someone must add you again), and an admin who is a member may
// remove others. A direct conversation's members are fixed: the list is all there is.
// Changes show at once from the server's answer; the other members see them by their event.

import { del, post } from "./api.js";
import { find, onActions, onSubmit, paintAvatar, showError, slot } from "./dom.js";
import { refusedMember, UserPicker } from "./user-picker.js";

/**
 * @typedef {import("./world.js").World} World
 * @typedef {import("./world.js").Channel} Channel
 * @typedef {import("./world.js").User} User
 * @typedef {import("./confirm.js").Question} Question
 */

/**
 * @typedef {{
 *   world: () => World,
 *   confirm: (question: Question) => Promise<boolean>,
 *   changed: (channel: any) => void,
 *   sessionEnded: () => void,
 * }} ChannelPeopleHandlers
 *   changed: the server accepted a change to the channel's members (its answer: the channel)
 */

export class ChannelPeople {
  /**
   * @param {HTMLElement} view the chat view (holds the dialog)
   * @param {ChannelPeopleHandlers} on
   */
  constructor(view, on) {
    this.on = on;
    this.dialog = slot(view, "people-dialog", HTMLDialogElement);
    this.list = slot(this.dialog, "people-list", HTMLUListElement);
    this.addForm = slot(this.dialog, "people-add", HTMLFormElement);
    this.picker = new UserPicker(slot(this.dialog, "people-picker"), "People to add");
    this.leaveButton = find(this.dialog, '[data-action="leave-channel"]');
    /** @type {string | null} the channel shown */
    this.channelId = null;
    /** @type {HTMLElement | null} where focus goes back to on closing */
    this.opener = null;
    onActions(this.dialog, {
      "close-people": () => this.dialog.close(),
      "leave-channel": () => this.#leave(),
    });
    onSubmit(this.addForm, () => this.#add());
    this.list.addEventListener("click", (event) => {
      const button = /** @type {HTMLElement} */ (event.target).closest("button[data-remove]");
      if (button instanceof HTMLElement) this.#remove(button.dataset.remove ?? "");
    });
    this.dialog.addEventListener("close", () => {
      this.channelId = null;
      if (this.opener?.isConnected) this.opener.focus();
    });
  }

  /** Shows a channel's members. @param {string} channelId */
  open(channelId) {
    const channel = this.on.world().channels.get(channelId);
    if (!channel?.members) return;
    this.opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    this.channelId = channelId;
    this.#render(channel, true);
    showError(this.dialog, "people", "");
    if (!this.dialog.open) this.dialog.showModal();
    find(this.dialog, "h2").focus();
  }

  /** Closes the dialog (the chat is going away). */
  close() {
    this.dialog.close();
  }

  /**
   * A channel's members changed, someone was renamed, or one's role changed: shows it, if
   * open. A channel that left view closes it.
   */
  refresh() {
    if (!this.dialog.open || this.channelId === null) return;
    const channel = this.on.world().channels.get(this.channelId);
    if (!channel?.members) {
      this.dialog.close();
      return;
    }
    this.#render(channel, false);
  }

  /**
   * @param {Channel} channel
   * @param {boolean} fresh a new opening: offer the people to add afresh (else keep what is
   *   ticked and typed)
   */
  #render(channel, fresh) {
    const world = this.on.world();
    const members = channel.members ?? [];
    const isPrivate = channel.kind === "private";
    const removes = isPrivate && world.isAdmin() && members.includes(world.me.id);
    slot(this.dialog, "people-title").textContent =
      channel.kind === "direct"
        ? "Members of this conversation"
        : `Members of ${world.title(channel)}`;
    slot(this.dialog, "people-count").textContent =
      `${members.length} ${members.length === 1 ? "member" : "members"}`;
    this.list.replaceChildren(...members.map((id) => this.#row(world, id, removes)));
    this.addForm.hidden = !isPrivate;
    this.leaveButton.hidden = !isPrivate;
    if (!isPrivate) return;
    const others = Array.from(world.users.values()).filter(
      (u) => u.active && !members.includes(u.id),
    );
    const keep = fresh ? null : this.picker.chosen();
    this.picker.show(others, "Everyone here is a member already.", keep);
  }

  /**
   * @param {World} world
   * @param {string} id
   * @param {boolean} removes whether others may be removed here
   */
  #row(world, id, removes) {
    const user = world.users.get(id) ?? { id, name: world.userName(id), active: true };
    const me = id === world.me.id;
    const li = document.createElement("li");
    li.className = "member";
    li.dataset.user = id;
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
    if (!user.active) who.append(" ", tag("deactivated", "off"));
    li.append(avatar, who);
    if (removes && !me) {
      const actions = document.createElement("div");
      actions.className = "member-actions";
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "quiet small";
      remove.dataset.remove = id;
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", `Remove ${user.name}`);
      actions.append(remove);
      li.append(actions);
    }
    return li;
  }

  /** @returns {Channel | undefined} */
  #channel() {
    return this.channelId === null ? undefined : this.on.world().channels.get(this.channelId);
  }

  async #add() {
    const channel = this.#channel();
    if (!channel) return;
    showError(this.dialog, "people", "");
    const chosen = this.picker.chosen();
    if (!chosen.length) {
      showError(this.dialog, "people", "Tick the people to add first.");
      return;
    }
    const world = this.on.world();
    /** @type {string[]} */
    const problems = [];
    for (const user of chosen) {
      const reply = await post(`/api/channels/${encodeURIComponent(channel.id)}/members`, {
        user,
      });
      if (reply.status === 202) this.on.changed(reply.data);
      else if (reply.status === 401) return this.on.sessionEnded();
      else if (reply.status === 404) {
        problems.push("This channel no longer exists.");
        break;
      } else if (reply.status === 409) continue; // a member already: added meanwhile
      else if (reply.status === 400 && refusedMember(reply.detail)) {
        problems.push(`${world.userName(user)} can't be added: they are no longer active.`);
      } else problems.push(`${world.userName(user)} was not added: ${reply.detail}`);
    }
    if (this.dialog.open) showError(this.dialog, "people", problems.join(" "));
  }

  async #leave() {
    const channel = this.#channel();
    if (!channel) return;
    const world = this.on.world();
    const name = world.title(channel);
    const last = (channel.members ?? []).length <= 1;
    const opener = this.opener;
    this.dialog.close();
    await this.on.confirm({
      title: `Leave ${name}?`,
      text: last
        ? `You are its last member: leaving deletes ${name} and its messages, for good.`
        : `You will stop seeing ${name} and its messages at once. To come back, someone ` +
          "in it must add you again.",
      go: "Leave channel",
      danger: true,
      run: () => this.#sendRemove(channel.id, world.me.id),
      focusAfter: () => (opener?.isConnected ? opener : null),
    });
  }

  /** @param {string} userId */
  async #remove(userId) {
    const channel = this.#channel();
    if (!channel) return;
    const world = this.on.world();
    const name = world.title(channel);
    const who = world.userName(userId);
    await this.on.confirm({
      title: `Remove ${who} from ${name}?`,
      text:
        `${who} will stop seeing ${name} and its messages at once. Any member can add ` +
        "them back later.",
      go: "Remove",
      danger: true,
      run: () => this.#sendRemove(channel.id, userId),
      focusAfter: () =>
        this.dialog.open
          ? (this.list.querySelector(`[data-remove="${CSS.escape(userId)}"]`) ??
            find(this.dialog, "h2"))
          : null,
    });
  }

  /**
   * @param {string} channelId
   * @param {string} userId
   * @returns {Promise<string | null>} why it was refused, or null once done
   */
  async #sendRemove(channelId, userId) {
    const reply = await del(
      `/api/channels/${encodeURIComponent(channelId)}/members/${encodeURIComponent(userId)}`,
    );
    if (reply.status === 202) {
      this.on.changed(reply.data);
      return null;
    }
    if (reply.status === 401) {
      this.on.sessionEnded();
      return null;
    }
    // Not a member any more, or the channel is gone: what was asked for is so.
    if (reply.status === 404) return null;
    return reply.status === 403
      ? "Only an admin can remove someone else."
      : `Not done: ${reply.detail}`;
  }
}

/**
 * A small label beside a name ("you", "deactivated").
 * @param {string} text
 * @param {string} kind a class for its colour
 */
function tag(text, kind) {
  const el = document.createElement("span");
  el.className = kind ? `tag ${kind}` : "tag";
  el.textContent = text;
  return el;
}
