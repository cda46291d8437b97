// facet-screen web pages: the intake form and the review page.
// Everything is rendered from the public API: the form from GET /v1/questionnaire,
// so a new question or a changed text in rules/ shows up here without code changes.
// The access key lives in sessionStorage: this tab only, gone when it closes.

const KEY = "facet-screen-key";
const main = document.getElementById("main");
const nav = document.getElementById("nav");

// Icons are from fonts every system has (DejaVu): colour is never the only signal.
const OUTCOMES = {
  urgent_evaluation: { icon: "⚠", label: "Urgent medical evaluation" },
  unlikely_candidate: { icon: "✖", label: "Unlikely candidate" },
  not_yet_eligible: { icon: "◔", label: "Not yet eligible" },
  needs_more_information: { icon: "ℹ", label: "More information needed" },
  needs_diagnostic_block: { icon: "➜", label: "Diagnostic block needed" },
  likely_candidate: { icon: "✔", label: "Likely candidate" },
};
const REASONS = {
  clinical_judgement: "Clinical judgement",
  new_information: "New information",
  patient_preference: "Patient preference",
  data_entry_error: "Data entry error",
  other: "Other",
};

// ---------- small DOM helpers ----------

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function show(...nodes) {
  main.replaceChildren(...nodes);
  main.focus();
}

function fieldId(path) {
  return "q-" + path;
}

// ---------- the API ----------

async function api(method, path, body, extraHeaders = {}) {
  const headers = { ...extraHeaders };
  const key = sessionStorage.getItem(KEY);
  if (key) headers["Authorization"] = "Bearer " + key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  const type = res.headers.get("content-type") || "";
  if (type.includes("json")) data = await res.json();
  if (res.status === 401 && path !== "/v1/me") {
    signOut("Your access key is no longer valid. Sign in again.");
    throw new Error("unauthorized");
  }
  return { status: res.status, data };
}

// ---------- sign in ----------

let me = null;

function signOut(message) {
  sessionStorage.removeItem(KEY);
  me = null;
  navigate("#/sign-in");
  signInView(message);
}

function signInView(message) {
  nav.hidden = true;
  const input = h("input", { id: "access-key", name: "access-key", type: "password", autocomplete: "off", required: true, "aria-describedby": "access-key-help" });
  const error = h("p", { class: "error", id: "sign-in-error", role: "alert", hidden: !message }, message || "");
  const form = h("form", { novalidate: true },
    h("h1", { text: "Sign in" }),
    h("div", { class: "item" },
      h("label", { for: "access-key", text: "Access key" }),
      h("p", { class: "help", id: "access-key-help", text: "The key your administrator gave you. It is kept for this browser tab only." }),
      input),
    error,
    h("div", { class: "actions" }, h("button", { class: "primary", type: "submit", text: "Sign in" })));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY, input.value.trim());
    const res = await api("GET", "/v1/me");
    if (res.status !== 200) {
      sessionStorage.removeItem(KEY);
      error.textContent = "That key was not accepted.";
      error.hidden = false;
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    me = res.data;
    navigate(me.role === "intake" ? "#/intake" : "#/queue");
    route();
  });
  show(form);
  input.focus();
}

function renderNav() {
  nav.hidden = false;
  const links = [];
  if (me.role === "intake") links.push(h("a", { href: "#/intake", text: "New screening" }));
  if (me.role !== "intake") links.push(h("a", { href: "#/queue", text: "Review queue" }));
  nav.replaceChildren(
    ...links,
    h("span", { class: "who", text: `${me.label} (${me.role}, ${me.clinic})` }),
    h("button", { type: "button", onclick: () => signOut(), text: "Sign out" }));
}

// ---------- conditions (show_when), evaluated like the server: Kleene logic ----------

const T = true, F = false, U = null;
function and(a, b) { return a === F || b === F ? F : a === T && b === T ? T : U; }
function or(a, b) { return a === T || b === T ? T : a === F && b === F ? F : U; }

function evalCond(c, get) {
  if (c.all) return c.all.reduce((acc, x) => and(acc, evalCond(x, get)), T);
  if (c.any) return c.any.reduce((acc, x) => or(acc, evalCond(x, get)), F);
  if (c.not) { const v = evalCond(c.not, get); return v === U ? U : !v; }
  if (c.unknown) return get(c.unknown) === undefined;
  if (c.field) {
    const v = get(c.field);
    if (v === undefined) return U;
    if ("is" in c) return v === c.is;
    if ("eq" in c) return v === c.eq;
    if ("in" in c) return c.in.includes(v);
    if ("empty" in c) return Array.isArray(v) && (v.length === 0) === c.empty;
    for (const [op, f] of [["lt", (a, b) => a < b], ["lte", (a, b) => a <= b], ["gt", (a, b) => a > b], ["gte", (a, b) => a >= b]]) {
      if (op in c && typeof c[op] === "number") return f(v, c[op]);
    }
  }
  return U; // forms the page does not read are never used to hide a question
}

// ---------- the intake form ----------

let questionnaire = null;
let formState = null; // { form, items: Map(id -> item), lists, idempotencyKey }

function radios(name, idBase, options, selected, onchange) {
  return h("div", { class: "choices" }, options.map(([value, label], i) => {
    const id = i === 0 ? idBase : `${idBase}--${value}`;
    return h("label", { for: id },
      h("input", { type: "radio", id, name, value, checked: value === selected, onchange }),
      label);
  }));
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
  const checked = document.querySelector(`input[name="${CSS.escape(path + "--state")}"]:checked`);
  return checked ? checked.value : "unknown";
}

function radioValue(name) {
  const checked = formState.form.querySelector(`input[name="${CSS.escape(name)}"]:checked`);
  return checked ? checked.value : "unknown";
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

// ---------- intake view ----------

async function intakeView() {
  if (!questionnaire) {
    const res = await fetch("/v1/questionnaire");
    questionnaire = await res.json();
  }
  formState = { form: null, items: new Map(), lists: new Map(), idempotencyKey: crypto.randomUUID() };
  const form = h("form", { novalidate: true, "aria-labelledby": "form-title" });
  formState.form = form;
  form.append(h("h1", { id: "form-title", text: questionnaire.title }),
    questionnaire.description ? h("p", { class: "section-description", text: questionnaire.description }) : null);
  for (const section of questionnaire.sections) {
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
  resultView(evaluation, kind === "save" ? res.data : null);
}

// ---------- the result ----------

// An answer in words: option labels rather than codes, with the unit.
function valueText(v, item) {
  if (v === null || v === undefined) return "Unknown";
  if (v === true) return "Yes";
  if (v === false) return "No";
  const label = (x) => item?.options?.find((o) => o.value === x)?.label ?? String(x);
  if (item?.type === "list" && Array.isArray(v)) {
    if (v.length === 0) return "None done yet";
    return v.map((entry, i) => `${item.item_label || "Entry"} ${i + 1}: ` +
      item.fields.map((f) => `${f.question} ${valueText(entry[f.id], f)}`).join("; ")).join(" | ");
  }
  if (Array.isArray(v)) return v.length === 0 ? "None" : v.map(label).join(", ");
  if (typeof v === "number") return item?.unit ? `${v} ${item.unit}` : String(v);
  return label(v);
}

function itemById(id) {
  return questionnaire?.sections.flatMap((s) => s.items).find((i) => i.id === id);
}

function finding(f) {
  return h("article", { class: "finding" },
    h("h4", {}, `${f.title.charAt(0).toUpperCase()}${f.title.slice(1)} `, h("span", { class: "basis", text: `(${f.code})` })),
    h("p", { text: f.message }),
    f.answers.length ? h("dl", {}, f.answers.flatMap((a) => [h("dt", { text: a.question }), h("dd", { text: valueText(a.value, itemById(a.id)) })])) : null,
    h("p", { class: "sources" }, "Sources: ", f.sources.map((s) => s.citation).join("; ")));
}

function evaluationView(ev, { editable }) {
  const o = OUTCOMES[ev.outcome] || { icon: "•", label: ev.outcome_label };
  const parts = [
    h("div", { class: `outcome outcome-${ev.outcome}`, id: "outcome" },
      h("h2", {}, h("span", { class: "icon", "aria-hidden": "true", text: o.icon }), ev.outcome_label),
      h("p", { class: "summary", text: ev.summary })),
    h("p", { class: "confirm-banner", role: "note", text: "Suggestion only: a clinician must confirm or override it." }),
  ];
  if (ev.reasons.length) parts.push(h("h3", { text: "Why" }), ...ev.reasons.map(finding));
  if (ev.held_findings?.length) {
    parts.push(h("h3", { text: "Already known, behind the unanswered red flags" }),
      h("p", { text: "These cannot be the suggestion until every red flag is answered; they will be then, if no red flag is present." }),
      ...ev.held_findings.map(finding));
  }
  if (ev.cautions.length) parts.push(h("h3", { text: "Cautions" }), ...ev.cautions.map(finding));
  if (ev.supports.length) parts.push(h("h3", { text: "Supporting findings" }), ...ev.supports.map(finding));
  const required = ev.missing.filter((m) => m.required);
  const optional = ev.missing.filter((m) => !m.required);
  if (ev.missing.length) {
    const item = (m) => h("li", {}, editable
      ? h("a", { href: "#" + fieldId(m.id), onclick: (e) => { e.preventDefault(); backToForm(m.id); } }, m.question)
      : m.question);
    parts.push(h("h3", { text: "Missing information" }));
    if (required.length) parts.push(h("p", { text: "Required before a final suggestion:" }), h("ul", { id: "missing-required" }, required.map(item)));
    if (optional.length) parts.push(h("div", { class: "no-print" }, h("p", { text: "Also unanswered:" }), h("ul", {}, optional.map(item))));
  }
  parts.push(h("h3", { text: "Next steps" }), h("ol", {}, ev.next_steps.map((s) => h("li", { text: s }))));
  parts.push(h("p", { class: "basis", text: `Questionnaire ${ev.questionnaire_version}; rule set ${ev.ruleset.version}, profile ${ev.ruleset.profile}, ${ev.ruleset.digest}; evaluated ${ev.evaluated_at}.` }));
  parts.push(h("p", { class: "disclaimer", text: ev.disclaimer }));
  return parts;
}

let keptForm = null;

function resultView(ev, saved) {
  keptForm = formState.form;
  const actions = h("div", { class: "actions" },
    h("button", { type: "button", onclick: () => backToForm(null), text: saved ? "New screening" : "Back to the answers" }),
    h("button", { type: "button", onclick: () => window.print(), text: "Print" }));
  show(h("section", { "aria-labelledby": "result-title" },
    h("h1", { id: "result-title", tabindex: "-1", text: saved ? "Screening saved for review" : "Suggestion" }),
    saved ? h("p", { class: "status", role: "status", text: `Saved as screening ${saved.id}; it is now in the clinicians' review queue.` }) : null,
    ...evaluationView(ev, { editable: !saved }),
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

// ---------- the review queue ----------

async function queueView(message) {
  const res = await api("GET", "/v1/screenings?status=pending_review&limit=100");
  const items = res.data?.items || [];
  const rows = items.map((s) => {
    const o = OUTCOMES[s.suggested_outcome];
    return h("tr", {},
      h("td", { text: new Date(s.created_at).toLocaleString() }),
      h("td", {}, h("span", { "aria-hidden": "true", text: o.icon + " " }), o.label),
      h("td", {}, h("a", { href: `#/review/${s.id}`, text: "Open", "aria-label": `Open screening of ${new Date(s.created_at).toLocaleString()}, ${o.label}` })));
  });
  show(h("section", { "aria-labelledby": "queue-title" },
    h("h1", { id: "queue-title", text: "Review queue" }),
    message ? h("p", { class: "status", role: "status", text: message }) : null,
    items.length === 0
      ? h("p", { text: "No screening is waiting for review." })
      : h("table", {},
        h("caption", { text: `${items.length} screening(s) waiting, oldest first` }),
        h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "Created" }), h("th", { scope: "col", text: "Suggested outcome" }), h("th", { scope: "col", text: "Screening" }))),
        h("tbody", {}, rows))));
}

function answersList(answers) {
  const rows = [];
  for (const section of questionnaire.sections) {
    for (const item of section.items) {
      const dot = item.id.indexOf(".");
      const v = dot < 0 ? answers[item.id] : answers[item.id.slice(0, dot)]?.[item.id.slice(dot + 1)];
      if (item.type === "list" && Array.isArray(v) && v.length) {
        v.forEach((entry, i) => {
          rows.push(h("dt", { text: `${item.item_label || "Entry"} ${i + 1}` }),
            h("dd", { text: item.fields.map((f) => `${f.question}: ${valueText(entry[f.id], f)}`).join("; ") }));
        });
        continue;
      }
      rows.push(h("dt", { text: item.question }), h("dd", { text: valueText(v, item) }));
    }
  }
  return h("dl", {}, rows);
}

async function reviewView(id) {
  if (!questionnaire) questionnaire = await (await fetch("/v1/questionnaire")).json();
  const res = await api("GET", `/v1/screenings/${encodeURIComponent(id)}`);
  if (res.status !== 200) return show(h("p", { role: "alert", text: res.data?.detail || "This screening cannot be opened." }));
  const s = res.data;
  const ev = s.evaluation;
  const canReview = me.role === "clinician" && s.status === "pending_review";
  const decisionName = "decision";
  // No control starts on a value the clinician did not choose.
  const choose = () => h("option", { value: "", text: "Choose…", selected: true });
  const finalOutcome = h("select", { id: "final-outcome", name: "final_outcome", "aria-describedby": "q-final_outcome-error" }, choose(),
    Object.entries(OUTCOMES).filter(([code]) => code !== s.suggested_outcome).map(([code, o]) => h("option", { value: code, text: o.label })));
  const reasonCode = h("select", { id: "reason-code", name: "reason_code", "aria-describedby": "q-reason-error" }, choose(),
    Object.entries(REASONS).map(([code, label]) => h("option", { value: code, text: label })));
  const reasonText = h("textarea", { id: "reason-text", rows: "3", maxlength: "2000", "aria-describedby": "q-reason-text-error" });
  const overrideFields = h("div", { hidden: true },
    h("div", { class: "item" }, h("label", { for: "final-outcome", text: "Final outcome" }), h("p", { class: "error", id: "q-final_outcome-error", hidden: true }), finalOutcome),
    h("div", { class: "item" }, h("label", { for: "reason-code", text: "Reason" }), h("p", { class: "error", id: "q-reason-error", hidden: true }), reasonCode),
    h("div", { class: "item" }, h("label", { for: "reason-text", text: "Explain (kept on the record; required for reason Other)" }), h("p", { class: "error", id: "q-reason-text-error", hidden: true }), reasonText));
  const clinician = h("input", { id: "q-clinician", type: "text", autocomplete: "off", required: true, "aria-describedby": "q-clinician-error" });
  const form = h("form", { novalidate: true, "aria-labelledby": "decide-title" },
    h("h2", { id: "decide-title", text: "Your decision" }),
    h("fieldset", { "aria-describedby": "q-decision-error" },
      h("legend", { text: "Decision" }),
      h("p", { class: "error", id: "q-decision-error", hidden: true }),
      radios(decisionName, "decision", [["confirm", `Confirm: ${OUTCOMES[s.suggested_outcome].label}`], ["override", "Override"]], null,
        () => { overrideFields.hidden = radioValue2(decisionName) !== "override"; })),
    overrideFields,
    h("div", { class: "item" }, h("label", { for: "q-clinician", text: "Your clinician identifier" }), h("p", { class: "error", id: "q-clinician-error", hidden: true }), clinician),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", text: "Record decision" })));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    for (const err of form.querySelectorAll(".error")) { err.hidden = true; }
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    const decision = radioValue2(decisionName);
    const body = { decision, clinician: clinician.value.trim() };
    const text = reasonText.value.trim();
    if (decision === "override") {
      body.final_outcome = finalOutcome.value;
      body.reason = { code: reasonCode.value };
      if (text) body.reason.text = text;
    }
    // Nothing is sent until every choice is made by the clinician.
    const problems = [];
    if (!decision) problems.push(["q-decision-error", form.querySelector(`input[name="${decisionName}"]`), "choose Confirm or Override"]);
    if (decision === "override" && !finalOutcome.value) problems.push(["q-final_outcome-error", finalOutcome, "choose the final outcome"]);
    if (decision === "override" && !reasonCode.value) problems.push(["q-reason-error", reasonCode, "choose the reason for the override"]);
    if (decision === "override" && reasonCode.value === "other" && !text) problems.push(["q-reason-text-error", reasonText, "say what the reason is"]);
    if (!body.clinician) problems.push(["q-clinician-error", clinician, "enter your clinician identifier"]);
    if (problems.length) {
      for (const [errId, control, message] of problems) {
        const err = document.getElementById(errId);
        err.textContent = message; err.hidden = false;
        control.setAttribute("aria-invalid", "true");
      }
      problems[0][1].focus();
      return;
    }
    const r = await api("POST", `/v1/screenings/${encodeURIComponent(id)}/review`, body);
    if (r.status === 200) {
      navigate("#/queue");
      return queueView(`Screening ${r.data.status === "confirmed" ? "confirmed" : "overridden"}: it has left the queue.`);
    }
    const first = r.data?.errors?.[0];
    const field = first?.field || "clinician";
    const err = document.getElementById(`q-${field.replace(".", "-")}-error`) || document.getElementById(`q-${field.split(".")[0]}-error`);
    if (err) { err.textContent = first?.message || r.data?.detail || `the service answered ${r.status}`; err.hidden = false; }
  });
  show(h("section", { "aria-labelledby": "review-title" },
    h("h1", { id: "review-title", text: "Screening for review" }),
    h("p", { class: "basis", text: `Screening ${s.id}, created ${new Date(s.created_at).toLocaleString()}, status ${s.status.replace("_", " ")}.` }),
    s.review ? decisionView(s.review, s.suggested_outcome) : null,
    h("div", { class: "columns" },
      h("section", { class: "answers", "aria-labelledby": "answers-title" }, h("h2", { id: "answers-title", text: "Answers" }), answersList(s.answers)),
      h("section", { "aria-labelledby": "evaluation-title" },
        h("h2", { id: "evaluation-title", text: s.review ? "The rules' suggestion, as issued before review" : "Suggestion" }),
        ...evaluationView(ev, { editable: false }))),
    canReview ? form : (s.review ? null : h("p", { text: "Only a clinician can review." })),
    h("p", {}, h("a", { href: "#/queue", text: "Back to the queue" }))));
}

// A clinician's decision, shown before the suggestion it decided on.
function decisionView(review, suggested) {
  const o = OUTCOMES[review.final_outcome] || { icon: "•", label: review.final_outcome };
  const overridden = review.decision === "override";
  const rows = [
    ["Decision", overridden ? `Overridden (the rules suggested: ${OUTCOMES[suggested]?.label || suggested})` : "Confirmed the suggestion"],
    ["Final outcome", o.label],
  ];
  if (review.reason) rows.push(["Reason", REASONS[review.reason.code] || review.reason.code]);
  if (review.reason?.text) rows.push(["Explanation", review.reason.text]);
  rows.push(["Clinician", review.clinician], ["Recorded", new Date(review.reviewed_at).toLocaleString()]);
  return h("section", { class: `decision outcome outcome-${review.final_outcome}`, id: "decision", "aria-labelledby": "decision-title" },
    h("h2", { id: "decision-title" }, h("span", { class: "icon", "aria-hidden": "true", text: o.icon }), `Clinician's decision: ${o.label}`),
    h("dl", {}, rows.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })])));
}

function radioValue2(name) {
  const checked = document.querySelector(`input[name="${CSS.escape(name)}"]:checked`);
  return checked ? checked.value : null;
}

// ---------- routing ----------

// Changes the address without a hashchange: the caller renders the view.
function navigate(hash) {
  history.pushState(null, "", hash);
}

async function route() {
  if (!sessionStorage.getItem(KEY)) return signInView();
  if (!me) {
    const res = await api("GET", "/v1/me");
    if (res.status !== 200) return signOut();
    me = res.data;
  }
  renderNav();
  const hash = location.hash || (me.role === "intake" ? "#/intake" : "#/queue");
  const review = hash.match(/^#\/review\/(.+)$/);
  if (review) return reviewView(decodeURIComponent(review[1]));
  if (hash === "#/queue") return queueView();
  if (me.role === "intake") return intakeView();
  return queueView();
}

window.addEventListener("hashchange", () => {
  // In-page links to questions (#q-...) are not routes.
  if (location.hash.startsWith("#/")) route();
});
route();
