// The conversation's own menu in the chat header: how it notifies me (all, mentions, nothing), mute, leave.

import * as api from "../api.js";
import { h, randomId } from "../dom.js";

const LEVELS = [["all", "Every new message"], ["mentions", "Mentions of me only"], ["none", "Nothing"]];

export class ConversationMenu {
  constructor(store) {
    this.store = store;
    this.conv = null;
    const id = `conv-menu-${randomId()}`;
    this.level = h("select", { id: `${id}-level`, on: { change: () => this.save({ notify_level: this.level.value }) } },
      LEVELS.map(([value, label]) => h("option", { value }, label)));
    this.muted = h("input", { type: "checkbox", id: `${id}-muted`, on: { change: () => this.save({ muted: this.muted.checked }) } });
    this.status = h("p", { class: "muted", role: "status" });
    this.leave = h("button", { type: "button", class: "small danger leave", on: { click: () => this.leaveConversation() } }, "Leave");
    this.body = h("div", { class: "conv-menu-body", id: `${id}-body`, role: "group", "aria-label": "Conversation settings", hidden: true },
      h("div", { class: "field" }, h("label", { for: `${id}-level` }, "Notify me about"), this.level),
      h("div", { class: "check" }, this.muted, h("label", { for: `${id}-muted` }, "Mute (no badge, no alerts)")),
      this.leave, this.status);
    this.button = h("button", {
      type: "button", class: "conv-menu-button", "aria-label": "Conversation settings", title: "Conversation settings",
      "aria-expanded": "false", "aria-controls": `${id}-body`, on: { click: () => this.toggle() },
    }, "⋯");
    this.el = h("div", { class: "conv-menu" }, this.button, this.body);
    this.el.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && this.isOpen) {
        e.preventDefault();
        this.toggle(false);
        this.button.focus();
      }
    });
    document.addEventListener("click", (e) => { if (this.isOpen && !this.el.contains(e.target)) this.toggle(false); });
  }

  get isOpen() {
    return !this.body.hidden;
  }

  toggle(open = !this.isOpen) {
    this.body.hidden = !open;
    this.button.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) this.level.focus();
  }

  setConversation(conv) {
    this.conv = conv;
    this.toggle(false);
    this.status.textContent = "";
    this.render();
  }

  render() {
    const m = this.conv && this.conv.membership;
    this.el.hidden = !m;
    if (!m) return;
    this.level.value = m.notify_level || "all";
    this.muted.checked = Boolean(m.muted);
    this.leave.hidden = this.conv.view.kind === "direct";
    this.leave.textContent = this.conv.view.kind === "group" ? "Leave group" : "Leave channel";
  }

  async save(change) {
    const conv = this.conv;
    try {
      conv.membership = await api.patch(`/api/v1/conversations/${conv.id}/preferences`, change);
      this.status.textContent = "Saved.";
      this.store.emit("conversations");
    } catch (error) {
      this.status.textContent = error.message;
    }
    if (this.conv === conv) this.render();
  }

  async leaveConversation() {
    const conv = this.conv;
    try {
      await api.post(`/api/v1/conversations/${conv.id}/leave`);
      this.toggle(false);
      // The socket's `unsubscribed` follows; drop it now so the screen does not wait for it.
      if (this.store.conversations.delete(conv.id)) {
        this.store.emit("conversations");
        if (this.store.activeId === conv.id) this.store.emit("left", conv.id);
      }
    } catch (error) {
      this.status.textContent = error.message;
    }
  }
}
