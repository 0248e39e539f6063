// "New channel": the small form that opens under the channel list. A channel is public
// (everyone sees it) or private (only its members do: the form then offers everyone else to
// pick from). It checks what it can before asking (a name, within the server's length
// limit: limits.js), explains a taken public name by naming the channel that has it (names
// match as the server compares them; private names are never compared), and shows any other
// refusal in the server's own words next to the field: which characters a name may hold is
// the server's rule alone.

import { post } from "./api.js";
import { clearErrors, field, find, focusFirstError, onSubmit, showError, slot } from "./dom.js";
import { serverLimits, textLength } from "./limits.js";
import { refusedMember, UserPicker } from "./user-picker.js";

/**
 * @typedef {import("./world.js").Channel} Channel
 * @typedef {import("./world.js").User} User
 */

/**
 * @typedef {{
 *   opening: () => void,
 *   created: (channel: Channel) => void,
 *   named: (name: string) => Channel | null,
 *   others: () => User[],
 *   nameOf: (userId: string) => string,
 *   sessionEnded: () => void,
 * }} NewChannelHandlers
 *   others: the people who could be a private channel's members besides oneself
 */

export class NewChannel {
  /**
   * @param {HTMLElement} view the chat view (holds the form and its toggle button)
   * @param {NewChannelHandlers} on opening: the form is about to show; created: the server
   *   made the channel; named: the known channel with a name, as the server compares names
   */
  constructor(view, on) {
    this.form = find(view, ".new-channel", HTMLFormElement);
    this.toggle = find(view, '[data-action="new-channel"]');
    this.on = on;
    this.members = slot(this.form, "new-channel-members");
    this.picker = new UserPicker(slot(this.form, "new-channel-picker"), "Members");
    this.form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.show(false);
    });
    this.form.addEventListener("change", (event) => {
      if (event.target instanceof HTMLInputElement && event.target.name === "kind") {
        this.#showMembers();
      }
    });
    onSubmit(this.form, () => this.#create());
  }

  #isPrivate() {
    return field(this.form, "kind") === "private";
  }

  /** The member picker shows for a private channel, offering everyone else. */
  #showMembers() {
    const open = this.#isPrivate();
    if (open && this.members.hidden) {
      this.picker.show(this.on.others(), "Nobody else is here yet: invite someone first.");
    }
    this.members.hidden = !open;
  }

  /** Opens (or closes) the form; closing empties it and gives focus back to the toggle. */
  show(/** @type {boolean} */ open) {
    const { form, toggle } = this;
    form.hidden = !open;
    toggle.hidden = open;
    toggle.setAttribute("aria-expanded", String(open));
    clearErrors(form);
    if (open) {
      this.on.opening();
      this.#nameInput().focus();
    } else {
      form.reset();
      this.members.hidden = true;
      toggle.focus();
    }
  }

  #nameInput() {
    const input = this.form.elements.namedItem("name");
    if (!(input instanceof HTMLInputElement)) throw new Error("no channel name field");
    return input;
  }

  async #create() {
    const form = this.form;
    clearErrors(form);
    const name = field(form, "name").trim();
    const { channelNameMax } = await serverLimits();
    if (!name) showError(form, "name", "Enter a name for the channel.");
    else if (textLength(name) > channelNameMax)
      showError(form, "name", `A channel name can be at most ${channelNameMax} characters.`);
    if (form.querySelector("[aria-invalid]")) {
      focusFirstError(form);
      return;
    }
    const request = this.#isPrivate()
      ? { name, kind: "private", members: this.picker.chosen() }
      : { name };
    const reply = await post("/api/channels", request);
    if (reply.status === 202) {
      this.show(false);
      this.on.created(reply.data);
      return;
    }
    if (reply.status === 401) return this.on.sessionEnded();
    const refused = reply.status === 400 ? refusedMember(reply.detail) : null;
    if (refused) {
      // A member the server refused (deactivated meanwhile): its words name only the id.
      const who = this.on.nameOf(refused);
      showError(form, "members", `${who} can't be a member: they are no longer active.`);
    } else if (reply.status === 409) {
      const existing = this.on.named(name);
      showError(
        form,
        "name",
        existing
          ? `Name taken: there is already a channel called “${existing.name}”.`
          : "Name taken: pick another name.",
      );
    } else {
      showError(form, "name", reply.detail);
    }
    focusFirstError(form);
  }
}
