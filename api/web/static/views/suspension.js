// Appealing a suspension from the sign-in screen: a suspended user has no session, so their email
// and password stand in for one (POST /api/v1/moderation/suspension-appeals). Route: #/suspension-appeal.

import * as api from "../api.js";
import { h } from "../dom.js";

const ANSWERS = {
  invalid_credentials: "Wrong email or password.",
  not_found: "This account is not suspended. Go back and sign in.",
  already_appealed: "You have appealed this suspension already. A moderator will review it.",
};

/** Render the appeal form into `root`; `onBack` returns to signing in. */
export function suspensionAppeal(root, { email = "", onBack }) {
  const error = h("p", { class: "error", role: "alert", id: "appeal-error" });
  const emailInput = h("input", { id: "appeal-email", name: "email", type: "email", autocomplete: "username", required: true, value: email });
  const password = h("input", { id: "appeal-password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const tenant = h("input", { id: "appeal-tenant", name: "tenant", type: "text", autocomplete: "organization", placeholder: "only if asked" });
  const statement = h("textarea", { id: "appeal-statement", name: "statement", rows: "5", maxlength: "2000", required: true });
  const submit = h("button", { type: "submit", class: "primary" }, "Send appeal");
  const back = h("button", { type: "button", class: "link", on: { click: onBack } }, "Back to sign in");
  const form = h("form", { class: "card login suspension-appeal", "aria-labelledby": "appeal-title", novalidate: true },
    h("h1", { id: "appeal-title" }, "Appeal a suspension"),
    h("p", { class: "muted" }, "A suspended account cannot sign in. Confirm it is yours and say why the suspension should be lifted; a moderator other than the one who suspended you decides. You can appeal once."),
    h("div", { class: "field" }, h("label", { for: "appeal-email" }, "Email"), emailInput),
    h("div", { class: "field" }, h("label", { for: "appeal-password" }, "Password"), password),
    h("div", { class: "field" }, h("label", { for: "appeal-tenant" }, "Organisation (optional)"), tenant),
    h("div", { class: "field" }, h("label", { for: "appeal-statement" }, "Why should it be lifted?"), statement),
    error, submit, back);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    if (!emailInput.value.trim() || !password.value || !statement.value.trim()) {
      error.textContent = "Enter your email, your password and why the suspension should be lifted.";
      return;
    }
    submit.disabled = true;
    const body = { email: emailInput.value.trim(), password: password.value, statement: statement.value.trim() };
    if (tenant.value.trim()) body.tenant = tenant.value.trim();
    try {
      await api.post("/api/v1/moderation/suspension-appeals", body, { quiet401: true });
      form.replaceChildren(h("h1", { id: "appeal-title" }, "Appeal sent"),
        h("p", { role: "status", class: "appeal-done" }, "Your appeal was sent. A moderator will review it; if the suspension is lifted you can sign in again."),
        back);
      back.focus();
    } catch (err) {
      error.textContent = ANSWERS[err.code] || err.message;
      submit.disabled = false;
    }
  });
  root.replaceChildren(h("main", { class: "center" }, form));
  (email ? password : emailInput).focus();
}
