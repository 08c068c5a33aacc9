// The moderation audit log (flags, rule changes, every moderator's actions), filtered by who did
// it, with the CSV export; and the tenant's disclosure setting. For moderation admins.

import * as api from "../api.js";
import { formatFull, h } from "../dom.js";

const PAGE = 50;
const SHOWN = new Set(["reason", "content", "statement"]);

/** The rest of a record's details as "key: value · …" (ids left out: the columns above name people). */
function extras(details) {
  return Object.entries(details)
    .filter(([k, v]) => !SHOWN.has(k) && !k.endsWith("_id") && !k.endsWith("_ids") && v !== null && v !== "" && !(Array.isArray(v) && !v.length))
    .map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" · ");
}

export class AuditPage {
  constructor(store) {
    this.store = store;
    this.offset = 0;
    this.actor = h("select", { id: "audit-actor", "aria-label": "Done by" }, h("option", { value: "" }, "Everyone"));
    this.actor.addEventListener("change", () => { this.offset = 0; this.load(); });
    this.reveal = h("input", { id: "mod-reveal", type: "checkbox" });
    this.reveal.addEventListener("change", () => this.saveSettings());
    this.settingsStatus = h("span", { class: "muted", role: "status" });
    this.error = h("p", { class: "error", role: "alert" });
    this.count = h("p", { class: "muted", role: "status" });
    this.list = h("ol", { class: "mod-audit", "aria-label": "Audit records" });
    this.older = h("button", { type: "button", class: "small", on: { click: () => { this.offset += PAGE; this.load(); } } }, "Older");
    this.newer = h("button", { type: "button", class: "small", on: { click: () => { this.offset = Math.max(0, this.offset - PAGE); this.load(); } } }, "Newer");
    this.el = h("section", { class: "mod-page", "aria-labelledby": "mod-audit-title" },
      h("div", { class: "mod-tools" }, h("h2", { id: "mod-audit-title", tabindex: "-1" }, "Audit log"),
        h("a", { href: "/api/v1/moderation/audit.csv", class: "small mod-export", download: "moderation-audit.csv" }, "Export CSV")),
      h("div", { class: "mod-block mod-settings" },
        h("div", { class: "mod-row" }, this.reveal,
          h("label", { for: "mod-reveal" }, "Tell reporters which moderator reviewed their report"), this.settingsStatus)),
      h("div", { class: "mod-tools" }, h("label", { for: "audit-actor" }, "Done by"), this.actor),
      this.count, this.error, this.list, h("div", { class: "row-actions" }, this.newer, this.older));
  }

  fillActors() {
    const chosen = this.actor.value;
    const people = [...this.store.users.values()].sort((a, b) => (a.name || "").localeCompare(b.name || ""));
    this.actor.replaceChildren(h("option", { value: "" }, "Everyone"), people.map((u) => h("option", { value: u.id }, u.name)));
    this.actor.value = chosen;
  }

  async load() {
    this.fillActors();
    try {
      const [page, settings] = await Promise.all([
        api.get(`/api/v1/moderation/audit${api.qs({ actor: this.actor.value, limit: PAGE, offset: this.offset })}`),
        api.get("/api/v1/moderation/settings"),
      ]);
      this.reveal.checked = settings.reveal_moderator;
      this.error.textContent = "";
      this.render(page);
    } catch (error) {
      this.error.textContent = error.message;
    }
  }

  render(page) {
    this.count.textContent = page.total ? `${page.offset + 1}–${page.offset + page.items.length} of ${page.total} records` : "No records yet.";
    this.older.disabled = page.offset + page.items.length >= page.total;
    this.newer.disabled = page.offset === 0;
    this.list.replaceChildren(...page.items.map((e) => {
      const d = e.details || {};
      return h("li", { class: "mod-audit-item", dataset: { action: e.action } },
        h("div", { class: "meta" },
          h("strong", { class: "mod-audit-action" }, e.action.replace(/^moderation\./, "")),
          h("span", {}, e.actor_user_id ? this.store.nameOf(e.actor_user_id) : "System"),
          h("time", { datetime: e.occurred_at }, formatFull(e.occurred_at))),
        d.reason ? h("p", { class: "mod-note" }, "Reason: ", d.reason) : null,
        d.statement ? h("p", { class: "mod-note" }, "Statement: ", d.statement) : null,
        d.content ? h("p", { class: "mod-quote" }, d.content) : null,
        extras(d) ? h("p", { class: "muted mod-note mod-audit-details" }, extras(d)) : null);
    }));
  }

  async saveSettings() {
    this.settingsStatus.textContent = "";
    try {
      const saved = await api.put("/api/v1/moderation/settings", { reveal_moderator: this.reveal.checked });
      this.reveal.checked = saved.reveal_moderator;
      this.settingsStatus.textContent = "Saved.";
    } catch (error) {
      this.settingsStatus.textContent = error.message;
      this.reveal.checked = !this.reveal.checked;
    }
  }
}
