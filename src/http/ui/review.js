// The review page: the answers beside the suggestion, and the decision,
// after the earlier suggestions the answers had (corrections.js).
// The decision is sent with the version of the screening shown (If-Match):
// if it changed meanwhile, nothing is recorded (412), and the page shows
// the screening as it is now, what changed and who changed it, for the
// clinician to decide again.

import { h, show, radios, checkedValue, navigate } from "./dom.js";
import { api } from "./api.js";
import { OUTCOMES, REASONS } from "./words.js";
import { state, questionnaire } from "./state.js";
import { evaluationView, decisionView } from "./results.js";
import { answersList } from "./answers.js";
import { queueView } from "./queue.js";
import { answerChanges, changedNotice } from "./changed.js";
import { correctionsView } from "./corrections.js";

// With `before` (the screening shown when a decision was refused with 412)
// and `changed` (the service's account of the change), the screening as it
// is now is shown under a notice of what changed; `clinicianId` keeps the
// identifier typed, and nothing else: the decision is made again.
export async function reviewView(id, { before = null, changed = null, clinicianId = "" } = {}) {
  await questionnaire();
  const res = await api("GET", `/v1/screenings/${encodeURIComponent(id)}`);
  if (res.status !== 200) return show(h("p", { role: "alert", text: res.data?.detail || "This screening cannot be opened." }));
  const s = res.data;
  // The version shown: the decision applies to it, or to nothing.
  const shown = res.etag;
  // Earlier suggestions, from the history (which intake keys do not read).
  const earlier = state.me.role === "intake" ? null : await correctionsView(s);
  const changes = before ? answerChanges(before.answers, s.answers) : [];
  const ev = s.evaluation;
  const canReview = state.me.role === "clinician" && s.status === "pending_review";
  const decisionName = "decision";
  // No control starts on a value the clinician did not choose.
  const choose = () => h("option", { value: "", text: "Choose…", selected: true });
  const finalOutcome = h("select", { id: "final-outcome", name: "final_outcome", "aria-describedby": "q-final_outcome-error" }, choose(),
    Object.entries(OUTCOMES).filter(([code]) => code !== s.suggested_outcome).map(([code, o]) => h("option", { value: code, text: o.label })));
  const reasonCode = h("select", { id: "reason-code", name: "reason_code", "aria-describedby": "q-reason-error" }, choose(),
    Object.entries(REASONS).map(([code, label]) => h("option", { value: code, text: label })));
  const reasonText = h("textarea", { id: "reason-text", rows: "3", maxlength: "2000", "aria-describedby": "q-reason-text-error" });
  const overrideFields = h("div", { hidden: true },
    h("div", { class: "item" }, h("label", { for: "final-outcome", text: "Final outcome" }), h("p", { class: "error", id: "q-final_outcome-error", role: "alert", hidden: true }), finalOutcome),
    h("div", { class: "item" }, h("label", { for: "reason-code", text: "Reason" }), h("p", { class: "error", id: "q-reason-error", role: "alert", hidden: true }), reasonCode),
    h("div", { class: "item" }, h("label", { for: "reason-text", text: "Explain (kept on the record; required for reason Other)" }), h("p", { class: "error", id: "q-reason-text-error", role: "alert", hidden: true }), reasonText));
  const clinician = h("input", { id: "q-clinician", type: "text", autocomplete: "off", required: true, value: clinicianId, "aria-describedby": "q-clinician-error" });
  const problem = h("p", { class: "error", id: "decision-problem", role: "alert", tabindex: "-1", hidden: true });
  const form = h("form", { novalidate: true, "aria-labelledby": "decide-title" },
    h("h2", { id: "decide-title", text: "Your decision" }),
    h("fieldset", { "aria-describedby": "q-decision-error" },
      h("legend", { text: "Decision" }),
      h("p", { class: "error", id: "q-decision-error", role: "alert", hidden: true }),
      radios(decisionName, "decision", [["confirm", `Confirm: ${OUTCOMES[s.suggested_outcome].label}`], ["override", "Override"]], null,
        () => { overrideFields.hidden = checkedValue(decisionName) !== "override"; })),
    overrideFields,
    h("div", { class: "item" }, h("label", { for: "q-clinician", text: "Your clinician identifier" }), h("p", { class: "error", id: "q-clinician-error", role: "alert", hidden: true }), clinician),
    problem,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", text: "Record decision" })));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    for (const err of form.querySelectorAll(".error")) { err.hidden = true; }
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    const decision = checkedValue(decisionName);
    const body = { decision, clinician: clinician.value.trim() };
    const text = reasonText.value.trim();
    if (decision === "override") {
      body.final_outcome = finalOutcome.value;
      body.reason = { code: reasonCode.value };
      if (text) body.reason.text = text;
    }
    // Each problem: [the error's id, the control, the message]. The
    // service's are shown as the page's own are: next to the field, the
    // field marked invalid, the first one focused.
    const mark = (problems) => {
      for (const [errId, control, message] of problems) {
        const err = document.getElementById(errId);
        err.textContent = message; err.hidden = false;
        control.setAttribute("aria-invalid", "true");
      }
      problems[0][1].focus();
    };
    // Nothing is sent until every choice is made by the clinician.
    const problems = [];
    if (!decision) problems.push(["q-decision-error", form.querySelector(`input[name="${decisionName}"]`), "choose Confirm or Override"]);
    if (decision === "override" && !finalOutcome.value) problems.push(["q-final_outcome-error", finalOutcome, "choose the final outcome"]);
    if (decision === "override" && !reasonCode.value) problems.push(["q-reason-error", reasonCode, "choose the reason for the override"]);
    if (decision === "override" && reasonCode.value === "other" && !text) problems.push(["q-reason-text-error", reasonText, "say what the reason is"]);
    if (!body.clinician) problems.push(["q-clinician-error", clinician, "enter your clinician identifier"]);
    if (problems.length) return mark(problems);
    const r = await api("POST", `/v1/screenings/${encodeURIComponent(id)}/review`, body, shown ? { "If-Match": shown } : {});
    if (r.status === 200) {
      navigate("#/queue");
      return queueView(`Screening ${r.data.status === "confirmed" ? "confirmed" : "overridden"}: it has left the queue.`);
    }
    if (r.status === 412) return reviewView(id, { before: s, changed: r.data?.changed, clinicianId: clinician.value });
    // The fields the service names, by the name it gives them.
    const fields = {
      decision: ["q-decision-error", form.querySelector(`input[name="${decisionName}"]`)],
      final_outcome: ["q-final_outcome-error", finalOutcome],
      reason: ["q-reason-error", reasonCode],
      "reason.code": ["q-reason-error", reasonCode],
      "reason.text": ["q-reason-text-error", reasonText],
      clinician: ["q-clinician-error", clinician],
    };
    const named = (r.data?.errors || []).filter((e) => fields[e.field]).map((e) => [...fields[e.field], e.message]);
    if (named.length) return mark(named);
    // Not about a field (a 409, a 5xx): said above the button.
    problem.textContent = r.data?.detail || (r.unreachable ? "The service cannot be reached: nothing was recorded. Try again." : `The service answered ${r.status}: nothing was recorded.`);
    problem.hidden = false;
    problem.focus();
  });
  const notice = before
    ? changedNotice({
      title: "This screening changed since you opened it",
      changed,
      changes,
      suggested: { before: before.suggested_outcome, now: s.suggested_outcome },
      advice: s.status === "pending_review"
        ? "Nothing was recorded. The answers and the suggestion below are the ones it holds now, each changed answer marked: read them and decide again."
        : "Nothing was recorded by you: it has been reviewed, as shown below.",
    })
    : null;
  show(h("section", { "aria-labelledby": "review-title" },
    h("h1", { id: "review-title", text: "Screening for review" }),
    notice,
    h("p", { class: "basis", text: `Screening ${s.id}, created ${new Date(s.created_at).toLocaleString()}, status ${s.status.replace("_", " ")}.` }),
    earlier,
    s.review ? decisionView(s.review, s.suggested_outcome) : null,
    h("div", { class: "columns" },
      h("section", { class: "answers", "aria-labelledby": "answers-title" }, h("h2", { id: "answers-title", text: "Answers" }), answersList(s.answers, changes)),
      h("section", { "aria-labelledby": "evaluation-title" },
        h("h2", { id: "evaluation-title", text: s.review ? "The rules' suggestion, as issued before review" : "Suggestion" }),
        ...evaluationView(ev))),
    canReview ? form : (s.review ? null : h("p", { text: "Only a clinician can review." })),
    h("p", {}, h("a", { href: "#/queue", text: "Back to the queue" }))));
  notice?.focus();
}
