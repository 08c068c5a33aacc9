// fieldhub's browser client: boot, sign in, the layout, routing by hash, the connection banner.

import * as api from "./api.js";
import { h, icon } from "./dom.js";
import { Socket } from "./socket.js";
import { Store } from "./store.js";
import { ChatView, ThreadPanel } from "./views/chat.js";
import { signIn } from "./views/login.js";
import { canModerate, ModerationConsole } from "./views/moderation.js";
import { canReport, ReportsPage } from "./views/reports.js";
import { BrowsePanel, InboxPanel, SearchPanel } from "./views/panels.js";
import { NewChannelPanel, NewMessagePanel } from "./views/people.js";
import { openAppeal } from "./views/appeal.js";
import { SettingsPanel } from "./views/settings.js";
import { claimPush, releasePush } from "./push.js";
import { Sidebar } from "./views/sidebar.js";

const root = document.getElementById("root");
const banner = document.getElementById("banner");

async function currentUser() {
  try {
    return await api.get("/api/v1/auth/me", { quiet401: true });
  } catch (error) {
    if (error.status === 401) return null;
    throw error;
  }
}

async function boot(notice = "") {
  let me = null;
  try {
    me = await currentUser();
  } catch (error) {
    root.replaceChildren(h("main", { class: "center" }, h("p", { class: "error", role: "alert" }, `fieldhub is not reachable: ${error.message}`),
      h("button", { type: "button", on: { click: () => boot() } }, "Try again")));
    return;
  }
  if (!me) {
    await signIn(root, { notice });
    me = await currentUser();
  }
  start(me);
}

function showBanner(detail) {
  const { state, retryInMs, reason } = detail;
  document.body.dataset.connection = state;
  banner.classList.remove("offline", "reconnecting");
  if (state === "open" || state === "closed" || state === "connecting") {
    banner.hidden = true;
    banner.textContent = "";
    return;
  }
  banner.hidden = false;
  banner.classList.add(state);
  if (state === "offline") banner.textContent = "You are offline. Messages you send will go out when the connection is back.";
  else if (reason === "too_many") banner.textContent = "Too many fieldhub tabs are open. Close one; retrying in 30 s.";
  else banner.textContent = `Reconnecting…${retryInMs ? ` (next try in ${Math.ceil(retryInMs / 1000)} s)` : ""}`;
}

async function start(me) {
  const store = new Store();
  store.me = me;
  const socket = new Socket({ resumeTopics: () => store.resumeTopics() });
  store.attach(socket);

  let stopped = false;
  const signOut = async (notice = "") => {
    if (stopped) return;
    stopped = true;
    socket.stop();
    banner.hidden = true;
    await boot(notice);
  };
  api.onUnauthorized(() => signOut("Your session ended. Sign in again."));
  socket.addEventListener("signedout", (e) => signOut(e.detail.code === 4002 ? "Your session expired. Sign in again." : "You were signed out."));
  socket.addEventListener("state", (e) => showBanner(e.detail));

  root.replaceChildren(h("main", { class: "center" }, h("p", { class: "boot" }, "Loading your conversations…")));
  await Promise.all([store.loadUsers(), store.loadConversations(), store.loadInboxCounts()]);
  store.loadPresence([me.id]);
  claimPush();

  // --- layout ---
  const app = h("div", { class: "app", dataset: { pane: "list" } });
  const aside = h("aside", { class: "panel", hidden: true, "aria-label": "Side panel" });
  let current = null; // the panel on screen

  const closePanel = () => {
    aside.hidden = true;
    aside.replaceChildren();
    current = null;
    app.dataset.panel = "";
    if (location.hash === "#/inbox" || location.hash === "#/settings") history.replaceState(null, "", chat.conv ? `#/c/${chat.conv.id}` : "#/");
  };
  const showPanel = (which) => {
    current = which;
    aside.replaceChildren(which.el);
    aside.hidden = false;
    app.dataset.panel = "open";
  };

  const thread = new ThreadPanel(store, { onClose: closePanel });
  const chat = new ChatView(store, {
    onBack: () => {
      app.dataset.pane = "list";
      location.hash = "#/";
    },
    onOpenThread: (conv, message, replyId = null) => {
      showPanel(thread);
      thread.open(conv, message, replyId);
    },
  });
  const openConversation = async (id, messageId = null) => {
    const conv = store.conversations.get(id);
    if (!conv) {
      await store.fetchConversation(id);
      if (!store.conversations.has(id)) return;
      return openConversation(id, messageId);
    }
    app.dataset.pane = "chat";
    if (current === thread && thread.conv !== conv) closePanel();
    await chat.open(conv, messageId);
    sidebar.render();
    if (!messageId) chat.composer.focus();
  };
  const navigate = (link) => {
    const url = new URL(link, location.origin);
    if (url.origin !== location.origin) {
      window.open(url.href, "_blank", "noopener,noreferrer");
      return;
    }
    location.hash = url.hash || "#/";
  };
  const inbox = new InboxPanel(store, { onClose: closePanel, onNavigate: navigate });
  const search = new SearchPanel(store, {
    onClose: closePanel,
    onOpenMessage: (m) => navigate(`/#/c/${m.conversation_id}/m/${m.thread_root_id || m.id}`),
  });
  const browse = new BrowsePanel(store, { onClose: closePanel, onOpen: (id) => { closePanel(); location.hash = `#/c/${id}`; } });
  const direct = new NewMessagePanel(store, { onClose: closePanel, onOpen: (id) => { closePanel(); location.hash = `#/c/${id}`; } });
  const newChannel = new NewChannelPanel(store, { onClose: closePanel, onOpen: (id) => { closePanel(); location.hash = `#/c/${id}`; } });
  const settings = new SettingsPanel(store, { onClose: closePanel });
  const sidebar = new Sidebar(store, {
    onOpen: () => null, // the link's hash change opens it
    onBrowse: () => { showPanel(browse); browse.open(); },
    onNewDirect: () => { showPanel(direct); direct.open(); },
    onNewChannel: () => { showPanel(newChannel); newChannel.open(); },
  });

  const bellCount = h("span", { class: "count", hidden: true });
  const bell = h("button", { type: "button", class: "bell", "aria-label": "Notifications", on: { click: () => { location.hash = "#/inbox"; } } }, icon("bell"), bellCount);
  const renderBell = () => {
    const n = store.inbox.unread;
    bellCount.hidden = n === 0;
    bellCount.textContent = n > 99 ? "99+" : String(n);
    bell.setAttribute("aria-label", n ? `Notifications, ${n} unread` : "Notifications");
    document.title = n || [...store.conversations.values()].some((c) => c.mentions) ? `(${n}) fieldhub` : "fieldhub";
  };
  store.addEventListener("inbox", renderBell);
  renderBell();

  const searchInput = h("input", { type: "search", id: "search-q", name: "q", placeholder: "Search messages", "aria-label": "Search messages", maxlength: "200" });
  const searchForm = h("form", { class: "search", role: "search", on: { submit: (e) => {
    e.preventDefault();
    const q = searchInput.value.trim();
    if (!q) return;
    showPanel(search);
    search.run(q);
  } } }, searchInput);
  const settingsButton = h("button", { type: "button", class: "gear", "aria-label": "Settings", title: "Settings", on: { click: () => { location.hash = "#/settings"; } } }, icon("gear"));
  const signOutButton = h("button", { type: "button", class: "small signout", on: { click: async () => {
    await releasePush();
    try {
      await api.post("/api/v1/auth/logout");
    } catch {
      // signed out already
    }
    history.replaceState(null, "", "#/");
    signOut();
  } } }, "Sign out");
  const top = h("header", { class: "topbar" },
    h("a", { href: "#/", class: "brand", "aria-label": "fieldhub home" }, "fieldhub"),
    searchForm, bell, settingsButton,
    h("span", { class: "whoami", title: me.email }, me.name), signOutButton);
  // The moderator console, for users whose roles hold a moderation permission (views/moderation.js).
  const moderation = canModerate(me) ? new ModerationConsole(store) : null;
  if (moderation) top.insertBefore(moderation.link(), bell);
  // Reports with charts, for users who may run them (views/reports.js).
  const reports = canReport(me) ? new ReportsPage() : null;
  if (reports) top.insertBefore(reports.link(), bell);

  app.append(h("a", { href: "#chat-title", class: "skip" }, "Skip to conversation"), top, sidebar.el, chat.el, aside);
  if (moderation) app.insertBefore(moderation.el, aside);
  if (reports) app.insertBefore(reports.el, aside);
  root.replaceChildren(app);
  sidebar.render();

  store.addEventListener("left", () => { chat.close(); app.dataset.pane = "list"; location.hash = "#/"; });
  store.addEventListener("conversations", renderBell);

  const route = () => {
    const hash = location.hash || "#/";
    if (moderation && moderation.route(hash)) {
      if (current) closePanel();
      if (chat.conv) chat.close();
      app.dataset.pane = "mod";
      return;
    }
    if (reports && reports.route(hash)) {
      if (current) closePanel();
      if (chat.conv) chat.close();
      app.dataset.pane = "reports";
      return;
    }
    const appeal = hash.match(/^#\/appeal\/([0-9a-f-]{36})$/i);
    if (appeal) {
      // A notification's link: open the dialog over whatever is shown, and forget the hash so
      // the same link works again.
      history.replaceState(null, "", current === inbox ? "#/inbox" : chat.conv ? `#/c/${chat.conv.id}` : "#/");
      openAppeal({ actionId: appeal[1] });
      return;
    }
    const conv = hash.match(/^#\/c\/([0-9a-f-]{36})(?:\/m\/([0-9a-f-]{36}))?/i);
    if (conv) {
      if (current === inbox) closePanel();
      openConversation(conv[1], conv[2] || null);
    } else if (hash === "#/inbox") {
      showPanel(inbox);
      inbox.open();
    } else if (hash === "#/settings") {
      if (current !== settings) {
        showPanel(settings);
        settings.open();
      }
    } else {
      app.dataset.pane = "list";
    }
  };
  window.addEventListener("hashchange", () => { if (!stopped) route(); });
  document.addEventListener("keydown", (e) => {
    if (stopped) return; // a listener of an earlier sign-in
    if (e.key === "Escape" && current && !e.defaultPrevented && !(e.target instanceof HTMLTextAreaElement)) closePanel();
    if (e.altKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
      // Alt+↑/↓: the previous or next conversation in the sidebar's order.
      const links = [...sidebar.el.querySelectorAll("a.conv")];
      if (!links.length) return;
      e.preventDefault();
      const at = links.findIndex((a) => a.dataset.conversationId === store.activeId);
      const next = at < 0 ? 0 : (at + (e.key === "ArrowDown" ? 1 : links.length - 1)) % links.length;
      location.hash = `#/c/${links[next].dataset.conversationId}`;
      links[next].focus();
    }
  });
  socket.start();
  route();
}

// A click on a push notification sends an open tab of the app to its link (delivery/static/sw.js)
// rather than opening another; the hash routes it once signed in.
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.addEventListener("message", (event) => {
    const data = event.data;
    if (!data || data.type !== "fieldhub:open" || typeof data.link !== "string") return;
    const url = new URL(data.link, location.origin);
    if (url.origin === location.origin && url.pathname === location.pathname) location.hash = url.hash || "#/";
  });
  navigator.serviceWorker.startMessages();
}

boot();
