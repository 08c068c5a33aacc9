// Client state: who I am, people, conversations with their messages, pending sends, the inbox, presence.
// Every durable event is applied exactly once, by `seq`, whatever order it arrives in (live, replayed, or both).

import * as api from "./api.js";
import { applyConversationEvent, applyTyping } from "./events.js";
import { applyInboxEvent, loadInbox, loadInboxCounts, markNotifications } from "./inbox.js";
import { queueSend, trySend } from "./outbox.js";
import { SeqTracker } from "./seq.js";

export { SeqTracker };

function newerMessage(a, b) {
  // Which snapshot of one message is the later one: a delete beats everything, then the later edit.
  if (a.deleted !== b.deleted) return a.deleted ? a : b;
  if ((a.edited_at || "") !== (b.edited_at || "")) return (a.edited_at || "") > (b.edited_at || "") ? a : b;
  return (a.reply_count || 0) >= (b.reply_count || 0) ? a : b;
}

export class Store extends EventTarget {
  constructor() {
    super();
    this.me = null;
    this.users = new Map();
    this.userFetches = new Map();
    this.conversations = new Map();
    this.pending = new Map(); // client_id -> pending send
    this.presence = new Map();
    this.inbox = { topic: null, tracker: new SeqTracker(), unread: 0, unseen: 0, items: new Map(), loaded: false };
    this.activeId = null;
    this.socket = null;
    this.fetchingConversations = new Map();
  }

  emit(name, detail = null) {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }

  // --- people -----------------------------------------------------------------------------------

  async loadUsers() {
    try {
      const page = await api.get(`/api/v1/users${api.qs({ limit: 200 })}`);
      for (const user of page.items || []) this.users.set(user.id, user);
    } catch {
      // users:read missing: names are fetched one by one, or shown as "Someone"
    }
    this.users.set(this.me.id, { ...(this.users.get(this.me.id) || {}), id: this.me.id, name: this.me.name, email: this.me.email });
  }

  nameOf(id) {
    if (!id) return "System";
    const user = this.users.get(id);
    if (user) return user.name;
    this.ensureUser(id);
    return "Someone";
  }

  ensureUser(id) {
    if (this.users.has(id) || this.userFetches.has(id)) return;
    const fetching = api
      .get(`/api/v1/users/${id}`)
      .then((user) => {
        this.users.set(user.id, user);
        this.emit("users");
      })
      .catch(() => null);
    this.userFetches.set(id, fetching);
  }

  async searchUsers(q) {
    const page = await api.get(`/api/v1/users${api.qs({ q, limit: 8 })}`);
    for (const user of page.items || []) this.users.set(user.id, user);
    return (page.items || []).filter((u) => u.status !== "deactivated");
  }

  // --- conversations ------------------------------------------------------------------------------

  topicOf(conversationId) {
    return `t:${this.me.tenant_id}:conv:${conversationId}`;
  }

  conversationOfTopic(topic) {
    const at = topic.indexOf(":conv:");
    return at < 0 ? null : topic.slice(at + 6);
  }

  addSummary(summary) {
    const view = summary.conversation;
    const existing = this.conversations.get(view.id);
    if (existing) {
      existing.view = view;
      existing.membership = summary.membership || existing.membership;
      return existing;
    }
    const conv = {
      id: view.id,
      view,
      membership: summary.membership || null,
      unread: summary.unread || 0,
      mentions: summary.mentions || 0,
      tracker: new SeqTracker(view.last_seq || 0),
      messages: new Map(),
      loaded: false,
      hasBefore: false,
      loadingOlder: false,
      members: [],
      typing: new Map(),
      readers: new Map(),
      gapTimer: null,
    };
    this.conversations.set(view.id, conv);
    if (view.kind === "direct" || view.kind === "group") this.loadMembers(conv);
    return conv;
  }

  async loadConversations() {
    const list = await api.get("/api/v1/conversations");
    for (const summary of list) this.addSummary(summary);
    this.emit("conversations");
  }

  async loadMembers(conv) {
    try {
      conv.members = await api.get(`/api/v1/conversations/${conv.id}/members`);
      for (const m of conv.members) {
        if (m.user_id !== this.me.id) conv.readers.set(m.user_id, m.last_read_seq || 0);
        this.ensureUser(m.user_id);
      }
      this.emit("conversations");
      this.emit("messages", conv.id);
      await this.loadPresence(conv.members.map((m) => m.user_id).filter((id) => id !== this.me.id));
    } catch {
      // not a member any more
    }
  }

  /** Presence now, for people whose `presence` frames have not arrived yet (they only come on changes). */
  async loadPresence(userIds) {
    const unknown = userIds.filter((id) => !this.presence.has(id)).slice(0, 200);
    if (!unknown.length) return;
    try {
      const entries = await api.get(`/api/v1/presence${api.qs({ user_ids: unknown })}`);
      for (const entry of entries) if (!this.presence.has(entry.user_id)) this.presence.set(entry.user_id, entry.status);
      this.emit("presence");
    } catch {
      // presence is a nicety: dots stay grey until the next change
    }
  }

  /** Someone added me to a conversation, or an event came for one I do not know yet: fetch it. */
  /** Load one conversation; callers asking while a load is in flight share it (and wait for it). */
  fetchConversation(id) {
    let pending = this.fetchingConversations.get(id);
    if (!pending) {
      pending = this.loadConversation(id).finally(() => this.fetchingConversations.delete(id));
      this.fetchingConversations.set(id, pending);
    }
    return pending;
  }

  async loadConversation(id) {
    try {
      const summary = await api.get(`/api/v1/conversations/${id}`);
      const known = this.conversations.has(id);
      const conv = this.addSummary(summary);
      if (!known) conv.tracker.reset(summary.conversation.last_seq || 0);
      this.emit("conversations");
    } catch {
      // gone again
    }
  }

  displayName(conv) {
    const view = conv.view;
    if (view.kind === "direct") {
      const other = conv.members.find((m) => m.user_id !== this.me.id);
      return other ? this.nameOf(other.user_id) : view.name || "Direct message";
    }
    if (view.kind === "group" && !view.name) {
      const names = conv.members.filter((m) => m.user_id !== this.me.id).map((m) => this.nameOf(m.user_id));
      return names.sort((a, b) => a.localeCompare(b)).join(", ") || "Group";
    }
    return view.name || "Untitled";
  }

  otherMember(conv) {
    const other = conv.members.find((m) => m.user_id !== this.me.id);
    return other ? other.user_id : null;
  }

  // --- history -----------------------------------------------------------------------------------

  mergeMessages(conv, messages) {
    for (const message of messages) this.upsertMessage(conv, message);
  }

  upsertMessage(conv, message) {
    const existing = conv.messages.get(message.id);
    let chosen = existing ? newerMessage(message, existing) : message;
    // Reactions follow events once the message is known; keep the richer of the two lists otherwise.
    if (existing && chosen !== existing && !chosen.deleted) chosen.reactions = message.reactions || existing.reactions;
    if (chosen === message && this.isOwnPlaceholder(message)) {
      // The event carries what others see of my held or hidden message; I still read it whole:
      // keep the text I have, and ask HTTP for it (replay after a reconnect brings only the placeholder).
      if (existing && !existing.deleted) chosen = { ...existing, moderation: message.moderation };
      this.fetchOwn(conv, message.id);
    }
    conv.messages.set(message.id, chosen);
    if (message.author_id === this.me.id) this.pending.delete(message.client_id);
    return chosen;
  }

  isOwnPlaceholder(message) {
    return Boolean(message.moderation) && message.author_id === this.me.id && !message.deleted && !message.body && !(message.attachment_ids || []).length;
  }

  /** My own message as HTTP gives it to me (whole, even while others see a placeholder). */
  async fetchOwn(conv, id) {
    try {
      const whole = await api.get(`/api/v1/messages/${id}`);
      const current = conv.messages.get(id);
      if (current && !current.deleted && current.moderation) {
        conv.messages.set(id, whole);
        this.emit("messages", conv.id);
      }
    } catch {
      // gone or no longer readable: keep what is shown
    }
  }

  async openConversation(id) {
    const conv = this.conversations.get(id);
    if (!conv) return null;
    if (!conv.loaded) {
      const page = await api.get(`/api/v1/conversations/${id}/messages${api.qs({ limit: 50 })}`);
      this.mergeMessages(conv, page.messages);
      conv.hasBefore = page.has_before;
      conv.loaded = true;
      this.emit("messages", id);
    }
    return conv;
  }

  /** One more page of older messages; false when the beginning is reached. */
  async loadOlder(conv) {
    if (!conv.hasBefore || conv.loadingOlder) return false;
    const top = [...conv.messages.values()].filter((m) => !m.thread_root_id).reduce((a, m) => Math.min(a, m.seq), Infinity);
    if (!Number.isFinite(top)) return false;
    conv.loadingOlder = true;
    try {
      const page = await api.get(`/api/v1/conversations/${conv.id}/messages${api.qs({ before: top, limit: 50 })}`);
      this.mergeMessages(conv, page.messages);
      conv.hasBefore = page.has_before;
      this.emit("messages", conv.id);
      return true;
    } finally {
      conv.loadingOlder = false;
    }
  }

  /** Start again from HTTP: the replay could not cover a gap (too far, or history unavailable). */
  async refetch(conv) {
    try {
      const summary = await api.get(`/api/v1/conversations/${conv.id}`);
      conv.view = summary.conversation;
      conv.tracker.reset(summary.conversation.last_seq || 0);
      if (conv.loaded) {
        const page = await api.get(`/api/v1/conversations/${conv.id}/messages${api.qs({ limit: 50 })}`);
        this.mergeMessages(conv, page.messages);
      }
      this.emit("messages", conv.id);
      this.emit("conversations");
    } catch {
      // try again at the next gap or reconnect
    }
  }

  async loadThread(conv, rootId) {
    const page = await api.get(`/api/v1/messages/${rootId}/thread${api.qs({ limit: 100 })}`);
    this.upsertMessage(conv, page.root);
    this.mergeMessages(conv, page.replies.messages);
    this.emit("messages", conv.id);
    return page.root;
  }

  /** Top-level messages (or a thread's replies) in seq order, then this user's pending sends. */
  timeline(conv, threadRootId = null) {
    const items = [...conv.messages.values()]
      .filter((m) => (threadRootId ? m.thread_root_id === threadRootId : !m.thread_root_id))
      .sort((a, b) => a.seq - b.seq);
    const pending = [...this.pending.values()].filter(
      (p) => p.conversation_id === conv.id && (p.thread_root_id || null) === threadRootId,
    );
    return { messages: items, pending };
  }

  replyCount(conv, root) {
    let known = 0;
    for (const m of conv.messages.values()) if (m.thread_root_id === root.id) known += 1;
    return Math.max(root.reply_count || 0, known);
  }

  // --- the socket --------------------------------------------------------------------------------

  attach(socket) {
    this.socket = socket;
    socket.addEventListener("frame", (e) => this.onFrame(e.detail));
    socket.addEventListener("state", (e) => {
      if (e.detail.state === "open") this.retryFailed();
      else for (const conv of this.conversations.values()) conv.typing.clear();
    });
  }

  /** What to resume after a (re)connect: every conversation and the inbox, each from its last seq. */
  resumeTopics() {
    const topics = [...this.conversations.values()].map((c) => ({ topic: this.topicOf(c.id), since: c.tracker.seq }));
    if (this.inbox.topic) topics.push({ topic: this.inbox.topic, since: this.inbox.tracker.seq });
    return topics;
  }

  onFrame(frame) {
    switch (frame.type) {
      case "event":
        if (frame.topic === this.inbox.topic) applyInboxEvent(this, frame.seq, frame.event);
        else applyConversationEvent(this, frame.topic, frame.seq, frame.event);
        break;
      case "subscribed":
        this.onSubscribed(frame);
        break;
      case "unsubscribed": {
        const id = this.conversationOfTopic(frame.topic);
        if (id && this.conversations.delete(id)) {
          this.emit("conversations");
          if (this.activeId === id) this.emit("left", id);
        }
        break;
      }
      case "typing":
        applyTyping(this, frame);
        break;
      case "presence":
        this.presence.set(frame.user_id, frame.status);
        this.emit("presence");
        break;
      default:
        break;
    }
  }

  onSubscribed(frame) {
    const id = this.conversationOfTopic(frame.topic);
    if (frame.topic === this.inbox.topic) {
      if (frame.resume === "too_far") this.loadInbox(true);
      return;
    }
    if (!id) return;
    const conv = this.conversations.get(id);
    if (!conv) {
      this.fetchConversation(id);
      return;
    }
    if (frame.resume === "too_far" || (frame.resume === "recovered" && conv.tracker.hasGap)) this.refetch(conv);
  }

  /** Whether the user is looking at the end of this conversation right now (set by the chat view). */
  isReading(conv) {
    return this.activeId === conv.id && document.visibilityState === "visible" && this.readingAtBottom;
  }

  // --- sending -----------------------------------------------------------------------------------

  /** Show `body` at once as pending and send it (see outbox.js). */
  send(conv, body, options = {}) {
    return queueSend(this, conv, body, options);
  }

  /** Send (or resend: the same client_id never makes a double) one pending message. */
  trySend(item) {
    return trySend(this, item);
  }

  retryFailed() {
    for (const item of this.pending.values()) if (item.state === "failed" && item.retryable) this.trySend(item);
  }

  discard(item) {
    this.pending.delete(item.client_id);
    this.emit("messages", item.conversation_id);
  }

  edit(messageId, body) {
    return this.socket.request({ type: "edit", message_id: messageId, body });
  }

  remove(messageId) {
    return this.socket.request({ type: "delete", message_id: messageId });
  }

  react(message, emoji) {
    const mine = (message.reactions || []).some((r) => r.emoji === emoji && (r.users || []).includes(this.me.id));
    return this.socket.request({ type: "react", message_id: message.id, emoji, add: !mine });
  }

  markRead(conv) {
    const seq = conv.tracker.seq;
    const hadUnread = conv.unread || conv.mentions;
    conv.unread = 0;
    conv.mentions = 0;
    if (!conv.membership || seq <= conv.membership.last_read_seq) {
      if (hadUnread) this.emit("conversations");
      return;
    }
    conv.membership.last_read_seq = seq;
    this.emit("conversations");
    const frame = { type: "read", conversation_id: conv.id, seq };
    if (!this.socket.send(frame)) api.post(`/api/v1/conversations/${conv.id}/read`, { seq }).catch(() => null);
  }

  // --- inbox -------------------------------------------------------------------------------------

  loadInboxCounts() {
    return loadInboxCounts(this);
  }

  loadInbox(force = false) {
    return loadInbox(this, force);
  }

  markNotifications(state, ids) {
    return markNotifications(this, state, ids);
  }
}
