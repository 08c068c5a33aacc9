// Automatic rules: the list with how often each fired and how many of its cases were dismissed,
// a form to create or change one, and the tester that tries a rule on a sample before saving.

import * as api from "../api.js";
import { h } from "../dom.js";

const KINDS = [
  ["words", "Words and phrases"], ["regex", "Regular expression"], ["link_domain", "Blocked link domains"],
  ["attachment_type", "Blocked file types"], ["mentions", "Many mentions"], ["repeat", "Same text in many conversations"],
  ["burst", "Burst of messages"], ["new_account_links", "New account posting links"],
];
const KIND_LABEL = new Map(KINDS);
const ACTIONS = [["flag", "Flag for review"], ["hold", "Hold for review"], ["block", "Block (tell the sender)"], ["mask", "Mask the matched text"]];
const ACTION_LABEL = new Map(ACTIONS);
const COUNTING = new Set(["mentions", "repeat", "burst", "new_account_links"]);
const THRESHOLD_HELP = {
  mentions: "Mentions in one message",
  repeat: "Other conversations with the same text in 10 minutes",
  burst: "Messages in one minute",
  new_account_links: "Account age in hours below which links fire",
};

export class RulesPage {
  constructor(store) {
    this.store = store;
    this.rules = [];
    this.report = new Map();
    this.editing = null; // the rule being edited, or null for a new one
    this.error = h("p", { class: "error", role: "alert" });
    this.list = h("ul", { class: "mod-rules", "aria-label": "Rules" });
    this.formHolder = h("div", {});
    this.el = h("section", { class: "mod-page", "aria-labelledby": "mod-rules-title" },
      h("div", { class: "mod-tools" }, h("h2", { id: "mod-rules-title", tabindex: "-1" }, "Automatic rules"),
        h("button", { type: "button", class: "small primary mod-new-rule", on: { click: () => this.edit(null) } }, "New rule")),
      this.error, this.formHolder, this.list);
  }

  async load() {
    try {
      const [rules, report] = await Promise.all([api.get("/api/v1/moderation/rules"), api.get("/api/v1/moderation/rules/report")]);
      this.rules = rules;
      this.report = new Map(report.map((r) => [r.rule_id, r]));
      this.error.textContent = "";
    } catch (error) {
      this.error.textContent = error.message;
    }
    this.render();
  }

  render() {
    if (!this.rules.length) {
      this.list.replaceChildren(h("li", { class: "muted none" }, "No rules yet. Every message goes through unchecked."));
      return;
    }
    this.list.replaceChildren(...this.rules.map((r) => {
      const stats = this.report.get(r.id);
      const what = COUNTING.has(r.kind) ? `threshold ${r.threshold}` : r.kind === "regex" ? r.pattern : (r.terms || []).join(", ");
      return h("li", { class: r.enabled ? "mod-rule" : "mod-rule disabled", dataset: { id: r.id } },
        h("div", { class: "mod-rule-head" }, h("strong", { class: "mod-rule-name" }, r.name),
          h("span", { class: "mod-chip" }, KIND_LABEL.get(r.kind) || r.kind),
          h("span", { class: "mod-chip" }, ACTION_LABEL.get(r.action) || r.action),
          r.enabled ? null : h("span", { class: "mod-chip" }, "Off")),
        h("p", { class: "mod-rule-what muted" }, what),
        h("p", { class: "mod-rule-stats" },
          `Fired ${r.fired_count} time${r.fired_count === 1 ? "" : "s"}`,
          stats ? ` · ${stats.cases} case${stats.cases === 1 ? "" : "s"}, ${stats.dismissed} dismissed, ${stats.resolved} acted on, ${stats.open} open` : ""),
        h("div", { class: "row-actions" },
          h("button", { type: "button", class: "small", on: { click: () => this.edit(r) } }, "Edit"),
          h("button", { type: "button", class: "small", on: { click: () => this.toggle(r) } }, r.enabled ? "Turn off" : "Turn on"),
          h("button", { type: "button", class: "small danger", on: { click: () => this.remove(r) } }, "Delete")));
    }));
  }

  async toggle(rule) {
    try {
      await api.patch(`/api/v1/moderation/rules/${rule.id}`, { enabled: !rule.enabled });
      await this.load();
    } catch (error) {
      this.error.textContent = error.message;
    }
  }

  async remove(rule) {
    if (!window.confirm(`Delete the rule “${rule.name}”?`)) return;
    try {
      await api.del(`/api/v1/moderation/rules/${rule.id}`);
      await this.load();
    } catch (error) {
      this.error.textContent = error.message;
    }
  }

  edit(rule) {
    this.editing = rule;
    this.formHolder.replaceChildren(this.form(rule));
    this.formHolder.querySelector("input").focus();
  }

  form(rule) {
    const name = h("input", { id: "rule-name", name: "name", maxlength: "120", required: true, value: rule ? rule.name : "" });
    const kind = h("select", { id: "rule-kind", name: "kind", disabled: Boolean(rule) }, KINDS.map(([v, label]) => h("option", { value: v }, label)));
    const action = h("select", { id: "rule-action", name: "action" }, ACTIONS.map(([v, label]) => h("option", { value: v }, label)));
    const terms = h("textarea", { id: "rule-terms", name: "terms", rows: "3", placeholder: "One per line" });
    const pattern = h("input", { id: "rule-pattern", name: "pattern", maxlength: "500", spellcheck: "false" });
    const threshold = h("input", { id: "rule-threshold", name: "threshold", type: "number", min: "1" });
    const enabled = h("input", { id: "rule-enabled", name: "enabled", type: "checkbox", checked: rule ? rule.enabled : true });
    if (rule) {
      kind.value = rule.kind;
      action.value = rule.action;
      terms.value = (rule.terms || []).join("\n");
      pattern.value = rule.pattern || "";
      threshold.value = rule.threshold ?? "";
    }
    const termsRow = h("div", { class: "field" }, h("label", { for: "rule-terms" }, "Terms (one per line)"), terms);
    const patternRow = h("div", { class: "field" }, h("label", { for: "rule-pattern" }, "Pattern"), pattern);
    const thresholdLabel = h("label", { for: "rule-threshold" }, "Threshold");
    const thresholdRow = h("div", { class: "field" }, thresholdLabel, threshold);
    const shape = () => {
      termsRow.hidden = COUNTING.has(kind.value) || kind.value === "regex";
      patternRow.hidden = kind.value !== "regex";
      thresholdRow.hidden = !COUNTING.has(kind.value);
      thresholdLabel.textContent = THRESHOLD_HELP[kind.value] || "Threshold";
    };
    kind.addEventListener("change", shape);
    shape();

    const fields = () => {
      const body = { name: name.value.trim(), action: action.value, enabled: enabled.checked };
      if (!rule) body.kind = kind.value;
      if (kind.value === "regex") body.pattern = pattern.value;
      else if (COUNTING.has(kind.value)) body.threshold = threshold.value ? Number(threshold.value) : null;
      else body.terms = terms.value.split("\n").map((t) => t.trim()).filter(Boolean);
      return body;
    };

    const sample = h("textarea", { id: "rule-sample", name: "sample", rows: "2", maxlength: "4000", placeholder: "Paste a message to try the rule on" });
    const result = h("div", { class: "mod-test-result", role: "status", "aria-live": "polite" });
    const test = async () => {
      result.replaceChildren();
      try {
        const outcome = await api.post("/api/v1/moderation/rules/test", { rule: { ...fields(), kind: kind.value }, sample: sample.value });
        result.replaceChildren(
          h("p", { class: outcome.fired ? "mod-fired" : "muted" }, outcome.fired ? "The rule fires on this text." : "The rule does not fire on this text."),
          outcome.fired && outcome.masked !== sample.value ? h("p", {}, "Stored as: ", h("span", { class: "mod-quote" }, outcome.masked)) : null);
      } catch (error) {
        result.replaceChildren(h("p", { class: "error" }, error.message));
      }
    };

    const error = h("p", { class: "error", role: "alert" });
    const form = h("form", { class: "mod-block mod-rule-form", "aria-labelledby": "rule-form-title", novalidate: true },
      h("h3", { id: "rule-form-title" }, rule ? `Edit “${rule.name}”` : "New rule"),
      h("div", { class: "field" }, h("label", { for: "rule-name" }, "Name"), name),
      h("div", { class: "mod-row" },
        h("div", { class: "field" }, h("label", { for: "rule-kind" }, "Kind"), kind),
        h("div", { class: "field" }, h("label", { for: "rule-action" }, "Action"), action)),
      termsRow, patternRow, thresholdRow,
      h("div", { class: "mod-row" }, enabled, h("label", { for: "rule-enabled" }, "Active")),
      h("div", { class: "mod-tester" },
        h("div", { class: "field" }, h("label", { for: "rule-sample" }, "Try it on a sample"), sample),
        h("button", { type: "button", class: "small mod-test", on: { click: test } }, "Test"), result),
      error,
      h("div", { class: "edit-buttons" },
        h("button", { type: "submit", class: "primary" }, rule ? "Save" : "Create"),
        h("button", { type: "button", on: { click: () => { this.formHolder.replaceChildren(); } } }, "Cancel")));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = fields();
      if (!body.name) {
        error.textContent = "Give the rule a name.";
        return;
      }
      try {
        if (rule) await api.patch(`/api/v1/moderation/rules/${rule.id}`, body);
        else await api.post("/api/v1/moderation/rules", body);
        this.formHolder.replaceChildren();
        await this.load();
      } catch (err) {
        error.textContent = err.message;
      }
    });
    return form;
  }
}
