// A screening that changed while it was open: the service refused a
// decision or a save with 412, naming the change (`changed`: what, who,
// when). The review page and the form show it with this notice, and which
// answers differ from the ones the person had in front of them.

import { h } from "./dom.js";
import { OUTCOMES } from "./words.js";
import { state } from "./state.js";
import { valueText } from "./results.js";

// The stored value of answer `id` (`group.name`, or a list's id).
function answerOf(answers, id) {
  const dot = id.indexOf(".");
  const v = dot < 0 ? answers?.[id] : answers?.[id.slice(0, dot)]?.[id.slice(dot + 1)];
  return v === null ? undefined : v;
}

// Each question whose answer differs between `before` and `after`, in the
// questionnaire's order, in words: { id, question, was, now, retracted }
// (`retracted`: a red flag that was Yes and is not now).
export function answerChanges(before, after) {
  const changes = [];
  for (const section of state.questionnaire.sections) {
    for (const item of section.items) {
      const was = valueText(answerOf(before, item.id), item);
      const now = valueText(answerOf(after, item.id), item);
      const retracted = section.emphasis === "alert" && answerOf(before, item.id) === true && answerOf(after, item.id) !== true;
      if (was !== now) changes.push({ id: item.id, question: item.question, was, now, retracted });
    }
  }
  return changes;
}

// Who changed it and when, in words: the key's label and role, and the
// clinician named in a review.
export function changedBy(changed) {
  if (!changed) return "Someone changed it.";
  const key = `the key “${changed.by.label}”${changed.role ? ` (${changed.role})` : ""}`;
  const who = changed.by.clinician ? `${changed.by.clinician}, with ${key}` : key;
  const what = {
    answers_corrected: "Its answers were corrected",
    reviewed: "It was reviewed",
  }[changed.kind] || "It was changed";
  return `${what} by ${who} at ${new Date(changed.at).toLocaleString()}.`;
}

function outcomeLabel(code) {
  return OUTCOMES[code]?.label || code;
}

// The notice, an alert that takes the focus: `title`, who changed what,
// `advice` (what to do now), the suggestion before and now when it
// changed, each answer that changed, and `actions` (buttons).
export function changedNotice({ title, changed, changes, suggested, advice, actions = [] }) {
  const lines = changes.map((c) => h("li", {}, h("strong", { text: c.question }), `: before: ${c.was}; now: ${c.now}`));
  return h("div", { class: "notice changed-notice", id: "changed", role: "alert", tabindex: "-1", "aria-labelledby": "changed-title" },
    h("h2", { id: "changed-title", text: title }),
    h("p", { text: changedBy(changed) }),
    suggested && suggested.before !== suggested.now
      ? h("p", { text: `The suggestion was ${outcomeLabel(suggested.before)}; it is now ${outcomeLabel(suggested.now)}.` })
      : null,
    h("p", { text: advice }),
    lines.length
      ? h("div", {}, h("h3", { text: `Answers that changed (${lines.length})` }), h("ul", {}, lines))
      : h("p", { text: "No answer shown here changed." }),
    actions.length ? h("div", { class: "actions" }, actions) : null);
}
