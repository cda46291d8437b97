// Another person saved this screening after the nurse began her edits: her
// save was refused (412) and nothing of hers was saved. The page merges
// (form-merge.js) the answers stored since with hers, from the version her
// edits began on: what only they changed is now in her form, what only she
// changed is kept, and each answer both changed differently is shown side
// by side for her to choose, nothing chosen for her. She then saves the
// combined answers, on the version now stored. No button saves hers over
// theirs unseen.

import { h } from "./dom.js";
import { api } from "./api.js";
import { OUTCOMES } from "./words.js";
import { valueText } from "./results.js";
import { changedBy } from "./changed.js";
import { formState } from "./form-state.js";
import { collect, nest, setItem } from "./form-values.js";
import { showErrorSummary } from "./form-checks.js";
import { saveDraft, discardDraft } from "./form-draft.js";
import { threeWay } from "./form-merge.js";
import { showDecided } from "./form-decided.js";
import { intakeView } from "./form.js";

const label = (code) => OUTCOMES[code]?.label || code;
const conflictId = (id) => `conflict-${id}`;

// The suggestion then and now, said plainly; urgent first, in its style.
function suggestion(before, now) {
  const urgent = now === "urgent_evaluation" && before !== now
    ? h("div", { class: "outcome outcome-urgent_evaluation changed-urgent" },
      h("p", {}, h("span", { class: "icon", "aria-hidden": "true", text: OUTCOMES.urgent_evaluation?.icon || "⚠" }),
        h("strong", { text: `The suggestion is now ${label(now)}.` }),
        " The answers saved meanwhile make this patient urgent: read them below before anything else."))
    : null;
  const line = !before
    ? `The suggestion is now ${label(now)}.`
    : before === now
      ? `The suggestion is still ${label(now)}.`
      : `The suggestion was ${label(before)} when you opened it; it is now ${label(now)}.`;
  return { urgent, line: h("p", { class: before && before !== now ? "suggestion-changed" : null, text: line }) };
}

function changeList(title, changes) {
  if (!changes.length) return null;
  return h("div", {},
    h("h3", { text: `${title} (${changes.length})` }),
    h("ul", {}, changes.map((c) => h("li", {}, h("strong", { text: c.item.question }),
      `: ${valueText(c.base, c.item)} → ${valueText(c.value, c.item)}`))));
}

// One answer both changed: theirs and hers side by side, neither chosen.
// Choosing one puts it in the form.
function conflictChoice(c, who) {
  const id = conflictId(c.id);
  const choose = (value) => () => {
    setItem(c.id, value);
    const err = document.getElementById(id + "-error");
    err.hidden = true;
    for (const input of document.querySelectorAll(`input[name="${CSS.escape(id)}"]`)) input.removeAttribute("aria-invalid");
  };
  const option = (side, text, value) => h("label", { for: `${id}--${side}`, class: "conflict-option" },
    h("input", { type: "radio", id: `${id}--${side}`, name: id, value: side, onchange: choose(value) }), text);
  return h("fieldset", { class: "conflict", id, "aria-describedby": `${id}-before ${id}-error` },
    h("legend", { text: c.item.question }),
    h("p", { class: "help", id: `${id}-before`, text: `When you opened it: ${valueText(c.base, c.item)}` }),
    h("p", { class: "error", id: `${id}-error`, hidden: true }),
    h("div", { class: "conflict-options" },
      option("theirs", `Theirs (${who}): ${valueText(c.theirs, c.item)}`, c.theirs),
      option("mine", `Yours: ${valueText(c.mine, c.item)}`, c.mine)));
}

// The 412: the screening as stored now, merged into the form.
export async function showMerge(changed) {
  const id = formState.screening.id;
  const res = await api("GET", `/v1/screenings/${encodeURIComponent(id)}`);
  if (res.unreachable || res.status !== 200) {
    return showErrorSummary([{ path: "", message: res.data?.detail || "Another person changed this screening, and it cannot be read now: try again.", id: null }]);
  }
  const now = res.data;
  if (now.status !== "pending_review") return showDecided(now);
  const items = [...formState.items.values()].map(({ item }) => item);
  const merged = threeWay(items, formState.base, now.answers, nest(collect()));
  for (const c of merged.theirs) setItem(c.id, c.value);
  formState.merge = { screening: now, etag: res.etag, conflicts: merged.conflicts };
  saveDraft();
  const who = changed?.by?.clinician || changed?.by?.label || "the other person";
  const { urgent, line } = suggestion(formState.baseOutcome, now.suggested_outcome);
  const conflicts = merged.conflicts;
  const notice = h("div", { class: "notice changed-notice", id: "changed", role: "alert", tabindex: "-1", "aria-labelledby": "changed-title" },
    urgent,
    h("h2", { id: "changed-title", text: "Another person saved this screening while you were editing it" }),
    h("p", { text: changedBy(changed) }),
    line,
    h("p", { text: "Nothing of yours is saved yet. Their changes are now in the form below, with yours. " +
      (conflicts.length
        ? `You both changed ${conflicts.length === 1 ? "one answer" : `${conflicts.length} answers`} differently: choose which to keep for each, then save the combined answers.`
        : "Read them, then save the combined answers.") }),
    changeList("Their changes, now in your form", merged.theirs),
    changeList("Your changes, kept", merged.mine),
    conflicts.length
      ? h("div", {}, h("h3", { text: `Answers you both changed (${conflicts.length})` }), conflicts.map((c) => conflictChoice(c, who)))
      : null,
    h("div", { class: "actions" },
      h("button", { type: "submit", value: "save", class: "primary", text: "Save the combined answers" }),
      h("button", { type: "button", text: "Discard mine and open theirs", onclick: () => { discardDraft(); intakeView(id); } })));
  formState.form.querySelector("#changed")?.remove();
  formState.form.prepend(notice);
  notice.focus();
}

// Before a save: with a merge open, every conflict must be chosen (each
// one not chosen is marked, and the first takes the focus: false). Then
// the combined answers apply to the version stored now.
export function mergeSettled() {
  const merge = formState.merge;
  if (!merge) return true;
  const open = merge.conflicts.filter((c) => !document.querySelector(`input[name="${CSS.escape(conflictId(c.id))}"]:checked`));
  for (const c of open) {
    const id = conflictId(c.id);
    const err = document.getElementById(id + "-error");
    err.textContent = "choose which answer to keep: theirs or yours";
    err.hidden = false;
    for (const input of document.querySelectorAll(`input[name="${CSS.escape(id)}"]`)) input.setAttribute("aria-invalid", "true");
  }
  if (open.length) {
    document.getElementById(`${conflictId(open[0].id)}--theirs`).focus();
    return false;
  }
  Object.assign(formState, { screening: merge.screening, etag: merge.etag, base: merge.screening.answers, baseOutcome: merge.screening.suggested_outcome, merge: null });
  saveDraft();
  return true;
}
