// The reports page (#/reports): pick a report and its local days, see one measure as inline SVG bars and every
// row as a table, or download the CSV. No chart library: the bars are a few SVG rects.

import * as api from "../api.js";
import { h } from "../dom.js";

const SVG = "http://www.w3.org/2000/svg";
const MAX_BARS = 25;
const STYLE = `
.reports { display: none; min-height: 0; min-width: 0; flex-direction: column; overflow-y: auto; padding: 0.6rem 0.75rem 2rem; gap: 0.6rem; }
.app[data-pane="reports"] .sidebar, .app[data-pane="reports"] .chat { display: none; }
.app[data-pane="reports"] .reports { display: flex; }
.reports-open { text-decoration: none; color: inherit; border: 1px solid var(--line); border-radius: var(--radius); padding: 0.15rem 0.5rem; font-size: 0.85rem; white-space: nowrap; }
.reports form { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: end; }
.reports label { display: grid; gap: 0.15rem; font-size: 0.85rem; }
.reports-chart text { font-size: 11px; fill: currentColor; }
.reports-chart rect { fill: var(--accent); }
.reports table { border-collapse: collapse; font-size: 0.85rem; }
.reports th, .reports td { border-bottom: 1px solid var(--line); padding: 0.2rem 0.5rem; text-align: left; }
@media (min-width: 768px) {
  .app[data-pane="reports"] .sidebar { display: block; }
  .app[data-pane="reports"] .chat { display: none; }
}`;

/** Whether the signed-in user may run reports. */
export function canReport(me) {
  return (me.permissions || []).includes("reports:read");
}

function svg(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** A bar per row: `label(row)` on the left, `row[measure]` as the bar's length and its number. */
export function barChart(rows, label, measure) {
  const shown = rows.slice(0, MAX_BARS);
  const top = Math.max(1, ...shown.map((row) => Number(row[measure]) || 0));
  const rowHeight = 22;
  const chart = svg("svg", { class: "reports-chart", role: "img", "aria-label": `${measure} per row`, width: "100%", height: shown.length * rowHeight + 4, viewBox: `0 0 600 ${shown.length * rowHeight + 4}` });
  shown.forEach((row, i) => {
    const value = Number(row[measure]) || 0;
    const y = i * rowHeight + 2;
    chart.append(
      svg("text", { x: 0, y: y + 14 }, String(label(row)).slice(0, 28)),
      svg("rect", { x: 180, y, height: rowHeight - 6, width: Math.round((value / top) * 360), "data-value": value }),
      svg("text", { x: 186 + Math.round((value / top) * 360), y: y + 14 }, String(row[measure] ?? 0)),
    );
  });
  return chart;
}

export class ReportsPage {
  constructor() {
    this.templates = null;
    this.choice = h("select", { name: "template", "aria-label": "Report", on: { change: () => this.run() } });
    const today = new Date().toISOString().slice(0, 10);
    const monthAgo = new Date(Date.now() - 29 * 86400000).toISOString().slice(0, 10);
    this.from = h("input", { type: "date", name: "from", value: monthAgo });
    this.to = h("input", { type: "date", name: "to", value: today });
    this.measure = h("select", { name: "measure", "aria-label": "Measure", on: { change: () => this.draw() } });
    this.csv = h("a", { class: "small", download: "" }, "Download CSV");
    const form = h("form", { on: { submit: (e) => { e.preventDefault(); this.run(); } } },
      h("label", {}, "Report", this.choice), h("label", {}, "From", this.from), h("label", {}, "To", this.to),
      h("button", { type: "submit" }, "Show"), h("label", {}, "Chart", this.measure), this.csv);
    this.status = h("p", { class: "reports-status", role: "status" });
    this.chart = h("div", { class: "reports-chart-box" });
    this.table = h("div", { class: "reports-table" });
    this.el = h("section", { class: "reports", "aria-label": "Reports" }, h("h2", {}, "Reports"), form, this.status, this.chart, this.table);
    this.result = null;
    this.asked = 0; // the newest run(): an older answer arriving after it is dropped
  }

  /** A link for the top bar. */
  link() {
    if (!document.getElementById("reports-style")) document.head.append(h("style", { id: "reports-style" }, STYLE));
    return h("a", { href: "#/reports", class: "small reports-open" }, "Reports");
  }

  /** Show the page for `hash`; false when it is not #/reports. */
  route(hash) {
    if (!/^#\/reports\/?$/.test(hash)) return false;
    this.open();
    return true;
  }

  async open() {
    if (this.templates) return;
    this.templates = await api.get("/api/v1/reports");
    this.choice.replaceChildren(...this.templates.map((t) => h("option", { value: t.key }, t.title)));
    await this.run();
  }

  async run() {
    const params = api.qs({ from: this.from.value, to: this.to.value });
    const key = this.choice.value;
    this.csv.href = `/api/v1/reports/${key}.csv${params}`;
    this.status.textContent = "Loading…";
    const asked = ++this.asked;
    let result;
    try {
      result = await api.get(`/api/v1/reports/${key}${params}`);
    } catch (error) {
      if (asked !== this.asked) return;
      this.result = null;
      this.chart.replaceChildren();
      this.table.replaceChildren();
      this.status.textContent = error.code === "too_large_for_json" ? "Too many rows to show here: download the CSV." : error.message;
      return;
    }
    // The default report is still on its way when someone picks another: its answer must not win.
    if (asked !== this.asked) return;
    this.result = result;
    const { columns, rows } = this.result;
    const numeric = columns.filter((c) => rows.some((r) => typeof r[c] === "number") && !c.endsWith("rank") && c !== "year");
    this.measure.replaceChildren(...numeric.map((c) => h("option", { value: c }, c.replaceAll("_", " "))));
    this.status.textContent = `${rows.length} rows, ${this.result.from} to ${this.result.to} (${this.result.timezone})`;
    this.draw();
    this.table.replaceChildren(h("table", {},
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.replaceAll("_", " "))))),
      h("tbody", {}, rows.map((r) => h("tr", {}, columns.map((c) => h("td", {}, r[c] ?? "")))))));
  }

  draw() {
    if (!this.result || !this.measure.value) {
      this.chart.replaceChildren();
      return;
    }
    const { columns } = this.result;
    const names = columns.filter((c) => !c.endsWith("_id") && this.result.rows.some((r) => typeof r[c] === "string")).slice(0, 2);
    const label = (row) => names.map((c) => row[c] ?? "—").join(" · ");
    this.chart.replaceChildren(barChart(this.result.rows, label, this.measure.value));
  }
}
