// fieldhub's service worker: shows Web Push notifications (with their action buttons) and opens their link when
// clicked, in a tab of the app already open when there is one.
// A push carries only ids and a short text (the 4 KiB limit); a "dismiss" push closes a
// notification that was read on another device (same tag as the push that showed it).

// The click's choice of window and URL, a plain script shared with the tests (api/web/static).
importScripts("/static/notification-target.js");

self.addEventListener("install", (event) => event.waitUntil(self.skipWaiting()));
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (err) {
    data = { title: "fieldhub", body: event.data ? event.data.text() : "" };
  }
  if (data.dismiss) {
    event.waitUntil(
      self.registration.getNotifications({ tag: data.tag }).then((shown) => shown.forEach((n) => n.close()))
    );
    return;
  }
  const options = {
    body: data.body || "",
    tag: data.tag || data.id,
    renotify: data.priority === "critical" || data.priority === "high",
    requireInteraction: data.priority === "critical",
    data: { id: data.id, link: data.link || "/", fetch: data.fetch, actions: data.actions || [] },
    // Approve / Reject and the like: each opens its own signed page, which asks before it acts.
    actions: (data.actions || []).filter((a) => a.link).slice(0, 2).map((a) => ({ action: a.id, title: a.label })),
  };
  event.waitUntil(self.registration.showNotification(data.title || "fieldhub", options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(openFromNotification(event.notification.data || {}, event.action || ""));
});

/**
 * Open what a clicked notification links to: reuse a tab of the app (it is sent to the link by a
 * message, see app.js) and focus it, or open a window. The choice is notificationTarget's.
 * Resolves when done; rejects if the browser refuses focus or openWindow (outside a click).
 */
async function openFromNotification(data, action) {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const described = windows.map((w) => ({ id: w.id, url: w.url, focused: w.focused, visibilityState: w.visibilityState }));
  const target = notificationTarget(data, action, described, self.location.origin);
  const client = windows.find((w) => w.id === target.clientId);
  if (!client) return self.clients.openWindow(target.url);
  if (target.kind === "navigate") client.postMessage({ type: "fieldhub:open", link: target.url });
  return client.focus();
}
