// A modal dialog over the page (the browser's own <dialog>: focus stays inside, Escape closes it,
// focus returns to what opened it). Removed from the page once closed.

import { h, randomId } from "../dom.js";

/**
 * Show a modal titled `title` with `content` (nodes); returns `{el, close}`.
 * `onClose` runs once when it closes by any means.
 */
export function openDialog(title, content, { className = "", onClose = () => {} } = {}) {
  const titleId = `dialog-${randomId()}`;
  const opener = document.activeElement;
  const el = h("dialog", { class: `dialog ${className}`.trim(), "aria-labelledby": titleId },
    h("div", { class: "dialog-head" },
      h("h2", { id: titleId }, title),
      h("button", { type: "button", class: "dialog-close", "aria-label": "Close", on: { click: () => el.close() } }, "×")),
    content);
  el.addEventListener("close", () => {
    el.remove();
    onClose();
    if (opener && opener.isConnected) opener.focus();
  });
  document.body.append(el);
  el.showModal();
  return { el, close: () => el.close() };
}
