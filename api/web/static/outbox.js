// Sending: a message shows at once as pending, goes out over the socket with a client id of its
// own, and turns sent on the ack (or on its event, whichever comes first). A send that failed for
// want of a connection is resent with the same client id, which the server never stores twice.

import { randomId } from "./dom.js";

// Failures that leave nothing stored (or stored once, found again by client_id): what the row says.
const RETRYABLE = {
  offline: "Not sent: no connection.",
  disconnected: "Not sent: no connection.",
  timeout: "Not sent: no connection.",
  rate_limited: "Not sent: too many messages at once. Retry in a moment.",
  unavailable: "Not sent: the server is busy. Retry in a moment.",
};

export function queueSend(store, conv, body, { threadRootId = null, attachmentIds = [], attachments = [] } = {}) {
  const item = {
    client_id: randomId(),
    conversation_id: conv.id,
    body,
    thread_root_id: threadRootId,
    attachment_ids: attachmentIds,
    attachments,
    created_at: new Date().toISOString(),
    author_id: store.me.id,
    state: "pending",
    error: null,
  };
  store.pending.set(item.client_id, item);
  store.emit("messages", conv.id);
  trySend(store, item);
  return item;
}

/** Send (or resend: the same client_id never makes a double) one pending message. */
export async function trySend(store, item) {
  item.state = "pending";
  item.error = null;
  store.emit("messages", item.conversation_id);
  const frame = { type: "send", conversation_id: item.conversation_id, client_id: item.client_id, body: item.body };
  if (item.thread_root_id) frame.thread_root_id = item.thread_root_id;
  if (item.attachment_ids.length) frame.attachment_ids = item.attachment_ids;
  try {
    const ack = await store.socket.request(frame);
    const conv = store.conversations.get(item.conversation_id);
    if (conv && ack.message) store.upsertMessage(conv, ack.message);
    store.pending.delete(item.client_id);
  } catch (error) {
    if (!store.pending.has(item.client_id)) return; // the event beat the ack
    item.state = "failed";
    item.code = error.code;
    item.retryable = Object.hasOwn(RETRYABLE, error.code ?? "");
    item.error = item.retryable ? RETRYABLE[error.code] : error.message;
  }
  store.emit("messages", item.conversation_id);
}
