// What Enter does in a box that sends (the compose box, a message being edited). With a
// mouse and a keyboard, Enter sends and Shift+Enter adds a line, as in every chat. On a touch
// screen (a coarse pointer: a phone, a tablet without a mouse) the on-screen keyboard has no
// Shift+Enter, so its Enter adds a line, as it does in every other text box there, and the
// box's button sends. `enterkeyhint` labels the on-screen key to match ("send" or a return
// arrow). A tablet that gains a mouse or loses one changes mode as it happens.

const COARSE = matchMedia("(pointer: coarse)");

/** Whether Enter (without Shift) sends here, now. */
export function enterSends() {
  return !COARSE.matches;
}

/**
 * Whether a key press is an Enter that should send: not with Shift (a new line), not an
 * input method picking a word (229: Safari's way), not a shortcut, not on a touch screen.
 * @param {KeyboardEvent} event
 */
export function isSendingEnter(event) {
  if (event.key !== "Enter" || event.shiftKey) return false;
  if (event.isComposing || event.keyCode === 229) return false;
  if (event.ctrlKey || event.altKey || event.metaKey) return false;
  return enterSends();
}

/**
 * Keeps a box's `enterkeyhint` (and whatever else depends on the mode) in step with the
 * pointer: now, and whenever it changes.
 * @param {HTMLTextAreaElement} box
 * @param {(sends: boolean) => void} [changed] also told the mode, now and on each change
 * @returns {() => void} stops following
 */
export function followEnterMode(box, changed = () => {}) {
  const apply = () => {
    const sends = enterSends();
    box.enterKeyHint = sends ? "send" : "enter";
    changed(sends);
  };
  apply();
  COARSE.addEventListener("change", apply);
  return () => COARSE.removeEventListener("change", apply);
}
