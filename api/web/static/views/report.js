// Reporting what one can see to the moderators: a message or a file, with a reason and an optional
// note (POST /api/v1/moderation/flags). A second report of the same item gets its own answer.

import * as api from "../api.js";
import { h, randomId } from "../dom.js";
import { openDialog } from "./dialog.js";
import { REASONS } from "./moderation_common.js";

// The console's reason list also names what only the system files (rule hits, appeals).
const FLAG_REASONS = REASONS.filter(([value]) => value !== "rule" && value !== "appeal");
const MAX_NOTE = 1000;

/** Report `item` (`{message_id}` or `{attachment_id}`); `what` names it in the title ("message", "file"). */
export function openReport(item, what = "message") {
  const id = `report-${randomId()}`;
  const reasons = h("fieldset", { class: "report-reasons" }, h("legend", {}, "What is wrong with it?"),
    FLAG_REASONS.map(([value, label]) => h("label", { class: "check" }, h("input", { type: "radio", name: `${id}-reason`, value }), label)));
  const note = h("textarea", { id: `${id}-note`, rows: "3", maxlength: String(MAX_NOTE) });
  const status = h("p", { class: "error", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary" }, "Send report");
  const form = h("form", { class: "report-form", novalidate: true },
    h("p", { class: "muted" }, "Only moderators see your report. The author is not told who sent it."),
    reasons,
    h("div", { class: "field" }, h("label", { for: `${id}-note` }, "Anything moderators should know (optional)"), note),
    status,
    h("div", { class: "dialog-buttons" }, submit, h("button", { type: "button", on: { click: () => dialog.close() } }, "Cancel")));
  const dialog = openDialog(`Report this ${what}`, form, { className: "report" });
  reasons.querySelector("input").focus();

  const done = (text) => {
    const close = h("button", { type: "button", class: "primary", on: { click: () => dialog.close() } }, "Done");
    form.replaceChildren(h("p", { class: "report-done", role: "status" }, text), h("div", { class: "dialog-buttons" }, close));
    close.focus();
  };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const chosen = reasons.querySelector("input:checked");
    if (!chosen) {
      status.textContent = "Choose what is wrong with it.";
      return;
    }
    submit.disabled = true;
    status.textContent = "";
    try {
      await api.post("/api/v1/moderation/flags", { ...item, reason: chosen.value, note: note.value.trim() });
      done("Thank you. A moderator will review it, and you will hear when they have.");
    } catch (error) {
      if (error.code === "already_flagged") done("You have reported this already. A moderator will review it.");
      else {
        status.textContent = error.message;
        submit.disabled = false;
      }
    }
  });
}
