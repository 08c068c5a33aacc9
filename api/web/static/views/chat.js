// The conversation on screen: header, scrollable history with scroll-back, typing line, composer,
// and the thread panel. Tells the server what is on screen (`view`) and how far it is read (`read`).

import * as api from "../api.js";
import { h, throttle } from "../dom.js";
import { Composer } from "./composer.js";
import { ConversationMenu } from "./convmenu.js";
import { MessageList } from "./messages.js";

const VIEW_EVERY_MS = 30_000;
const BOTTOM_SLACK_PX = 48;
const MAX_PAGES_BACK = 20; // how far back a link to an old message loads history (50 messages a page)

function flash(el) {
  el.scrollIntoView({ block: "center" });
  el.classList.add("flash");
  el.focus({ preventScroll: true });
  setTimeout(() => el.classList.remove("flash"), 2000);
}

export class ChatView {
  constructor(store, { onBack, onOpenThread }) {
    this.store = store;
    this.conv = null;
    this.onOpenThread = onOpenThread;
    this.menu = new ConversationMenu(store);
    this.title = h("h2", { id: "chat-title", class: "chat-title", tabindex: "-1" });
    this.subtitle = h("p", { class: "chat-subtitle muted" });
    this.presenceDot = h("span", { class: "presence", hidden: true });
    const back = h("button", { type: "button", class: "back", "aria-label": "Back to conversations", on: { click: onBack } }, "‹");
    this.header = h("header", { class: "chat-header" }, back, h("div", { class: "chat-heading" }, h("div", { class: "title-row" }, this.presenceDot, this.title), this.subtitle), this.menu.el);
    this.list = new MessageList(store, { onThread: (m) => onOpenThread(this.conv, m), label: "Messages" });
    this.olderStatus = h("p", { class: "older muted", "aria-live": "polite" });
    this.scroller = h("div", { class: "scroller" }, this.olderStatus, this.list.el);
    this.typing = h("p", { class: "typing muted", "aria-live": "polite" });
    this.composer = new Composer(store, { label: "Write a message" });
    this.composer.onEditLast = () => Boolean(this.conv) && this.list.editLast(this.conv, null, this.composer.box);
    // Screen readers hear what others write in the open conversation, without moving focus.
    this.announcer = h("p", { class: "visually-hidden", "aria-live": "polite", "aria-atomic": "true" });
    this.empty = h("div", { class: "empty" }, h("p", {}, "Pick a conversation, or start one."));
    this.el = h("section", { class: "chat", "aria-labelledby": "chat-title" }, this.empty);
    // Reading further up when something new arrives: say so instead of moving the page.
    this.jump = h("button", { type: "button", class: "jump primary small", hidden: true, on: { click: () => this.toBottom() } }, "New messages ↓");
    this.body = [this.header, this.scroller, this.jump, this.typing, this.composer.el, this.announcer];
    this.composer.acceptDrops(this.el);
    this.loadingOlder = false;
    this.markRead = throttle(() => this.conv && this.store.markRead(this.conv), 800);
    this.scroller.addEventListener("scroll", () => this.onScroll(), { passive: true });
    document.addEventListener("visibilitychange", () => this.onVisibility());
    store.addEventListener("messages", (e) => { if (this.conv && e.detail === this.conv.id) this.render(); });
    store.addEventListener("users", () => this.conv && this.render());
    store.addEventListener("conversations", () => this.conv && this.renderHeader());
    store.addEventListener("presence", () => this.conv && this.renderHeader());
    store.addEventListener("arrived", (e) => {
      const { conversation, message } = e.detail;
      if (conversation !== this.conv || message.thread_root_id) return;
      this.announcer.textContent = `${this.store.nameOf(message.author_id)}: ${message.body}`;
      if (!this.atBottom()) this.jump.hidden = false;
    });
    store.addEventListener("typing", (e) => { if (this.conv && e.detail === this.conv.id) this.renderTyping(); });
    store.socket.addEventListener("state", (e) => { if (e.detail.state === "open") this.sendView(); });
    this.viewTimer = setInterval(() => this.sendView(), VIEW_EVERY_MS);
  }

  async open(conv, focusMessageId = null) {
    if (this.conv !== conv) {
      this.composer.stopTyping();
      this.conv = conv;
      this.store.activeId = conv.id;
      this.list.cache.clear();
      this.list.el.replaceChildren();
      this.el.replaceChildren(...this.body);
      this.composer.setConversation(conv);
      this.menu.setConversation(conv);
      this.jump.hidden = true;
      this.renderHeader();
      this.renderTyping();
      this.sendView();
    }
    await this.store.openConversation(conv.id);
    this.render({ toBottom: !focusMessageId });
    if (focusMessageId) await this.reveal(focusMessageId);
    this.fillViewport();
  }

  close() {
    this.composer.stopTyping();
    this.conv = null;
    this.store.activeId = null;
    this.el.replaceChildren(this.empty);
    this.sendView();
  }

  /** Show one message (a link from the inbox or search): load older history for an old one, open the
   * thread panel for a reply. */
  async reveal(messageId) {
    const conv = this.conv;
    const find = () => this.list.el.querySelector(`#m-${CSS.escape(messageId)}`);
    if (!find()) {
      let message = conv.messages.get(messageId);
      if (!message) {
        try {
          message = await api.get(`/api/v1/messages/${messageId}`);
        } catch {
          return; // gone, or not mine to read
        }
      }
      if (this.conv !== conv) return;
      if (message.thread_root_id) {
        await this.reveal(message.thread_root_id);
        const root = conv.messages.get(message.thread_root_id);
        if (root && this.conv === conv) this.onOpenThread(conv, root, messageId);
        return;
      }
      for (let page = 0; page < MAX_PAGES_BACK && !find() && conv.hasBefore && this.conv === conv; page += 1) {
        if (!(await this.store.loadOlder(conv))) break;
      }
    }
    const el = find();
    if (el) flash(el);
  }

  sendView() {
    const visible = document.visibilityState === "visible";
    this.store.socket.send({ type: "view", conversation_id: visible && this.conv ? this.conv.id : null });
  }

  onVisibility() {
    this.sendView();
    if (document.visibilityState === "visible" && this.atBottom()) this.markRead();
  }

  atBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < BOTTOM_SLACK_PX;
  }

  onScroll() {
    if (!this.conv) return;
    this.store.readingAtBottom = this.atBottom();
    if (this.store.readingAtBottom) {
      this.jump.hidden = true;
      this.markRead();
    }
    if (this.scroller.scrollTop < 200) this.loadOlder();
  }

  async loadOlder() {
    if (this.loadingOlder || !this.conv || !this.conv.hasBefore) return;
    this.loadingOlder = true;
    this.olderStatus.textContent = "Loading earlier messages…";
    try {
      await this.store.loadOlder(this.conv);
    } catch {
      // the next scroll tries again
    } finally {
      this.loadingOlder = false;
      this.olderStatus.textContent = this.conv && !this.conv.hasBefore ? "This is the beginning of the conversation." : "";
    }
  }

  /** Keep loading older pages until the history fills the screen (or runs out). */
  async fillViewport() {
    while (this.conv && this.conv.hasBefore && this.scroller.scrollHeight <= this.scroller.clientHeight + 10) {
      const before = this.conv.messages.size;
      await this.loadOlder();
      if (!this.conv || this.conv.messages.size === before) break;
    }
    if (this.conv && !this.conv.hasBefore) this.olderStatus.textContent = "This is the beginning of the conversation.";
  }

  renderHeader() {
    const conv = this.conv;
    const kind = conv.view.kind;
    const name = this.store.displayName(conv);
    this.title.textContent = kind === "direct" || kind === "group" ? name : `# ${name}`;
    this.subtitle.textContent = conv.view.topic || conv.view.purpose || (kind === "direct" ? "Direct message" : "");
    this.menu.render();
    const other = kind === "direct" ? this.store.otherMember(conv) : null;
    this.presenceDot.hidden = !other;
    if (other) {
      const status = this.store.presence.get(other) || "offline";
      this.presenceDot.className = `presence ${status}`;
      this.presenceDot.setAttribute("role", "img");
      this.presenceDot.setAttribute("aria-label", status);
      this.presenceDot.title = status;
    }
  }

  toBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.jump.hidden = true;
    this.composer.focus();
  }

  renderTyping() {
    const names = [...this.conv.typing.keys()].map((id) => this.store.nameOf(id));
    let text = "";
    if (names.length === 1) text = `${names[0]} is typing…`;
    else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
    else if (names.length > 2) text = "Several people are typing…";
    this.typing.textContent = text;
  }

  render({ toBottom = false } = {}) {
    const s = this.scroller;
    const wasAtBottom = toBottom || this.atBottom();
    const fromBottom = s.scrollHeight - s.scrollTop;
    const loadingOlder = this.loadingOlder;
    this.list.render(this.conv);
    if (wasAtBottom) s.scrollTop = s.scrollHeight;
    else if (loadingOlder) s.scrollTop = s.scrollHeight - fromBottom; // older messages above: nothing moves
    this.store.readingAtBottom = this.atBottom();
    if (this.store.readingAtBottom && document.visibilityState === "visible") this.markRead();
  }
}

export class ThreadPanel {
  constructor(store, { onClose }) {
    this.store = store;
    this.conv = null;
    this.root = null;
    this.list = new MessageList(store, { thread: true, label: "Thread replies" });
    this.composer = new Composer(store, { label: "Reply in thread" });
    this.composer.onEditLast = () => Boolean(this.conv) && this.list.editLast(this.conv, this.root.id, this.composer.box);
    const close = h("button", { type: "button", class: "close", "aria-label": "Close thread", on: { click: onClose } }, "✕");
    this.heading = h("h2", { id: "thread-title", tabindex: "-1" }, "Thread");
    this.scroller = h("div", { class: "scroller" }, this.list.el);
    this.el = h("section", { class: "thread", "aria-labelledby": "thread-title" },
      h("header", { class: "panel-header" }, this.heading, close), this.scroller, this.composer.el);
    this.composer.acceptDrops(this.el);
    store.addEventListener("messages", (e) => { if (this.conv && e.detail === this.conv.id) this.render(); });
  }

  async open(conv, message, focusId = null) {
    this.conv = conv;
    this.root = message;
    this.composer.threadRootId = message.id;
    this.composer.setConversation(null);
    this.composer.setConversation(conv);
    this.list.cache.clear();
    this.render();
    try {
      this.root = await this.store.loadThread(conv, message.id);
    } catch {
      // the root was deleted meanwhile
    }
    this.render();
    this.scroller.scrollTop = this.scroller.scrollHeight;
    const target = focusId && this.list.el.querySelector(`#t-${CSS.escape(focusId)}`);
    if (target) flash(target);
    else this.composer.focus();
  }

  render() {
    const root = this.conv.messages.get(this.root.id) || this.root;
    const s = this.scroller;
    const atBottom = s.scrollHeight - s.scrollTop - s.clientHeight < BOTTOM_SLACK_PX;
    this.list.render(this.conv, root.id, root);
    if (atBottom) s.scrollTop = s.scrollHeight;
  }
}
