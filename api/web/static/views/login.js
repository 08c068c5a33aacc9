// Sign in: email and password, then a TOTP (or recovery) code when the account has one.

import * as api from "../api.js";
import { h } from "../dom.js";
import { suspensionAppeal } from "./suspension.js";

const APPEAL_HASH = "#/suspension-appeal";

/** Render the sign-in screen into `root`; resolves once a session exists. */
export function signIn(root, { notice = "" } = {}) {
  return new Promise((resolve) => {
    const error = h("p", { class: "error", role: "alert", id: "login-error" }, notice);
    const email = h("input", { id: "login-email", name: "email", type: "email", autocomplete: "username", required: true, "aria-describedby": "login-error" });
    const password = h("input", { id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true });
    const tenant = h("input", { id: "login-tenant", name: "tenant", type: "text", autocomplete: "organization", placeholder: "your-organisation" });
    const tenantRow = h("div", { class: "field", hidden: true },
      h("label", { for: "login-tenant" }, "Organisation"), tenant);
    const submit = h("button", { type: "submit", class: "primary" }, "Sign in");
    const form = h("form", { class: "card login", "aria-labelledby": "login-title", novalidate: true },
      h("h1", { id: "login-title" }, "Sign in to fieldhub"),
      h("div", { class: "field" }, h("label", { for: "login-email" }, "Email"), email),
      h("div", { class: "field" }, h("label", { for: "login-password" }, "Password"), password),
      tenantRow, error, submit,
      h("p", { class: "muted login-links" }, "Account suspended? ",
        h("a", { href: APPEAL_HASH, id: "suspension-appeal-link", on: { click: (e) => { e.preventDefault(); showAppeal(); } } }, "Appeal the suspension")));
    const showForm = () => {
      if (location.hash === APPEAL_HASH) history.replaceState(null, "", "#/");
      root.replaceChildren(h("main", { class: "center" }, form));
      email.focus();
    };
    const showAppeal = () => {
      if (location.hash !== APPEAL_HASH) history.replaceState(null, "", APPEAL_HASH);
      suspensionAppeal(root, { email: email.value.trim(), onBack: showForm });
    };

    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      error.textContent = "";
      if (!email.value || !password.value) {
        error.textContent = "Enter your email and password.";
        return;
      }
      submit.disabled = true;
      try {
        const body = { email: email.value.trim(), password: password.value };
        if (tenant.value.trim()) body.tenant = tenant.value.trim();
        const result = await api.post("/api/v1/auth/login", body, { quiet401: true });
        if (result.status === "mfa_required") mfaStep(root, result.challenge, resolve);
        else resolve();
      } catch (err) {
        if (err.code === "tenant_required") {
          tenantRow.hidden = false;
          tenant.focus();
        }
        error.textContent = err.status === 401 ? "Wrong email or password." : err.message;
        submit.disabled = false;
      }
    });
    if (location.hash === APPEAL_HASH) showAppeal(); // the link in the suspension mail
    else showForm();
  });
}

function mfaStep(root, challenge, resolve) {
  const error = h("p", { class: "error", role: "alert" });
  const code = h("input", { id: "mfa-code", name: "code", inputmode: "numeric", autocomplete: "one-time-code", required: true, "aria-describedby": "mfa-help" });
  const submit = h("button", { type: "submit", class: "primary" }, "Verify");
  const form = h("form", { class: "card login", "aria-labelledby": "mfa-title" },
    h("h1", { id: "mfa-title" }, "Two-step verification"),
    h("p", { id: "mfa-help", class: "muted" }, "Enter the 6-digit code from your authenticator app, or one of your recovery codes."),
    h("div", { class: "field" }, h("label", { for: "mfa-code" }, "Code"), code), error, submit);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    submit.disabled = true;
    try {
      await api.post("/api/v1/auth/login/mfa", { challenge, code: code.value.replace(/\s+/g, "") }, { quiet401: true });
      resolve();
    } catch (err) {
      error.textContent = err.status === 401 || err.status === 400 ? "That code did not work. Try the current one." : err.message;
      submit.disabled = false;
      code.select();
    }
  });
  root.replaceChildren(h("main", { class: "center" }, form));
  code.focus();
}
