// Side panels: the notification inbox (with push), message search, browsing public channels.

import * as api from "../api.js";
import { formatFull, formatTime, h, highlighted } from "../dom.js";
import { enablePush, permissionText, pushState } from "../push.js";

/** A side panel: a heading that takes focus, a close button, then `content`. */
export function panel(title, id, onClose, ...content) {
  return h("section", { class: "side", "aria-labelledby": id },
    h("header", { class: "panel-header" }, h("h2", { id, tabindex: "-1" }, title),
      h("button", { type: "button", class: "close", "aria-label": `Close ${title.toLowerCase()}`, on: { click: onClose } }, "✕")),
    ...content);
}

export class InboxPanel {
  constructor(store, { onClose, onNavigate }) {
    this.store = store;
    this.onNavigate = onNavigate;
    this.list = h("ul", { class: "inbox-list", "aria-label": "Notifications" });
    this.pushStatus = h("p", { class: "muted push-status", role: "status" });
    this.pushButton = h("button", { type: "button", class: "small push", on: { click: () => this.enablePush() } }, "Enable push notifications");
    this.el = panel("Notifications", "inbox-title", onClose,
      h("div", { class: "panel-tools" },
        h("button", { type: "button", class: "small read-all", on: { click: () => store.markNotifications("read", null).catch(() => null) } }, "Mark all read"),
        this.pushButton),
      this.pushStatus, this.list);
    store.addEventListener("inbox", () => this.render());
    this.showPushState();
  }

  async open() {
    this.render();
    this.showPushState();
    await this.store.loadInbox();
    this.el.querySelector("h2").focus();
  }

  render() {
    const items = [...this.store.inbox.items.values()]
      .filter((n) => n.state !== "archived")
      .sort((a, b) => b.created_at.localeCompare(a.created_at));
    if (!items.length) {
      this.list.replaceChildren(h("li", { class: "muted none" }, this.store.inbox.loaded ? "You are all caught up." : "Loading…"));
      return;
    }
    this.list.replaceChildren(...items.map((n) => {
      const unread = n.state === "unread" || n.state === "seen";
      const open = () => {
        if (unread) this.store.markNotifications("read", [n.id]).catch(() => null);
        if (n.link) this.onNavigate(n.link);
      };
      return h("li", { class: unread ? "notification unread" : "notification", dataset: { id: n.id } },
        h("button", { type: "button", class: "open", on: { click: open } },
          h("span", { class: "title" }, n.title),
          n.body ? h("span", { class: "text" }, n.body) : null,
          h("time", { datetime: n.created_at, title: formatFull(n.created_at) }, formatTime(n.created_at))),
        h("div", { class: "row-actions" },
          // Actions (Approve, Reject...) are signed links that confirm on their own page before acting;
          // only same-origin paths are followed, whatever a sender put in a notification.
          (n.actions || []).filter((a) => typeof a.link === "string" && a.link.startsWith("/") && !a.link.startsWith("//"))
            .map((a) => h("a", { class: "small action", href: a.link, target: "_blank", rel: "noopener", dataset: { action: a.id } }, a.label)),
          unread
            ? h("button", { type: "button", class: "small mark-read", on: { click: () => this.store.markNotifications("read", [n.id]).catch(() => null) } }, "Mark read")
            : h("button", { type: "button", class: "small mark-unread", on: { click: () => this.store.markNotifications("unread", [n.id]).catch(() => null) } }, "Mark unread"),
          h("button", { type: "button", class: "small archive", on: { click: () => this.store.markNotifications("archived", [n.id]).catch(() => null) } }, "Archive")));
    }));
  }

  async showPushState(detail = "") {
    const state = await pushState();
    this.pushStatus.textContent = detail || (state.subscribed ? "Push notifications are on for this browser." : state.permission === "granted" ? "" : permissionText(state.permission));
    this.pushButton.hidden = !state.supported || state.subscribed || state.permission === "denied";
  }

  async enablePush() {
    this.pushButton.disabled = true;
    let detail = "";
    try {
      const state = await enablePush();
      if (state.permission !== "granted") detail = permissionText(state.permission);
    } catch (error) {
      detail = `Push notifications could not be turned on: ${error.message}`;
    } finally {
      this.pushButton.disabled = false;
    }
    await this.showPushState(detail);
  }
}

export class SearchPanel {
  constructor(store, { onClose, onOpenMessage }) {
    this.store = store;
    this.onOpenMessage = onOpenMessage;
    this.results = h("ol", { class: "search-results", "aria-label": "Search results" });
    this.status = h("p", { class: "muted", role: "status" });
    this.el = panel("Search", "search-title", onClose, this.status, this.results);
  }

  async run(q) {
    this.status.textContent = "Searching…";
    this.results.replaceChildren();
    try {
      const { hits } = await api.get(`/api/v1/search/messages${api.qs({ q, limit: 30 })}`);
      this.status.textContent = hits.length ? `${hits.length} result${hits.length === 1 ? "" : "s"} for “${q}”` : `Nothing found for “${q}”.`;
      this.results.replaceChildren(...hits.map((hit) => {
        const conv = this.store.conversations.get(hit.message.conversation_id);
        const where = conv ? this.store.displayName(conv) : "a conversation";
        return h("li", { class: "hit" }, h("button", { type: "button", on: { click: () => this.onOpenMessage(hit.message) } },
          h("span", { class: "hit-meta muted" }, `${this.store.nameOf(hit.message.author_id)} in ${where} · ${formatFull(hit.message.created_at)}`),
          h("span", { class: "snippet" }, highlighted(hit.snippet, hit.highlights))));
      }));
    } catch (error) {
      this.status.textContent = error.message;
    }
  }
}

export class BrowsePanel {
  constructor(store, { onClose, onOpen }) {
    this.store = store;
    this.onOpen = onOpen;
    this.query = h("input", { type: "search", id: "browse-q", placeholder: "Filter channels", "aria-label": "Filter channels" });
    this.list = h("ul", { class: "browse-list" });
    this.error = h("p", { class: "error", role: "alert" });
    let timer = null;
    this.query.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => this.load(), 200); });
    this.el = panel("Browse channels", "browse-title", onClose, h("div", { class: "panel-tools" }, this.query), this.error, this.list);
  }

  async open() {
    await this.load();
    this.query.focus();
  }

  async load() {
    try {
      const channels = await api.get(`/api/v1/conversations/browse${api.qs({ q: this.query.value.trim() })}`);
      this.list.replaceChildren(...channels.map((c) => {
        const joined = this.store.conversations.has(c.id);
        return h("li", { class: "browse-item" },
          h("div", {}, h("span", { class: "name" }, `# ${c.name}`), c.topic ? h("span", { class: "muted" }, ` — ${c.topic}`) : null),
          h("button", { type: "button", class: joined ? "small" : "small primary", on: { click: () => this.join(c, joined) } }, joined ? "Open" : "Join"));
      }));
    } catch (error) {
      this.error.textContent = error.message;
    }
  }

  async join(channel, joined) {
    try {
      if (!joined) {
        await api.post(`/api/v1/conversations/${channel.id}/join`);
        await this.store.fetchConversation(channel.id);
        this.store.socket.subscribe(this.store.topicOf(channel.id), this.store.conversations.get(channel.id)?.tracker.seq ?? null);
      }
      this.onOpen(channel.id);
    } catch (error) {
      this.error.textContent = error.message;
    }
  }
}
