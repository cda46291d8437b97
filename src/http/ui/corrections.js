// A screening's earlier suggestions: each change of its answers, from its
// history (every page of it), with who changed them and when, the
// suggestion before and after, and each answer that changed. A red flag
// taken back (Yes before, not now) stands out, in words too. The review
// page shows it above the decision, so that a clinician opening the
// screening fresh never decides without it.

import { h } from "./dom.js";
import { api } from "./api.js";
import { OUTCOMES } from "./words.js";
import { answerChanges } from "./changed.js";

const label = (code) => OUTCOMES[code]?.label || code;
// More pages than any real history has: a cursor that never ends is a
// history not read.
const MAX_PAGES = 1000;

// The answers_corrected events of screening `id`, oldest first; null when
// the history cannot be read to its end.
async function corrections(id) {
  const found = [];
  let path = `/v1/screenings/${encodeURIComponent(id)}/history?limit=500`;
  for (let page = 0; path && page < MAX_PAGES; page++) {
    const res = await api("GET", path);
    if (res.status !== 200) return null;
    for (const e of res.data.events) if (e.kind === "answers_corrected") found.push(e);
    path = res.data.next;
  }
  return path ? null : found;
}

function line(event, after) {
  const { previous_answers: before, previous_evaluation: evaluation, suggested_outcome: now } = event.data;
  const was = evaluation?.outcome;
  const changes = answerChanges(before, after);
  const retracted = changes.some((c) => c.retracted);
  const suggestion = was && was !== now ? `the suggestion was ${label(was)}, now ${label(now)}` : `the suggestion stayed ${label(now)}`;
  return h("li", { class: retracted ? "correction retracted" : "correction" },
    retracted ? h("strong", { class: "flag", text: "⚠ Red flag taken back. " }) : null,
    `Answers changed by ${event.actor.label} at ${new Date(event.at).toLocaleString()}: ${suggestion}; changed: `,
    changes.length
      ? changes.flatMap((c, i) => [i ? "; " : "", h(c.retracted ? "strong" : "span", { text: `${c.question}: ${c.was} → ${c.now}` })])
      : "no answer shown here");
}

// The section for screening `s`, or null when its answers never changed.
export async function correctionsView(s) {
  const events = await corrections(s.id);
  if (events === null) {
    return h("p", { class: "notice", id: "corrections", role: "alert", text: "This screening's history cannot be read now: earlier suggestions, if its answers were changed, are not shown. Open it again before deciding." });
  }
  if (!events.length) return null;
  const first = events[0].data.previous_evaluation?.outcome;
  const earlier = events.map((e) => e.data.previous_evaluation?.outcome);
  const urgentBefore = s.suggested_outcome !== "urgent_evaluation" && earlier.includes("urgent_evaluation");
  const lines = events.map((e, i) => line(e, events[i + 1]?.data.previous_answers ?? s.answers));
  return h("section", { class: urgentBefore ? "corrections urgent-before" : "corrections", id: "corrections", "aria-labelledby": "corrections-title" },
    h("h2", { id: "corrections-title", text: urgentBefore
      ? `⚠ This screening suggested ${label("urgent_evaluation")} before its answers were changed`
      : `Its answers were changed ${events.length === 1 ? "once" : `${events.length} times`}: earlier suggestions` }),
    first ? h("p", { text: `When it was first saved, the suggestion was ${label(first)}. Each change since, oldest first:` }) : null,
    h("ul", {}, lines));
}
