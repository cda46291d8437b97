// A suggestion and a decision, as a clinician or a nurse reads them.

import { h, fieldId } from "./dom.js";
import { OUTCOMES, REASONS } from "./words.js";
import { state } from "./state.js";

export // An answer in words: option labels rather than codes, with the unit.
function valueText(v, item) {
  if (v === null || v === undefined) return "Unknown";
  if (v === true) return "Yes";
  if (v === false) return "No";
  const label = (x) => item?.options?.find((o) => o.value === x)?.label ?? String(x);
  if (item?.type === "list" && Array.isArray(v)) {
    if (v.length === 0) return "None done yet";
    return v.map((entry, i) => `${item.item_label || "Entry"} ${i + 1}: ` +
      item.fields.map((f) => `${f.question} ${valueText(entry[f.id], f)}`).join("; ")).join(" | ");
  }
  if (Array.isArray(v)) return v.length === 0 ? "None" : v.map(label).join(", ");
  if (typeof v === "number") return item?.unit ? `${v} ${item.unit}` : String(v);
  return label(v);
}

function itemById(id) {
  return state.questionnaire?.sections.flatMap((s) => s.items).find((i) => i.id === id);
}

export function finding(f) {
  return h("article", { class: "finding" },
    h("h4", {}, `${f.title.charAt(0).toUpperCase()}${f.title.slice(1)} `, h("span", { class: "basis", text: `(${f.code})` })),
    h("p", { text: f.message }),
    f.answers.length ? h("dl", {}, f.answers.flatMap((a) => [h("dt", { text: a.question }), h("dd", { text: valueText(a.value, itemById(a.id)) })])) : null,
    h("p", { class: "sources" }, "Sources: ", f.sources.map((s) => s.citation).join("; ")));
}

export // The parts of an evaluation; with `onEdit`, missing answers link back to
// their question in the form.
function evaluationView(ev, { onEdit } = {}) {
  const o = OUTCOMES[ev.outcome] || { icon: "•", label: ev.outcome_label };
  const parts = [
    h("div", { class: `outcome outcome-${ev.outcome}`, id: "outcome" },
      h("h2", {}, h("span", { class: "icon", "aria-hidden": "true", text: o.icon }), ev.outcome_label),
      h("p", { class: "summary", text: ev.summary })),
    h("p", { class: "confirm-banner", role: "note", text: "Suggestion only: a clinician must confirm or override it." }),
  ];
  if (ev.reasons.length) parts.push(h("h3", { text: "Why" }), ...ev.reasons.map(finding));
  if (ev.held_findings?.length) {
    parts.push(h("h3", { text: "Already known, behind the unanswered red flags" }),
      h("p", { text: "These cannot be the suggestion until every red flag is answered; they will be then, if no red flag is present." }),
      ...ev.held_findings.map(finding));
  }
  if (ev.cautions.length) parts.push(h("h3", { text: "Cautions" }), ...ev.cautions.map(finding));
  if (ev.supports.length) parts.push(h("h3", { text: "Supporting findings" }), ...ev.supports.map(finding));
  const required = ev.missing.filter((m) => m.required);
  const optional = ev.missing.filter((m) => !m.required);
  if (ev.missing.length) {
    const item = (m) => h("li", {}, onEdit
      ? h("a", { href: "#" + fieldId(m.id), onclick: (e) => { e.preventDefault(); onEdit(m.id); } }, m.question)
      : m.question);
    parts.push(h("h3", { text: "Missing information" }));
    if (required.length) parts.push(h("p", { text: "Required before a final suggestion:" }), h("ul", { id: "missing-required" }, required.map(item)));
    if (optional.length) parts.push(h("div", { class: "no-print" }, h("p", { text: "Also unanswered:" }), h("ul", {}, optional.map(item))));
  }
  parts.push(h("h3", { text: "Next steps" }), h("ol", {}, ev.next_steps.map((s) => h("li", { text: s }))));
  parts.push(h("p", { class: "basis", text: `Questionnaire ${ev.questionnaire_version}; rule set ${ev.ruleset.version}, profile ${ev.ruleset.profile}, ${ev.ruleset.digest}; evaluated ${ev.evaluated_at}.` }));
  parts.push(h("p", { class: "disclaimer", text: ev.disclaimer }));
  return parts;
}

export // A clinician's decision, shown before the suggestion it decided on.
function decisionView(review, suggested) {
  const o = OUTCOMES[review.final_outcome] || { icon: "•", label: review.final_outcome };
  const overridden = review.decision === "override";
  const rows = [
    ["Decision", overridden ? `Overridden (the rules suggested: ${OUTCOMES[suggested]?.label || suggested})` : "Confirmed the suggestion"],
    ["Final outcome", o.label],
  ];
  if (review.reason) rows.push(["Reason", REASONS[review.reason.code] || review.reason.code]);
  if (review.reason?.text) rows.push(["Explanation", review.reason.text]);
  rows.push(["Clinician", review.clinician], ["Recorded", new Date(review.reviewed_at).toLocaleString()]);
  return h("section", { class: `decision outcome outcome-${review.final_outcome}`, id: "decision", "aria-labelledby": "decision-title" },
    h("h2", { id: "decision-title" }, h("span", { class: "icon", "aria-hidden": "true", text: o.icon }), `Clinician's decision: ${o.label}`),
    h("dl", {}, rows.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })])));
}
