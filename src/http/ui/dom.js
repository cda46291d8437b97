// Small DOM helpers shared by the views.

import { UNREACHABLE } from "./api.js";

const main = document.getElementById("main");

export function h(tag, attrs = {}, ...children) {
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

export function show(...nodes) {
  main.replaceChildren(...nodes);
  main.focus();
}

export function fieldId(path) {
  return "q-" + path;
}

export function radios(name, idBase, options, selected, onchange) {
  return h("div", { class: "choices" }, options.map(([value, label], i) => {
    const id = i === 0 ? idBase : `${idBase}--${value}`;
    return h("label", { for: id },
      h("input", { type: "radio", id, name, value, checked: value === selected, onchange }),
      label);
  }));
}

// The value of the checked radio of group `name` within `root`, or null.
export function checkedValue(name, root = document) {
  const checked = root.querySelector(`input[name="${CSS.escape(name)}"]:checked`);
  return checked ? checked.value : null;
}

// Changes the address without a hashchange: the caller renders the view.
export function navigate(hash) {
  history.pushState(null, "", hash);
}

// The service could not be reached: an alert with a retry. The page
// behind it is left as it was.
export function unreachable(retry) {
  const button = h("button", { type: "button", class: "primary", text: "Try again" });
  const box = h("div", { class: "offline", role: "alert", tabindex: "-1", id: "unreachable" },
    h("h2", { text: "No connection to the service" }),
    h("p", { text: UNREACHABLE }),
    button);
  button.addEventListener("click", () => { box.remove(); retry(); });
  return box;
}

// A whole view that could not load: the alert alone, retrying the view.
export function showUnreachable(retry) {
  show(unreachable(retry));
  document.getElementById("unreachable").focus();
}

// A table in a box that scrolls sideways on small screens, reachable with
// the keyboard and named for screen readers.
export function tableBox(label, table) {
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": label }, table);
}
