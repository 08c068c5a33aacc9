// Web Push on this browser: the service worker at /sw.js, the permission, the subscription kept by the server.
// The browser's permission is the user's choice; the subscription follows whoever is signed in here.

import * as api from "./api.js";

const SUBSCRIBE_TIMEOUT_MS = 20_000;

export function pushSupported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

/** Plain words for what the browser allows: "granted", "denied", "default" or "unsupported". */
export function permissionText(permission) {
  if (permission === "granted") return "Allowed: this browser may show fieldhub notifications.";
  if (permission === "denied") return "Blocked: notifications for this site are turned off in the browser's settings.";
  if (permission === "default") return "Not asked yet: the browser will ask when you turn push on.";
  return "This browser cannot receive push notifications.";
}

function base64UrlBytes(text) {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

function sameKey(buffer, bytes) {
  if (!buffer) return false;
  const a = new Uint8Array(buffer);
  return a.length === bytes.length && a.every((b, i) => b === bytes[i]);
}

function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function currentSubscription() {
  const registration = await navigator.serviceWorker.getRegistration("/");
  if (!registration) return { registration: null, subscription: null };
  try {
    return { registration, subscription: await registration.pushManager.getSubscription() };
  } catch {
    return { registration, subscription: null };
  }
}

/** {supported, permission, registered, subscribed} for this browser right now. */
export async function pushState() {
  if (!pushSupported()) return { supported: false, permission: "unsupported", registered: false, subscribed: false };
  const { registration, subscription } = await currentSubscription();
  return { supported: true, permission: Notification.permission, registered: Boolean(registration), subscribed: Boolean(subscription) };
}

/**
 * Ask the browser (a user gesture must lead here), register the service worker, subscribe with the
 * server's VAPID key and hand the subscription to the server. Resolves to the new pushState();
 * throws with a readable message when the browser or its push service refuses.
 */
export async function enablePush() {
  if (!pushSupported()) throw new Error("This browser cannot receive push notifications.");
  const permission = await Notification.requestPermission();
  if (permission !== "granted") return pushState();
  const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  await navigator.serviceWorker.ready;
  const { public_key: publicKey } = await api.get("/api/v1/push/vapid-public-key");
  const key = base64UrlBytes(publicKey);
  let subscription = await registration.pushManager.getSubscription();
  if (subscription && !sameKey(subscription.options && subscription.options.applicationServerKey, key)) {
    await subscription.unsubscribe(); // made for another server key: it would never receive anything
    subscription = null;
  }
  if (!subscription) {
    subscription = await withTimeout(
      registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }),
      SUBSCRIBE_TIMEOUT_MS,
      "the browser's push service did not answer",
    );
  }
  await api.post("/api/v1/push/subscriptions", subscription.toJSON());
  return pushState();
}

/** Stop pushes to this browser: the server forgets it, the browser drops the subscription. */
export async function disablePush() {
  if (!pushSupported()) return pushState();
  const { subscription } = await currentSubscription();
  if (subscription) {
    await api.post("/api/v1/push/subscriptions/delete", { endpoint: subscription.endpoint });
    await subscription.unsubscribe();
  }
  return pushState();
}

/**
 * After sign-in: a browser that is subscribed already is handed to the signed-in person (the
 * server moves a known endpoint to its new owner), so the previous user's pushes stop here.
 */
export async function claimPush() {
  if (!pushSupported() || Notification.permission !== "granted") return;
  const { subscription } = await currentSubscription();
  if (subscription) await api.post("/api/v1/push/subscriptions", subscription.toJSON()).catch(() => null);
}

/** Before sign-out: the server stops pushing to this browser (it keeps its permission and subscription). */
export async function releasePush() {
  if (!pushSupported()) return;
  const { subscription } = await currentSubscription();
  if (subscription) await api.post("/api/v1/push/subscriptions/delete", { endpoint: subscription.endpoint }).catch(() => null);
}
