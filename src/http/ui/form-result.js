// The suggestion for the answers just sent, with the way back to them (a
// Check) or to a new form (a Save).

import { h, show } from "./dom.js";
import { formState, setFormState } from "./form-state.js";
import { evaluationView } from "./results.js";
import { focusField } from "./form-checks.js";
import { decidedBy } from "./form-decided.js";
import { intakeView } from "./form.js";

let keptForm = null;

// The suggestion for the answers just sent; `reference` is the clinic's
// patient reference, shown (and printed) so the page names its patient.
// `corrected`: the answers of a reopened screening were saved; `earlier`:
// they were saved as a new screening, this one having been decided.
export function resultView(ev, saved, reference, { corrected = false, earlier = null } = {}) {
  keptForm = formState.form;
  const actions = h("div", { class: "actions" },
    h("button", { type: "button", onclick: () => backToForm(null), text: saved ? "New screening" : "Back to the answers" }),
    h("button", { type: "button", onclick: () => window.print(), text: "Print" }));
  const patient = reference || "(no reference)";
  const savedText = earlier
    ? `Saved as a new screening ${saved.id} for patient ${patient}; it is now in the clinicians' review queue. The earlier screening ${earlier.id} had already been decided (${decidedBy(earlier)}), so it was left as it was.`
    : corrected
      ? `Saved the completed answers of screening ${saved?.id} for patient ${patient}; it was evaluated again and waits in the clinicians' review queue.`
      : `Saved as screening ${saved?.id} for patient ${patient}; it is now in the clinicians' review queue.`;
  const title = earlier ? "Saved as a new screening for review" : corrected ? "Screening completed and saved for review" : "Screening saved for review";
  show(h("section", { "aria-labelledby": "result-title" },
    h("h1", { id: "result-title", tabindex: "-1", text: saved ? title : "Suggestion" }),
    h("p", { class: "patient-ref", id: "patient-ref", text: `Patient reference: ${reference || "none given"}` }),
    saved ? h("p", { class: "status", role: "status", text: savedText }) : null,
    ...evaluationView(ev, saved ? {} : { onEdit: backToForm }),
    actions));
  document.getElementById("result-title").focus();
  if (saved) { keptForm = null; setFormState(null); }
}

function backToForm(path) {
  if (!keptForm) {
    history.pushState(null, "", "#/intake");
    return intakeView();
  }
  formState.form = keptForm;
  show(keptForm);
  if (path) focusField(path);
}
