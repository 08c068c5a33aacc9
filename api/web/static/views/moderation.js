// The moderator console: the review queue (live through the hub), a case, the rules with their
// tester, and the audit log. Shown only to users whose roles hold a moderation permission.
// Routes: #/mod (queue), #/mod/case/<id>, #/mod/rules, #/mod/audit.

import * as api from "../api.js";
import { formatFull, h } from "../dom.js";
import { AuditPage } from "./moderation_audit.js";
import { CasePage } from "./moderation_case.js";
import { ADMIN, caseChips, REASONS, REVIEW, RULES, STATUS_LABEL } from "./moderation_common.js";
import { RulesPage } from "./moderation_rules.js";

export { canModerate } from "./moderation_common.js";

const RELOAD_MS = 250;

let stylesheet = null;
function loadStyles() {
  if (stylesheet) return;
  stylesheet = h("link", { rel: "stylesheet", href: "/static/views/moderation.css" });
  document.head.append(stylesheet);
}

class QueuePage {
  constructor(store) {
    this.store = store;
    this.cases = [];
    this.fresh = new Set(); // ids that arrived live since the page was opened
    this.status = h("select", { id: "mod-status", "aria-label": "Status" },
      h("option", { value: "" }, "Open and in review"),
      Object.entries(STATUS_LABEL).map(([v, label]) => h("option", { value: v }, label)));
    this.reason = h("select", { id: "mod-reason", "aria-label": "Reason" },
      h("option", { value: "" }, "Every reason"), REASONS.map(([v, label]) => h("option", { value: v }, label)));
    for (const select of [this.status, this.reason]) select.addEventListener("change", () => this.load());
    this.live = h("p", { class: "muted mod-live", role: "status", "aria-live": "polite" });
    this.error = h("p", { class: "error", role: "alert" });
    this.list = h("ul", { class: "mod-queue", "aria-label": "Cases" });
    this.el = h("section", { class: "mod-page", "aria-labelledby": "mod-queue-title" },
      h("h2", { id: "mod-queue-title", tabindex: "-1" }, "Review queue"),
      h("div", { class: "mod-tools" }, this.status, this.reason), this.live, this.error, this.list);
  }

  async load() {
    try {
      this.cases = await api.get(`/api/v1/moderation/cases${api.qs({ status: this.status.value, reason: this.reason.value, limit: 100 })}`);
      this.error.textContent = "";
    } catch (error) {
      this.error.textContent = error.message;
    }
    this.render();
  }

  /** A case event came through the hub: re-read the queue (the server applies scope and order). */
  changed(event) {
    if (event.kind === "case.opened") {
      this.fresh.add(event.case.id);
      this.live.textContent = "A new case arrived.";
    }
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => this.load(), RELOAD_MS);
  }

  render() {
    if (!this.cases.length) {
      this.list.replaceChildren(h("li", { class: "muted none" }, "No cases here. New ones appear as they come in."));
      return;
    }
    this.list.replaceChildren(...this.cases.map((c) => {
      const where = c.conversation_id ? this.store.conversations.get(c.conversation_id) : null;
      return h("li", { class: this.fresh.has(c.id) ? "mod-case fresh" : "mod-case", dataset: { id: c.id } },
        h("a", { href: `#/mod/case/${c.id}`, class: "mod-case-link" },
          caseChips(this.store, c),
          h("span", { class: "mod-snippet" }, c.content || (c.attachment_id ? "A file" : "(no text)")),
          h("span", { class: "muted mod-meta" },
            `${c.author_id ? this.store.nameOf(c.author_id) : "Unknown author"}${where ? ` in ${this.store.displayName(where)}` : ""} · `,
            h("time", { datetime: c.created_at }, formatFull(c.created_at)))));
    }));
  }
}

export class ModerationConsole {
  constructor(store) {
    this.store = store;
    const held = new Set(store.me.permissions || []);
    this.may = { review: held.has(REVIEW), rules: held.has(RULES), admin: held.has(ADMIN) };
    this.queue = new QueuePage(store);
    this.casePage = new CasePage(store, { onBack: () => { location.hash = "#/mod"; } });
    this.rules = new RulesPage(store);
    this.audit = new AuditPage(store);
    const tab = (href, label, allowed) => (allowed ? h("a", { href, class: "mod-tab", dataset: { tab: href } }, label) : null);
    this.tabs = h("nav", { class: "mod-tabs", "aria-label": "Moderation" },
      tab("#/mod", "Queue", this.may.review), tab("#/mod/rules", "Rules", this.may.rules), tab("#/mod/audit", "Audit log", this.may.admin));
    this.body = h("div", { class: "mod-body" });
    this.el = h("section", { class: "moderation", "aria-label": "Moderator console" }, this.tabs, this.body);
    this.current = null;
    this.topic = `t:${store.me.tenant_id}:moderation`;
    store.socket.addEventListener("frame", (e) => this.onFrame(e.detail));
    store.socket.addEventListener("state", (e) => {
      // The queue's topic keeps no history: after a reconnect, read it again.
      if (e.detail.state === "open" && this.current) this.refresh();
    });
  }

  /** A link for the top bar. */
  link() {
    loadStyles();
    const href = this.may.review ? "#/mod" : this.may.rules ? "#/mod/rules" : "#/mod/audit";
    return h("a", { href, class: "small mod-open", "aria-label": "Moderation", title: "Moderation" },
      h("span", { class: "mod-open-long" }, "Moderation"), h("span", { class: "mod-open-short", "aria-hidden": "true" }, "🛡"));
  }

  onFrame(frame) {
    if (frame.type !== "event" || frame.topic !== this.topic || !frame.event || !frame.event.case) return;
    this.queue.changed(frame.event);
    if (this.current === this.casePage) this.casePage.changed(frame.event);
  }

  /** Show the page for `hash` (one of the #/mod routes); false if the hash is not one of them. */
  route(hash) {
    const match = hash.match(/^#\/mod(?:\/(case|rules|audit))?(?:\/([0-9a-f-]{36}))?\/?$/i);
    if (!match) {
      this.current = null;
      return false;
    }
    loadStyles();
    const [, page, id] = match;
    let next = null;
    if (page === "case" && id && this.may.review) next = this.casePage;
    else if (page === "rules" && this.may.rules) next = this.rules;
    else if (page === "audit" && this.may.admin) next = this.audit;
    else if (!page && this.may.review) next = this.queue;
    else next = this.may.review ? this.queue : this.may.rules ? this.rules : this.audit;
    this.current = next;
    for (const a of this.tabs.querySelectorAll("a")) {
      const active = (a.dataset.tab === "#/mod" && (next === this.queue || next === this.casePage)) || (a.dataset.tab === "#/mod/rules" && next === this.rules) || (a.dataset.tab === "#/mod/audit" && next === this.audit);
      if (active) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    this.body.replaceChildren(next.el);
    if (next === this.casePage) next.open(id);
    else next.load();
    return true;
  }

  refresh() {
    if (this.current === this.casePage) this.casePage.reload();
    else if (this.current) this.current.load();
  }
}
