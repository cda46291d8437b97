// Answers typed with a key that no longer works (revoked or expired), and
// not saved: on the sign-in page, until another key signs in (drafts.js
// then discards them), they can be printed, so that a colleague with a
// working key can enter them. Printed with the page's print style: the
// patient's reference, every question and its answer, no buttons.

import { h, show } from "./dom.js";
import { questionnaire } from "./state.js";
import { answersList } from "./answers.js";

// The clinic's reference of the patient of a draft, or words for none.
export function draftPatient({ draft }) {
  const ref = draft.answers?.patient?.external_ref;
  return ref ? `patient ${ref}` : "a patient without reference";
}

// The print view of `drafts` ([{ target, draft }]); `back` returns to the
// sign-in page. It opens the browser's print dialog at once.
export async function printUnsaved(drafts, back) {
  await questionnaire();
  show(h("section", { "aria-labelledby": "unsaved-title" },
    h("h1", { id: "unsaved-title", tabindex: "-1", text: "Unsaved answers" }),
    h("p", { class: "notice", text: "Not saved: these answers were typed with an access key that no longer works. A colleague with a working key can enter them and save them for review." }),
    drafts.map(({ target, draft }) => h("section", { class: "answers unsaved", "aria-label": `Answers for ${draftPatient({ draft })}` },
      h("h2", { class: "patient-ref", text: `Patient reference: ${draft.answers?.patient?.external_ref || "none given"}` }),
      h("p", { class: "basis", text: `${target === "new" ? "A new screening" : `Completing screening ${target}`}; typed until ${new Date(draft.savedAt).toLocaleString()}.` }),
      answersList(draft.answers || {}))),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "primary", text: "Print", onclick: () => window.print() }),
      h("button", { type: "button", text: "Back to sign in", onclick: back }))));
  document.getElementById("unsaved-title").focus();
  window.print();
}
