// The intake form, rendered from the questionnaire alone, and its result.
// What is typed is kept as a draft in this tab (drafts.js) until it is
// saved or discarded: a reload, Back and Forward, a lost connection or the
// same key signing in again never lose it. A screening saved with questions unanswered
// is reopened here, filled with its stored answers, and corrected.
//
// The form's modules: form-state (what is open), form-controls (a control
// per question), form-values (answers read and written, show_when),
// form-checks (errors), form-draft, form-submit (Check and Save, and what
// the service answered), form-changed and form-merge (another person's
// save merged into the form), form-decided (a screening decided while it
// was being completed), form-result (the suggestion).

import { h, show, fieldId, unreachable } from "./dom.js";
import { api } from "./api.js";
import { questionnaire } from "./state.js";
import { loadDraft } from "./drafts.js";
import { formState, setFormState } from "./form-state.js";
import { control } from "./form-controls.js";
import { answerOf, fillForm, refresh } from "./form-values.js";
import { focusField } from "./form-checks.js";
import { saveDraft, discardDraft } from "./form-draft.js";
import { submit } from "./form-submit.js";
import { showDecided } from "./form-decided.js";

// The form: empty, or restored from this tab's draft; with `screeningId`,
// a stored screening reopened to be completed (its stored answers, or the
// draft of its correction).
export async function intakeView(screeningId) {
  const q = await questionnaire();
  let screening = null;
  let etag = null;
  if (screeningId) {
    const res = await api("GET", `/v1/screenings/${encodeURIComponent(screeningId)}`);
    if (res.unreachable) return show(unreachable(() => intakeView(screeningId)));
    if (res.status !== 200) return show(h("p", { role: "alert", text: res.data?.detail || "This screening cannot be opened." }));
    screening = res.data;
    etag = res.etag;
    // Decided: it can no longer change. Answers typed for it and not saved
    // are shown, to be saved as a new screening (form-decided.js).
    if (screening.status !== "pending_review" && !loadDraft(screening.id)) {
      return show(h("p", { role: "alert", text: "This screening has been reviewed: its answers can no longer change." }));
    }
  }
  setFormState({ form: null, items: new Map(), lists: new Map(), idempotencyKey: crypto.randomUUID(), screening, etag, base: screening?.answers, baseOutcome: screening?.suggested_outcome });
  const form = h("form", { novalidate: true, "aria-labelledby": "form-title" });
  formState.form = form;
  const reference = screening ? answerOf(screening.answers, "patient.external_ref") : null;
  form.append(h("h1", { id: "form-title", text: screening ? `Complete the screening of ${reference || "a patient without reference"}` : q.title }),
    screening
      ? h("p", { class: "section-description", text: `Saved ${new Date(screening.created_at).toLocaleString()} with questions unanswered. Saving again evaluates the answers anew; the earlier answers stay on the screening's history.` })
      : q.description ? h("p", { class: "section-description", text: q.description }) : null);
  const missing = (screening?.evaluation.missing || []).filter((m) => m.required);
  if (missing.length) {
    form.append(h("div", { class: "notice", id: "still-missing" },
      h("h2", { text: `Still to answer (${missing.length})` }),
      h("ul", {}, missing.map((m) => h("li", {}, h("a", { href: "#" + fieldId(m.id), onclick: (ev) => { ev.preventDefault(); focusField(m.id); } }, m.question))))));
  }
  const draft = loadDraft(screening?.id || "new");
  if (draft) {
    form.append(h("div", { class: "status", role: "status", id: "draft-restored" },
      h("p", { text: `Unsaved answers from ${new Date(draft.savedAt).toLocaleTimeString()} are restored.` }),
      h("button", { type: "button", text: screening ? "Discard my changes" : "Discard them and start empty", onclick: () => {
        discardDraft(); intakeView(screeningId);
      } })));
  }
  for (const section of q.sections) {
    const fs = h("fieldset", { class: section.emphasis === "alert" ? "section section-alert" : "section", id: "section-" + section.id },
      h("legend", {}, section.emphasis === "alert" ? "⚠ " : "", section.title),
      section.description ? h("p", { class: "section-description", text: section.description }) : null);
    for (const item of section.items) {
      const wrap = control(item, item.id, item.id);
      formState.items.set(item.id, { item, wrap });
      fs.append(wrap);
    }
    form.append(fs);
  }
  const check = h("button", { type: "submit", value: "check", text: "Check suggestion" });
  const save = h("button", { type: "submit", value: "save", class: "primary", text: screening ? "Save the completed screening" : "Save screening for review" });
  form.append(h("div", { class: "actions" }, check, save));
  form.addEventListener("submit", (e) => { e.preventDefault(); submit(e.submitter?.value || "check"); });
  // Enter in a field moves nothing and sends nothing: only the buttons do.
  form.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && e.target instanceof HTMLInputElement) e.preventDefault();
  });
  form.addEventListener("input", saveDraft);
  form.addEventListener("change", saveDraft);
  form.addEventListener("click", (e) => { if (e.target.matches("button[type=button]")) queueMicrotask(saveDraft); });
  refresh();
  show(form);
  if (draft) {
    formState.idempotencyKey = draft.idempotencyKey || formState.idempotencyKey;
    // The edits of a reopened screening apply to the version they began on.
    if (screening && draft.etag) Object.assign(formState, { etag: draft.etag, base: draft.base, baseOutcome: draft.baseOutcome });
    fillForm(draft.answers, draft.raw);
  } else if (screening) {
    fillForm(screening.answers);
  }
  if (screening && screening.status !== "pending_review") showDecided(screening);
}
