// A clinic's day in headless Chromium against the real binary: keys made
// in the page, the statistics, screenings finished later, answers that
// survive a reload and a new sign-in, a service that goes away and comes
// back, and the small faults that stopped nurses (see harness.mjs).

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  setup, newPage, byId, signIn, fill, expectAccessible, caseAnswers, shots, call, createScreening, ownServer, PHONE,
} from "./harness.mjs";
import * as h from "./harness.mjs";

setup();

test("an administrator makes a key in the page, sees it once, and revokes it", async () => {
  const page = await newPage({ permissions: ["clipboard-read", "clipboard-write"] });
  await signIn(page, h.adminKey);
  await page.getByRole("link", { name: "Keys" }).click();
  await page.getByRole("heading", { name: "Make a key" }).waitFor();
  // No role starts chosen; sending nothing names what is missing.
  assert.equal(await page.locator('input[name="role"]:checked').count(), 0);
  await page.getByRole("button", { name: "Make the key" }).click();
  assert.match(await byId(page, "key-role-error").textContent(), /choose the role/);
  assert.match(await byId(page, "key-label-error").textContent(), /who or what/);
  // A past expiry is refused by the service, next to its field.
  await byId(page, "key-role--clinician").check();
  await byId(page, "key-label").fill("Locum, ward 3");
  await byId(page, "key-expires").fill("2020-01-01");
  await page.getByRole("button", { name: "Make the key" }).click();
  await page.locator("#key-expires-error:not([hidden])").waitFor();
  assert.match(await byId(page, "key-expires-error").textContent(), /in the future/);

  await byId(page, "key-expires").fill("2099-12-31");
  await page.getByRole("button", { name: "Make the key" }).click();
  await page.getByRole("heading", { name: "Shown once" }).waitFor();
  const secret = await byId(page, "new-key").inputValue();
  assert.match(secret, /^fsk_[A-Za-z0-9_-]{43}$/);
  assert.match(await byId(page, "new-key-warning").textContent(), /cannot be shown again/);
  await page.getByRole("button", { name: "Copy the key" }).click();
  await page.getByText("Copied.").waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  await expectAccessible(page, "the key shown once");
  // The key works at once, as a clinician of this clinic.
  const me = await call("GET", "/v1/me", secret);
  assert.equal(me.status, 200);
  assert.deepEqual([me.data.role, me.data.clinic, me.data.label], ["clinician", "browser-test", "Locum, ward 3"]);

  await page.getByRole("button", { name: "Done: back to the keys" }).click();
  const row = page.locator("tbody tr", { hasText: "Locum, ward 3" });
  assert.match(await row.textContent(), /clinician.*Active/);
  assert.match(await row.textContent(), /2099/);
  // The page never shows a key again, nor its digest.
  assert.equal(await page.getByText(secret.slice(4, 20)).count(), 0);
  // The administrator's own key cannot be revoked from here.
  assert.equal(await page.locator("tbody tr", { hasText: "(this key)" }).getByRole("button").count(), 0);
  await page.screenshot({ path: join(shots, "admin-keys.png"), fullPage: true });
  await expectAccessible(page, "the keys page");

  await row.getByRole("button", { name: "Revoke the key Locum, ward 3" }).click();
  await page.getByText("Revoked “Locum, ward 3”.").waitFor();
  assert.deepEqual(page.dialogs, ["confirm"]);
  assert.match(await page.locator("tbody tr", { hasText: "Locum, ward 3" }).textContent(), /Revoked/);
  assert.equal((await call("GET", "/v1/me", secret)).status, 401);
  assert.deepEqual(page.jsErrors, []);
  await page.context().close();
});

// Records, in the page, the URL of each answer whose JSON the page has read,
// once every continuation of that read has run (a task queued after it).
const RECORD_READS = () => {
  window.__read = [];
  const json = Response.prototype.json;
  Response.prototype.json = async function () {
    try { return await json.call(this); } finally { const url = this.url; setTimeout(() => window.__read.push(url), 0); }
  };
};

test("a slow answer for a page the user has left never replaces the page they went to", async () => {
  const page = await newPage();
  await page.addInitScript(RECORD_READS);
  // The review queue's list is held in the browser until the clinician has
  // opened the statistics: the test lets it go, not a timer.
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route(/\/v1\/screenings\?status=pending_review&sort=priority/, async (route) => {
    await held;
    await route.continue();
  });
  const late = page.waitForResponse(/\/v1\/screenings\?status=pending_review&sort=priority/);
  await signIn(page, h.clinicianKey);
  await page.getByRole("link", { name: "Statistics" }).click();
  await page.getByRole("heading", { name: "Statistics" }).waitFor();
  release();
  await late;
  // The page has read the late answer and done all it would with it.
  await page.waitForFunction(() => window.__read.some((u) => /status=pending_review&sort=priority/.test(u)));
  assert.equal(await page.getByRole("heading", { name: "Statistics" }).count(), 1);
  assert.equal(await page.getByRole("heading", { name: "Review queue" }).count(), 0);
  assert.match(await page.locator("nav [aria-current=page]").textContent(), /Statistics/);
  assert.deepEqual(page.jsErrors, []);
  await page.context().close();
});

// The Monday (UTC) of the week of `at`, as the dashboard names a week.
const mondayOf = (at) => {
  const d = new Date(at);
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return d.toISOString().slice(0, 10);
};

// The rows of a table, each the text of its cells.
const rowsOf = (table) => table.locator("tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));

test("the dashboard shows outcomes per week and the override rate per criterion", async () => {
  // A clinic of its own: its figures are exactly what this test made, not
  // what the same service's /v1/stats says (which a page could only copy).
  const clinic = "dashboard-clinic";
  const intake = h.makeKey("intake", undefined, clinic);
  const clinician = h.makeKey("clinician", undefined, clinic);
  const overridden = await createScreening(caseAnswers("ideal-candidate"), "MRN-STAT-1", intake);
  const pending = await createScreening(caseAnswers("ideal-candidate"), "MRN-STAT-2", intake);
  const confirmed = await createScreening(caseAnswers("acute-pain"), "MRN-STAT-3", intake);
  assert.deepEqual([overridden, pending, confirmed].map((s) => s.suggested_outcome), ["likely_candidate", "likely_candidate", "not_yet_eligible"]);
  let res = await call("POST", `/v1/screenings/${overridden.id}/review`, clinician,
    { decision: "override", final_outcome: "not_yet_eligible", clinician: "dr-okafor", reason: { code: "clinical_judgement" } });
  assert.equal(res.status, 200);
  res = await call("POST", `/v1/screenings/${confirmed.id}/review`, clinician, { decision: "confirm", clinician: "dr-okafor" });
  assert.equal(res.status, 200);

  const page = await newPage();
  await signIn(page, clinician);
  await page.getByRole("link", { name: "Statistics" }).click();
  await page.getByRole("heading", { name: "Statistics" }).waitFor();
  // Three screenings, two reviewed: one confirmed, one overridden, each
  // reviewed within seconds of its creation.
  const figures = Object.fromEntries(await page.locator(".figures > div").evaluateAll((divs) =>
    divs.map((d) => [d.querySelector("dt").textContent, d.querySelector("dd").textContent])));
  assert.deepEqual(figures, {
    Screenings: "3", Reviewed: "2", Confirmed: "1", Overridden: "1", "Override rate": "50%", "Median time to review": "0 min",
  });

  // One week, this one: two likely candidates and one not yet eligible, in
  // the chart (a bar each) and in its table.
  const week = mondayOf(overridden.created_at);
  const bars = await page.locator("svg.chart").nth(0).locator("rect title").allTextContents();
  assert.deepEqual(bars.sort(), [`${week}: Likely candidate 2`, `${week}: Not yet eligible 1`]);
  const weeks = page.locator("table", { hasText: "Suggested outcomes per week" });
  const heads = await weeks.locator("thead th").allTextContents();
  const [row, ...others] = await rowsOf(weeks);
  assert.equal(others.length, 0, "one week");
  const cell = Object.fromEntries(heads.map((k, i) => [k, row[i]]));
  assert.equal(cell.Week, week);
  assert.equal(cell["Likely candidate"], "2");
  assert.equal(cell["Not yet eligible"], "1");
  assert.equal(cell.All, "3");
  assert.equal(heads.slice(1, -1).reduce((n, k) => n + Number(cell[k]), 0), 3, "no other outcome counted");

  // Per criterion: what drove each suggestion is its reasons (acute pain's
  // CHRONIC_PAIN) or, for a likely candidate, its supporting findings.
  // Each was reviewed once; the likely candidate's were overridden.
  const codes = (s) => ["reasons", "held_findings", "cautions", "supports"].flatMap((k) => (s.evaluation[k] || []).map((f) => f.code));
  const fired = (code) => String([overridden, pending, confirmed].filter((s) => codes(s).includes(code)).length);
  const supports = overridden.evaluation.supports.map((f) => f.code);
  assert.ok(supports.length > 0, "a likely candidate has supporting findings");
  assert.deepEqual(confirmed.evaluation.reasons.map((f) => f.code), ["CHRONIC_PAIN"]);
  const expected = [
    ...supports.map((code) => [code, fired(code), "2", "1", "1", "100%"]),
    ["CHRONIC_PAIN", fired("CHRONIC_PAIN"), "1", "1", "0", "0%"],
  ];
  const criteria = await rowsOf(page.locator("table", { hasText: "Criteria" }));
  for (const want of expected) {
    assert.deepEqual(criteria.find((r) => r[0] === want[0]), want, `the row of ${want[0]}`);
  }
  // The chart holds the criteria that drove a reviewed suggestion, each
  // with its rate and how many reviews it rests on.
  const chart = await page.locator("svg.chart").nth(1).locator("text").allTextContents();
  const pairs = [];
  for (let i = 0; i < chart.length; i += 2) pairs.push([chart[i], chart[i + 1]]);
  assert.deepEqual(pairs.sort(), expected.map(([code, , , , , rate]) => [code, `${rate} of 1`]).sort());
  await page.screenshot({ path: join(shots, "dashboard.png"), fullPage: true });
  await expectAccessible(page, "the dashboard");
  // An earlier period holds nothing.
  await byId(page, "stats-from").fill("2020-01-01");
  await byId(page, "stats-to").fill("2020-02-01");
  await page.getByRole("button", { name: "Show" }).click();
  await page.getByText("No screening in this period.").waitFor();
  assert.deepEqual(page.jsErrors, []);
  await page.context().close();
});

test("a screening saved with questions unanswered is reopened, completed and saved again", async () => {
  const answers = caseAnswers("ideal-candidate");
  delete answers.pain.duration_months;
  const saved = await createScreening(answers, "MRN-LATER-7");
  assert.equal(saved.suggested_outcome, "needs_more_information");
  const page = await newPage();
  await signIn(page, h.intakeKey);
  await page.getByRole("link", { name: "Finish later" }).click();
  const row = page.locator("tbody tr", { hasText: "MRN-LATER-7" });
  await row.getByRole("link", { name: /Complete the screening of MRN-LATER-7/ }).click();
  await page.getByRole("heading", { name: "Complete the screening of MRN-LATER-7" }).waitFor();
  // The stored answers are in the form; the missing one is empty.
  assert.equal(await byId(page, "q-patient.external_ref").inputValue(), "MRN-LATER-7");
  assert.equal(await byId(page, "q-pain.intensity_nrs").inputValue(), String(answers.pain.intensity_nrs));
  assert.equal(await byId(page, "q-pain.low_back--true").isChecked(), true);
  assert.equal(await byId(page, "q-pain.duration_months").inputValue(), "");
  // What is still to answer is listed, and each links to its question.
  const still = byId(page, "still-missing");
  assert.match(await still.textContent(), /Still to answer \(1\)/);
  await still.getByRole("link").click();
  assert.equal(await page.evaluate(() => document.activeElement.id), "q-pain.duration_months");
  await page.screenshot({ path: join(shots, "reopened.png"), fullPage: true });
  await expectAccessible(page, "a reopened screening");
  await byId(page, "q-pain.duration_months").fill("14");
  await page.getByRole("button", { name: "Save the completed screening" }).click();
  await page.getByRole("heading", { name: "Screening completed and saved for review" }).waitFor();
  assert.match(await page.locator("#outcome").textContent(), /Likely candidate/);
  // One screening, corrected: its history keeps the first answers.
  const history = await call("GET", `/v1/screenings/${saved.id}/history`, h.clinicianKey);
  const kinds = history.data.events.map((e) => e.kind);
  assert.ok(kinds.includes("answers_corrected"), JSON.stringify(kinds));
  await page.getByRole("link", { name: "Finish later" }).click();
  await page.getByRole("heading", { name: "Screenings to finish" }).waitFor();
  assert.equal(await page.locator("tbody tr", { hasText: "MRN-LATER-7" }).count(), 0);
  assert.deepEqual(page.jsErrors, []);
  await page.context().close();
});

test("typed answers survive a reload, Back and Forward, and the same key signing in again", async () => {
  const made = await call("POST", "/v1/keys", h.adminKey, { role: "intake", label: "signed out mid-form" });
  assert.equal(made.status, 201);
  const page = await newPage();
  await signIn(page, made.data.key);
  await byId(page, "q-patient.external_ref").fill("MRN-DRAFT-1");
  await byId(page, "q-patient.age_years").fill("61");
  await byId(page, "q-red_flags.fever_or_infection_risk--false").check();
  const kept = async (where) => {
    assert.equal(await byId(page, "q-patient.external_ref").inputValue(), "MRN-DRAFT-1", where);
    assert.equal(await byId(page, "q-patient.age_years").inputValue(), "61", where);
    assert.equal(await byId(page, "q-red_flags.fever_or_infection_risk--false").isChecked(), true, where);
  };
  // A reload asks first, then restores.
  await page.reload();
  await byId(page, "q-patient.age_years").waitFor();
  assert.deepEqual(page.dialogs, ["beforeunload"]);
  await kept("after a reload");
  assert.match(await byId(page, "draft-restored").textContent(), /Unsaved answers/);
  // Back to another page of the service, then Forward.
  await page.getByRole("link", { name: "Finish later" }).click();
  await page.getByRole("heading", { name: "Screenings to finish" }).waitFor();
  await page.goBack();
  await byId(page, "q-patient.age_years").waitFor();
  await kept("after Back");
  await page.goForward();
  await page.getByRole("heading", { name: "Screenings to finish" }).waitFor();
  await page.goBack();
  await byId(page, "q-patient.age_years").waitFor();
  await kept("after Back and Forward");
  // The service cannot say who the key is at a reload (503): the page signs
  // out, keeping the answers; the same key signs in again and finds them.
  await page.route(/\/v1\/me$/, (route) => route.fulfill({ status: 503, contentType: "application/problem+json", body: "{}" }), { times: 1 });
  await page.reload();
  await byId(page, "access-key").waitFor();
  await byId(page, "access-key").fill(made.data.key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await byId(page, "q-patient.age_years").waitFor();
  await kept("after the same key signed in again");
  assert.ok(await byId(page, "draft-restored").isVisible());
  // Discarding starts an empty form, and leaving asks no more.
  await page.getByRole("button", { name: "Discard them and start empty" }).click();
  await byId(page, "q-patient.age_years").waitFor();
  assert.equal(await byId(page, "q-patient.age_years").inputValue(), "");
  assert.equal(await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith("facet-screen-draft")).length), 0);
  const asked = page.dialogs.length;
  await page.reload();
  await byId(page, "q-patient.age_years").waitFor();
  assert.equal(page.dialogs.length, asked, "no warning once discarded");
  assert.deepEqual(page.jsErrors, []);
  await page.context().close();
});

test("a draft belongs to the key that typed it: after that key is revoked, the next key on the tab finds an empty form", async () => {
  const made = await call("POST", "/v1/keys", h.adminKey, { role: "intake", label: "to revoke mid-form" });
  assert.equal(made.status, 201);
  const page = await newPage();
  await signIn(page, made.data.key);
  await byId(page, "q-patient.external_ref").fill("MRN-DRAFT-2");
  await byId(page, "q-patient.age_years").fill("58");
  // The draft names its key by a digest, never the key itself.
  const stored = await page.evaluate(() => sessionStorage.getItem("facet-screen-draft:new"));
  assert.ok(stored && !stored.includes(made.data.key.slice(4)), "the key is not in the draft");
  // The key is revoked mid-form; Check signs out and says what happens to the answers.
  assert.equal((await call("DELETE", `/v1/keys/${made.data.info.id}`, h.adminKey)).status, 200);
  await page.getByRole("button", { name: "Check suggestion" }).click();
  await byId(page, "sign-in-error").waitFor();
  assert.match(await byId(page, "sign-in-error").textContent(), /no longer valid.*only for the key that typed them/);
  // Another person signs in on this tab with another key of the clinic.
  await byId(page, "access-key").fill(h.intakeKey);
  await page.getByRole("button", { name: "Sign in" }).click();
  await byId(page, "q-patient.age_years").waitFor();
  assert.equal(await byId(page, "q-patient.external_ref").inputValue(), "", "the next person sees nothing");
  assert.equal(await byId(page, "q-patient.age_years").inputValue(), "");
  assert.equal(await byId(page, "draft-restored").count(), 0, "no draft notice");
  // The old draft is gone from the tab, not only hidden.
  assert.deepEqual(await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith("facet-screen-draft"))), []);
  const asked = page.dialogs.length;
  await page.reload();
  await byId(page, "q-patient.age_years").waitFor();
  assert.equal(page.dialogs.length, asked, "nothing unsaved to warn about");
  assert.deepEqual(page.jsErrors, []);
  await page.context().close();
});

test("signing out on purpose discards the tab's unsaved answers, after asking", async () => {
  const page = await newPage();
  await signIn(page, h.intakeKey);
  await byId(page, "q-patient.external_ref").fill("MRN-SHARED-PC");
  await page.getByRole("button", { name: "Sign out" }).click();
  await byId(page, "access-key").waitFor();
  assert.deepEqual(page.dialogs, ["confirm"]);
  await byId(page, "access-key").fill(h.intakeKey);
  await page.getByRole("button", { name: "Sign in" }).click();
  await byId(page, "q-patient.external_ref").waitFor();
  assert.equal(await byId(page, "q-patient.external_ref").inputValue(), "", "the next person sees nothing");
  await page.context().close();
});

test("when the service cannot be reached, Check says so, keeps the answers, and a retry works", async () => {
  const own = await ownServer();
  const page = await newPage({ origin: () => own.url });
  await signIn(page, own.key, own.url);
  await fill(page, caseAnswers("ideal-candidate"));
  await own.stop();
  await page.getByRole("button", { name: "Check suggestion" }).click();
  const alert = page.locator("#unreachable");
  await alert.waitFor();
  assert.match(await alert.textContent(), /cannot be reached.*Nothing typed on this page is lost/);
  assert.equal(await page.evaluate(() => document.activeElement.id), "unreachable");
  assert.equal(await byId(page, "q-patient.age_years").inputValue(), String(caseAnswers("ideal-candidate").patient.age_years));
  await expectAccessible(page, "the form without a connection");
  await own.start();
  await page.getByRole("button", { name: "Try again" }).click();
  await page.locator("#outcome").waitFor();
  assert.match(await page.locator("#outcome").textContent(), /Likely candidate/);
  await page.context().close();
});

test("the small faults: New screening, the mouse wheel, Enter, a pasted tab", async () => {
  const page = await newPage();
  await signIn(page, h.intakeKey);
  // The mouse wheel over a focused number changes nothing.
  const age = byId(page, "q-patient.age_years");
  await age.fill("54");
  await age.focus();
  await age.hover();
  await page.mouse.wheel(0, -300);
  await page.mouse.wheel(0, 300);
  assert.equal(await age.inputValue(), "54");
  // Enter in a number field runs nothing: no request and no navigation
  // before a request the test sends after it (the browser reports requests
  // in order, so one Enter sent would come first).
  const sent = [];
  const record = (req) => sent.push(req.url());
  const navigated = (f) => { if (f === page.mainFrame()) sent.push(`navigated to ${f.url()}`); };
  page.on("request", record);
  page.on("framenavigated", navigated);
  await age.press("Enter");
  const marker = page.waitForRequest(/\/healthz\?after-enter$/);
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => fetch("/healthz?after-enter").then(r))));
  await marker;
  page.off("request", record);
  page.off("framenavigated", navigated);
  assert.deepEqual(sent, [`${h.base}/healthz?after-enter`], "Enter sent nothing");
  assert.equal(await page.locator("#outcome").count(), 0);
  assert.equal(await page.locator("form").count(), 1);
  // Letters in a number are reported, not dropped as unknown.
  await age.fill("5a");
  await page.getByRole("button", { name: "Check suggestion" }).click();
  assert.match(await page.locator(".error-summary").textContent(), /enter a whole number/);
  await age.fill("54");
  // A reference pasted with a tab: said in words a nurse uses.
  await byId(page, "q-patient.external_ref").fill("MRN-0042\t");
  await page.getByRole("button", { name: "Check suggestion" }).click();
  await byId(page, "q-patient.external_ref-error").waitFor({ state: "visible" });
  const message = await byId(page, "q-patient.external_ref-error").textContent();
  assert.match(message, /tab, line break/);
  assert.doesNotMatch(message, /null/);
  await byId(page, "q-patient.external_ref").fill("MRN-0042");
  // Save, then "New screening" in the menu opens an empty form.
  await page.getByRole("button", { name: "Save screening for review" }).click();
  await page.getByRole("button", { name: "Save with unanswered questions" }).click();
  await page.getByRole("heading", { name: "Screening saved for review" }).waitFor();
  await page.getByRole("link", { name: "New screening" }).click();
  await page.locator("form #q-patient\\.age_years").waitFor();
  assert.equal(await byId(page, "q-patient.age_years").inputValue(), "");
  // After Check (nothing saved), it opens the form with the answers kept.
  await byId(page, "q-patient.age_years").fill("47");
  await page.getByRole("button", { name: "Check suggestion" }).click();
  await page.locator("#outcome").waitFor();
  await page.getByRole("link", { name: "New screening" }).click();
  await page.locator("form #q-patient\\.age_years").waitFor();
  assert.equal(await byId(page, "q-patient.age_years").inputValue(), "47");
  assert.ok(await byId(page, "draft-restored").isVisible());
  assert.deepEqual(page.jsErrors, []);
  await page.context().close();
});

test("a result with cautions prints on one A4 page, with the patient's reference", async () => {
  const page = await newPage();
  await signIn(page, h.intakeKey);
  // Every caution at once: the longest result a likely candidate can have.
  const answers = caseAnswers("anticoagulated");
  answers.patient = { ...(answers.patient || {}), external_ref: "MRN-PRINT-5" };
  answers.pain.facet_levels = 3;
  Object.assign(answers.readiness, { asa_class: 3, bmi: 42, escort_available: false });
  await fill(page, answers);
  await page.getByRole("button", { name: "Check suggestion" }).click();
  await page.locator("#outcome").waitFor();
  assert.ok(await page.getByRole("heading", { name: "Cautions" }).count());
  assert.equal(await page.locator("h3:text('Cautions') ~ .finding").count() >= 6, true, "six cautions");
  await page.emulateMedia({ media: "print" });
  await page.screenshot({ path: join(shots, "printed-result.png"), fullPage: true });
  await page.emulateMedia({ media: null });
  const pdf = await page.pdf({ path: join(shots, "printed-result.pdf"), format: "A4", printBackground: true });
  const text = pdf.toString("latin1");
  const pages = (text.match(/\/Type\s*\/Page[^s]/g) || []).length;
  assert.equal(pages, 1, "the printed result is one A4 page");
  assert.match(await page.locator("#patient-ref").textContent(), /MRN-PRINT-5/);
  assert.equal(await page.locator("#patient-ref").evaluate((el) => getComputedStyle(el).display !== "none"), true);
  await page.context().close();
});

// Every page at phone size (390×844), with axe allowing no violation.
test("every page works at phone size, without an accessibility violation", async () => {
  const urgent = await createScreening(caseAnswers("fracture-risk"), "MRN-PHONE-1");
  const unfinished = caseAnswers("ideal-candidate");
  delete unfinished.pain.duration_months;
  const later = await createScreening(unfinished, "MRN-PHONE-2");
  const nurse = await newPage({ viewport: PHONE });
  await signIn(nurse, h.intakeKey);
  await expectAccessible(nurse, "the form on a phone");
  await nurse.screenshot({ path: join(shots, "phone-form.png") });
  await fill(nurse, caseAnswers("ideal-candidate"));
  await nurse.getByRole("button", { name: "Check suggestion" }).click();
  await nurse.locator("#outcome").waitFor();
  await expectAccessible(nurse, "a result on a phone");
  await nurse.getByRole("link", { name: "Finish later" }).click();
  await nurse.getByRole("heading", { name: "Screenings to finish" }).waitFor();
  await expectAccessible(nurse, "screenings to finish on a phone");
  await nurse.goto(`${h.base}/#/intake/${later.id}`);
  await nurse.getByRole("heading", { name: /Complete the screening/ }).waitFor();
  await expectAccessible(nurse, "a reopened screening on a phone");
  const overflow = await nurse.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the form fits the phone's width (${overflow}px too wide)`);
  await nurse.context().close();

  const clinician = await newPage({ viewport: PHONE });
  await signIn(clinician, h.clinicianKey);
  await clinician.getByRole("heading", { name: "Review queue" }).waitFor();
  await expectAccessible(clinician, "the queue on a phone");
  // Each row a card: the link to open it is on screen, not scrolled away.
  const open = clinician.getByRole("link", { name: /Open the screening of MRN-PHONE-1/ });
  const box = await open.boundingBox();
  assert.ok(box && box.x + box.width <= 390, `the Open link is on screen (${JSON.stringify(box)})`);
  await clinician.screenshot({ path: join(shots, "phone-queue.png"), fullPage: true });
  await clinician.goto(`${h.base}/#/review/${urgent.id}`);
  await clinician.locator("#outcome").waitFor();
  await expectAccessible(clinician, "a review on a phone");
  await clinician.context().close();

  const admin = await newPage({ viewport: PHONE });
  await signIn(admin, h.adminKey);
  await admin.getByRole("link", { name: "Statistics" }).click();
  await admin.getByRole("heading", { name: "Statistics" }).waitFor();
  await expectAccessible(admin, "the dashboard on a phone");
  await admin.screenshot({ path: join(shots, "phone-dashboard.png"), fullPage: true });
  await admin.getByRole("link", { name: "Keys" }).click();
  await admin.getByRole("heading", { name: "Make a key" }).waitFor();
  await expectAccessible(admin, "the keys page on a phone");
  for (const [page, where] of [[admin, "keys"]]) {
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the ${where} page fits the phone's width (${overflow}px too wide)`);
  }
  await admin.context().close();
});
