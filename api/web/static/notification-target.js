// Where a click on a fieldhub notification goes, and which open window takes it. A pure choice, kept
// apart from the service worker (delivery/static/sw.js) so a page can load it and test it. A plain
// script, not a module: the worker's importScripts and a page's <script> both run it, and it
// defines `notificationTarget` on the global object.

/**
 * Choose the URL a notification click opens and the window that opens it.
 *
 * The app is one page at "/" routed by its hash, so any open tab of it can show any item: a tab
 * already at the link is focused; otherwise the focused tab of the app, else a visible one, else the
 * most recently focused one is sent to the link; with no tab of the app, a new window opens. A link
 * that is not the app's page (an action button's signed page, another site) always gets its own
 * window unless a tab is already at it.
 *
 * @param {{link?: string, actions?: {id: string, link?: string}[]}} data the notification's data
 * @param {string} action the id of the action button clicked, "" for the notification itself
 * @param {{id: string, url: string, focused?: boolean, visibilityState?: string}[]} windows the open
 *   windows, most recently focused first (the order of clients.matchAll)
 * @param {string} origin the app's origin
 * @returns {{kind: "focus" | "navigate" | "open", url: string, clientId?: string}} "focus": that
 *   window is already at the URL; "navigate": send that window to the URL; "open": a new window
 *
 * Example: notificationTarget({ link: "/#/c/42" }, "", [{ id: "a", url: "https://hub.example/#/c/7" }], "https://hub.example")
 * gives { kind: "navigate", clientId: "a", url: "https://hub.example/#/c/42" }.
 */
function notificationTarget(data, action, windows, origin) {
  const chosen = action ? (data.actions || []).find((a) => a.id === action && a.link) : null;
  const url = webUrl((chosen && chosen.link) || data.link || "/", origin) || new URL("/", origin);
  const exact = windows.find((w) => w.url === url.href);
  if (exact) return { kind: "focus", clientId: exact.id, url: url.href };
  if (!isAppPage(url, origin)) return { kind: "open", url: url.href };
  const tabs = windows.filter((w) => isAppPage(webUrl(w.url, origin), origin));
  const best = tabs.find((w) => w.focused) || tabs.find((w) => w.visibilityState === "visible") || tabs[0];
  return best ? { kind: "navigate", clientId: best.id, url: url.href } : { kind: "open", url: url.href };
}

/** `link` resolved against `origin` when it is an http(s) URL, else null ("javascript:..." is not). */
function webUrl(link, origin) {
  try {
    const url = new URL(link, origin);
    return url.protocol === "https:" || url.protocol === "http:" ? url : null;
  } catch {
    return null;
  }
}

/** Whether `url` is the app's page (its routes live in the hash). */
function isAppPage(url, origin) {
  return url !== null && url.origin === origin && url.pathname === "/";
}

self.notificationTarget = notificationTarget;
