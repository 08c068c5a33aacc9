// One case for a moderator: what was reported and why, the message among its neighbours, the
// author's earlier cases, what was done already; claim or release it, and act with a reason.

import * as api from "../api.js";
import { formatFull, h, renderBody } from "../dom.js";
import { caseChips, reasonLabel, STATUS_LABEL } from "./moderation_common.js";

// How a case came to be, as the console names it (a moderator's own delete in the chat opens one too).
const ORIGIN = {
  flag: { title: "Reported message", opened: "Reported", chip: "Reported" },
  rule: { title: "Message found by a rule", opened: "Found by a rule", chip: "Found by a rule" },
  moderator: { title: "Message acted on in the chat", opened: "Opened by a moderator", chip: "Acted on" },
  appeal: { title: "Appeal", opened: "Appealed", chip: "Appealed" },
};
const ACTION_LABEL = {
  dismiss: "Dismiss: nothing wrong",
  hide: "Hide the message",
  restore: "Restore the message",
  delete: "Delete for good",
  warn: "Warn the author",
  mute: "Mute the author",
  suspend: "Suspend the account",
  approve: "Approve the held message",
  reject: "Reject the held message",
  uphold: "Uphold the appealed action",
  overturn: "Overturn the appealed action",
};

/** The actions that fit a case and what was done to it so far (the server has the last word). */
function actionsFor(c, taken) {
  const open = c.status === "open" || c.status === "in_review";
  if (c.appeal_id) return open ? ["uphold", "overturn"] : [];
  const last = [...taken].reverse().find((a) => a.kind === "hide" || a.kind === "restore");
  const hidden = last && last.kind === "hide";
  const kinds = [];
  if (open && c.held) kinds.push("approve", "reject");
  if (open) kinds.push("dismiss");
  // A reported file is hidden or deleted with the message that shared it.
  const item = c.message_id || c.attachment_id;
  if (item && open && !hidden && !c.held) kinds.push("hide");
  if (item && hidden) kinds.push("restore");
  if (item && open) kinds.push("delete");
  if (c.author_id) kinds.push("warn", "mute", "suspend");
  return kinds;
}

export class CasePage {
  constructor(store, { onBack }) {
    this.store = store;
    this.id = null;
    this.detail = null;
    // What the moderator has chosen and typed so far: live updates re-render the page, never lose it.
    this.draft = {};
    this.title = h("h2", { id: "mod-case-title", tabindex: "-1" }, "Case");
    this.error = h("p", { class: "error", role: "alert" });
    this.notice = h("p", { class: "muted", role: "status", "aria-live": "polite" });
    this.content = h("div", { class: "mod-case-body" });
    this.el = h("section", { class: "mod-page mod-case-page", "aria-labelledby": "mod-case-title" },
      h("div", { class: "mod-tools" }, h("button", { type: "button", class: "small", on: { click: onBack } }, "‹ Queue"), this.title),
      this.notice, this.error, this.content);
  }

  async open(id) {
    if (id !== this.id) {
      this.id = id;
      this.detail = null;
      this.draft = {};
      this.notice.textContent = "";
      this.content.replaceChildren(h("p", { class: "muted" }, "Loading…"));
    }
    await this.reload();
    this.title.focus();
  }

  async reload() {
    const id = this.id;
    try {
      const detail = await api.get(`/api/v1/moderation/cases/${id}`);
      if (id !== this.id) return;
      this.detail = detail;
      this.error.textContent = "";
      this.render();
    } catch (error) {
      this.error.textContent = error.status === 404 ? "This case does not exist or is outside your scope." : error.message;
      if (error.status === 404) this.content.replaceChildren();
    }
  }

  /** A case event came through the hub: re-read this case if it is the one on screen. */
  changed(event) {
    if (event.case.id !== this.id) return;
    if (this.detail && event.case.claimed_by && event.case.claimed_by !== this.store.me.id && event.case.status === "in_review") {
      this.notice.textContent = `${this.store.nameOf(event.case.claimed_by)} is working on this case.`;
    }
    this.reload();
  }

  render() {
    const { case: c, flags, context, author_cases: history, actions, appeal, appealed_action: appealed } = this.detail;
    const me = this.store.me.id;
    const origin = ORIGIN[c.source] || ORIGIN.flag;
    this.title.textContent = c.appeal_id ? "Appeal" : c.attachment_id ? "Reported file" : origin.title;
    const open = c.status === "open" || c.status === "in_review";
    const mine = c.claimed_by === me && c.status === "in_review";
    const claim = open && !mine && !c.claimed_by
      ? h("button", { type: "button", class: "primary mod-claim", on: { click: () => this.post("claim") } }, "Claim")
      : mine ? h("button", { type: "button", class: "mod-release", on: { click: () => this.post("release") } }, "Release") : null;
    const conv = c.conversation_id ? this.store.conversations.get(c.conversation_id) : null;

    const summary = h("div", { class: "mod-block" },
      caseChips(this.store, c),
      h("p", { class: "muted" },
        `${origin.opened} ${formatFull(c.created_at)}`,
        c.author_id ? ` · author ${this.store.nameOf(c.author_id)}` : "",
        conv ? ` · in ${this.store.displayName(conv)}` : "",
        c.closed_at ? ` · closed ${formatFull(c.closed_at)} by ${this.store.nameOf(c.closed_by)} (${c.resolution})` : ""),
      h("div", { class: "mod-claim-row" }, claim,
        c.claimed_by && !mine && open ? h("span", { class: "muted" }, `Claimed by ${this.store.nameOf(c.claimed_by)}`) : null));

    const appealBlock = appeal ? h("div", { class: "mod-block mod-appeal" }, h("h3", {}, "The appeal"),
      h("p", { class: "mod-note" }, `${this.store.nameOf(appeal.appellant_id)}: `, h("q", {}, appeal.statement)),
      appealed ? h("p", { class: "muted" },
        `Against “${appealed.kind}” by ${this.store.nameOf(appealed.moderator_id)} on ${formatFull(appealed.created_at)}, because: `,
        h("q", {}, appealed.reason)) : null,
      h("p", { class: "muted" }, "Uphold keeps the action; overturn undoes it.")) : null;

    const reported = h("div", { class: "mod-block" }, h("h3", {}, c.appeal_id ? "Content as it was" : "Content as reported"),
      h("div", { class: "body mod-quote" }, renderBody(c.content || "", (id) => this.store.nameOf(id), me)),
      c.attachment_id ? h("a", { href: `/api/v1/moderation/cases/${c.id}/file`, target: "_blank", rel: "noopener noreferrer" }, "Open the file") : null);

    const around = context.length ? h("div", { class: "mod-block" }, h("h3", {}, "In context"),
      h("ol", { class: "mod-context" }, context.map((m) => h("li", { class: m.id === c.message_id ? "mod-context-item reported" : "mod-context-item" },
        h("div", { class: "meta" }, h("span", { class: "author" }, this.store.nameOf(m.author_id)),
          h("time", { datetime: m.created_at }, formatFull(m.created_at)),
          m.deleted ? h("span", { class: "mod-chip" }, "Deleted") : null,
          m.id === c.message_id ? h("span", { class: "mod-chip urgent" }, origin.chip) : null),
        m.deleted ? h("p", { class: "body tombstone" }, "This message was deleted.")
          : h("div", { class: "body" }, renderBody(m.body, (id) => this.store.nameOf(id), me)))))) : null;

    const reports = flags.length ? h("div", { class: "mod-block" }, h("h3", {}, `Reports (${flags.length})`),
      h("ul", { class: "mod-list" }, flags.map((f) => h("li", {},
        h("strong", {}, reasonLabel(f.reason)), ` by ${this.store.nameOf(f.reporter_id)} · ${formatFull(f.created_at)}`,
        f.note ? h("p", { class: "mod-note" }, f.note) : null)))) : null;

    const past = h("div", { class: "mod-block" }, h("h3", {}, "Author's history"),
      history.length ? h("ul", { class: "mod-list" }, history.map((o) => h("li", {},
        h("a", { href: `#/mod/case/${o.id}` }, `${STATUS_LABEL[o.status] || o.status}${o.resolution ? ` (${o.resolution})` : ""}`),
        ` · ${(o.reasons || []).map(reasonLabel).join(", ")} · ${formatFull(o.created_at)}`)))
        : h("p", { class: "muted" }, "No earlier cases."));

    const done = actions.length ? h("div", { class: "mod-block" }, h("h3", {}, "Actions taken"),
      h("ul", { class: "mod-list mod-actions-taken" }, actions.map((a) => h("li", {},
        h("strong", {}, a.kind), ` by ${this.store.nameOf(a.moderator_id)} · ${formatFull(a.created_at)}`,
        a.expires_at ? ` · until ${formatFull(a.expires_at)}` : "",
        h("p", { class: "mod-note" }, a.reason))))) : null;

    const focused = this.content.contains(document.activeElement) ? document.activeElement.id : "";
    this.content.replaceChildren(summary, appealBlock, reported, around, this.actionForm(c, actions), reports, past, done);
    const again = focused && this.content.querySelector(`#${CSS.escape(focused)}`);
    if (again) again.focus();
  }

  actionForm(c, taken) {
    const kinds = actionsFor(c, taken);
    if (!kinds.length) return null;
    const kind = h("select", { id: "mod-action", name: "kind" }, kinds.map((k) => h("option", { value: k }, ACTION_LABEL[k])));
    const reason = h("textarea", { id: "mod-reason-text", name: "reason", rows: "2", maxlength: "1000", required: true, placeholder: "Why? The author and the audit log will see this." });
    const minutes = h("input", { id: "mod-mute-minutes", name: "mute_minutes", type: "number", min: "1", max: "525600", value: "60" });
    const scope = h("select", { id: "mod-mute-scope", name: "mute_scope" },
      h("option", { value: "conversation" }, "In this conversation"), h("option", { value: "tenant" }, "Everywhere"));
    const muteRow = h("div", { class: "mod-row", hidden: true },
      h("label", { for: "mod-mute-minutes" }, "Minutes"), minutes, h("label", { for: "mod-mute-scope", class: "visually-hidden" }, "Where"), scope);
    const error = h("p", { class: "error", role: "alert" });
    const submit = h("button", { type: "submit", class: "primary" }, "Apply");
    const draft = this.draft;
    if (draft.kind && kinds.includes(draft.kind)) kind.value = draft.kind;
    if (draft.reason) reason.value = draft.reason;
    if (draft.minutes) minutes.value = draft.minutes;
    if (draft.scope) scope.value = draft.scope;
    const shape = () => {
      muteRow.hidden = kind.value !== "mute";
      submit.classList.toggle("danger", ["delete", "suspend", "reject"].includes(kind.value));
    };
    shape();
    kind.addEventListener("change", () => { draft.kind = kind.value; shape(); });
    reason.addEventListener("input", () => { draft.reason = reason.value; });
    minutes.addEventListener("input", () => { draft.minutes = minutes.value; });
    scope.addEventListener("change", () => { draft.scope = scope.value; });
    const form = h("form", { class: "mod-block mod-act", "aria-labelledby": "mod-act-title", novalidate: true },
      h("h3", { id: "mod-act-title" }, "Take action"),
      h("div", { class: "field" }, h("label", { for: "mod-action" }, "Action"), kind),
      muteRow,
      h("div", { class: "field" }, h("label", { for: "mod-reason-text" }, "Reason (required)"), reason),
      error, submit);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const why = reason.value.trim();
      if (!why) {
        error.textContent = "Give a reason: every action needs one.";
        reason.focus();
        return;
      }
      const body = { kind: kind.value, reason: why };
      if (kind.value === "mute") {
        body.mute_minutes = Number(minutes.value);
        body.mute_scope = scope.value;
      }
      submit.disabled = true;
      try {
        await api.post(`/api/v1/moderation/cases/${c.id}/actions`, body);
        this.draft = {};
        this.notice.textContent = `Done: ${ACTION_LABEL[kind.value]}.`;
        await this.reload();
      } catch (err) {
        error.textContent = err.message;
      } finally {
        submit.disabled = false;
      }
    });
    return form;
  }

  async post(what) {
    try {
      await api.post(`/api/v1/moderation/cases/${this.id}/${what}`);
      this.notice.textContent = what === "claim" ? "You claimed this case." : "You released this case.";
      await this.reload();
    } catch (error) {
      this.error.textContent = error.message;
    }
  }
}
