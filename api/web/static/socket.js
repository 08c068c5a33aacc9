// The one WebSocket: ticket, heartbeat, request/reply by `ref`, reconnect with backoff and jitter,
// and resume of every durable topic with `since` (the store says which topics and from where).

import { post } from "./api.js";

const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;
const REQUEST_TIMEOUT_MS = 15_000;
const SUBSCRIBES_PER_SECOND = 15; // well under the hub's 20 frames/s budget

export class SocketError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/**
 * Events (EventTarget): `state` (detail: {state, attempt, retryInMs, reason}), `frame` (detail: the
 * server frame), `signedout` (detail: {code}) when the server closed for a revoked or expired session.
 * States: "connecting", "open", "reconnecting", "offline", "closed".
 */
export class Socket extends EventTarget {
  constructor({ resumeTopics }) {
    super();
    this.resumeTopics = resumeTopics; // () => [{topic, since}]
    this.ws = null;
    this.state = "closed";
    this.attempt = 0;
    this.pending = new Map(); // ref -> {resolve, reject, timer}
    this.nextRef = 1;
    this.retryTimer = null;
    this.watchdog = null;
    this.heartbeatTimeoutMs = 60_000;
    this.reconnectAfterMs = null;
    this.stopped = true;
    this.subscribeQueue = [];
    this.subscribeTimer = null;
    this.resubscribing = new Set();
    this.hello = null;
    this.onOnline = () => this.reconnectNow();
    this.onOffline = () => {
      // The browser knows the network is gone: do not wait for a heartbeat timeout.
      // Drop the socket at once: whatever it might still deliver is resumed by `since` later.
      const ws = this.ws;
      this.ws = null;
      this.hello = null;
      clearTimeout(this.watchdog);
      clearTimeout(this.retryTimer);
      this.subscribeQueue = [];
      this.resubscribing.clear();
      this.failPending("offline");
      if (ws) ws.close(4000, "offline");
      this.setState("offline", { reason: "offline" });
    };
  }

  start() {
    this.stopped = false;
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    clearTimeout(this.retryTimer);
    clearTimeout(this.watchdog);
    clearTimeout(this.subscribeTimer);
    if (this.ws) this.ws.close(1000, "signed out");
    this.ws = null;
    this.failPending("closed");
    this.setState("closed");
  }

  setState(state, extra = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, attempt: this.attempt, ...extra } }));
  }

  async connect() {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    if (!navigator.onLine) {
      this.setState("offline", { reason: "offline" });
      return; // the `online` event brings us back
    }
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting");
    let ticket;
    try {
      ({ ticket } = await post("/api/v1/auth/ws-ticket", {}, { quiet401: true }));
    } catch (error) {
      if (error.status === 401) {
        this.dispatchEvent(new CustomEvent("signedout", { detail: { code: 401 } }));
        return;
      }
      this.scheduleRetry();
      return;
    }
    if (this.stopped) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/ws?ticket=${encodeURIComponent(ticket)}`);
    this.ws = ws;
    ws.addEventListener("message", (e) => this.onMessage(ws, e));
    ws.addEventListener("close", (e) => this.onClose(ws, e));
  }

  scheduleRetry(delayMs) {
    if (this.stopped) return;
    this.attempt += 1;
    const exp = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(this.attempt, 10));
    // Full jitter on half the delay: a restarted node is not stampeded by every tab at once.
    const wait = delayMs ?? Math.round(exp / 2 + Math.random() * (exp / 2));
    this.setState(navigator.onLine ? "reconnecting" : "offline", { retryInMs: wait });
    this.retryTimer = setTimeout(() => this.connect(), wait);
  }

  /** Reconnect at once (the network is back, or the user asked). */
  reconnectNow() {
    if (this.stopped) return;
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) return;
    this.attempt = Math.max(this.attempt, 1);
    this.connect();
  }

  touch() {
    clearTimeout(this.watchdog);
    // Nothing from the server for a heartbeat timeout: the connection is dead even if the browser has not noticed.
    this.watchdog = setTimeout(() => this.ws && this.ws.close(4000, "heartbeat"), this.heartbeatTimeoutMs + 5_000);
  }

  onMessage(ws, e) {
    if (ws !== this.ws) return;
    let frame;
    try {
      frame = JSON.parse(e.data);
    } catch {
      return;
    }
    this.touch();
    switch (frame.type) {
      case "ping":
        this.send({ type: "pong" });
        return;
      case "hello":
        this.hello = frame;
        this.heartbeatTimeoutMs = frame.heartbeat_timeout_ms || 60_000;
        this.attempt = 0;
        this.reconnectAfterMs = null;
        this.setState("open");
        this.resumeAll();
        break;
      case "reconnect":
        this.reconnectAfterMs = frame.after_ms ?? 1000;
        break;
      case "resync": {
        const wanted = new Map(this.resumeTopics().map((t) => [t.topic, t.since]));
        for (const topic of frame.topics || []) if (wanted.has(topic)) this.subscribe(topic, wanted.get(topic));
        break;
      }
      default:
        break;
    }
    if (frame.ref && this.pending.has(frame.ref) && frame.type !== "event") {
      const waiter = this.pending.get(frame.ref);
      this.pending.delete(frame.ref);
      clearTimeout(waiter.timer);
      if (frame.type === "refused" || frame.type === "error") waiter.reject(new SocketError(frame.code, frame.message));
      else waiter.resolve(frame);
    }
    this.dispatchEvent(new CustomEvent("frame", { detail: frame }));
  }

  onClose(ws, e) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.hello = null;
    clearTimeout(this.watchdog);
    clearTimeout(this.subscribeTimer);
    this.subscribeQueue = [];
    this.resubscribing.clear();
    this.failPending("disconnected");
    if (this.stopped) return;
    if (e.code === 4001 || e.code === 4002) {
      this.dispatchEvent(new CustomEvent("signedout", { detail: { code: e.code } }));
      return;
    }
    if (e.code === 4029) {
      this.setState("reconnecting", { reason: "too_many" });
      this.scheduleRetry(30_000);
      return;
    }
    if (e.code === 1012 && this.reconnectAfterMs !== null) {
      this.scheduleRetry(this.reconnectAfterMs + Math.round(Math.random() * 500));
      return;
    }
    if (!navigator.onLine) {
      this.setState("offline", { reason: "offline" });
      return;
    }
    this.scheduleRetry();
  }

  failPending(code) {
    for (const waiter of this.pending.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(new SocketError(code, "The connection was lost before the server answered."));
    }
    this.pending.clear();
  }

  get isOpen() {
    return Boolean(this.ws && this.ws.readyState === WebSocket.OPEN && this.hello);
  }

  /** Send a frame without waiting for an answer; false when not connected. */
  send(frame) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** Send a frame with a fresh `ref` and resolve with the frame answering it (reject on refused/error/loss). */
  request(frame, timeoutMs = REQUEST_TIMEOUT_MS) {
    if (!this.isOpen) return Promise.reject(new SocketError("offline", "Not connected."));
    const ref = String(this.nextRef++);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        reject(new SocketError("timeout", "The server did not answer in time."));
      }, timeoutMs);
      this.pending.set(ref, { resolve, reject, timer });
      this.send({ ...frame, ref });
    });
  }

  /** Resume every durable topic the store knows, paced under the hub's rate limit. */
  resumeAll() {
    for (const { topic, since } of this.resumeTopics()) this.subscribe(topic, since);
  }

  /** `subscribe` with `since` (deduplicated while one for the topic is under way). */
  subscribe(topic, since) {
    if (this.resubscribing.has(topic)) return;
    this.resubscribing.add(topic);
    this.subscribeQueue.push({ topic, since });
    this.pumpSubscribes();
  }

  pumpSubscribes() {
    if (this.subscribeTimer || !this.isOpen) return;
    const batch = this.subscribeQueue.splice(0, SUBSCRIBES_PER_SECOND);
    for (const { topic, since } of batch) {
      const frame = { type: "subscribe", topic };
      if (since !== null && since !== undefined) frame.since = since;
      this.request(frame, 30_000)
        .catch(() => null)
        .finally(() => this.resubscribing.delete(topic));
    }
    if (this.subscribeQueue.length) {
      this.subscribeTimer = setTimeout(() => {
        this.subscribeTimer = null;
        this.pumpSubscribes();
      }, 1000);
    }
  }
}
