// fieldhub's service worker: shows Web Push notifications (with their action buttons) and opens their link when clicked.
// A push carries only ids and a short text (the 4 KiB limit); a "dismiss" push closes a
// notification that was read on another device (same tag as the push that showed it).

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
  const data = event.notification.data || {};
  const chosen = event.action && (data.actions || []).find((a) => a.id === event.action && a.link);
  const link = new URL((chosen && chosen.link) || data.link || "/", self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      for (const client of windows) {
        if (client.url === link && "focus" in client) return client.focus();
      }
      return self.clients.openWindow(link);
    })
  );
});
