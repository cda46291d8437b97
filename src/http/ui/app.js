// facet-screen web pages: the intake form and the review page, as ES modules
// served by the binary (no build step, nothing from elsewhere). Everything is
// rendered from the public API: the form from GET /v1/questionnaire, so a new
// question or a changed text in rules/ shows up here without code changes.
// This module signs in and out and routes; the views are in their modules.

import { h, show, navigate } from "./dom.js";
import { api, KEY, whenUnauthorized } from "./api.js";
import { state } from "./state.js";
import { intakeView } from "./form.js";
import { queueView } from "./queue.js";
import { reviewView } from "./review.js";

const nav = document.getElementById("nav");

function signOut(message) {
  sessionStorage.removeItem(KEY);
  state.me = null;
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
    state.me = res.data;
    navigate(state.me.role === "intake" ? "#/intake" : "#/queue");
    route();
  });
  show(form);
  input.focus();
}

function renderNav() {
  const me = state.me;
  nav.hidden = false;
  const links = [];
  if (me.role === "intake") links.push(h("a", { href: "#/intake", text: "New screening" }));
  if (me.role !== "intake") links.push(h("a", { href: "#/queue", text: "Review queue" }));
  nav.replaceChildren(
    ...links,
    h("span", { class: "who", text: `${me.label} (${me.role}, ${me.clinic})` }),
    h("button", { type: "button", onclick: () => signOut(), text: "Sign out" }));
}

async function route() {
  if (!sessionStorage.getItem(KEY)) return signInView();
  if (!state.me) {
    const res = await api("GET", "/v1/me");
    if (res.status !== 200) return signOut();
    state.me = res.data;
  }
  renderNav();
  const hash = location.hash || (state.me.role === "intake" ? "#/intake" : "#/queue");
  const review = hash.match(/^#\/review\/(.+)$/);
  if (review) return reviewView(decodeURIComponent(review[1]));
  if (hash === "#/queue") return queueView();
  if (state.me.role === "intake") return intakeView();
  return queueView();
}

whenUnauthorized(signOut);

window.addEventListener("hashchange", () => {
  // In-page links to questions (#q-...) are not routes.
  if (location.hash.startsWith("#/")) route();
});
route();
