// The notification inbox in the store: counts, the list, live events by `seq`, state changes.

import * as api from "./api.js";

export async function loadInboxCounts(store) {
  const counts = await api.get("/api/v1/notifications/counts");
  store.inbox.topic = counts.topic;
  store.inbox.tracker.reset(counts.seq);
  store.inbox.unread = counts.unread;
  store.inbox.unseen = counts.unseen;
  store.emit("inbox");
}

export async function loadInbox(store, force = false) {
  if (store.inbox.loaded && !force) return;
  if (force) await loadInboxCounts(store);
  const page = await api.get(`/api/v1/notifications${api.qs({ limit: 50 })}`);
  store.inbox.items = new Map(page.items.map((n) => [n.id, n]));
  store.inbox.loaded = true;
  store.emit("inbox");
}

export function applyInboxEvent(store, seq, event) {
  if (seq !== null && seq !== undefined && !store.inbox.tracker.accept(seq)) return;
  if (event.counts) {
    store.inbox.unread = event.counts.unread;
    store.inbox.unseen = event.counts.unseen;
  }
  if (event.kind === "notification.created" && event.notification) {
    store.inbox.items.set(event.notification.id, event.notification);
    store.emit("notification", event.notification);
  } else if (event.kind === "notification.state") {
    const ids = event.all ? [...store.inbox.items.keys()] : event.ids || [];
    for (const nid of ids) {
      const item = store.inbox.items.get(nid);
      if (item) store.inbox.items.set(nid, { ...item, state: event.state });
    }
  }
  if (store.inbox.tracker.hasGap && store.socket) store.socket.subscribe(store.inbox.topic, store.inbox.tracker.seq);
  store.emit("inbox");
}

export async function markNotifications(store, state, ids) {
  const body = ids ? { state, ids } : { state, all: true };
  await api.post("/api/v1/notifications/state", body);
  for (const id of ids || [...store.inbox.items.keys()]) {
    const item = store.inbox.items.get(id);
    if (item && (state === "archived" || item.state !== "archived")) store.inbox.items.set(id, { ...item, state });
  }
  store.emit("inbox");
}
