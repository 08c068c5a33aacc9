// Starting conversations: a direct message (one person) or a group (2 to 7 others), and a new
// public or private channel with the people to add. Both pick people with the same picker.

import * as api from "../api.js";
import { h } from "../dom.js";
import { panel } from "./panels.js";

const GROUP_MAX_OTHERS = 7; // a group holds 3 to 8 people, me included

/** Search people by name or email and keep a selection (shown as removable chips). */
class PeoplePicker {
  constructor(store, { id, label, onChange }) {
    this.store = store;
    this.onChange = onChange;
    this.selected = new Map();
    this.query = h("input", { type: "search", id, placeholder: "Name or email", autocomplete: "off" });
    this.label = h("label", { for: id }, label);
    this.chips = h("ul", { class: "chips", "aria-label": "Chosen people", "aria-live": "polite" });
    this.results = h("ul", { class: "people", "aria-label": "People found" });
    this.error = h("p", { class: "error", role: "alert" });
    let timer = null;
    this.query.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => this.load(), 200); });
    this.el = h("div", { class: "picker-box" }, h("div", { class: "field" }, this.label, this.query), this.chips, this.error, this.results);
  }

  reset() {
    this.selected.clear();
    this.query.value = "";
    this.renderChips();
  }

  async load() {
    this.error.textContent = "";
    try {
      const people = (await this.store.searchUsers(this.query.value.trim() || null)).filter((u) => u.id !== this.store.me.id);
      this.results.replaceChildren(...people.map((u) => {
        const chosen = this.selected.has(u.id);
        return h("li", {}, h("button", {
          type: "button", class: chosen ? "person chosen" : "person", "aria-pressed": chosen ? "true" : "false", dataset: { userId: u.id },
          on: { click: () => this.toggle(u) },
        },
        h("span", { class: `presence ${this.store.presence.get(u.id) || "offline"}`, "aria-hidden": "true" }),
        h("span", { class: "name" }, u.name), h("span", { class: "muted" }, ` ${u.email || ""}`),
        chosen ? h("span", { class: "tick", "aria-hidden": "true" }, " ✓") : null));
      }));
      this.store.loadPresence(people.map((u) => u.id)).catch(() => null);
    } catch (error) {
      this.error.textContent = error.message;
    }
  }

  toggle(user) {
    if (this.selected.has(user.id)) this.selected.delete(user.id);
    else this.selected.set(user.id, user);
    this.renderChips();
    this.load();
    this.query.focus();
  }

  renderChips() {
    this.chips.replaceChildren(...[...this.selected.values()].map((u) => h("li", { class: "chip" }, u.name,
      h("button", { type: "button", class: "remove", "aria-label": `Remove ${u.name}`, on: { click: () => this.toggle(u) } }, "✕"))));
    this.onChange([...this.selected.keys()]);
  }
}

async function joinLocally(store, id) {
  await store.fetchConversation(id);
  const conv = store.conversations.get(id);
  store.socket.subscribe(store.topicOf(id), conv ? conv.tracker.seq : null);
}

export class NewMessagePanel {
  constructor(store, { onClose, onOpen }) {
    this.store = store;
    this.onOpen = onOpen;
    this.start = h("button", { type: "button", class: "primary start", disabled: true, on: { click: () => this.create() } }, "Start");
    this.hint = h("p", { class: "muted hint", id: "dm-hint" }, "Pick one person for a direct message, or 2 to 7 for a group.");
    this.error = h("p", { class: "error", role: "alert" });
    this.picker = new PeoplePicker(store, { id: "dm-q", label: "Find people", onChange: (ids) => this.update(ids) });
    this.picker.query.setAttribute("aria-describedby", "dm-hint");
    this.el = panel("New message", "dm-title", onClose, h("div", { class: "panel-body" }, this.hint, this.picker.el,
      h("div", { class: "panel-actions" }, this.start), this.error));
  }

  async open() {
    this.error.textContent = "";
    this.picker.reset();
    await this.picker.load();
    this.picker.query.focus();
  }

  update(ids) {
    const n = ids.length;
    this.start.disabled = n === 0 || n > GROUP_MAX_OTHERS;
    this.start.textContent = n <= 1 ? "Start direct message" : `Start group of ${n + 1}`;
    this.error.textContent = n > GROUP_MAX_OTHERS ? `A group holds at most ${GROUP_MAX_OTHERS + 1} people, you included.` : "";
  }

  async create() {
    const ids = [...this.picker.selected.keys()];
    this.start.disabled = true;
    try {
      const view = ids.length === 1
        ? await api.post("/api/v1/conversations/direct", { user_id: ids[0] })
        : await api.post("/api/v1/conversations/group", { user_ids: ids });
      await joinLocally(this.store, view.id);
      this.onOpen(view.id);
    } catch (error) {
      this.error.textContent = error.message;
    } finally {
      this.update(ids);
    }
  }
}

export class NewChannelPanel {
  constructor(store, { onClose, onOpen }) {
    this.store = store;
    this.onOpen = onOpen;
    this.name = h("input", { id: "channel-name", name: "name", required: true, maxlength: "80", autocomplete: "off", "aria-describedby": "channel-name-hint" });
    this.topic = h("input", { id: "channel-topic", name: "topic", maxlength: "250", autocomplete: "off" });
    const kind = (value, label, hint) => h("div", { class: "check" },
      h("input", { type: "radio", name: "kind", id: `channel-${value}`, value, checked: value === "public" }),
      h("label", { for: `channel-${value}` }, label), h("span", { class: "muted hint" }, ` ${hint}`));
    this.picker = new PeoplePicker(store, { id: "channel-people", label: "Add people (optional)", onChange: () => null });
    this.error = h("p", { class: "error", role: "alert" });
    this.submit = h("button", { type: "submit", class: "primary" }, "Create channel");
    this.form = h("form", { class: "panel-body new-channel", on: { submit: (e) => { e.preventDefault(); this.create(); } } },
      h("div", { class: "field" }, h("label", { for: "channel-name" }, "Name"), this.name,
        h("span", { class: "muted hint", id: "channel-name-hint" }, "Lower case with dashes, like store-visits.")),
      h("div", { class: "field" }, h("label", { for: "channel-topic" }, "Topic (optional)"), this.topic),
      h("fieldset", {}, h("legend", {}, "Who can find it"),
        kind("public", "Public", "anyone in the organisation can find and join it"),
        kind("private", "Private", "only the people in it see it")),
      this.picker.el, this.error, h("div", { class: "panel-actions" }, this.submit));
    this.el = panel("New channel", "channel-title", onClose, this.form);
  }

  async open() {
    this.form.reset();
    this.form.querySelector("#channel-public").checked = true;
    this.error.textContent = "";
    this.picker.reset();
    this.picker.results.replaceChildren();
    this.name.focus();
  }

  async create() {
    const name = this.name.value.trim();
    if (!name) {
      this.error.textContent = "Give the channel a name.";
      this.name.focus();
      return;
    }
    this.submit.disabled = true;
    try {
      const kind = this.form.querySelector("input[name=kind]:checked").value;
      const view = await api.post("/api/v1/conversations", {
        name, kind, topic: this.topic.value.trim(), member_ids: [...this.picker.selected.keys()],
      });
      await joinLocally(this.store, view.id);
      this.onOpen(view.id);
    } catch (error) {
      this.error.textContent = error.message;
    } finally {
      this.submit.disabled = false;
    }
  }
}
