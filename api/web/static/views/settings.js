// Settings: my status, push on this browser, notification preferences (mute all, quiet hours in my
// time zone, email digest, channels per category with the organisation's locks), keyboard shortcuts.

import * as api from "../api.js";
import { h } from "../dom.js";
import { disablePush, enablePush, permissionText, pushState } from "../push.js";
import { panel } from "./panels.js";

const CHANNELS = [["in_app", "In app"], ["email", "Email"], ["push", "Push"]];
const STATUSES = [["online", "Online"], ["away", "Away"], ["dnd", "Do not disturb"]];
const DIGESTS = [[0, "Send each email at once"], [15, "Every 15 minutes"], [60, "Every hour"], [240, "Every 4 hours"], [1440, "Once a day"]];
export const SHORTCUTS = [
  ["Enter", "send the message"],
  ["Shift+Enter", "new line in a message"],
  ["↑ in an empty message box", "edit your last message"],
  ["↑ / ↓ in the message list", "move between messages; Tab then reaches their actions"],
  ["Alt+↑ / Alt+↓", "previous / next conversation"],
  ["Escape", "close the side panel, cancel an edit"],
];

function deviceTimeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

export class SettingsPanel {
  constructor(store, { onClose }) {
    this.store = store;
    this.prefs = null;
    this.status = h("select", { id: "my-status", on: { change: () => this.setStatus() } },
      STATUSES.map(([value, label]) => h("option", { value }, label)));
    this.pushText = h("p", { class: "push-permission", id: "push-permission" });
    this.pushDetail = h("p", { class: "muted push-detail", role: "status" });
    this.pushButton = h("button", { type: "button", class: "small push-toggle", on: { click: () => this.togglePush() } }, "Enable push notifications");
    this.form = h("form", { class: "prefs", "aria-labelledby": "prefs-title", on: { submit: (e) => { e.preventDefault(); this.save(); } } },
      h("p", { class: "muted" }, "Loading…"));
    this.saved = h("p", { class: "muted saved", role: "status" });
    this.el = panel("Settings", "settings-title", onClose,
      h("div", { class: "settings" },
        h("section", { "aria-labelledby": "status-title" }, h("h3", { id: "status-title" }, "Your status"),
          h("div", { class: "field" }, h("label", { for: "my-status" }, "Show me as"), this.status)),
        h("section", { "aria-labelledby": "push-title" }, h("h3", { id: "push-title" }, "Push notifications on this browser"),
          this.pushText, this.pushDetail, this.pushButton),
        h("section", { "aria-labelledby": "prefs-title" }, h("h3", { id: "prefs-title" }, "Notifications"), this.form, this.saved),
        h("section", { "aria-labelledby": "keys-title" }, h("h3", { id: "keys-title" }, "Keyboard shortcuts"),
          h("dl", { class: "shortcuts" }, SHORTCUTS.map(([key, what]) => [h("dt", {}, h("kbd", {}, key)), h("dd", {}, what)])))));
    store.addEventListener("presence", () => this.renderStatus());
  }

  async open() {
    this.saved.textContent = "";
    this.renderStatus();
    this.showPush();
    this.el.querySelector("h2").focus();
    try {
      this.prefs = await api.get("/api/v1/notifications/preferences");
      this.renderForm();
    } catch (error) {
      this.form.replaceChildren(h("p", { class: "error", role: "alert" }, error.message));
    }
  }

  // --- status ------------------------------------------------------------------------------------

  renderStatus() {
    const mine = this.store.presence.get(this.store.me.id);
    this.status.value = mine === "away" || mine === "dnd" ? mine : "online";
  }

  setStatus() {
    const status = this.status.value;
    if (this.store.socket.send({ type: "status", status })) {
      this.store.presence.set(this.store.me.id, status);
      this.store.emit("presence");
    }
  }

  // --- push --------------------------------------------------------------------------------------

  async showPush(detail = "") {
    const state = await pushState();
    document.body.dataset.push = state.subscribed ? "on" : state.permission;
    this.pushText.textContent = permissionText(state.permission);
    this.pushDetail.textContent = detail || (state.subscribed ? "Push notifications are on for this browser." : "");
    this.pushButton.hidden = !state.supported || state.permission === "denied";
    this.pushButton.textContent = state.subscribed ? "Turn off push notifications" : "Enable push notifications";
    this.pushButton.dataset.action = state.subscribed ? "off" : "on";
  }

  async togglePush() {
    this.pushButton.disabled = true;
    let detail = "";
    try {
      if (this.pushButton.dataset.action === "off") {
        await disablePush();
        detail = "Push notifications are off for this browser.";
      } else {
        const state = await enablePush();
        if (state.permission !== "granted") detail = "The browser did not allow notifications.";
      }
    } catch (error) {
      detail = `Push notifications could not be turned on: ${error.message}. Private windows and some browsers cannot receive push.`;
    } finally {
      this.pushButton.disabled = false;
    }
    await this.showPush(detail);
  }

  // --- preferences -------------------------------------------------------------------------------

  renderForm() {
    const p = this.prefs;
    const device = deviceTimeZone();
    this.muted = h("input", { type: "checkbox", id: "pref-muted", checked: p.muted });
    this.quiet = h("input", { type: "checkbox", id: "pref-quiet", checked: Boolean(p.quiet_hours), on: { change: () => this.syncQuiet() } });
    this.quietStart = h("input", { type: "time", id: "pref-quiet-start", value: p.quiet_hours ? p.quiet_hours.start : "22:00", required: true });
    this.quietEnd = h("input", { type: "time", id: "pref-quiet-end", value: p.quiet_hours ? p.quiet_hours.end : "07:00", required: true });
    this.digest = h("select", { id: "pref-digest" }, DIGESTS.map(([value, label]) => h("option", { value: String(value) }, label)));
    if (!DIGESTS.some(([value]) => value === p.digest_minutes)) this.digest.append(h("option", { value: String(p.digest_minutes) }, `Every ${p.digest_minutes} minutes`));
    this.digest.value = String(p.digest_minutes);
    this.zone = h("span", { class: "zone" }, p.timezone);
    const useDevice = p.timezone === device ? null
      : h("button", { type: "button", class: "small use-zone", on: { click: () => this.useTimeZone(device) } }, `Use this device's time zone (${device})`);
    const rows = p.categories.map((c) => h("tr", { class: c.locked ? "locked" : null, dataset: { category: c.category } },
      h("th", { scope: "row" }, c.name, c.locked ? h("span", { class: "lock", title: "Set by your organisation" }, " 🔒 set by your organisation") : null),
      CHANNELS.map(([channel, label]) => h("td", {}, h("input", {
        type: "checkbox", name: `${c.category}:${channel}`, checked: c[channel], disabled: c.locked,
        "aria-label": `${c.name}: ${label}${c.locked ? " (set by your organisation)" : ""}`,
      })))));
    this.form.replaceChildren(
      h("div", { class: "check" }, this.muted, h("label", { for: "pref-muted" }, "Mute all notifications"),
        h("p", { class: "muted hint" }, "Only the inbox fills; nothing is pushed or emailed, except critical alerts.")),
      h("fieldset", { class: "quiet" }, h("legend", {}, "Quiet hours"),
        h("div", { class: "check" }, this.quiet, h("label", { for: "pref-quiet" }, "Hold push and email during quiet hours")),
        h("div", { class: "times" },
          h("label", { for: "pref-quiet-start" }, "From"), this.quietStart,
          h("label", { for: "pref-quiet-end" }, "to"), this.quietEnd),
        h("p", { class: "muted hint" }, "In your time zone: ", this.zone, ". ", useDevice)),
      h("div", { class: "field" }, h("label", { for: "pref-digest" }, "Low-priority email"), this.digest),
      h("table", { class: "channels" },
        h("caption", {}, "How each kind of notification reaches you"),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Kind"), CHANNELS.map(([, label]) => h("th", { scope: "col" }, label)))),
        h("tbody", {}, rows)),
      h("button", { type: "submit", class: "primary save-prefs" }, "Save notification settings"));
    this.syncQuiet();
  }

  syncQuiet() {
    this.quietStart.disabled = !this.quiet.checked;
    this.quietEnd.disabled = !this.quiet.checked;
  }

  async useTimeZone(zone) {
    try {
      await api.patch("/api/v1/users/me", { timezone: zone });
      this.prefs.timezone = zone;
      this.zone.textContent = zone;
      const button = this.form.querySelector(".use-zone");
      if (button) button.remove();
      this.saved.textContent = `Quiet hours now follow ${zone}.`;
    } catch (error) {
      this.saved.textContent = error.message;
    }
  }

  async save() {
    const channels = [];
    for (const c of this.prefs.categories) {
      if (c.locked) continue;
      for (const [channel] of CHANNELS) {
        const enabled = this.form.querySelector(`input[name="${CSS.escape(`${c.category}:${channel}`)}"]`).checked;
        if (enabled !== c[channel]) channels.push({ category: c.category, channel, enabled });
      }
    }
    const body = {
      muted: this.muted.checked,
      quiet_hours: this.quiet.checked ? { start: this.quietStart.value, end: this.quietEnd.value } : null,
      digest_minutes: Number(this.digest.value),
      channels,
    };
    if (body.quiet_hours && (!body.quiet_hours.start || !body.quiet_hours.end)) {
      this.saved.textContent = "Give quiet hours a start and an end.";
      return;
    }
    this.saved.textContent = "Saving…";
    try {
      this.prefs = await api.put("/api/v1/notifications/preferences", body);
      this.renderForm();
      this.saved.textContent = "Saved.";
    } catch (error) {
      this.saved.textContent = error.message;
    }
  }
}
