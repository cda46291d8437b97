// The intake form, rendered from the questionnaire alone, and its result.
// What is typed is kept as a draft in this tab (drafts.js) until it is
// saved or discarded: a reload, Back and Forward, a lost connection or the
// same key signing in again never lose it. A screening saved with questions unanswered
// is reopened here, filled with its stored answers, and corrected.

import { h, show, fieldId, radios, checkedValue, unreachable } from "./dom.js";
import { evalCond, F } from "./conditions.js";
import { api } from "./api.js";
import { questionnaire } from "./state.js";
import { loadDraft, storeDraft, removeDraft } from "./drafts.js";
import { evaluationView } from "./results.js";
import { answerChanges, changedNotice } from "./changed.js";

// { form, items: Map(id -> item), lists, idempotencyKey, screening (when
// reopened), etag and base (the version of the stored answers the edits
// started from, and those answers: a save applies to that version only) }
let formState = null;

// ---------- the draft of this form (drafts.js keeps it) ----------

function draftTarget() {
  return formState.screening?.id || "new";
}

function saveDraft() {
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
    etag: formState.etag, base: formState.base,
  });
}

function clearDraft() {
  removeDraft(draftTarget());
}

// The stored value of answer `id` (`group.name`) in nested answers.
function answerOf(answers, id) {
  const dot = id.indexOf(".");
  const v = dot < 0 ? answers?.[id] : answers?.[id.slice(0, dot)]?.[id.slice(dot + 1)];
  return v === null ? undefined : v;
}

function check(id) {
  const el = document.getElementById(id);
  if (el) el.checked = true;
}

function setSimple(item, path, value, root) {
  if (value === undefined) return;
  const id = fieldId(path);
  switch (item.type) {
    case "boolean":
    case "choice":
      return check(`${id}--${value}`);
    case "integer":
    case "number":
    case "text": {
      const input = root.querySelector(`#${CSS.escape(id)}`);
      if (input) input.value = String(value);
      return;
    }
    case "multi_choice":
      check(`${id}--${value.length ? "some" : "none"}`);
      refresh();
      for (const v of value) check(`${id}--${v}--box`);
      return;
  }
}

// Fills the form with nested answers (stored ones, or a draft's).
function fillForm(answers, raw = {}) {
  for (const [id, { item }] of formState.items) {
    const value = answerOf(answers, id);
    if (item.type !== "list") { setSimple(item, id, value, formState.form); continue; }
    if (value === undefined) continue;
    check(`${fieldId(id)}--${value.length ? "some" : "none"}`);
    const list = formState.lists.get(id);
    list.syncList();
    while (list.entries.children.length < value.length) list.addEntry();
    value.forEach((entry, i) => {
      const el = list.entries.children[i];
      for (const sub of item.fields) setSimple(sub, `${id}[${i}].${sub.id}`, entry?.[sub.id] ?? undefined, el);
    });
  }
  for (const [id, text] of Object.entries(raw)) {
    const input = document.getElementById(id);
    if (input && input.type === "text") input.value = text;
  }
  refresh();
}


function describedBy(id, item) {
  return [item.help ? id + "-help" : null, id + "-error"].filter(Boolean).join(" ");
}

function helpAndError(id, item) {
  return [
    item.help ? h("p", { class: "help", id: id + "-help", text: item.help }) : null,
    h("p", { class: "error", id: id + "-error", hidden: true }),
  ];
}

function requiredMark(item) {
  return item.required ? h("span", { class: "required-mark", text: " (required for a suggestion)" }) : null;
}

// One control for one answer. `path` is the answer's path (as the server names it).
function control(item, path, name) {
  const id = fieldId(path);
  const onchange = () => refresh();
  switch (item.type) {
    case "boolean":
      return h("fieldset", { class: "item", "data-path": path, "aria-describedby": describedBy(id, item) },
        h("legend", {}, item.question, requiredMark(item)),
        ...helpAndError(id, item),
        radios(name, id, [["unknown", "Unknown"], ["true", "Yes"], ["false", "No"]], "unknown", onchange));
    case "choice":
      return h("fieldset", { class: "item", "data-path": path, "aria-describedby": describedBy(id, item) },
        h("legend", {}, item.question, requiredMark(item)),
        ...helpAndError(id, item),
        radios(name, id, [["unknown", "Unknown"], ...item.options.map((o) => [o.value, o.label])], "unknown", onchange));
    case "integer":
    case "number":
      return h("div", { class: "item", "data-path": path },
        h("label", { for: id }, item.question, requiredMark(item)),
        ...helpAndError(id, item),
        // Text, not type=number: the mouse wheel never changes a value,
        // and letters are reported rather than silently dropped.
        h("input", {
          id, name, type: "text", inputmode: item.type === "integer" ? "numeric" : "decimal",
          "data-number": item.type, autocomplete: "off", size: 8,
          "aria-describedby": describedBy(id, item), onchange,
        }),
        item.unit ? h("span", { class: "unit", text: item.unit }) : null);
    case "text":
      return h("div", { class: "item", "data-path": path },
        h("label", { for: id }, item.question),
        ...helpAndError(id, item),
        h("input", { id, name, type: "text", maxlength: item.max_length, autocomplete: "off", "aria-describedby": describedBy(id, item) }));
    case "multi_choice":
      return h("fieldset", { class: "item", "data-path": path, "aria-describedby": describedBy(id, item) },
        h("legend", {}, item.question, requiredMark(item)),
        ...helpAndError(id, item),
        radios(name + "--state", id, [["unknown", "Not known"], ["none", "None done yet"], ["some", "Done:"]], "unknown", onchange),
        h("div", { class: "choices", "data-multi": path },
          item.options.map((o) => h("label", { for: `${id}--${o.value}--box` },
            h("input", { type: "checkbox", id: `${id}--${o.value}--box`, name, value: o.value, disabled: true, onchange }),
            o.label))));
    case "list":
      return listControl(item, path);
    default:
      return h("p", { text: `Unsupported question type ${item.type}` });
  }
}

function listControl(item, path) {
  const id = fieldId(path);
  const entries = h("div", { "data-entries": path });
  const add = h("button", { type: "button", class: "no-print", hidden: true, text: `Add ${(item.item_label || "entry").toLowerCase()}` });
  const wrap = h("fieldset", { class: "item", "data-path": path, "aria-describedby": describedBy(id, item) },
    h("legend", {}, item.question, requiredMark(item)),
    ...helpAndError(id, item),
    radios(path + "--state", id, [["unknown", "Not known"], ["none", "None done yet"], ["some", "Record them"]], "unknown", () => {
      syncList(); refresh();
    }),
    entries, add);
  const state = { item, path, entries, add, wrap };
  function renumber() {
    [...entries.children].forEach((entry, i) => rebuildEntry(state, entry, i));
    add.hidden = stateOf(path) !== "some" || entries.children.length >= item.max_items;
  }
  function syncList() {
    const st = stateOf(path);
    if (st === "some" && entries.children.length === 0) addEntry();
    entries.hidden = st !== "some";
    renumber();
  }
  function addEntry() {
    entries.append(h("fieldset", { class: "entry" }));
    renumber();
  }
  add.addEventListener("click", () => {
    addEntry();
    const last = entries.lastElementChild;
    last.querySelector("input")?.focus();
  });
  state.renumber = renumber;
  state.syncList = syncList;
  state.addEntry = addEntry;
  formState.lists.set(path, state);
  return wrap;
}

// Rebuilds entry i of a list, keeping what was entered.
function rebuildEntry(state, entry, i) {
  const { item, path } = state;
  const kept = {};
  for (const input of entry.querySelectorAll("input")) {
    if (input.type === "radio" && input.checked) kept[input.dataset.sub] = input.value;
    if (input.type === "text") kept[input.dataset.sub] = input.value;
  }
  const label = item.item_label || "Entry";
  const children = [h("legend", { text: `${label} ${i + 1}` })];
  for (const sub of item.fields) {
    const subPath = `${path}[${i}].${sub.id}`;
    const el = control(sub, subPath, `${path}-${i}-${sub.id}`);
    for (const input of el.querySelectorAll("input")) {
      input.dataset.sub = sub.id;
      if (input.type === "radio") input.checked = (kept[sub.id] ?? "unknown") === input.value;
      if (input.type === "text" && kept[sub.id] !== undefined) input.value = kept[sub.id];
    }
    children.push(el);
  }
  children.push(h("button", {
    type: "button", class: "no-print", text: `Remove ${label.toLowerCase()} ${i + 1}`,
    onclick: () => { entry.remove(); state.renumber(); refresh(); state.add.focus(); },
  }));
  entry.replaceChildren(...children);
}

function stateOf(path) {
  return checkedValue(path + "--state") ?? "unknown";
}

function radioValue(name) {
  return checkedValue(name, formState.form) ?? "unknown";
}

// The value of one simple answer, or undefined when unknown.
function readValue(item, path, name, root) {
  switch (item.type) {
    case "boolean": {
      const v = radioValue(name);
      return v === "unknown" ? undefined : v === "true";
    }
    case "choice": {
      const v = radioValue(name);
      return v === "unknown" ? undefined : v;
    }
    case "integer":
    case "number": {
      const input = root.querySelector(`#${CSS.escape(fieldId(path))}`);
      if (!input || input.value.trim() === "") return undefined;
      return parseNumber(input.value);
    }
    case "text": {
      const input = root.querySelector(`#${CSS.escape(fieldId(path))}`);
      return input && input.value !== "" ? input.value : undefined;
    }
    case "multi_choice": {
      const st = radioValue(name + "--state");
      if (st === "unknown") return undefined;
      if (st === "none") return [];
      return [...root.querySelectorAll(`input[type=checkbox][name="${CSS.escape(name)}"]:checked`)].map((b) => b.value);
    }
    default:
      return undefined;
  }
}

// Every answer, flat by id (lists as arrays of objects), hidden items left out.
function collect() {
  const flat = {};
  for (const [id, { item, wrap }] of formState.items) {
    if (wrap.hidden) continue;
    if (item.type === "list") {
      const st = stateOf(id);
      if (st === "unknown") continue;
      if (st === "none") { flat[id] = []; continue; }
      const list = formState.lists.get(id);
      flat[id] = [...list.entries.children].map((entry, i) => {
        const obj = {};
        for (const sub of item.fields) {
          const v = readValue(sub, `${id}[${i}].${sub.id}`, `${id}-${i}-${sub.id}`, entry);
          if (v !== undefined) obj[sub.id] = v;
        }
        return obj;
      });
      continue;
    }
    const v = readValue(item, id, id, formState.form);
    if (v !== undefined) flat[id] = v;
  }
  return flat;
}

// A typed number: digits, an optional sign and decimal point (or comma).
// NaN for anything else, which the checks below report.
function parseNumber(text) {
  const t = text.trim().replace(",", ".");
  return /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(t) ? Number(t) : NaN;
}

function nest(flat) {
  const out = {};
  for (const [id, v] of Object.entries(flat)) {
    const dot = id.indexOf(".");
    if (dot < 0) { out[id] = v; continue; }
    const group = id.slice(0, dot);
    (out[group] ||= {})[id.slice(dot + 1)] = v;
  }
  return out;
}

// Shows and hides items by their show_when, and enables the multi-choice boxes.
function refresh() {
  if (!formState) return;
  for (let pass = 0; pass < 2; pass++) {
    const flat = collect();
    for (const { item, wrap } of formState.items.values()) {
      if (item.show_when) wrap.hidden = evalCond(item.show_when, (id) => flat[id]) === F;
    }
  }
  for (const box of formState.form.querySelectorAll("[data-multi]")) {
    const path = box.dataset.multi;
    const some = radioValue(path + "--state") === "some";
    for (const input of box.querySelectorAll("input")) {
      input.disabled = !some;
      if (!some) input.checked = false;
    }
  }
}

// ---------- validation: the server's checks, before sending ----------

function clearErrors() {
  formState.form.querySelector(".error-summary")?.remove();
  formState.form.querySelector(".notice")?.remove();
  for (const e of formState.form.querySelectorAll(".error")) { e.hidden = true; e.textContent = ""; }
  for (const e of formState.form.querySelectorAll("[aria-invalid]")) e.removeAttribute("aria-invalid");
}

function markError(path, message) {
  const id = fieldId(path);
  const err = document.getElementById(id + "-error");
  const input = document.getElementById(id);
  if (err) { err.textContent = message; err.hidden = false; }
  if (input) input.setAttribute("aria-invalid", "true");
  return { path, message, id: err || input ? id : null };
}

function questionFor(path) {
  const m = path.match(/^([^[]+)\[(\d+)\]\.(.+)$/);
  if (m) {
    const list = formState.items.get(m[1])?.item;
    const sub = list?.fields.find((f) => f.id === m[3]);
    return sub ? `${list.item_label || "Entry"} ${Number(m[2]) + 1}: ${sub.question}` : path;
  }
  return formState.items.get(path)?.item.question || path;
}

function showErrorSummary(errors) {
  const summary = h("div", { class: "error-summary", role: "alert", tabindex: "-1", "aria-labelledby": "error-summary-title" },
    h("h2", { id: "error-summary-title", text: "Please correct these answers" }),
    h("ul", {}, errors.map((e) => h("li", {},
      e.id ? h("a", { href: "#" + e.id, onclick: (ev) => { ev.preventDefault(); focusField(e.path); } }, `${questionFor(e.path)}: ${e.message}`)
           : `${e.path || "answers"}: ${e.message}`))));
  formState.form.prepend(summary);
  summary.focus();
}

function checkClientSide() {
  const errors = [];
  const check = (item, path, root) => {
    if (item.type === "integer" || item.type === "number") {
      const input = root.querySelector(`#${CSS.escape(fieldId(path))}`);
      if (!input || input.value.trim() === "") return;
      const n = parseNumber(input.value);
      const whole = item.type === "integer";
      if (!Number.isFinite(n) || (whole && !Number.isInteger(n)) || n < item.min || n > item.max) {
        errors.push(markError(path, `enter ${whole ? "a whole number" : "a number"} from ${item.min} to ${item.max}${item.unit ? " " + item.unit : ""}, or leave it empty if unknown`));
      }
    }
    if (item.type === "multi_choice" && radioValue(path + "--state") === "some" && readValue(item, path, path, root).length === 0) {
      errors.push(markError(path, "tick what was done, or choose “None done yet”"));
    }
  };
  for (const [id, { item, wrap }] of formState.items) {
    if (wrap.hidden) continue;
    if (item.type === "list") {
      const list = formState.lists.get(id);
      [...list.entries.children].forEach((entry, i) => item.fields.forEach((sub) => check(sub, `${id}[${i}].${sub.id}`, entry)));
    } else {
      check(item, id, formState.form);
    }
  }
  return errors;
}

function focusField(path) {
  const el = document.getElementById(fieldId(path));
  if (el) { el.scrollIntoView({ block: "center" }); el.focus(); }
}

// ---------- the form ----------

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
    if (screening.status !== "pending_review") {
      return show(h("p", { role: "alert", text: "This screening has been reviewed: its answers can no longer change." }));
    }
  }
  formState = { form: null, items: new Map(), lists: new Map(), idempotencyKey: crypto.randomUUID(), screening, etag, base: screening?.answers };
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
        clearDraft(); intakeView(screeningId);
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
    if (screening && draft.etag) Object.assign(formState, { etag: draft.etag, base: draft.base });
    fillForm(draft.answers, draft.raw);
  } else if (screening) {
    fillForm(screening.answers);
  }
}

let saveDespiteMissing = false;

async function submit(kind) {
  clearErrors();
  form().querySelector("#unreachable")?.remove();
  const errors = checkClientSide();
  if (errors.length) return showErrorSummary(errors);
  const flat = collect();
  if (kind === "save" && !saveDespiteMissing) {
    const missing = [...formState.items.values()]
      .filter(({ item, wrap }) => item.required && !wrap.hidden && flat[item.id] === undefined)
      .map(({ item }) => item);
    if (missing.length) {
      const notice = h("div", { class: "notice", role: "alert", tabindex: "-1" },
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
  if (res.status === 412 && reopened) return showChanged(res.data?.changed);
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
  resultView(evaluation, kind === "save" ? res.data : null, answers.patient?.external_ref, Boolean(reopened));
}

function form() {
  return formState.form;
}

// Another person saved this screening after the nurse began her edits
// (412): nothing of hers was saved. The form keeps what she typed, under a
// notice of who changed which answers; she saves hers over them, having
// seen them, or discards hers.
async function showChanged(changed) {
  const id = formState.screening.id;
  const res = await api("GET", `/v1/screenings/${encodeURIComponent(id)}`);
  if (res.unreachable || res.status !== 200) {
    return showErrorSummary([{ path: "", message: res.data?.detail || "Another person changed this screening, and it cannot be read now: try again.", id: null }]);
  }
  const notice = changedNotice({
    title: "Another person changed this screening while you were editing it",
    changed,
    changes: answerChanges(formState.base, res.data.answers),
    advice: "Nothing of yours was saved: your answers are still in the form. Compare the changes below with them, then save yours over these, or discard yours and open these.",
    actions: [
      h("button", { type: "button", class: "primary", text: "Save my answers over these", onclick: () => {
        Object.assign(formState, { screening: res.data, etag: res.etag, base: res.data.answers });
        saveDraft();
        submit("save");
      } }),
      h("button", { type: "button", text: "Discard mine and open these", onclick: () => { clearDraft(); intakeView(id); } }),
    ],
  });
  formState.form.prepend(notice);
  notice.focus();
}

let keptForm = null;

// The suggestion for the answers just sent; `reference` is the clinic's
// patient reference, shown (and printed) so the page names its patient.
function resultView(ev, saved, reference, corrected) {
  keptForm = formState.form;
  const actions = h("div", { class: "actions" },
    h("button", { type: "button", onclick: () => backToForm(null), text: saved ? "New screening" : "Back to the answers" }),
    h("button", { type: "button", onclick: () => window.print(), text: "Print" }));
  const savedText = corrected
    ? `Saved the completed answers of screening ${saved?.id} for patient ${reference || "(no reference)"}; it was evaluated again and waits in the clinicians' review queue.`
    : `Saved as screening ${saved?.id} for patient ${reference || "(no reference)"}; it is now in the clinicians' review queue.`;
  show(h("section", { "aria-labelledby": "result-title" },
    h("h1", { id: "result-title", tabindex: "-1", text: saved ? (corrected ? "Screening completed and saved for review" : "Screening saved for review") : "Suggestion" }),
    h("p", { class: "patient-ref", id: "patient-ref", text: `Patient reference: ${reference || "none given"}` }),
    saved ? h("p", { class: "status", role: "status", text: savedText }) : null,
    ...evaluationView(ev, saved ? {} : { onEdit: backToForm }),
    actions));
  document.getElementById("result-title").focus();
  if (saved) { keptForm = null; formState = null; }
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
