// The form's answers: read from its controls (an unknown answer is left
// out), written into them (stored answers, or a draft's), and the
// questions shown or hidden by their show_when.

import { fieldId, checkedValue } from "./dom.js";
import { evalCond, F } from "./conditions.js";
import { formState } from "./form-state.js";

// The stored value of answer `id` (`group.name`) in nested answers.
export function answerOf(answers, id) {
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

// Writes `value` (undefined: unknown) into the controls of question `id`,
// a form just drawn: nothing is cleared first.
function fillItem(id, item, value) {
  if (item.type !== "list") return setSimple(item, id, value, formState.form);
  if (value === undefined) return;
  check(`${fieldId(id)}--${value.length ? "some" : "none"}`);
  const list = formState.lists.get(id);
  list.syncList();
  while (list.entries.children.length < value.length) list.addEntry();
  value.forEach((entry, i) => {
    const el = list.entries.children[i];
    for (const sub of item.fields) setSimple(sub, `${id}[${i}].${sub.id}`, entry?.[sub.id] ?? undefined, el);
  });
}

// Fills the form with nested answers (stored ones, or a draft's).
export function fillForm(answers, raw = {}) {
  for (const [id, { item }] of formState.items) fillItem(id, item, answerOf(answers, id));
  for (const [id, text] of Object.entries(raw)) {
    const input = document.getElementById(id);
    if (input && input.type === "text") input.value = text;
  }
  refresh();
}

// Replaces the answer to question `id` with `value` (undefined: unknown).
export function setItem(id, value) {
  const { item } = formState.items.get(id);
  const base = fieldId(id);
  // The first choice of a question's radios (Unknown, Not known) has the
  // question's own id.
  if (item.type === "integer" || item.type === "number" || item.type === "text") {
    const input = document.getElementById(base);
    if (input) input.value = "";
  } else {
    check(base);
  }
  if (item.type === "list") {
    const list = formState.lists.get(id);
    list.entries.replaceChildren();
    list.syncList();
  }
  refresh();
  fillItem(id, item, value);
  refresh();
}

// The state of a list's or a multiple choice's radios: unknown, none, some.
export function stateOf(path) {
  return checkedValue(path + "--state") ?? "unknown";
}

export function radioValue(name) {
  return checkedValue(name, formState.form) ?? "unknown";
}

// The value of one simple answer, or undefined when unknown.
export function readValue(item, path, name, root) {
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
export function collect() {
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
// NaN for anything else, which the checks report.
export function parseNumber(text) {
  const t = text.trim().replace(",", ".");
  return /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(t) ? Number(t) : NaN;
}

export function nest(flat) {
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
export function refresh() {
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
