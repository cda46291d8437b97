// The review queue.

import { h, show } from "./dom.js";
import { api } from "./api.js";
import { OUTCOMES } from "./words.js";

export async function queueView(message) {
  const res = await api("GET", "/v1/screenings?status=pending_review&limit=100");
  const items = res.data?.items || [];
  const rows = items.map((s) => {
    const o = OUTCOMES[s.suggested_outcome];
    return h("tr", {},
      h("td", { text: new Date(s.created_at).toLocaleString() }),
      h("td", {}, h("span", { "aria-hidden": "true", text: o.icon + " " }), o.label),
      h("td", {}, h("a", { href: `#/review/${s.id}`, text: "Open", "aria-label": `Open screening of ${new Date(s.created_at).toLocaleString()}, ${o.label}` })));
  });
  show(h("section", { "aria-labelledby": "queue-title" },
    h("h1", { id: "queue-title", text: "Review queue" }),
    message ? h("p", { class: "status", role: "status", text: message }) : null,
    items.length === 0
      ? h("p", { text: "No screening is waiting for review." })
      : h("table", {},
        h("caption", { text: `${items.length} screening(s) waiting, oldest first` }),
        h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "Created" }), h("th", { scope: "col", text: "Suggested outcome" }), h("th", { scope: "col", text: "Screening" }))),
        h("tbody", {}, rows))));
}
