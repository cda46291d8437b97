// The review queue: urgent first, then by the suggestion's precedence, then
// oldest; each row names the clinic's patient reference.

import { h, show } from "./dom.js";
import { api } from "./api.js";
import { OUTCOMES } from "./words.js";

export async function queueView(message) {
  const res = await api("GET", "/v1/screenings?status=pending_review&sort=priority&limit=100");
  const items = res.data?.items || [];
  const rows = items.map((s) => {
    const o = OUTCOMES[s.suggested_outcome];
    const when = new Date(s.created_at).toLocaleString();
    const who = s.external_ref || "no reference";
    return h("tr", { class: s.suggested_outcome === "urgent_evaluation" ? "urgent-row" : null },
      h("td", { text: who }),
      h("td", {}, h("span", { class: `queue-outcome outcome-${s.suggested_outcome}` },
        h("span", { "aria-hidden": "true", text: o.icon + " " }), o.label)),
      h("td", { text: when }),
      h("td", {}, h("a", { href: `#/review/${s.id}`, text: "Open", "aria-label": `Open the screening of ${who}, ${o.label}, created ${when}` })));
  });
  show(h("section", { "aria-labelledby": "queue-title" },
    h("h1", { id: "queue-title", text: "Review queue" }),
    message ? h("p", { class: "status", role: "status", text: message }) : null,
    items.length === 0
      ? h("p", { text: "No screening is waiting for review." })
      : h("table", {},
        h("caption", { text: `${items.length} screening(s) waiting: urgent first, then by suggestion, then oldest` }),
        h("thead", {}, h("tr", {},
          h("th", { scope: "col", text: "Patient reference" }),
          h("th", { scope: "col", text: "Suggested outcome" }),
          h("th", { scope: "col", text: "Created" }),
          h("th", { scope: "col", text: "Screening" }))),
        h("tbody", {}, rows))));
}
