// The form's controls, one per question, built from the questionnaire
// alone: radios for yes/no and choices (Unknown first, and chosen), text
// for numbers, boxes for a multiple choice, and lists of entries.

import { h, fieldId, radios } from "./dom.js";
import { formState } from "./form-state.js";
import { refresh, stateOf } from "./form-values.js";

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
export function control(item, path, name) {
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
