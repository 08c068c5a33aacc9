// The composer: Enter sends, Shift+Enter breaks the line, typing frames, @-autocomplete inserting
// <@user-id>, file uploads (button or drop) with a progress bar and image previews.

import * as api from "../api.js";
import { h, icon, randomId } from "../dom.js";

const TYPING_EVERY_MS = 3_000;

export class Composer {
  constructor(store, { threadRootId = null, label = "Message" } = {}) {
    this.store = store;
    this.conv = null;
    this.threadRootId = threadRootId;
    this.uploads = [];
    this.lastTyping = 0;
    this.suggestions = [];
    this.selected = 0;
    this.mentionStart = -1;
    this.onEditLast = () => false; // ↑ in an empty box: edit my last message (set by the view)
    const inputId = `composer-${randomId()}`;
    const listId = `${inputId}-list`;
    this.box = h("textarea", {
      id: inputId, class: "composer-input", rows: "1", placeholder: label, "aria-label": label,
      role: "combobox", "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": listId,
    });
    this.list = h("ul", { id: listId, class: "autocomplete", role: "listbox", hidden: true, "aria-label": "People" });
    this.files = h("input", { type: "file", multiple: true, class: "visually-hidden", id: `${inputId}-file`, tabindex: "-1" });
    this.trays = h("ul", { class: "uploads", "aria-label": "Files to send" });
    this.error = h("p", { class: "error", role: "alert" });
    const attach = h("button", { type: "button", class: "attach", "aria-label": "Attach files", title: "Attach files", on: { click: () => this.files.click() } }, icon("clip"));
    const sendButton = h("button", { type: "submit", class: "send primary", "aria-label": "Send" }, "Send");
    this.el = h("form", { class: "composer", on: { submit: (e) => { e.preventDefault(); this.submit(); } } },
      this.trays, this.list,
      h("div", { class: "composer-row" }, attach, this.files, this.box, sendButton), this.error);
    this.box.addEventListener("keydown", (e) => this.onKey(e));
    this.box.addEventListener("input", () => this.onInput());
    this.box.addEventListener("blur", () => setTimeout(() => this.closeSuggestions(), 150));
    this.files.addEventListener("change", () => {
      for (const file of this.files.files) this.addFile(file);
      this.files.value = "";
    });
  }

  setConversation(conv) {
    if (this.conv && conv && this.conv.id === conv.id) return;
    this.conv = conv;
    this.box.value = "";
    this.uploads = [];
    this.renderUploads();
    this.error.textContent = "";
  }

  /** Drop target: files dropped on `zone` are uploaded into this composer. */
  acceptDrops(zone) {
    zone.addEventListener("dragover", (e) => {
      if (!e.dataTransfer || ![...e.dataTransfer.types].includes("Files")) return;
      e.preventDefault();
      zone.classList.add("dropping");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("dropping"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.classList.remove("dropping");
      for (const file of e.dataTransfer.files) this.addFile(file);
    });
  }

  focus() {
    this.box.focus();
  }

  onKey(e) {
    if (!this.list.hidden && this.suggestions.length) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        const n = this.suggestions.length;
        this.selected = (this.selected + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
        this.renderSuggestions();
        return;
      }
      if (e.key === "Enter" || e.key === "Tab") {
        e.preventDefault();
        this.pick(this.suggestions[this.selected]);
        return;
      }
      if (e.key === "Escape") {
        e.preventDefault();
        this.closeSuggestions();
        return;
      }
    }
    if (e.key === "ArrowUp" && !this.box.value && !e.shiftKey && !e.altKey && this.onEditLast()) {
      e.preventDefault();
      return;
    }
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      this.submit();
    }
  }

  onInput() {
    this.box.style.height = "auto";
    this.box.style.height = `${Math.min(this.box.scrollHeight, 160)}px`;
    const now = Date.now();
    if (this.conv && this.box.value && now - this.lastTyping > TYPING_EVERY_MS) {
      this.lastTyping = now;
      this.store.socket.send({ type: "typing", topic: this.store.topicOf(this.conv.id), active: true });
    }
    this.suggest();
  }

  stopTyping() {
    if (this.conv && this.lastTyping) {
      this.store.socket.send({ type: "typing", topic: this.store.topicOf(this.conv.id), active: false });
      this.lastTyping = 0;
    }
  }

  async suggest() {
    const caret = this.box.selectionStart;
    const before = this.box.value.slice(0, caret);
    const match = before.match(/(^|\s)@([\p{L}\p{N}._-]{0,30})$/u);
    if (!match) {
      this.closeSuggestions();
      return;
    }
    this.mentionStart = caret - match[2].length - 1;
    const q = match[2].toLowerCase();
    let people = [...this.store.users.values()].filter(
      (u) => u.id !== this.store.me.id && (u.name.toLowerCase().includes(q) || (u.email || "").toLowerCase().startsWith(q)),
    );
    if (people.length < 3 && q.length >= 2) {
      try {
        people = (await this.store.searchUsers(q)).filter((u) => u.id !== this.store.me.id);
      } catch {
        // keep what we had
      }
    }
    this.suggestions = people.slice(0, 8);
    this.selected = 0;
    this.renderSuggestions();
  }

  renderSuggestions() {
    this.list.replaceChildren(...this.suggestions.map((u, i) => h("li", {
      role: "option", id: `${this.list.id}-${i}`, class: i === this.selected ? "selected" : null,
      "aria-selected": i === this.selected ? "true" : "false",
      on: { mousedown: (e) => { e.preventDefault(); this.pick(u); } },
    }, h("span", { class: "name" }, u.name), h("span", { class: "muted" }, ` ${u.email || ""}`))));
    const open = this.suggestions.length > 0;
    this.list.hidden = !open;
    this.box.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) this.box.setAttribute("aria-activedescendant", `${this.list.id}-${this.selected}`);
    else this.box.removeAttribute("aria-activedescendant");
  }

  closeSuggestions() {
    this.suggestions = [];
    this.renderSuggestions();
  }

  pick(user) {
    const caret = this.box.selectionStart;
    const token = `<@${user.id}> `;
    this.box.value = this.box.value.slice(0, this.mentionStart) + token + this.box.value.slice(caret);
    const at = this.mentionStart + token.length;
    this.box.setSelectionRange(at, at);
    this.closeSuggestions();
    this.box.focus();
  }

  addFile(file) {
    const item = { id: randomId(), file, progress: 0, state: "uploading", result: null, preview: null, error: null };
    if (file.type.startsWith("image/")) item.preview = URL.createObjectURL(file);
    const { promise, abort } = api.upload(file, (fraction) => {
      item.progress = fraction;
      const bar = this.trays.querySelector(`[data-upload="${item.id}"] progress`);
      if (bar) bar.value = fraction;
    });
    item.abort = abort;
    promise
      .then((result) => {
        item.result = result;
        item.state = "done";
      })
      .catch((error) => {
        item.state = "failed";
        item.error = error.message;
      })
      .finally(() => this.renderUploads());
    this.uploads.push(item);
    this.renderUploads();
  }

  renderUploads() {
    this.trays.replaceChildren(...this.uploads.map((item) => h("li", { class: `upload ${item.state}`, dataset: { upload: item.id } },
      item.preview ? h("img", { src: item.preview, alt: "", class: "preview" }) : h("span", { class: "file-icon", "aria-hidden": "true" }, "📄"),
      h("span", { class: "filename" }, item.file.name),
      item.state === "uploading" ? h("progress", { max: "1", value: String(item.progress), "aria-label": `Uploading ${item.file.name}` }) : null,
      item.state === "failed" ? h("span", { class: "error" }, item.error) : null,
      item.state === "done" ? h("span", { class: "muted" }, "Ready") : null,
      h("button", { type: "button", class: "remove", "aria-label": `Remove ${item.file.name}`, on: { click: () => this.removeUpload(item) } }, "✕"))));
  }

  removeUpload(item) {
    if (item.state === "uploading") item.abort();
    if (item.preview) URL.revokeObjectURL(item.preview);
    this.uploads = this.uploads.filter((u) => u !== item);
    this.renderUploads();
  }

  submit() {
    if (!this.conv) return;
    const body = this.box.value.trim();
    if (this.uploads.some((u) => u.state === "uploading")) {
      this.error.textContent = "Wait for the uploads to finish.";
      return;
    }
    const ready = this.uploads.filter((u) => u.state === "done");
    if (!body && !ready.length) return;
    this.error.textContent = "";
    this.store.send(this.conv, body, {
      threadRootId: this.threadRootId,
      attachmentIds: ready.map((u) => u.result.id),
      attachments: ready.map((u) => ({ filename: u.file.name })),
    });
    for (const u of this.uploads) if (u.preview) URL.revokeObjectURL(u.preview);
    this.uploads = [];
    this.renderUploads();
    this.box.value = "";
    this.box.style.height = "auto";
    this.stopTyping();
  }
}
