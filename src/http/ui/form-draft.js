// The draft of the form open (drafts.js keeps it in this tab): saved at
// each change, removed once the answers are saved or discarded.

import { formState, setFormState } from "./form-state.js";
import { collect, nest } from "./form-values.js";
import { storeDraft, removeDraft } from "./drafts.js";

function draftTarget() {
  return formState.screening?.id || "new";
}

export function saveDraft() {
  if (!formState) return;
  const raw = {};
  for (const input of formState.form.querySelectorAll("input[type=text]")) if (input.value !== "") raw[input.id] = input.value;
  const answers = nest(collect());
  if (Object.keys(answers).length === 0 && Object.keys(raw).length === 0 && !formState.screening) {
    removeDraft(draftTarget());
    return;
  }
  storeDraft(draftTarget(), {
    answers, raw, idempotencyKey: formState.idempotencyKey, savedAt: new Date().toISOString(),
    etag: formState.etag, base: formState.base, baseOutcome: formState.baseOutcome,
  });
}

export function clearDraft() {
  removeDraft(draftTarget());
}

// Her answers discarded: the draft removed and the form closed, so that
// no save still queued (a click in the form saves the draft after it is
// handled) writes them back while the next view loads.
export function discardDraft() {
  clearDraft();
  setFormState(null);
}
