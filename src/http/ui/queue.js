// Lists of screenings: the review queue (urgent first, then by the
// suggestion's precedence, then oldest), and the nurse's screenings saved
// with questions unanswered, to finish. Each row names the clinic's patient
// reference.

import { h, show, showUnreachable, tableBox } from "./dom.js";
import { api } from "./api.js";
import { OUTCOMES } from "./words.js";

function outcomeCell(code) {
  const o = OUTCOMES[code];
  return h("span", { class: `queue-outcome outcome-${code}` }, h("span", { "aria-hidden": "true", text: o.icon + " " }), o.label);
}

// On a phone each row is a card: every cell says its column's name.
function table(caption, headings, rows) {
  for (const row of rows) [...row.children].forEach((td, i) => td.setAttribute("data-label", headings[i]));
  return tableBox(caption,
    h("table", { class: "stack" },
      h("caption", { text: caption }),
      h("thead", {}, h("tr", {}, headings.map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, rows)));
}

export async function queueView(message) {
  const res = await api("GET", "/v1/screenings?status=pending_review&sort=priority&limit=100");
  if (res.unreachable) return showUnreachable(() => queueView(message));
  const items = res.data?.items || [];
  const rows = items.map((s) => {
    const o = OUTCOMES[s.suggested_outcome];
    const when = new Date(s.created_at).toLocaleString();
    const who = s.external_ref || "no reference";
    return h("tr", { class: s.suggested_outcome === "urgent_evaluation" ? "urgent-row" : null },
      h("td", { text: who }),
      h("td", {}, outcomeCell(s.suggested_outcome)),
      h("td", { text: when }),
      h("td", {}, h("a", { href: `#/review/${s.id}`, text: "Open", "aria-label": `Open the screening of ${who}, ${o.label}, created ${when}` })));
  });
  show(h("section", { "aria-labelledby": "queue-title" },
    h("h1", { id: "queue-title", text: "Review queue" }),
    message ? h("p", { class: "status", role: "status", text: message }) : null,
    items.length === 0
      ? h("p", { text: "No screening is waiting for review." })
      : table(`${items.length} screening(s) waiting: urgent first, then by suggestion, then oldest`,
        ["Patient reference", "Suggested outcome", "Created", "Screening"], rows)));
}

// The clinic's screenings saved with questions unanswered and not yet
// reviewed: each opens in the form, filled with its stored answers.
export async function incompleteView() {
  const res = await api("GET", "/v1/screenings?status=pending_review&outcome=needs_more_information&limit=100");
  if (res.unreachable) return showUnreachable(incompleteView);
  const items = res.data?.items || [];
  const rows = items.map((s) => {
    const when = new Date(s.created_at).toLocaleString();
    const who = s.external_ref || "no reference";
    return h("tr", {},
      h("td", { text: who }),
      h("td", { text: when }),
      h("td", {}, h("a", { href: `#/intake/${s.id}`, text: "Complete", "aria-label": `Complete the screening of ${who}, saved ${when}` })));
  });
  show(h("section", { "aria-labelledby": "incomplete-title" },
    h("h1", { id: "incomplete-title", text: "Screenings to finish" }),
    h("p", { text: "Saved with questions unanswered and not yet reviewed. Open one to answer what is missing; saving it evaluates it again." }),
    items.length === 0
      ? h("p", { text: "No screening needs more information." })
      : table(`${items.length} screening(s) need more information, oldest first`, ["Patient reference", "Saved", "Screening"], rows)));
}
