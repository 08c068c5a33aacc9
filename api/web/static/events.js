// Conversation events from the socket, applied to the store exactly once by `seq` (live, replayed,
// or both), and typing indicators. Ephemeral read receipts update "seen" in direct messages.

const GAP_WAIT_MS = 2_000; // live events of one topic may arrive swapped; wait before calling it a gap

export function applyConversationEvent(store, topic, seq, event) {
  const id = store.conversationOfTopic(topic);
  if (!id) return;
  const conv = store.conversations.get(id);
  if (!conv) {
    store.fetchConversation(id); // its history comes over HTTP, this event with it
    return;
  }
  // A read receipt is ephemeral (no seq); servers that omit default fields leave out its `kind`.
  if (event.kind === "read" || (!event.kind && (seq === null || seq === undefined) && event.user_id && Number.isInteger(event.seq))) {
    if (event.user_id !== store.me.id) {
      conv.readers.set(event.user_id, Math.max(conv.readers.get(event.user_id) || 0, event.seq));
      store.emit("messages", id);
    } else if (conv.membership && event.seq > conv.membership.last_read_seq) {
      conv.membership.last_read_seq = event.seq; // read on another device
      conv.unread = 0;
      conv.mentions = 0;
      store.emit("conversations");
    }
    return;
  }
  if (seq === null || seq === undefined) return;
  if (!conv.tracker.accept(seq)) return; // already applied: live and replayed both delivered it
  applyChatEvent(store, conv, event);
  if (conv.tracker.hasGap) watchGap(store, conv);
  store.emit("messages", id);
  store.emit("conversations");
}

function watchGap(store, conv) {
  if (conv.gapTimer) return;
  conv.gapTimer = setTimeout(() => {
    conv.gapTimer = null;
    if (conv.tracker.hasGap && store.socket) store.socket.subscribe(store.topicOf(conv.id), conv.tracker.seq);
  }, GAP_WAIT_MS);
}

function applyChatEvent(store, conv, event) {
  if (event.conversation) conv.view = event.conversation;
  if (event.at && event.kind === "message.created") conv.view.last_message_at = event.at;
  conv.view.last_seq = Math.max(conv.view.last_seq || 0, conv.tracker.seq);
  switch (event.kind) {
    case "message.created": {
      const message = store.upsertMessage(conv, event.message);
      if (message.author_id !== store.me.id) store.emit("arrived", { conversation: conv, message });
      if (message.author_id !== store.me.id && !store.isReading(conv)) {
        conv.unread += 1;
        if ((message.mentions || []).includes(store.me.id) || message.mention_here || message.mention_channel) conv.mentions += 1;
        store.emit("incoming", { conversation: conv, message });
      }
      if (message.author_id) stopTyping(store, conv, message.author_id);
      break;
    }
    case "message.edited":
    case "message.deleted":
    case "message.moderated":
    case "message.pinned":
    case "message.unpinned":
      if (event.message) store.upsertMessage(conv, event.message);
      break;
    case "reaction.added":
    case "reaction.removed":
      applyReaction(store, conv, event.reaction, event.kind === "reaction.added");
      break;
    case "member.joined":
    case "member.updated":
      if (event.member) {
        conv.members = conv.members.filter((m) => m.user_id !== event.member.user_id).concat([event.member]);
        store.ensureUser(event.member.user_id);
      }
      break;
    case "member.left":
      conv.members = conv.members.filter((m) => m.user_id !== event.removed_user_id);
      break;
    default:
      break;
  }
}

function applyReaction(store, conv, change, add) {
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

export function applyTyping(store, frame) {
  const id = store.conversationOfTopic(frame.topic);
  const conv = id && store.conversations.get(id);
  if (!conv || frame.user_id === store.me.id) return;
  clearTimeout(conv.typing.get(frame.user_id));
  if (frame.active === false) conv.typing.delete(frame.user_id);
  else conv.typing.set(frame.user_id, setTimeout(() => stopTyping(store, conv, frame.user_id), frame.expires_in_ms || 6000));
  store.emit("typing", conv.id);
}

function stopTyping(store, conv, userId) {
  if (!conv.typing.has(userId)) return;
  clearTimeout(conv.typing.get(userId));
  conv.typing.delete(userId);
  store.emit("typing", conv.id);
}
