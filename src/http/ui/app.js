// facet-screen web pages: the intake form and the review page, as ES modules
// served by the binary (no build step, nothing from elsewhere). Everything is
// rendered from the public API: the form from GET /v1/questionnaire, so a new
// question or a changed text in rules/ shows up here without code changes.
// This module signs in and out and routes; the views are in their modules.

import { h, show, navigate, showUnreachable } from "./dom.js";
import { api, KEY, UNREACHABLE, whenUnauthorized, pageOpened } from "./api.js";
import { state } from "./state.js";
import { intakeView } from "./form.js";
import { hasDrafts, discardDrafts, ownDrafts, ownedDrafts } from "./drafts.js";
import { printUnsaved, draftPatient } from "./unsaved.js";
import { queueView, incompleteView } from "./queue.js";
import { reviewView } from "./review.js";
import { keysView } from "./keys.js";
import { statsView } from "./stats.js";

const nav = document.getElementById("nav");

// Signing out on purpose discards this tab's unsaved answers (after asking):
// the next person at a shared workstation must not see them. A key that
// stops working signs out too (`refused`), and keeps them for the same key
// only: when another key signs in, they are discarded (drafts.js). Until
// then the sign-in page names them and offers to print them (unsaved.js).
async function signOut({ forced = false, refused = false } = {}) {
  if (!forced && hasDrafts()) {
    if (!window.confirm("Unsaved answers on this tab will be discarded. Sign out anyway?")) return;
    discardDrafts();
  }
  // The refused key's drafts are the ones the sign-in page may offer.
  if (refused) await ownDrafts(sessionStorage.getItem(KEY));
  sessionStorage.removeItem(KEY);
  state.me = null;
  // Forced: the address stays, so that signing in again returns there.
  if (!forced) navigate("#/sign-in");
  signInView({ refused });
}

// What the sign-in page says when the key signed in stopped working: what
// happened and what to do, in plain words, and the unsaved answers it
// typed, with the offer to print them.
function refusedNotice() {
  const drafts = ownedDrafts();
  const patients = drafts.map(draftPatient);
  const named = patients.length > 1 ? `${patients.slice(0, -1).join(", ")} and ${patients.at(-1)}` : patients[0];
  return [
    h("p", { text: "This access key is no longer valid: it was revoked, or it has expired. Ask an administrator for a new key." }),
    drafts.length
      ? h("p", { text: `The answers typed for ${named} are not saved. They stay on this tab only for the key that typed them, until another key signs in here: then they are discarded, and no other key sees them. Print them now so that nothing is lost.` })
      : null,
    drafts.length
      ? h("div", { class: "actions" }, h("button", {
        type: "button", class: "primary",
        text: drafts.length === 1 ? `Print the answers for ${named}` : "Print the unsaved answers",
        onclick: () => printUnsaved(drafts, () => signInView({ refused: true })),
      }))
      : null,
  ];
}

function signInView({ refused = false } = {}) {
  pageOpened();
  nav.hidden = true;
  const input = h("input", { id: "access-key", name: "access-key", type: "password", autocomplete: "off", required: true, "aria-describedby": "access-key-help" });
  const failed = h("p", { class: "error", id: "sign-in-failed", hidden: true });
  const error = h("div", { id: "sign-in-error", class: refused ? "notice" : null, role: "alert", hidden: !refused },
    failed, refused ? refusedNotice() : null);
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
      failed.textContent = res.unreachable ? UNREACHABLE : "That key was not accepted.";
      failed.hidden = false;
      error.hidden = false;
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    state.me = res.data;
    await ownDrafts(sessionStorage.getItem(KEY));
    // Back where the key stopped working, if it was a page of this role.
    if (!location.hash.startsWith("#/") || location.hash === "#/sign-in") navigate(home());
    route();
  });
  show(form);
  input.focus();
}

function home() {
  return state.me.role === "intake" ? "#/intake" : "#/queue";
}

function renderNav() {
  const me = state.me;
  nav.hidden = false;
  const pages = me.role === "intake"
    ? [["#/intake", "New screening"], ["#/incomplete", "Finish later"]]
    : [["#/queue", "Review queue"], ["#/stats", "Statistics"], ...(me.role === "admin" ? [["#/keys", "Keys"]] : [])];
  // A link to the page already shown opens it afresh (no hashchange).
  const links = pages.map(([href, text]) => h("a", {
    href, text, "aria-current": location.hash === href ? "page" : null,
    onclick: (e) => { if (location.hash === href) { e.preventDefault(); route(); } },
  }));
  nav.replaceChildren(
    ...links,
    h("span", { class: "who", text: `${me.label} (${me.role}, ${me.clinic})` }),
    h("button", { type: "button", onclick: () => signOut(), text: "Sign out" }));
}

async function route() {
  pageOpened();
  if (!sessionStorage.getItem(KEY)) return signInView();
  if (!state.me) {
    const res = await api("GET", "/v1/me");
    if (res.unreachable) return showUnreachable(route);
    if (res.status !== 200) return signOut({ forced: true, refused: res.status === 401 });
    state.me = res.data;
    await ownDrafts(sessionStorage.getItem(KEY));
  }
  if (!location.hash.startsWith("#/") || location.hash === "#/sign-in") history.replaceState(null, "", home());
  renderNav();
  const hash = location.hash;
  const review = hash.match(/^#\/review\/(.+)$/);
  if (review) return reviewView(decodeURIComponent(review[1]));
  const reopen = hash.match(/^#\/intake\/(.+)$/);
  const role = state.me.role;
  if (role === "intake") {
    if (reopen) return intakeView(decodeURIComponent(reopen[1]));
    if (hash === "#/incomplete") return incompleteView();
    return intakeView();
  }
  if (hash === "#/stats") return statsView();
  if (hash === "#/keys" && role === "admin") return keysView();
  return queueView();
}

whenUnauthorized(() => signOut({ forced: true, refused: true }));

window.addEventListener("hashchange", () => {
  // In-page links to questions (#q-...) are not routes.
  if (location.hash.startsWith("#/")) route();
});
route();
