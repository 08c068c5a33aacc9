// What the moderator console's pages share: permissions, reason and status labels, a case's chips.

import { h } from "../dom.js";

export const REVIEW = "moderation:review";
export const RULES = "moderation:rules";
export const ADMIN = "moderation:admin";

export const REASONS = [
  ["spam", "Spam"], ["harassment", "Harassment"], ["hate", "Hate"], ["sexual", "Sexual content"],
  ["violence", "Violence or threat"], ["private_data", "Private data"], ["safety", "Safety risk"], ["other", "Other"],
  ["rule", "Automatic rule"], ["appeal", "Appeal"],
];
const REASON_LABEL = new Map(REASONS);
export const reasonLabel = (r) => REASON_LABEL.get(r) || r;
export const STATUS_LABEL = { open: "Open", in_review: "In review", resolved: "Resolved", dismissed: "Dismissed" };
const URGENT = 100;

/** Whether `me` may use the console at all (any moderation permission). */
export function canModerate(me) {
  const held = new Set(me.permissions || []);
  return held.has(REVIEW) || held.has(RULES) || held.has(ADMIN);
}

/** A case's one-line summary chips: urgency, reasons, flags, held, claim. */
export function caseChips(store, c) {
  return h("span", { class: "mod-chips" },
    c.priority >= URGENT ? h("span", { class: "mod-chip urgent" }, "Urgent") : null,
    h("span", { class: `mod-chip status-${c.status}` }, STATUS_LABEL[c.status] || c.status),
    (c.reasons || []).map((r) => h("span", { class: "mod-chip" }, reasonLabel(r))),
    c.flag_count ? h("span", { class: "mod-chip" }, `${c.flag_count} flag${c.flag_count === 1 ? "" : "s"}`) : null,
    c.held ? h("span", { class: "mod-chip held" }, "Held") : null,
    c.appeal_id ? h("span", { class: "mod-chip" }, "Appeal") : null,
    c.claimed_by && c.status === "in_review" ? h("span", { class: "mod-chip claimed" }, `Claimed by ${store.nameOf(c.claimed_by)}`) : null);
}
