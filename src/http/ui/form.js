// The intake form, rendered from the questionnaire alone, and its result.

import { h, show, fieldId, radios, checkedValue } from "./dom.js";
import { evalCond, F } from "./conditions.js";
import { api } from "./api.js";
import { questionnaire } from "./state.js";
import { evaluationView } from "./results.js";

let formState = null; // { form, items: Map(id -> item), lists, idempotencyKey }


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
        h("input", {
          id, name, type: "number", inputmode: item.type === "integer" ? "numeric" : "decimal",
          min: item.min, max: item.max, step: item.type === "integer" ? "1" : "any",
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
  formState.lists.set(path, state);
  return wrap;
}

// Rebuilds entry i of a list, keeping what was entered.
function rebuildEntry(state, entry, i) {
  const { item, path } = state;
  const kept = {};
  for (const input of entry.querySelectorAll("input")) {
    if (input.type === "radio" && input.checked) kept[input.dataset.sub] = input.value;
    if (input.type === "number") kept[input.dataset.sub] = input.value;
  }
  const label = item.item_label || "Entry";
  const children = [h("legend", { text: `${label} ${i + 1}` })];
  for (const sub of item.fields) {
    const subPath = `${path}[${i}].${sub.id}`;
    const el = control(sub, subPath, `${path}-${i}-${sub.id}`);
    for (const input of el.querySelectorAll("input")) {
      input.dataset.sub = sub.id;
      if (input.type === "radio") input.checked = (kept[sub.id] ?? "unknown") === input.value;
      if (input.type === "number" && kept[sub.id] !== undefined) input.value = kept[sub.id];
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
      return Number(input.value);
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
      const n = Number(input.value);
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

export async function intakeView() {
  const q = await questionnaire();
  formState = { form: null, items: new Map(), lists: new Map(), idempotencyKey: crypto.randomUUID() };
  const form = h("form", { novalidate: true, "aria-labelledby": "form-title" });
  formState.form = form;
  form.append(h("h1", { id: "form-title", text: q.title }),
    q.description ? h("p", { class: "section-description", text: q.description }) : null);
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
  const save = h("button", { type: "submit", value: "save", class: "primary", text: "Save screening for review" });
  form.append(h("div", { class: "actions" }, check, save));
  form.addEventListener("submit", (e) => { e.preventDefault(); submit(e.submitter?.value || "check"); });
  refresh();
  show(form);
}

let saveDespiteMissing = false;

async function submit(kind) {
  clearErrors();
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
        h("p", { text: "The suggestion will ask for them. Answer them now, or save anyway and complete them later." }),
        h("ul", {}, missing.map((item) => h("li", {}, h("a", { href: "#" + fieldId(item.id), onclick: (ev) => { ev.preventDefault(); focusField(item.id); } }, item.question)))),
        h("button", { type: "button", onclick: () => { saveDespiteMissing = true; submit("save"); }, text: "Save with unanswered questions" }));
      formState.form.prepend(notice);
      notice.focus();
      return;
    }
  }
  saveDespiteMissing = false;
  const answers = nest(flat);
  const res = kind === "save"
    ? await api("POST", "/v1/screenings", answers, { "Idempotency-Key": formState.idempotencyKey })
    : await api("POST", "/v1/evaluations", answers);
  if (res.status === 422 && res.data?.errors) {
    return showErrorSummary(res.data.errors.map((e) => markError(e.field, e.message)));
  }
  if (res.status !== 200 && res.status !== 201) {
    return showErrorSummary([{ path: "", message: res.data?.detail || `the service answered ${res.status}`, id: null }]);
  }
  const evaluation = kind === "save" ? res.data.evaluation : res.data;
  if (kind === "save") formState.idempotencyKey = crypto.randomUUID();
  resultView(evaluation, kind === "save" ? res.data : null, answers.patient?.external_ref);
}


let keptForm = null;

// The suggestion for the answers just sent; `reference` is the clinic's
// patient reference, shown (and printed) so the page names its patient.
function resultView(ev, saved, reference) {
  keptForm = formState.form;
  const actions = h("div", { class: "actions" },
    h("button", { type: "button", onclick: () => backToForm(null), text: saved ? "New screening" : "Back to the answers" }),
    h("button", { type: "button", onclick: () => window.print(), text: "Print" }));
  show(h("section", { "aria-labelledby": "result-title" },
    h("h1", { id: "result-title", tabindex: "-1", text: saved ? "Screening saved for review" : "Suggestion" }),
    h("p", { class: "patient-ref", id: "patient-ref", text: `Patient reference: ${reference || "none given"}` }),
    saved ? h("p", { class: "status", role: "status", text: `Saved as screening ${saved.id} for patient ${reference || "(no reference)"}; it is now in the clinicians' review queue.` }) : null,
    ...evaluationView(ev, saved ? {} : { onEdit: backToForm }),
    actions));
  document.getElementById("result-title").focus();
  if (saved) keptForm = null;
}

function backToForm(path) {
  if (!keptForm) return intakeView();
  formState.form = keptForm;
  show(keptForm);
  if (path) focusField(path);
}
