// Client state: who I am, people, conversations with their messages, pending sends, the inbox, presence.
// Every durable event is applied exactly once, by `seq`, whatever order it arrives in (live, replayed, or both).

import * as api from "./api.js";
import { randomId } from "./dom.js";

const GAP_WAIT_MS = 2_000; // live events of one topic may arrive swapped; wait before calling it a gap

/** The `seq`s applied for one topic: everything up to `seq`, plus those in `above`. */
export class SeqTracker {
  constructor(seq = 0) {
    this.seq = seq;
    this.above = new Set();
  }

  /** True the first time `seq` is seen (then it counts as applied); false for a duplicate. */
  accept(seq) {
    if (seq <= this.seq || this.above.has(seq)) return false;
    if (seq === this.seq + 1) {
      this.seq = seq;
      while (this.above.delete(this.seq + 1)) this.seq += 1;
    } else {
      this.above.add(seq);
    }
    return true;
  }

  get hasGap() {
    return this.above.size > 0;
  }

  reset(seq) {
    this.seq = seq;
    this.above.clear();
  }
}

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
    this.fetchingConversations = new Set();
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
  async fetchConversation(id) {
    if (this.fetchingConversations.has(id)) return;
    this.fetchingConversations.add(id);
    try {
      const summary = await api.get(`/api/v1/conversations/${id}`);
      const known = this.conversations.has(id);
      const conv = this.addSummary(summary);
      if (!known) conv.tracker.reset(summary.conversation.last_seq || 0);
      this.emit("conversations");
    } catch {
      // gone again
    } finally {
      this.fetchingConversations.delete(id);
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
      return names.join(", ") || "Group";
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
    const chosen = existing ? newerMessage(message, existing) : message;
    // Reactions follow events once the message is known; keep the richer of the two lists otherwise.
    if (existing && chosen !== existing && !chosen.deleted) chosen.reactions = message.reactions || existing.reactions;
    conv.messages.set(message.id, chosen);
    if (message.author_id === this.me.id) this.pending.delete(message.client_id);
    return chosen;
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
        if (frame.topic === this.inbox.topic) this.onInboxEvent(frame.seq, frame.event);
        else this.onConversationEvent(frame.topic, frame.seq, frame.event);
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
        this.onTyping(frame);
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

  onConversationEvent(topic, seq, event) {
    const id = this.conversationOfTopic(topic);
    if (!id) return;
    const conv = this.conversations.get(id);
    if (!conv) {
      this.fetchConversation(id); // its history comes over HTTP, this event with it
      return;
    }
    if (event.kind === "read") {
      if (event.user_id !== this.me.id) {
        conv.readers.set(event.user_id, Math.max(conv.readers.get(event.user_id) || 0, event.seq));
        this.emit("messages", id);
      } else if (conv.membership && event.seq > conv.membership.last_read_seq) {
        conv.membership.last_read_seq = event.seq; // read on another device
        conv.unread = 0;
        conv.mentions = 0;
        this.emit("conversations");
      }
      return;
    }
    if (seq === null || seq === undefined) return;
    if (!conv.tracker.accept(seq)) return; // already applied: live and replayed both delivered it
    this.applyChatEvent(conv, event);
    if (conv.tracker.hasGap) this.watchGap(conv);
    this.emit("messages", id);
    this.emit("conversations");
  }

  watchGap(conv) {
    if (conv.gapTimer) return;
    conv.gapTimer = setTimeout(() => {
      conv.gapTimer = null;
      if (conv.tracker.hasGap && this.socket) this.socket.subscribe(this.topicOf(conv.id), conv.tracker.seq);
    }, GAP_WAIT_MS);
  }

  applyChatEvent(conv, event) {
    if (event.conversation) conv.view = event.conversation;
    if (event.at && event.kind === "message.created") conv.view.last_message_at = event.at;
    conv.view.last_seq = Math.max(conv.view.last_seq || 0, conv.tracker.seq);
    switch (event.kind) {
      case "message.created": {
        const message = this.upsertMessage(conv, event.message);
        if (message.author_id !== this.me.id && !this.isReading(conv)) {
          conv.unread += 1;
          if ((message.mentions || []).includes(this.me.id) || message.mention_here || message.mention_channel) conv.mentions += 1;
          this.emit("incoming", { conversation: conv, message });
        }
        if (message.author_id) this.stopTyping(conv, message.author_id);
        break;
      }
      case "message.edited":
      case "message.deleted":
      case "message.moderated":
      case "message.pinned":
      case "message.unpinned":
        if (event.message) this.upsertMessage(conv, event.message);
        break;
      case "reaction.added":
      case "reaction.removed":
        this.applyReaction(conv, event.reaction, event.kind === "reaction.added");
        break;
      case "member.joined":
      case "member.updated":
        if (event.member) {
          conv.members = conv.members.filter((m) => m.user_id !== event.member.user_id).concat([event.member]);
          this.ensureUser(event.member.user_id);
        }
        break;
      case "member.left":
        conv.members = conv.members.filter((m) => m.user_id !== event.removed_user_id);
        break;
      default:
        break;
    }
  }

  applyReaction(conv, change, add) {
    const message = conv.messages.get(change.message_id);
    if (!message) return;
    const reactions = (message.reactions || []).map((r) => ({ ...r, users: [...(r.users || [])] }));
    let entry = reactions.find((r) => r.emoji === change.emoji);
    if (add) {
      if (!entry) {
        entry = { emoji: change.emoji, count: 0, users: [] };
        reactions.push(entry);
      }
      if (!entry.users.includes(change.user_id)) {
        entry.users.push(change.user_id);
        entry.count += 1;
      }
    } else if (entry && entry.users.includes(change.user_id)) {
      entry.users = entry.users.filter((u) => u !== change.user_id);
      entry.count -= 1;
    }
    conv.messages.set(message.id, { ...message, reactions: reactions.filter((r) => r.count > 0) });
  }

  onTyping(frame) {
    const id = this.conversationOfTopic(frame.topic);
    const conv = id && this.conversations.get(id);
    if (!conv || frame.user_id === this.me.id) return;
    clearTimeout(conv.typing.get(frame.user_id));
    if (frame.active === false) conv.typing.delete(frame.user_id);
    else conv.typing.set(frame.user_id, setTimeout(() => this.stopTyping(conv, frame.user_id), frame.expires_in_ms || 6000));
    this.emit("typing", conv.id);
  }

  stopTyping(conv, userId) {
    if (!conv.typing.has(userId)) return;
    clearTimeout(conv.typing.get(userId));
    conv.typing.delete(userId);
    this.emit("typing", conv.id);
  }

  /** Whether the user is looking at the end of this conversation right now (set by the chat view). */
  isReading(conv) {
    return this.activeId === conv.id && document.visibilityState === "visible" && this.readingAtBottom;
  }

  // --- sending -----------------------------------------------------------------------------------

  send(conv, body, { threadRootId = null, attachmentIds = [], attachments = [] } = {}) {
    const item = {
      client_id: randomId(),
      conversation_id: conv.id,
      body,
      thread_root_id: threadRootId,
      attachment_ids: attachmentIds,
      attachments,
      created_at: new Date().toISOString(),
      author_id: this.me.id,
      state: "pending",
      error: null,
    };
    this.pending.set(item.client_id, item);
    this.emit("messages", conv.id);
    this.trySend(item);
    return item;
  }

  /** Send (or resend: the same client_id never makes a double) one pending message. */
  async trySend(item) {
    item.state = "pending";
    item.error = null;
    this.emit("messages", item.conversation_id);
    const frame = { type: "send", conversation_id: item.conversation_id, client_id: item.client_id, body: item.body };
    if (item.thread_root_id) frame.thread_root_id = item.thread_root_id;
    if (item.attachment_ids.length) frame.attachment_ids = item.attachment_ids;
    try {
      const ack = await this.socket.request(frame);
      const conv = this.conversations.get(item.conversation_id);
      if (conv && ack.message) this.upsertMessage(conv, ack.message);
      this.pending.delete(item.client_id);
    } catch (error) {
      if (!this.pending.has(item.client_id)) return; // the event beat the ack
      item.state = "failed";
      item.retryable = ["offline", "disconnected", "timeout", "rate_limited", "unavailable"].includes(error.code);
      item.error = item.retryable ? "Not sent: no connection." : error.message;
    }
    this.emit("messages", item.conversation_id);
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

  async loadInboxCounts() {
    const counts = await api.get("/api/v1/notifications/counts");
    this.inbox.topic = counts.topic;
    this.inbox.tracker.reset(counts.seq);
    this.inbox.unread = counts.unread;
    this.inbox.unseen = counts.unseen;
    this.emit("inbox");
  }

  async loadInbox(force = false) {
    if (this.inbox.loaded && !force) return;
    if (force) await this.loadInboxCounts();
    const page = await api.get(`/api/v1/notifications${api.qs({ limit: 50 })}`);
    this.inbox.items = new Map(page.items.map((n) => [n.id, n]));
    this.inbox.loaded = true;
    this.emit("inbox");
  }

  onInboxEvent(seq, event) {
    if (seq !== null && seq !== undefined && !this.inbox.tracker.accept(seq)) return;
    if (event.counts) {
      this.inbox.unread = event.counts.unread;
      this.inbox.unseen = event.counts.unseen;
    }
    if (event.kind === "notification.created" && event.notification) {
      this.inbox.items.set(event.notification.id, event.notification);
      this.emit("notification", event.notification);
    } else if (event.kind === "notification.state") {
      const ids = event.all ? [...this.inbox.items.keys()] : event.ids || [];
      for (const nid of ids) {
        const item = this.inbox.items.get(nid);
        if (item) this.inbox.items.set(nid, { ...item, state: event.state });
      }
    }
    if (this.inbox.tracker.hasGap && this.socket) this.socket.subscribe(this.inbox.topic, this.inbox.tracker.seq);
    this.emit("inbox");
  }

  async markNotifications(state, ids) {
    const body = ids ? { state, ids } : { state, all: true };
    await api.post("/api/v1/notifications/state", body);
    for (const id of ids || [...this.inbox.items.keys()]) {
      const item = this.inbox.items.get(id);
      if (item && (state === "archived" || item.state !== "archived")) this.inbox.items.set(id, { ...item, state });
    }
    this.emit("inbox");
  }
}
