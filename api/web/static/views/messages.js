// A list of messages (a conversation or a thread): day dividers, author and time, edited marks,
// tombstones, reactions, attachments, pending and failed sends, read receipts. Keyed DOM reuse
// keeps focus and scroll where they are when something arrives.

import * as api from "../api.js";
import { dayKey, dayLabel, formatFull, formatTime, h, renderBody, syncChildren } from "../dom.js";

export const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉", "👀", "✅"];

const fileCache = new Map();
function fileInfo(id) {
  if (!fileCache.has(id)) fileCache.set(id, api.get(`/api/v1/files/${id}`).catch(() => null));
  return fileCache.get(id);
}

function attachmentNode(id) {
  const holder = h("div", { class: "attachment" }, h("span", { class: "muted" }, "Loading file…"));
  fileInfo(id).then((info) => {
    if (!info) {
      holder.replaceChildren(h("span", { class: "muted" }, "File not available"));
      return;
    }
    const url = `/api/v1/files/${info.id}/content`;
    if (info.content_type.startsWith("image/")) {
      holder.replaceChildren(
        h("a", { href: url, target: "_blank", rel: "noopener noreferrer", class: "image-link" },
          h("img", { src: url, alt: info.filename, loading: "lazy", width: info.width || null, height: info.height || null })),
      );
    } else {
      holder.replaceChildren(h("a", { href: url, download: info.filename, class: "file-link" }, `📄 ${info.filename}`, h("span", { class: "muted" }, ` ${Math.ceil(info.size / 1024)} KB`)));
    }
  });
  return holder;
}

export class MessageList {
  /**
   * @param store the Store
   * @param opts.thread whether this list shows a thread's replies (no "reply in thread" buttons)
   * @param opts.onThread (message) => open its thread
   */
  constructor(store, { thread = false, onThread = () => {}, label = "Messages" } = {}) {
    this.store = store;
    this.thread = thread;
    this.onThread = onThread;
    this.cache = new Map(); // key -> {source, el}
    this.editing = null;
    this.confirmingDelete = null;
    this.el = h("ol", { class: "messages", "aria-label": label, tabindex: "0" });
  }

  render(conv, threadRootId = null, root = null) {
    const { messages, pending } = this.store.timeline(conv, threadRootId);
    const nodes = [];
    let lastDay = null;
    const all = root ? [root, ...messages] : messages;
    const receiptSeq = this.receiptTarget(conv, messages);
    for (const message of all) {
      const day = dayKey(message.created_at);
      if (day !== lastDay && !(root && message === root)) {
        nodes.push(this.divider(day, message.created_at));
        lastDay = day;
      }
      nodes.push(this.messageNode(conv, message, message.seq === receiptSeq, root && message === root));
    }
    for (const item of pending) nodes.push(this.pendingNode(item));
    syncChildren(this.el, nodes);
  }

  /** In a direct or group conversation: the seq of my last message, if the others have read it. */
  receiptTarget(conv, messages) {
    if (this.thread || !["direct", "group"].includes(conv.view.kind)) return null;
    const mine = messages.filter((m) => m.author_id === this.store.me.id && !m.deleted);
    if (!mine.length) return null;
    const last = mine[mine.length - 1];
    const readers = [...conv.readers.values()];
    return readers.length && readers.every((seq) => seq >= last.seq) ? last.seq : null;
  }

  divider(key, iso) {
    const cacheKey = `day:${key}`;
    const label = dayLabel(iso);
    const hit = this.cache.get(cacheKey);
    if (hit && hit.source === label) return hit.el;
    const el = h("li", { class: "day-divider", role: "separator" }, h("span", {}, label));
    this.cache.set(cacheKey, { source: label, el });
    return el;
  }

  messageNode(conv, message, seen, isRoot) {
    const names = (message.mentions || []).map((id) => this.store.nameOf(id)).join();
    const version = [message, seen, this.editing === message.id, this.confirmingDelete === message.id, this.store.replyCount(conv, message), names, isRoot].join("|");
    const hit = this.cache.get(message.id);
    if (hit && hit.message === message && hit.version === version) return hit.el;
    const el = this.buildMessage(conv, message, seen, isRoot);
    this.cache.set(message.id, { message, version, el });
    return el;
  }

  buildMessage(conv, message, seen, isRoot) {
    const me = this.store.me.id;
    const mine = message.author_id === me;
    const author = this.store.nameOf(message.author_id);
    const classes = ["message"];
    if (mine) classes.push("mine");
    if (message.deleted) classes.push("deleted");
    if (isRoot) classes.push("root");
    if ((message.mentions || []).includes(me)) classes.push("mentions-me");
    const meta = h("div", { class: "meta" },
      h("span", { class: "author" }, author),
      h("time", { datetime: message.created_at, title: formatFull(message.created_at) }, formatTime(message.created_at)),
      message.edited_at && !message.deleted ? h("span", { class: "edited", title: `Edited ${formatFull(message.edited_at)}` }, "(edited)") : null,
      message.pinned ? h("span", { class: "pinned" }, "📌 pinned") : null,
    );
    const li = h("li", { class: classes.join(" "), id: `m-${message.id}`, dataset: { id: message.id, seq: String(message.seq) }, tabindex: "-1" }, meta);
    if (message.deleted) {
      li.append(h("p", { class: "body tombstone" }, "This message was deleted."));
      return li;
    }
    if (message.moderation && message.author_id !== this.store.me.id && !message.body) {
      const note = message.moderation === "held" ? "This message is waiting for a moderator." : "Removed by a moderator.";
      li.append(h("p", { class: "body tombstone" }, note));
      return li;
    }
    if (this.editing === message.id) li.append(this.editor(message));
    else li.append(h("div", { class: "body" }, renderBody(message.body, (id) => this.store.nameOf(id), me)));
    if ((message.attachment_ids || []).length) li.append(h("div", { class: "attachments" }, message.attachment_ids.map(attachmentNode)));
    if ((message.reactions || []).length) {
      li.append(h("div", { class: "reactions", role: "group", "aria-label": "Reactions" },
        message.reactions.map((r) => {
          const pressed = (r.users || []).includes(me);
          const who = (r.users || []).map((u) => this.store.nameOf(u)).join(", ");
          return h("button", {
            type: "button", class: pressed ? "reaction pressed" : "reaction", "aria-pressed": pressed ? "true" : "false",
            title: who, "aria-label": `${r.emoji} ${r.count}, by ${who}`, dataset: { emoji: r.emoji },
            on: { click: () => this.store.react(message, r.emoji).catch(() => null) },
          }, `${r.emoji} ${r.count}`);
        })));
    }
    const replies = this.store.replyCount(conv, message);
    if (!this.thread && replies > 0) {
      li.append(h("button", { type: "button", class: "thread-link", on: { click: () => this.onThread(message) } },
        `${replies} ${replies === 1 ? "reply" : "replies"}`));
    }
    if (seen) li.append(h("div", { class: "receipt", "aria-label": "Seen" }, "✓✓ Seen"));
    li.append(this.actions(message, mine));
    return li;
  }

  actions(message, mine) {
    const bar = h("div", { class: "actions", role: "toolbar", "aria-label": "Message actions" });
    const picker = h("div", { class: "picker", hidden: true, role: "group", "aria-label": "Pick a reaction" },
      QUICK_REACTIONS.map((emoji) => h("button", { type: "button", class: "emoji", "aria-label": `React ${emoji}`,
        on: { click: () => { picker.hidden = true; this.store.react(message, emoji).catch(() => null); } } }, emoji)));
    bar.append(h("button", { type: "button", class: "react-open", "aria-label": "Add reaction", title: "Add reaction",
      on: { click: () => { picker.hidden = !picker.hidden; if (!picker.hidden) picker.querySelector("button").focus(); } } }, "☺+"));
    bar.append(picker);
    if (!this.thread && !message.thread_root_id) {
      bar.append(h("button", { type: "button", class: "reply", "aria-label": "Reply in thread", title: "Reply in thread", on: { click: () => this.onThread(message) } }, "↩ Reply"));
    }
    if (mine) {
      bar.append(h("button", { type: "button", class: "edit", on: { click: () => this.startEdit(message.id) } }, "Edit"));
      if (this.confirmingDelete === message.id) {
        bar.append(h("button", { type: "button", class: "danger confirm-delete", on: { click: () => { this.confirmingDelete = null; this.store.remove(message.id).catch(() => null); } } }, "Delete for everyone"));
        bar.append(h("button", { type: "button", on: { click: () => { this.confirmingDelete = null; this.store.emit("messages", message.conversation_id); } } }, "Keep"));
      } else {
        bar.append(h("button", { type: "button", class: "delete", on: { click: () => { this.confirmingDelete = message.id; this.store.emit("messages", message.conversation_id); } } }, "Delete"));
      }
    }
    return bar;
  }

  startEdit(id) {
    this.editing = id;
    const message = [...this.store.conversations.values()].map((c) => c.messages.get(id)).find(Boolean);
    if (message) this.store.emit("messages", message.conversation_id);
    requestAnimationFrame(() => {
      const box = this.el.querySelector(`#m-${CSS.escape(id)} textarea`);
      if (box) {
        box.focus();
        box.setSelectionRange(box.value.length, box.value.length);
      }
    });
  }

  editor(message) {
    const status = h("p", { class: "error", role: "alert" });
    const box = h("textarea", { class: "edit-box", "aria-label": "Edit message", rows: "2", value: message.body });
    const done = () => {
      this.editing = null;
      this.store.emit("messages", message.conversation_id);
    };
    const save = async () => {
      const body = box.value.trim();
      if (!body || body === message.body) return done();
      try {
        const ack = await this.store.edit(message.id, body);
        const conv = this.store.conversations.get(message.conversation_id);
        if (conv && ack.message) this.store.upsertMessage(conv, ack.message);
        done();
      } catch (error) {
        status.textContent = error.message;
      }
      return null;
    };
    box.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) {
        e.preventDefault();
        save();
      } else if (e.key === "Escape") done();
    });
    return h("div", { class: "editing" }, box,
      h("div", { class: "edit-buttons" },
        h("button", { type: "button", class: "primary", on: { click: save } }, "Save"),
        h("button", { type: "button", on: { click: done } }, "Cancel")), status);
  }

  pendingNode(item) {
    const key = `pending:${item.client_id}`;
    const version = `${item.state}|${item.error}`;
    const hit = this.cache.get(key);
    if (hit && hit.version === version) return hit.el;
    const status = item.state === "pending"
      ? h("span", { class: "status" }, "Sending…")
      : h("span", { class: "status failed", role: "alert" }, item.error || "Not sent.",
        h("button", { type: "button", class: "retry", on: { click: () => this.store.trySend(item) } }, "Retry"),
        h("button", { type: "button", class: "discard", on: { click: () => this.store.discard(item) } }, "Discard"));
    const el = h("li", { class: `message mine pending ${item.state}`, dataset: { clientId: item.client_id } },
      h("div", { class: "meta" }, h("span", { class: "author" }, this.store.me.name),
        h("time", { datetime: item.created_at }, formatTime(item.created_at)), status),
      h("div", { class: "body" }, renderBody(item.body, (id) => this.store.nameOf(id), this.store.me.id)),
      item.attachments.length ? h("div", { class: "attachments" }, item.attachments.map((a) => h("span", { class: "muted" }, `📎 ${a.filename}`))) : null);
    this.cache.set(key, { version, el });
    return el;
  }
}
