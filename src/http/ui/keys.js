// The administrator's page: the clinic's keys (label, role, created, last
// used, expires, state), a form to make one, shown once with a copy button,
// and revocation.

import { h, show, radios, checkedValue, showUnreachable, unreachable, tableBox } from "./dom.js";
import { api } from "./api.js";
import { state } from "./state.js";

const ROLES = [["intake", "Intake (nurse or referring clinic): screen patients"], ["clinician", "Clinician: review screenings"], ["admin", "Administrator: keys, statistics, and reading the clinic's screenings and their history (never deciding)"]];

const when = (t) => (t ? new Date(t).toLocaleString() : "—");

function keyState(k) {
  if (k.revoked_at) return "Revoked";
  if (k.expires_at && new Date(k.expires_at) <= new Date()) return "Expired";
  return "Active";
}

export async function keysView(message) {
  const res = await api("GET", "/v1/keys");
  if (res.unreachable) return showUnreachable(() => keysView(message));
  if (res.status !== 200) return show(h("p", { role: "alert", text: res.data?.detail || "The keys cannot be listed." }));
  const items = res.data.items;
  const rows = items.map((k) => {
    const st = keyState(k);
    const self = k.id === state.me.key_id;
    return h("tr", { class: st === "Active" ? null : "inactive-row" },
      h("td", {}, k.label, self ? h("span", { class: "muted", text: " (this key)" }) : null),
      h("td", { text: k.role }),
      h("td", { text: when(k.created_at) }),
      h("td", { text: when(k.last_used_at) }),
      h("td", { text: k.expires_at ? when(k.expires_at) : "Never" }),
      h("td", { text: st }),
      h("td", {}, st === "Active" && !self
        ? h("button", { type: "button", text: "Revoke", "aria-label": `Revoke the key ${k.label}`, onclick: () => revoke(k) })
        : null));
  });
  show(h("section", { "aria-labelledby": "keys-title" },
    h("h1", { id: "keys-title", text: `Keys of ${state.me.clinic}` }),
    message ? h("p", { class: "status", role: "status", text: message }) : null,
    createForm(),
    h("h2", { text: "Keys" }),
    tableBox("Keys of the clinic", h("table", {},
      h("caption", { text: `${items.length} key(s), oldest first. A key is never shown again after it is made.` }),
      h("thead", {}, h("tr", {}, ["Label", "Role", "Made", "Last used", "Expires", "State", "Action"].map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, rows)))));
}

async function revoke(k) {
  if (!window.confirm(`Revoke the key “${k.label}”? It stops working at once, on every instance.`)) return;
  const res = await api("DELETE", `/v1/keys/${encodeURIComponent(k.id)}`);
  if (res.unreachable) return showUnreachable(() => revoke(k));
  if (res.status === 200) return keysView(`Revoked “${k.label}”.`);
  // The page offers no button for the key it is signed in with, so a 409
  // on an administrator key is the clinic's last one (another
  // administrator revoked the others meanwhile).
  const why = res.status === 409 && k.role === "admin"
    ? "This is the clinic's last active administrator key: make another administrator key first."
    : sentence(res.data?.detail) || `The service answered ${res.status}.`;
  const box = refused(`“${k.label}” was not revoked`, why);
  // Refused as the last one: the key this page is signed in with is no
  // longer active either (another administrator revoked it meanwhile).
  const me = await api("GET", "/v1/me");
  if (me.status === 401) {
    box.append(h("p", { text: "The key you are signed in with no longer works either: it was revoked meanwhile, or it has expired. Your next step will ask you to sign in; ask the other administrator for a new key." }));
  }
}

// An API message as a sentence: capital first, full stop last.
function sentence(text) {
  if (!text) return null;
  const s = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(s) ? s : s + ".";
}

// A refusal, as an error that takes the focus, in place of any earlier
// message; the list is left as shown (reading it again could sign out an
// administrator whose own key was revoked meanwhile, and lose the reason).
function refused(title, why) {
  const section = document.querySelector("main section[aria-labelledby=keys-title]");
  section.querySelector("main .status, #revoke-error")?.remove();
  const box = h("div", { class: "error-summary", id: "revoke-error", role: "alert", tabindex: "-1", "aria-labelledby": "revoke-error-title" },
    h("h2", { id: "revoke-error-title", text: title }),
    h("p", { text: why }));
  document.getElementById("keys-title").after(box);
  box.focus();
  return box;
}

function createForm() {
  const label = h("input", { id: "key-label", name: "label", type: "text", maxlength: 100, autocomplete: "off", "aria-describedby": "key-label-error" });
  const expires = h("input", { id: "key-expires", name: "expires", type: "date", "aria-describedby": "key-expires-help key-expires-error" });
  const error = (id) => h("p", { class: "error", id, hidden: true });
  const form = h("form", { novalidate: true, class: "section", "aria-labelledby": "new-key-title" },
    h("h2", { id: "new-key-title", text: "Make a key" }),
    // No role is chosen for the administrator.
    h("fieldset", { class: "item", "aria-describedby": "key-role-error" },
      h("legend", { text: "Role" }),
      error("key-role-error"),
      radios("role", "key-role", ROLES, null)),
    h("div", { class: "item" },
      h("label", { for: "key-label", text: "Label (who or what the key is for)" }),
      error("key-label-error"),
      label),
    h("div", { class: "item" },
      h("label", { for: "key-expires", text: "Expires (optional)" }),
      h("p", { class: "help", id: "key-expires-help", text: "The key stops working at the start of this day. Leave empty for a key that works until revoked." }),
      error("key-expires-error"),
      expires),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", text: "Make the key" })));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    for (const el of form.querySelectorAll(".error")) { el.hidden = true; el.textContent = ""; }
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    form.querySelector("#unreachable")?.remove();
    const body = { role: checkedValue("role", form), label: label.value };
    if (expires.value) body.expires_at = new Date(expires.value + "T00:00:00").toISOString();
    const errors = [];
    if (!body.role) errors.push({ field: "role", message: "choose the role of the key" });
    if (!label.value.trim()) errors.push({ field: "label", message: "say who or what the key is for" });
    const res = errors.length ? null : await api("POST", "/v1/keys", body);
    if (res?.unreachable) {
      const box = unreachable(() => form.requestSubmit());
      form.prepend(box);
      return box.focus();
    }
    if (res && res.status === 201) return shownOnce(res.data);
    const all = errors.length ? errors : res.data?.errors || [{ field: "label", message: res.data?.detail || `the service answered ${res.status}` }];
    const target = { role: "key-role", label: "key-label", expires_at: "key-expires" };
    for (const err of all) {
      const base = target[err.field] || "key-label";
      const p = document.getElementById(base + "-error");
      p.textContent = err.message; p.hidden = false;
      document.getElementById(base)?.setAttribute("aria-invalid", "true");
    }
    document.getElementById(target[all[0].field] || "key-label")?.focus();
  });
  return form;
}

// The new key, once: a warning, the key in a read-only field, a copy button.
function shownOnce(made) {
  const field = h("input", { id: "new-key", type: "text", readonly: true, value: made.key, size: 50, "aria-describedby": "new-key-warning" });
  const copied = h("p", { role: "status", id: "copy-status" });
  show(h("section", { "aria-labelledby": "made-title" },
    h("h1", { id: "made-title", text: `Key made: ${made.info.label}` }),
    h("div", { class: "notice", id: "new-key-warning" },
      h("h2", { text: "Shown once" }),
      h("p", { text: "Copy this key now and give it to its holder. It is not kept and cannot be shown again; if it is lost, revoke it and make another." })),
    h("label", { for: "new-key", text: `Key for ${made.info.role} “${made.info.label}”` }),
    h("div", { class: "actions" },
      field,
      h("button", { type: "button", class: "primary", text: "Copy the key", onclick: async () => {
        field.select();
        try { await navigator.clipboard.writeText(made.key); copied.textContent = "Copied."; }
        catch { copied.textContent = "Select the key and copy it (Ctrl+C)."; }
      } })),
    copied,
    h("div", { class: "actions" }, h("button", { type: "button", text: "Done: back to the keys", onclick: () => keysView() }))));
  field.focus();
  field.select();
}
