// A screening a clinician decided while the nurse was completing it: its
// answers can no longer change (409), and what she typed must still reach
// someone. The page says who decided what and when (the screening's
// review), keeps her answers in the form and the draft, and offers to save
// them as a new screening for review: pending, and first in the queue when
// they are urgent. Bringing the decided one back to intake is not done here.

import { h, unreachable } from "./dom.js";
import { api } from "./api.js";
import { OUTCOMES } from "./words.js";
import { formState } from "./form-state.js";
import { collect, nest } from "./form-values.js";
import { clearErrors, markError, showErrorSummary, checkClientSide } from "./form-checks.js";
import { clearDraft } from "./form-draft.js";
import { resultView } from "./form-result.js";

const label = (code) => OUTCOMES[code]?.label || code;

// Who decided what, and when, in words.
export function decidedBy(s) {
  const r = s.review;
  if (!r) return `It was ${s.status.replace("_", " ")}.`;
  const when = new Date(r.reviewed_at).toLocaleString();
  return r.decision === "override"
    ? `${r.clinician} overrode the suggestion ${label(s.suggested_outcome)}: the final outcome is ${label(r.final_outcome)} (${when}).`
    : `${r.clinician} confirmed the suggestion ${label(s.suggested_outcome)} (${when}).`;
}

// `decided`: the screening as stored now, reviewed.
export function showDecided(decided) {
  formState.decided = decided;
  const notice = h("div", { class: "notice changed-notice", id: "decided", role: "alert", tabindex: "-1", "aria-labelledby": "decided-title" },
    h("h2", { id: "decided-title", text: "A clinician decided this screening while you were completing it" }),
    h("p", { text: decidedBy(decided) }),
    h("p", { text: "A decided screening's answers can no longer change, so yours were not saved to it. They are still in the form below." }),
    h("p", { text: "Save them as a new screening for the same patient: it goes to the clinicians' review queue, urgent ones first. This one stays as the clinician decided it." }),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "primary", text: "Save as a new screening for review", onclick: saveAsNew })));
  formState.form.querySelector("#changed")?.remove();
  formState.form.querySelector("#decided")?.remove();
  formState.form.prepend(notice);
  notice.focus();
}

// Her answers, as a new screening (a retry never makes two: the draft's
// idempotency key goes with it).
async function saveAsNew() {
  clearErrors();
  formState.form.querySelector("#unreachable")?.remove();
  const errors = checkClientSide();
  if (errors.length) return showErrorSummary(errors);
  const answers = nest(collect());
  const res = await api("POST", "/v1/screenings", answers, { "Idempotency-Key": formState.idempotencyKey });
  if (res.unreachable) {
    const box = unreachable(saveAsNew);
    formState.form.prepend(box);
    return box.focus();
  }
  if (res.status === 422 && res.data?.errors) return showErrorSummary(res.data.errors.map((e) => markError(e.field, e.message)));
  if (res.status !== 201 && res.status !== 200) {
    return showErrorSummary([{ path: "", message: res.data?.detail || `the service answered ${res.status}`, id: null }]);
  }
  const earlier = formState.decided;
  clearDraft();
  resultView(res.data.evaluation, res.data, answers.patient?.external_ref, { earlier });
}
