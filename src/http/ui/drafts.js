// Drafts: what was typed in the form and not yet saved, kept in this tab
// (sessionStorage) per screening ("new" for a new one) until it is saved or
// discarded. A draft belongs to the key that typed it. It names that key by
// a digest (never the key itself), and it is restored for that key only:
// when a key signs in on the tab, the drafts of every other key are
// discarded. A key that expired or was revoked takes its drafts with it,
// and the next person at the workstation starts with an empty form.

const PREFIX = "facet-screen-draft:";

// The digest of the key signed in; null before a sign-in, or where the
// browser offers no digest (a page not served securely): then no draft is
// kept or restored.
let owner = null;

async function digest(key) {
  const bytes = new TextEncoder().encode("facet-screen draft owner\n" + key);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}

function read(name) {
  try { return JSON.parse(sessionStorage.getItem(name)); } catch { return null; }
}

// A key was accepted (a sign-in, or a page opened with one): its drafts are
// kept, those of any other key discarded.
export async function ownDrafts(key) {
  owner = key && crypto.subtle ? await digest(key) : null;
  for (const name of Object.keys(sessionStorage)) {
    if (name.startsWith(PREFIX) && (owner === null || read(name)?.owner !== owner)) sessionStorage.removeItem(name);
  }
}

// The draft of `target` typed with the key signed in, or null.
export function loadDraft(target) {
  const draft = read(PREFIX + target);
  return owner !== null && draft?.owner === owner ? draft : null;
}

// Every draft of the key signed in (or last refused: app.js): [{ target,
// draft }], the new screening's first.
export function ownedDrafts() {
  if (owner === null) return [];
  return Object.keys(sessionStorage).filter((name) => name.startsWith(PREFIX)).sort()
    .map((name) => ({ target: name.slice(PREFIX.length), draft: read(name) }))
    .filter(({ draft }) => draft?.owner === owner)
    .sort((a, b) => (b.target === "new") - (a.target === "new"));
}

export function storeDraft(target, draft) {
  if (owner !== null) sessionStorage.setItem(PREFIX + target, JSON.stringify({ ...draft, owner }));
}

export function removeDraft(target) {
  sessionStorage.removeItem(PREFIX + target);
}

// Whether this tab holds answers not yet saved.
export function hasDrafts() {
  return Object.keys(sessionStorage).some((k) => k.startsWith(PREFIX));
}

export function discardDrafts() {
  for (const k of Object.keys(sessionStorage)) if (k.startsWith(PREFIX)) sessionStorage.removeItem(k);
}

// Leaving the page (closing the tab, following a link away) with unsaved
// answers asks first. A reload keeps them, but asks too: the browser cannot
// tell the two apart.
window.addEventListener("beforeunload", (e) => {
  if (hasDrafts()) {
    e.preventDefault();
    e.returnValue = "";
  }
});
