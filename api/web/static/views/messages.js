// A list of messages (a conversation or a thread): day dividers, author and time, edited marks,
// tombstones, reactions, attachments, pending and failed sends, read receipts. Keyed DOM reuse
// keeps focus and scroll where they are when something arrives.

import * as api from "../api.js";
import { dayKey, dayLabel, formatFull, formatTime, h, renderBody, syncChildren } from "../dom.js";
import { openAppeal } from "./appeal.js";
import { openReport } from "./report.js";

export const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉", "👀", "✅"];

const fileCache = new Map();
function fileInfo(id) {
  if (!fileCache.has(id)) fileCache.set(id, api.get(`/api/v1/files/${id}`).catch(() => null));
  return fileCache.get(id);
}

/** A file of a message; `reportable`: someone else's, so it can be reported to the moderators. */
function attachmentNode(id, reportable) {
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
    if (reportable) {
      holder.append(h("button", { type: "button", class: "small report-file", "aria-label": `Report the file ${info.filename}`,
        on: { click: () => openReport({ attachment_id: info.id }, "file") } }, "Report"));
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
    this.editReturn = null; // where focus goes after an edit started from the composer
    this.confirmingDelete = null;
    this.histories = new Map(); // message id -> {editedAt, entries|null, error} while its edit history is open
    this.el = h("ol", { class: "messages", "aria-label": label, tabindex: "0" });
    this.el.addEventListener("keydown", (e) => this.onKey(e));
  }

  /** ↑/↓ (and Home/End) move focus between messages; a focused message shows its actions to Tab to. */
  onKey(e) {
    if (!["ArrowUp", "ArrowDown", "Home", "End"].includes(e.key) || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLInputElement) return;
    const items = [...this.el.querySelectorAll(":scope > li.message")];
    if (!items.length) return;
    e.preventDefault();
    const at = items.findIndex((li) => li.contains(document.activeElement));
    let next;
    if (e.key === "Home") next = 0;
    else if (e.key === "End" || at < 0) next = items.length - 1;
    else next = Math.max(0, Math.min(items.length - 1, at + (e.key === "ArrowDown" ? 1 : -1)));
    items[next].focus();
  }

  /** Edit my last message here (↑ in an empty composer); false when there is none. */
  editLast(conv, threadRootId, returnFocus) {
    const { messages } = this.store.timeline(conv, threadRootId);
    const mine = messages.filter((m) => m.author_id === this.store.me.id && !m.deleted && !m.moderation);
    if (!mine.length) return false;
    this.editReturn = returnFocus;
    this.startEdit(mine[mine.length - 1].id);
    return true;
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
    const history = this.histories.get(message.id);
    const version = [message, seen, this.editing === message.id, this.confirmingDelete === message.id, this.store.replyCount(conv, message), names, isRoot,
      history ? `${history.entries ? history.entries.length : "-"}:${history.error}` : ""].join("|");
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
      message.edited_at && !message.deleted ? this.editedMark(message) : null,
      message.pinned ? h("span", { class: "pinned" }, "📌 pinned") : null,
      message.moderation && mine ? h("span", { class: "moderated" }, message.moderation === "held" ? "⏳ waiting for a moderator" : "hidden by a moderator") : null,
    );
    const li = h("li", { class: classes.join(" "), id: `${this.thread ? "t" : "m"}-${message.id}`, dataset: { id: message.id, seq: String(message.seq) }, tabindex: "-1" }, meta);
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
    if (message.moderation === "hidden" && mine) {
      li.append(h("p", { class: "moderated-note" }, "Only you and moderators see this message; others see “Removed by a moderator”. ",
        h("button", { type: "button", class: "small appeal-open", on: { click: () => openAppeal({ messageId: message.id }) } }, "Appeal")));
    }
    if (this.histories.has(message.id)) li.append(this.historyNode(message));
    if ((message.attachment_ids || []).length) li.append(h("div", { class: "attachments" }, message.attachment_ids.map((id) => attachmentNode(id, !mine))));
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
    if (!mine) {
      bar.append(h("button", { type: "button", class: "report", title: "Report to the moderators", on: { click: () => openReport({ message_id: message.id }) } }, "Report"));
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

  editedMark(message) {
    if (message.moderation && message.author_id !== this.store.me.id) return h("span", { class: "edited" }, "(edited)");
    const open = this.histories.has(message.id);
    return h("button", {
      type: "button", class: "edited", title: `Edited ${formatFull(message.edited_at)}`, "aria-expanded": open ? "true" : "false",
      "aria-label": open ? "Hide earlier versions" : `Edited ${formatFull(message.edited_at)}: show earlier versions`,
      on: { click: () => this.toggleHistory(message) },
    }, "(edited)");
  }

  toggleHistory(message) {
    if (this.histories.has(message.id)) this.histories.delete(message.id);
    else this.loadHistory(message);
    this.store.emit("messages", message.conversation_id);
  }

  async loadHistory(message) {
    const entry = { editedAt: message.edited_at, entries: null, error: "" };
    this.histories.set(message.id, entry);
    try {
      entry.entries = await api.get(`/api/v1/messages/${message.id}/edits`);
    } catch (error) {
      entry.error = error.message;
    }
    if (this.histories.get(message.id) === entry) this.store.emit("messages", message.conversation_id);
  }

  historyNode(message) {
    const entry = this.histories.get(message.id);
    if (entry.editedAt !== message.edited_at) {
      this.loadHistory(message); // edited again while open: fetch the longer history
      return h("p", { class: "muted history" }, "Loading earlier versions…");
    }
    if (entry.error) return h("p", { class: "error history" }, entry.error);
    if (!entry.entries) return h("p", { class: "muted history" }, "Loading earlier versions…");
    const nameOf = (id) => this.store.nameOf(id);
    return h("div", { class: "history" },
      h("p", { class: "history-title muted" }, entry.entries.length ? "Earlier versions, oldest first" : "No earlier versions to show."),
      h("ol", { class: "versions", "aria-label": "Earlier versions" }, entry.entries.map((v) => h("li", { class: "version" },
        h("time", { datetime: v.edited_at, class: "muted" }, `Replaced ${formatFull(v.edited_at)}`),
        h("div", { class: "body" }, renderBody(v.previous_body, nameOf, this.store.me.id))))));
  }

  startEdit(id) {
    this.editing = id;
    const message = [...this.store.conversations.values()].map((c) => c.messages.get(id)).find(Boolean);
    if (message) this.store.emit("messages", message.conversation_id);
    requestAnimationFrame(() => {
      const box = this.el.querySelector(`[data-id="${CSS.escape(id)}"] textarea`);
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
      const back = this.editReturn;
      this.editReturn = null;
      if (back) back.focus();
      else requestAnimationFrame(() => { const li = this.el.querySelector(`[data-id="${CSS.escape(message.id)}"]`); if (li) li.focus(); });
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
    const version = `${item.state}|${item.error}|${item.code}`;
    const hit = this.cache.get(key);
    if (hit && hit.version === version) return hit.el;
    const status = item.state === "pending"
      ? h("span", { class: "status" }, "Sending…")
      : h("span", { class: "status failed", role: "alert" }, item.error || "Not sent.",
        h("button", { type: "button", class: "retry", on: { click: () => this.store.trySend(item) } }, "Retry"),
        h("button", { type: "button", class: "discard", on: { click: () => this.store.discard(item) } }, "Discard"),
        item.code === "muted" ? h("button", { type: "button", class: "appeal-open", on: { click: () => openAppeal({ kind: "mute" }) } }, "Appeal the mute") : null);
    const el = h("li", { class: `message mine pending ${item.state}`, dataset: { clientId: item.client_id } },
      h("div", { class: "meta" }, h("span", { class: "author" }, this.store.me.name),
        h("time", { datetime: item.created_at }, formatTime(item.created_at)), status),
      h("div", { class: "body" }, renderBody(item.body, (id) => this.store.nameOf(id), this.store.me.id)),
      item.attachments.length ? h("div", { class: "attachments" }, item.attachments.map((a) => h("span", { class: "muted" }, `📎 ${a.filename}`))) : null);
    this.cache.set(key, { version, el });
    return el;
  }
}
