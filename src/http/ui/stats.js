// The programme lead's dashboard: a period's figures, the suggested
// outcomes week by week, and how often clinicians overrode the suggestions
// each criterion drove. Charts are plain SVG drawn here (no library, nothing
// from elsewhere), each with its table for screen readers and for print.

import { h, show, showUnreachable, tableBox } from "./dom.js";
import { api } from "./api.js";
import { OUTCOMES } from "./words.js";

const SVG = "http://www.w3.org/2000/svg";
const COLORS = {
  urgent_evaluation: "#b3261e", unlikely_candidate: "#5b4636", not_yet_eligible: "#8a5300",
  needs_more_information: "#1d4f91", needs_diagnostic_block: "#5b3a8c", likely_candidate: "#1e6b34",
};

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(c);
  return el;
}

const day = (d) => d.toISOString().slice(0, 10);
const pct = (r) => (r === null || r === undefined ? "—" : `${Math.round(r * 100)}%`);

// Outcomes per week, stacked.
function weeksChart(weeks) {
  const W = 640, H = 220, left = 36, bottom = 28, top = 8;
  const max = Math.max(1, ...weeks.map((w) => w.screenings));
  // A week is at most 60 units wide: a single week is a bar, not a wall.
  const band = Math.min(60, (W - left) / Math.max(1, weeks.length));
  const y = (n) => ((H - bottom - top) * n) / max;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": "weeks-chart-title", class: "chart" },
    s("title", { id: "weeks-chart-title" }, `Suggested outcomes per week, ${weeks.length} week(s); the table below has the figures`));
  svg.append(s("line", { x1: left, x2: W, y1: H - bottom, y2: H - bottom, stroke: "#4a5560" }));
  svg.append(s("text", { x: left - 6, y: top + 10, "text-anchor": "end", "font-size": 11 }, String(max)));
  svg.append(s("text", { x: left - 6, y: H - bottom, "text-anchor": "end", "font-size": 11 }, "0"));
  weeks.forEach((w, i) => {
    let base = H - bottom;
    for (const code of Object.keys(OUTCOMES)) {
      const n = w.by_suggested_outcome[code] || 0;
      if (!n) continue;
      const hgt = y(n);
      base -= hgt;
      svg.append(s("rect", { x: left + i * band + band * 0.15, y: base, width: band * 0.7, height: hgt, fill: COLORS[code] },
        s("title", {}, `${w.week}: ${OUTCOMES[code].label} ${n}`)));
    }
    if (weeks.length <= 16 || i % Math.ceil(weeks.length / 16) === 0) {
      svg.append(s("text", { x: left + i * band + band / 2, y: H - 10, "text-anchor": "middle", "font-size": 10 }, w.week.slice(5)));
    }
  });
  return svg;
}

// Override rate per criterion that drove a reviewed suggestion.
function criteriaChart(criteria) {
  const rows = criteria.filter((c) => c.drove_reviewed > 0);
  const W = 640, row = 22, left = 210, H = Math.max(1, rows.length) * row + 24;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": "criteria-chart-title", class: "chart" },
    s("title", { id: "criteria-chart-title" }, "Override rate per criterion; the table below has the figures"));
  rows.forEach((c, i) => {
    const yy = i * row + 4;
    const width = (W - left - 110) * c.override_rate;
    svg.append(s("text", { x: left - 8, y: yy + 14, "text-anchor": "end", "font-size": 11 }, c.code));
    svg.append(s("rect", { x: left, y: yy + 3, width: Math.max(width, 1), height: row - 8, fill: "#1d4f91" }));
    svg.append(s("text", { x: left + Math.max(width, 1) + 6, y: yy + 14, "font-size": 11 }, `${pct(c.override_rate)} of ${c.drove_reviewed}`));
  });
  return svg;
}

function figures(st) {
  const cells = [
    ["Screenings", st.screenings], ["Reviewed", st.reviewed], ["Confirmed", st.confirmed], ["Overridden", st.overridden],
    ["Override rate", pct(st.override_rate)],
    ["Median time to review", st.median_minutes_to_review === null ? "—" : `${Math.round(st.median_minutes_to_review)} min`],
  ];
  return h("dl", { class: "figures" }, cells.map(([k, v]) => h("div", {}, h("dt", { text: k }), h("dd", { text: String(v) }))));
}

export async function statsView(period) {
  const to = period?.to || day(new Date(Date.now() + 86400000));
  const from = period?.from || day(new Date(Date.now() - 83 * 86400000));
  const query = `from=${encodeURIComponent(new Date(from + "T00:00:00").toISOString())}&to=${encodeURIComponent(new Date(to + "T00:00:00").toISOString())}`;
  const res = await api("GET", `/v1/stats?${query}`);
  if (res.unreachable) return showUnreachable(() => statsView(period));
  const fromInput = h("input", { id: "stats-from", type: "date", value: from, required: true });
  const toInput = h("input", { id: "stats-to", type: "date", value: to, required: true });
  const form = h("form", { class: "period", "aria-label": "Period" },
    h("label", { for: "stats-from", text: "From" }), fromInput,
    h("label", { for: "stats-to", text: "Until (not included)" }), toInput,
    h("button", { type: "submit", text: "Show" }));
  form.addEventListener("submit", (e) => { e.preventDefault(); statsView({ from: fromInput.value, to: toInput.value }); });
  if (res.status !== 200) {
    return show(h("section", {}, h("h1", { text: "Statistics" }), form,
      h("p", { role: "alert", class: "error", text: (res.data?.errors || []).map((e) => `${e.field}: ${e.message}`).join("; ") || res.data?.detail || `The service answered ${res.status}.` })));
  }
  const st = res.data;
  const legend = h("ul", { class: "legend" }, Object.entries(OUTCOMES).map(([code, o]) =>
    h("li", {}, h("span", { class: `swatch swatch-${code}`, "aria-hidden": "true" }), `${o.icon} ${o.label}`)));
  const weekTable = h("table", {},
    h("caption", { text: "Suggested outcomes per week (week starting Monday)" }),
    h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "Week" }), Object.values(OUTCOMES).map((o) => h("th", { scope: "col", text: o.label })), h("th", { scope: "col", text: "All" }))),
    h("tbody", {}, st.by_week.map((w) => h("tr", {}, h("th", { scope: "row", text: w.week }),
      Object.keys(OUTCOMES).map((c) => h("td", { text: String(w.by_suggested_outcome[c] || 0) })), h("td", { text: String(w.screenings) })))));
  const critTable = h("table", {},
    h("caption", { text: "Criteria: how often each fired, drove the suggestion, and was overridden when it did" }),
    h("thead", {}, h("tr", {}, ["Criterion", "Fired", "Drove", "Reviewed", "Overridden", "Override rate"].map((t) => h("th", { scope: "col", text: t })))),
    h("tbody", {}, st.by_criterion.map((c) => h("tr", {}, h("th", { scope: "row", text: c.code }),
      [c.fired, c.drove, c.drove_reviewed, c.overridden].map((n) => h("td", { text: String(n) })), h("td", { text: pct(c.override_rate) })))));
  show(h("section", { "aria-labelledby": "stats-title" },
    h("h1", { id: "stats-title", text: "Statistics" }),
    form,
    figures(st),
    h("h2", { text: "Suggested outcomes per week" }),
    st.by_week.length ? [legend, weeksChart(st.by_week)] : h("p", { text: "No screening in this period." }),
    tableBox("Outcomes per week", weekTable),
    h("h2", { text: "Override rate per criterion" }),
    st.by_criterion.some((c) => c.drove_reviewed > 0) ? criteriaChart(st.by_criterion) : h("p", { text: "No reviewed screening in this period." }),
    tableBox("Criteria", critTable)));
}
