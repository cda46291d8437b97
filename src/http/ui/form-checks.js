// The form's checks: the server's, made before sending (numbers in range,
// a multiple choice ticked), and the errors of either shown next to their
// question, with a summary that links to each.

import { h, fieldId } from "./dom.js";
import { formState } from "./form-state.js";
import { parseNumber, radioValue, readValue } from "./form-values.js";

export function clearErrors() {
  formState.form.querySelector(".error-summary")?.remove();
  formState.form.querySelector("#unanswered")?.remove();
  for (const e of formState.form.querySelectorAll(".error")) { e.hidden = true; e.textContent = ""; }
  for (const e of formState.form.querySelectorAll("[aria-invalid]")) e.removeAttribute("aria-invalid");
}

export function markError(path, message) {
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

export function showErrorSummary(errors) {
  const summary = h("div", { class: "error-summary", role: "alert", tabindex: "-1", "aria-labelledby": "error-summary-title" },
    h("h2", { id: "error-summary-title", text: "Please correct these answers" }),
    h("ul", {}, errors.map((e) => h("li", {},
      e.id ? h("a", { href: "#" + e.id, onclick: (ev) => { ev.preventDefault(); focusField(e.path); } }, `${questionFor(e.path)}: ${e.message}`)
           : `${e.path || "answers"}: ${e.message}`))));
  formState.form.prepend(summary);
  summary.focus();
}

export function checkClientSide() {
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

export function focusField(path) {
  const el = document.getElementById(fieldId(path));
  if (el) { el.scrollIntoView({ block: "center" }); el.focus(); }
}
