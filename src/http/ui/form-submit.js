// Sending the form: Check (an evaluation, nothing stored) or Save (a new
// screening, or the corrected answers of a reopened one, applied to the
// version its edits began on), after the checks made here; and what the
// service answered, shown on the form or as the result.

import { h, fieldId, unreachable } from "./dom.js";
import { api } from "./api.js";
import { formState } from "./form-state.js";
import { collect, nest } from "./form-values.js";
import { clearErrors, markError, showErrorSummary, checkClientSide, focusField } from "./form-checks.js";
import { clearDraft } from "./form-draft.js";
import { showMerge, mergeSettled } from "./form-changed.js";
import { showDecided } from "./form-decided.js";
import { resultView } from "./form-result.js";

let saveDespiteMissing = false;

export async function submit(kind) {
  clearErrors();
  formState.form.querySelector("#unreachable")?.remove();
  const errors = checkClientSide();
  if (errors.length) return showErrorSummary(errors);
  if (kind === "save" && !mergeSettled()) return;
  const flat = collect();
  if (kind === "save" && !saveDespiteMissing) {
    const missing = [...formState.items.values()]
      .filter(({ item, wrap }) => item.required && !wrap.hidden && flat[item.id] === undefined)
      .map(({ item }) => item);
    if (missing.length) {
      const notice = h("div", { class: "notice", id: "unanswered", role: "alert", tabindex: "-1" },
        h("h2", { text: `${missing.length} required question(s) are unanswered` }),
        h("p", { text: "The suggestion will ask for them. Answer them now, or save anyway and complete them later (under “Finish later”)." }),
        h("ul", {}, missing.map((item) => h("li", {}, h("a", { href: "#" + fieldId(item.id), onclick: (ev) => { ev.preventDefault(); focusField(item.id); } }, item.question)))),
        h("button", { type: "button", onclick: () => { saveDespiteMissing = true; submit("save"); }, text: "Save with unanswered questions" }));
      formState.form.prepend(notice);
      notice.focus();
      return;
    }
  }
  saveDespiteMissing = false;
  const answers = nest(flat);
  const reopened = formState.screening;
  const res = kind !== "save"
    ? await api("POST", "/v1/evaluations", answers)
    : reopened
      ? await api("PUT", `/v1/screenings/${reopened.id}/answers`, answers, formState.etag ? { "If-Match": formState.etag } : {})
      : await api("POST", "/v1/screenings", answers, { "Idempotency-Key": formState.idempotencyKey });
  if (res.unreachable) {
    // Nothing is lost: the answers stay on the page and in the draft.
    const box = unreachable(() => submit(kind));
    formState.form.prepend(box);
    box.focus();
    return;
  }
  if (res.status === 412 && reopened) return showMerge(res.data?.changed);
  if (res.status === 409 && reopened) return showIfDecided(res.data?.detail);
  if (res.status === 422 && res.data?.errors) {
    return showErrorSummary(res.data.errors.map((e) => markError(e.field, e.message)));
  }
  if (res.status !== 200 && res.status !== 201) {
    return showErrorSummary([{ path: "", message: res.data?.detail || `the service answered ${res.status}`, id: null }]);
  }
  const evaluation = kind === "save" ? res.data.evaluation : res.data;
  if (kind === "save") {
    clearDraft();
    formState.idempotencyKey = crypto.randomUUID();
  }
  resultView(evaluation, kind === "save" ? res.data : null, answers.patient?.external_ref, { corrected: Boolean(reopened) });
}

// A reopened screening's save refused with 409: decided meanwhile, most
// likely; read it to say by whom.
async function showIfDecided(detail) {
  const res = await api("GET", `/v1/screenings/${encodeURIComponent(formState.screening.id)}`);
  if (res.status === 200 && res.data.status !== "pending_review") return showDecided(res.data);
  return showErrorSummary([{ path: "", message: detail || "the service answered 409", id: null }]);
}
