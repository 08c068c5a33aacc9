// Appealing, once, a moderator's action against oneself: a hidden or deleted message, a mute, a
// warning (GET /api/v1/moderation/actions/mine, then POST /api/v1/moderation/appeals).

import * as api from "../api.js";
import { formatFull, h, randomId } from "../dom.js";
import { openDialog } from "./dialog.js";

const DID = {
  hide: "hid your message", delete: "deleted your message", reject: "rejected your message",
  mute: "muted you", warn: "warned you", suspend: "suspended your account",
};
const STANDING = { pending: "a moderator has yet to decide", upheld: "the decision was upheld", overturned: "the decision was overturned" };
const MAX_STATEMENT = 2000;

/** Offer to appeal the action `actionId` against me, or the newest on `messageId`, or of `kind` (e.g. "mute"). */
export async function openAppeal({ actionId = null, messageId = null, kind = null } = {}) {
  const body = h("div", { class: "appeal-body" }, h("p", { class: "muted", role: "status" }, "Loading…"));
  const dialog = openDialog("Appeal a moderator's decision", body, { className: "appeal" });
  let actions;
  try {
    actions = await api.get(`/api/v1/moderation/actions/mine${api.qs({ message_id: messageId })}`);
  } catch (error) {
    body.replaceChildren(h("p", { class: "error", role: "alert" }, error.message));
    return;
  }
  const action = actions.find((a) => (actionId ? a.id === actionId : !kind || a.kind === kind));
  if (!action) {
    body.replaceChildren(h("p", { role: "status" }, "There is no decision of a moderator to appeal here."));
    return;
  }
  const what = h("div", { class: "appeal-what" },
    h("p", {}, `A moderator ${DID[action.kind] || action.kind} on ${formatFull(action.created_at)}.`),
    h("p", {}, h("strong", {}, "Reason: "), action.reason));
  const close = () => h("div", { class: "dialog-buttons" }, h("button", { type: "button", class: "primary", on: { click: () => dialog.close() } }, "Done"));
  const answer = (text) => {
    body.replaceChildren(what, h("p", { class: "appeal-done", role: "status" }, text), close());
    body.querySelector(".dialog-buttons button").focus();
  };
  if (action.appeal_status) {
    answer(`You have appealed this already: ${STANDING[action.appeal_status] || action.appeal_status}.`);
    return;
  }
  const id = `appeal-${randomId()}`;
  const statement = h("textarea", { id: `${id}-statement`, rows: "4", maxlength: String(MAX_STATEMENT), required: true });
  const status = h("p", { class: "error", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary" }, "Send appeal");
  const form = h("form", { class: "appeal-form", novalidate: true },
    h("div", { class: "field" }, h("label", { for: `${id}-statement` }, "Why should it be looked at again?"), statement),
    h("p", { class: "muted" }, "You can appeal once. A different moderator will decide."),
    status, h("div", { class: "dialog-buttons" }, submit));
  body.replaceChildren(what, form);
  statement.focus();
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!statement.value.trim()) {
      status.textContent = "Say why in a few words.";
      return;
    }
    submit.disabled = true;
    try {
      await api.post("/api/v1/moderation/appeals", { action_id: action.id, statement: statement.value.trim() });
      answer("Your appeal was sent. A different moderator will review it.");
    } catch (error) {
      if (error.code === "already_appealed") answer("You have appealed this already.");
      else {
        status.textContent = error.message;
        submit.disabled = false;
      }
    }
  });
}
