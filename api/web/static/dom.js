// DOM helpers. Every piece of user text goes through text nodes: nothing here parses HTML.

/**
 * Build an element. props: `class`, `text`, `on` ({event: handler}), `dataset`, any other key is
 * set as an attribute (`aria-*`, `role`, `type`...); `false`/`null` props are skipped.
 * Children may be nodes, strings (become text nodes), arrays, or null.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "on") for (const [ev, fn] of Object.entries(value)) el.addEventListener(ev, fn);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "value") el.value = value;
    else if (key === "checked" || key === "disabled" || key === "hidden" || key === "multiple") el[key] = Boolean(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Make `parent`'s children exactly `nodes`, moving only what changed (keeps focus and scroll). */
export function syncChildren(parent, nodes) {
  let i = 0;
  for (const node of nodes) {
    const current = parent.childNodes[i];
    if (current !== node) parent.insertBefore(node, current || null);
    i += 1;
  }
  while (parent.childNodes.length > nodes.length) parent.lastChild.remove();
}

const TOKEN = /<@([0-9a-fA-F-]{36})>|(https?:\/\/[^\s<>"']+)/g;

/**
 * A message body as DOM: `<@id>` mentions become "@Name" spans, http(s) links become anchors
 * opening in a new tab without an opener. `nameOf(id)` gives a user's display name.
 */
export function renderBody(body, nameOf, meId) {
  const frag = document.createDocumentFragment();
  let last = 0;
  for (const match of body.matchAll(TOKEN)) {
    if (match.index > last) frag.append(document.createTextNode(body.slice(last, match.index)));
    if (match[1]) {
      const id = match[1].toLowerCase();
      frag.append(h("span", { class: id === meId ? "mention me" : "mention", dataset: { userId: id } }, `@${nameOf(id)}`));
    } else {
      let url = match[2];
      // Trailing punctuation usually ends the sentence, not the link.
      const trail = url.match(/[.,;:!?)\]]+$/);
      if (trail) url = url.slice(0, -trail[0].length);
      frag.append(h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, url));
      if (trail) frag.append(document.createTextNode(trail[0]));
    }
    last = match.index + match[0].length;
  }
  if (last < body.length) frag.append(document.createTextNode(body.slice(last)));
  return frag;
}

/** `snippet` with the `[start, end)` ranges wrapped in <mark> (text nodes only). */
export function highlighted(snippet, ranges) {
  const frag = document.createDocumentFragment();
  let last = 0;
  for (const [start, end] of [...ranges].sort((a, b) => a[0] - b[0])) {
    if (start < last) continue;
    if (start > last) frag.append(document.createTextNode(snippet.slice(last, start)));
    frag.append(h("mark", {}, snippet.slice(start, end)));
    last = end;
  }
  if (last < snippet.length) frag.append(document.createTextNode(snippet.slice(last)));
  return frag;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export const formatTime = (iso) => timeFormat.format(new Date(iso));
export const formatFull = (iso) => fullFormat.format(new Date(iso));
export const dayKey = (iso) => {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
};
export function dayLabel(iso) {
  const key = dayKey(iso);
  const today = new Date();
  if (key === dayKey(today.toISOString())) return "Today";
  const yesterday = new Date(today.getTime() - 86_400_000);
  if (key === dayKey(yesterday.toISOString())) return "Yesterday";
  return dayFormat.format(new Date(iso));
}

/** A short random id (client_id of a message, ref of a frame). */
export function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Call `fn` at most once per `ms`; the last call in a burst still runs. */
export function throttle(fn, ms) {
  let last = 0;
  let timer = null;
  return (...args) => {
    const wait = last + ms - Date.now();
    clearTimeout(timer);
    if (wait <= 0) {
      last = Date.now();
      fn(...args);
    } else {
      timer = setTimeout(() => {
        last = Date.now();
        fn(...args);
      }, wait);
    }
  };
}

const ICONS = {
  bell: ["M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9", "M13.73 21a2 2 0 0 1-3.46 0"],
  gear: [
    "M15 12a3 3 0 1 1-6 0 3 3 0 0 1 6 0z",
    "M19.4 15a1.65 1.65 0 0 0 .33 1.82l.06.06a2 2 0 1 1-2.83 2.83l-.06-.06a1.65 1.65 0 0 0-1.82-.33 1.65 1.65 0 0 0-1 1.51V21a2 2 0 1 1-4 0v-.09A1.65 1.65 0 0 0 9 19.4a1.65 1.65 0 0 0-1.82.33l-.06.06a2 2 0 1 1-2.83-2.83l.06-.06a1.65 1.65 0 0 0 .33-1.82 1.65 1.65 0 0 0-1.51-1H3a2 2 0 1 1 0-4h.09A1.65 1.65 0 0 0 4.6 9a1.65 1.65 0 0 0-.33-1.82l-.06-.06a2 2 0 1 1 2.83-2.83l.06.06a1.65 1.65 0 0 0 1.82.33H9a1.65 1.65 0 0 0 1-1.51V3a2 2 0 1 1 4 0v.09a1.65 1.65 0 0 0 1 1.51 1.65 1.65 0 0 0 1.82-.33l.06-.06a2 2 0 1 1 2.83 2.83l-.06.06a1.65 1.65 0 0 0-.33 1.82V9a1.65 1.65 0 0 0 1.51 1H21a2 2 0 1 1 0 4h-.09a1.65 1.65 0 0 0-1.51 1z",
  ],
  clip: ["M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48"],
};

/** A small stroke icon (decorative: the button around it carries the label). */
export function icon(name) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "icon");
  svg.setAttribute("aria-hidden", "true");
  for (const d of ICONS[name]) {
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}
