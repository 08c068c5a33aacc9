// The conversation list: channels and direct messages, unread and mention badges, presence dots.

import { h, syncChildren } from "../dom.js";

const STATUS_WORDS = { online: "online", away: "away", dnd: "do not disturb", offline: "offline" };

export class Sidebar {
  constructor(store, { onOpen, onBrowse, onNewDirect, onNewChannel = () => {} }) {
    this.store = store;
    this.onOpen = onOpen;
    this.channels = h("ul", { class: "conv-list", "aria-labelledby": "channels-heading" });
    this.directs = h("ul", { class: "conv-list", "aria-labelledby": "directs-heading" });
    this.items = new Map();
    this.el = h("nav", { class: "sidebar", "aria-label": "Conversations" },
      h("div", { class: "section-head" }, h("h2", { id: "channels-heading" }, "Channels"),
        h("div", { class: "head-buttons" },
          h("button", { type: "button", class: "small new-channel", "aria-label": "New channel", title: "New channel", on: { click: onNewChannel } }, "+"),
          h("button", { type: "button", class: "small browse", "aria-label": "Browse channels", on: { click: onBrowse } }, "Browse"))),
      this.channels,
      h("div", { class: "section-head" }, h("h2", { id: "directs-heading" }, "Direct messages"),
        h("button", { type: "button", class: "small new-dm", "aria-label": "New message", title: "New direct or group message", on: { click: onNewDirect } }, "New")),
      this.directs);
    for (const name of ["conversations", "users", "presence"]) store.addEventListener(name, () => this.render());
  }

  render() {
    const convs = [...this.store.conversations.values()].filter((c) => !c.view.archived);
    const channels = convs.filter((c) => !["direct", "group"].includes(c.view.kind))
      .sort((a, b) => this.store.displayName(a).localeCompare(this.store.displayName(b)));
    const directs = convs.filter((c) => ["direct", "group"].includes(c.view.kind))
      .sort((a, b) => (b.view.last_message_at || b.view.created_at).localeCompare(a.view.last_message_at || a.view.created_at));
    syncChildren(this.channels, channels.map((c) => this.item(c)));
    syncChildren(this.directs, directs.map((c) => this.item(c)));
    if (!directs.length) this.directs.replaceChildren(h("li", { class: "muted none" }, "No direct messages yet."));
  }

  item(conv) {
    const name = this.store.displayName(conv);
    const kind = conv.view.kind;
    const other = kind === "direct" ? this.store.otherMember(conv) : null;
    const status = other ? this.store.presence.get(other) || "offline" : null;
    const active = this.store.activeId === conv.id;
    const key = [name, conv.unread, conv.mentions, status, active, kind].join("|");
    const hit = this.items.get(conv.id);
    if (hit && hit.key === key) return hit.el;
    const label = [name, status ? STATUS_WORDS[status] || status : "", conv.unread ? `${conv.unread} unread` : "", conv.mentions ? `${conv.mentions} mentions` : ""].filter(Boolean).join(", ");
    const link = h("a", {
      href: `#/c/${conv.id}`, class: conv.unread ? "conv unread" : "conv", "aria-current": active ? "page" : null, "aria-label": label,
      dataset: { conversationId: conv.id }, on: { click: () => this.onOpen(conv) },
    },
    other ? h("span", { class: `presence ${status}`, title: STATUS_WORDS[status] || status, "aria-hidden": "true" }) : h("span", { class: "hash", "aria-hidden": "true" }, kind === "private" ? "🔒" : kind === "group" ? "👥" : "#"),
    h("span", { class: "name" }, name),
    conv.mentions ? h("span", { class: "badge mentions", "aria-hidden": "true" }, `@${conv.mentions}`) : null,
    conv.unread ? h("span", { class: "badge", "aria-hidden": "true" }, String(conv.unread)) : null);
    const el = h("li", {}, link);
    this.items.set(conv.id, { key, el });
    return el;
  }
}
