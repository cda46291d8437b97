// A screening's answers as a list of questions and answers in words, every
// question of the questionnaire (an unanswered one says Unknown): on the
// review page, and on the printed copy of unsaved answers.

import { h } from "./dom.js";
import { state } from "./state.js";
import { valueText } from "./results.js";

// The answers; with `changes` (from changed.js), each changed answer is
// marked, in words too, with what it was before.
export function answersList(answers, changes = []) {
  const changed = new Map(changes.map((c) => [c.id, c]));
  const mark = (id, dd, first = true) => {
    const c = changed.get(id);
    if (!c) return dd;
    dd.classList.add("changed");
    if (first) dd.append(h("span", { class: "was", text: ` (changed; before: ${c.was})` }));
    return dd;
  };
  const rows = [];
  for (const section of state.questionnaire.sections) {
    for (const item of section.items) {
      const dot = item.id.indexOf(".");
      const v = dot < 0 ? answers[item.id] : answers[item.id.slice(0, dot)]?.[item.id.slice(dot + 1)];
      if (item.type === "list" && Array.isArray(v) && v.length) {
        v.forEach((entry, i) => {
          rows.push(h("dt", { text: `${item.item_label || "Entry"} ${i + 1}` }),
            mark(item.id, h("dd", { text: item.fields.map((f) => `${f.question}: ${valueText(entry[f.id], f)}`).join("; ") }), i === 0));
        });
        continue;
      }
      rows.push(h("dt", { text: item.question }), mark(item.id, h("dd", { text: valueText(v, item) })));
    }
  }
  return h("dl", {}, rows);
}
