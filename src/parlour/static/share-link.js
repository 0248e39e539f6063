// A link shown to be passed on by hand (an invitation, a password-reset link): put in a
// read-only field, selected so that Ctrl+C works at once, and copied by a button where the
// browser allows it. parlour sends no e-mail, so this is how such links travel.

/**
 * Shows a link in its field, selected and scrolled to its start.
 * @param {HTMLInputElement} input
 * @param {string} path the link's path on this server (/invite/…, /reset/…)
 */
export function showLink(input, path) {
  input.value = new URL(path, location.origin).href;
  input.focus();
  input.select();
  input.scrollLeft = 0;
}

/**
 * Copies the field's link, and says so (or says how to copy it by hand).
 * @param {HTMLInputElement} input
 * @param {HTMLElement} said a role=status element
 * @param {string} copied what to say once copied
 */
export async function copyLink(input, said, copied) {
  try {
    await navigator.clipboard.writeText(input.value);
    said.textContent = copied;
  } catch {
    input.focus();
    input.select();
    said.textContent = "Copying is not allowed here: the link is selected, press Ctrl+C (or ⌘C).";
  }
}
