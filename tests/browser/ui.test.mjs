// The intake form and the review page, in headless Chromium against the
// real binary (see harness.mjs).

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { setup, newPage, byId, signIn, fill, expectAccessible, caseAnswers, shots, createScreening } from "./harness.mjs";
import * as h from "./harness.mjs";

setup();

test("a nurse signs in with the keyboard alone and sees the form rendered from the questionnaire", async () => {
  const page = await newPage();
  await page.goto(h.base + "/");
  await byId(page, "access-key").waitFor();
  // The key field has the focus; the skip link is the first Tab stop before it.
  assert.equal(await page.evaluate(() => document.activeElement.id), "access-key");
  await page.keyboard.press("Shift+Tab");
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Skip to content");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), "access-key");
  await page.keyboard.type(h.intakeKey);
  await page.keyboard.press("Enter");
  await page.getByRole("button", { name: "Sign out" }).waitFor();

  const questionnaire = await (await fetch(`${h.base}/v1/questionnaire`)).json();
  const legends = await page.locator("form > fieldset > legend").allTextContents();
  assert.deepEqual(legends.map((l) => l.replace("⚠ ", "")), questionnaire.sections.map((s) => s.title));
  // Red flags: marked, and asked second, right after who the patient is.
  assert.match(legends[1], /⚠ Red flags/);
  // Booleans offer yes, no and unknown, and unknown is the default.
  assert.equal(await byId(page, "q-pain.low_back").isChecked(), true);
  assert.equal(await byId(page, "q-pain.low_back").getAttribute("value"), "unknown");
  // Every question text is on the page, with its unit.
  for (const item of questionnaire.sections.flatMap((s) => s.items)) {
    assert.ok(await page.getByText(item.question, { exact: false }).count() > 0, item.question);
  }
  assert.ok(await page.getByText("kg/m²").count() > 0);
  // Conservative care duration is hidden only when it is known that no care
  // was tried (unknown never hides a question), and comes back once some was.
  const duration = page.locator('[data-path="conservative_care.duration_months"]');
  assert.equal(await duration.isVisible(), true);
  for (const care of ["physical_therapy", "medications", "steroid_injections"]) {
    await byId(page, `q-conservative_care.${care}--not_tried`).check();
  }
  assert.equal(await duration.isHidden(), true);
  await byId(page, "q-conservative_care.physical_therapy--not_improved").check();
  assert.equal(await page.locator('[data-path="conservative_care.duration_months"]').isVisible(), true);
  // The key lives in this tab only.
  // The key and the draft of the answers live in this tab only.
  const stored = await page.evaluate(() => ({ session: Object.keys(sessionStorage).sort(), local: localStorage.length, cookie: document.cookie }));
  assert.deepEqual(stored, { session: ["facet-screen-draft:new", "facet-screen-key"], local: 0, cookie: "" });
  await page.screenshot({ path: join(shots, "form.png"), fullPage: true });
  await expectAccessible(page, "the intake form");
  assert.deepEqual(page.jsErrors, []);
  await page.context().close();
});

test("an ideal case gives a likely candidate with its basis", async () => {
  const page = await newPage();
  await signIn(page, h.intakeKey);
  await fill(page, caseAnswers("ideal-candidate"));
  await page.getByRole("button", { name: "Check suggestion" }).click();
  const outcome = page.locator("#outcome");
  await outcome.waitFor();
  assert.match(await outcome.textContent(), /Likely candidate/);
  assert.match(await page.locator(".confirm-banner").textContent(), /clinician must confirm/);
  assert.ok(await page.getByRole("heading", { name: "Next steps" }).count());
  await page.screenshot({ path: join(shots, "result-likely.png"), fullPage: true });
  // The print view fits one page.
  const pdf = await page.pdf({ format: "A4", printBackground: true });
  const pages = (pdf.toString("latin1").match(/\/Type\s*\/Page[^s]/g) || []).length;
  assert.equal(pages, 1, "the printed result is one A4 page");
  await expectAccessible(page, "a likely-candidate result");
  await page.context().close();
});

test("an out-of-range value is shown next to its field, with a summary that links to it", async () => {
  const page = await newPage();
  await signIn(page, h.intakeKey);
  await byId(page, "q-pain.intensity_nrs").fill("11");
  await byId(page, "q-patient.age_years").fill("54");
  await page.getByRole("button", { name: "Check suggestion" }).click();
  const summary = page.locator(".error-summary");
  await summary.waitFor();
  assert.match(await summary.textContent(), /Average pain over the last week.*from 0 to 10/);
  assert.equal(await byId(page, "q-pain.intensity_nrs").getAttribute("aria-invalid"), "true");
  assert.match(await byId(page, "q-pain.intensity_nrs-error").textContent(), /from 0 to 10/);
  assert.equal(await byId(page, "q-patient.age_years").getAttribute("aria-invalid"), null);
  await summary.getByRole("link").first().click();
  assert.equal(await page.evaluate(() => document.activeElement.id), "q-pain.intensity_nrs");
  await expectAccessible(page, "the form with errors");
  await page.context().close();
});

test("a red flag gives an unmistakable urgent result", async () => {
  const page = await newPage();
  await signIn(page, h.intakeKey);
  await fill(page, { red_flags: { saddle_anesthesia: true } });
  await page.getByRole("button", { name: "Check suggestion" }).click();
  const outcome = page.locator("#outcome.outcome-urgent_evaluation");
  await outcome.waitFor();
  assert.match(await outcome.textContent(), /Urgent medical evaluation/i);
  assert.match(await outcome.textContent(), /same-day/);
  assert.equal(await outcome.locator(".icon").textContent(), "⚠");
  await page.screenshot({ path: join(shots, "result-urgent.png"), fullPage: true });
  await expectAccessible(page, "an urgent result");
  await page.context().close();
});

test("questions left unknown are listed as missing and link back to the form", async () => {
  const page = await newPage();
  await signIn(page, h.intakeKey);
  await page.getByRole("button", { name: "Check suggestion" }).click();
  await page.locator("#outcome").waitFor();
  assert.match(await page.locator("#outcome").textContent(), /More information needed/);
  const missing = page.locator("#missing-required");
  assert.match(await missing.textContent(), /Numbness around the genitals/);
  await missing.getByRole("link", { name: "Is low back pain the main complaint?" }).click();
  assert.equal(await page.evaluate(() => document.activeElement.id), "q-pain.low_back");
  await page.context().close();
});

test("a clinician reviews a saved screening and it leaves the queue", async () => {
  const nurse = await newPage();
  await signIn(nurse, h.intakeKey);
  const answers = caseAnswers("pt-not-tried");
  answers.patient = { ...answers.patient, external_ref: "MRN-7788" };
  await fill(nurse, answers);
  await nurse.getByRole("button", { name: "Save screening for review" }).click();
  await nurse.getByRole("status").waitFor();
  const saved = await nurse.getByRole("status").textContent();
  // The confirmation, and the page that prints, name the patient.
  assert.match(saved, /for patient MRN-7788/);
  assert.equal(await byId(nurse, "patient-ref").textContent(), "Patient reference: MRN-7788");
  const id = saved.match(/screening ([0-9a-f-]{36})/)[1];
  await nurse.context().close();

  const page = await newPage();
  await signIn(page, h.clinicianKey);
  await page.getByRole("heading", { name: "Review queue" }).waitFor();
  const row = page.locator("tbody tr", { hasText: "Not yet eligible" });
  assert.equal(await row.count(), 1);
  await expectAccessible(page, "the review queue");
  await row.getByRole("link").click();
  await page.getByRole("heading", { name: "Screening for review" }).waitFor();
  assert.match(await page.locator(".answers").textContent(), /Physical therapy or a supervised exercise programme\s*Not tried/);
  await page.screenshot({ path: join(shots, "review.png"), fullPage: true });
  await expectAccessible(page, "the review page");
  // Nothing is chosen for the clinician: the decision and the identifier
  // are both asked for before anything is sent.
  assert.equal(await page.locator('input[name="decision"]:checked').count(), 0);
  await page.getByRole("button", { name: "Record decision" }).click();
  assert.match(await byId(page, "q-decision-error").textContent(), /Confirm or Override/);
  assert.match(await byId(page, "q-clinician-error").textContent(), /clinician identifier/);
  await byId(page, "decision").check();
  await byId(page, "q-clinician").fill("dr-okafor");
  await page.getByRole("button", { name: "Record decision" }).click();
  await page.getByRole("status").waitFor();
  assert.match(await page.getByRole("status").textContent(), /confirmed: it has left the queue/);
  assert.equal(await page.locator(`a[href="#/review/${id}"]`).count(), 0);
  const record = await (await fetch(`${h.base}/v1/screenings/${id}`, { headers: { Authorization: `Bearer ${h.clinicianKey}` } })).json();
  assert.equal(record.status, "confirmed");
  assert.equal(record.review.clinician, "dr-okafor");
  assert.deepEqual(page.jsErrors, []);
  await page.context().close();
});

test("an override records only what the clinician chose, and the decision is shown first", async () => {
  const created = await (await fetch(`${h.base}/v1/screenings`, {
    method: "POST",
    headers: { Authorization: `Bearer ${h.intakeKey}`, "content-type": "application/json" },
    body: JSON.stringify(caseAnswers("ideal-candidate")),
  })).json();
  const id = created.id;
  const page = await newPage();
  await signIn(page, h.clinicianKey);
  await page.goto(`${h.base}/#/review/${id}`);
  await page.getByRole("heading", { name: "Screening for review" }).waitFor();
  await byId(page, "decision--override").check();
  // Both lists start on "Choose…": ticking Override alone records nothing.
  assert.equal(await byId(page, "final-outcome").inputValue(), "");
  assert.equal(await byId(page, "reason-code").inputValue(), "");
  await byId(page, "q-clinician").fill("dr-okafor");
  await page.getByRole("button", { name: "Record decision" }).click();
  assert.match(await byId(page, "q-final_outcome-error").textContent(), /final outcome/);
  assert.match(await byId(page, "q-reason-error").textContent(), /reason/);
  assert.equal(await page.evaluate(() => document.activeElement.id), "final-outcome");
  const pending = await (await fetch(`${h.base}/v1/screenings/${id}`, { headers: { Authorization: `Bearer ${h.clinicianKey}` } })).json();
  assert.equal(pending.status, "pending_review");
  // Reason "Other" needs a text.
  await byId(page, "final-outcome").selectOption("not_yet_eligible");
  await byId(page, "reason-code").selectOption("other");
  await page.getByRole("button", { name: "Record decision" }).click();
  assert.match(await byId(page, "q-reason-text-error").textContent(), /what the reason is/);
  await byId(page, "reason-text").fill("Wants to finish a course of physiotherapy first");
  await page.getByRole("button", { name: "Record decision" }).click();
  await page.getByRole("status").waitFor();
  assert.match(await page.getByRole("status").textContent(), /overridden/);
  const record = await (await fetch(`${h.base}/v1/screenings/${id}`, { headers: { Authorization: `Bearer ${h.clinicianKey}` } })).json();
  assert.deepEqual(
    [record.status, record.review.decision, record.review.final_outcome, record.review.reason.code],
    ["overridden", "override", "not_yet_eligible", "other"]);

  // Reopened, the page leads with the decision; the suggestion follows, marked as such.
  await page.goto(`${h.base}/#/queue`);
  await page.goto(`${h.base}/#/review/${id}`);
  await byId(page, "decision").waitFor();
  const order = await page.evaluate(() => {
    const d = document.getElementById("decision"), o = document.getElementById("outcome");
    return Boolean(d.compareDocumentPosition(o) & Node.DOCUMENT_POSITION_FOLLOWING);
  });
  assert.ok(order, "the decision comes before the suggestion");
  const decision = await byId(page, "decision").textContent();
  assert.match(decision, /Clinician's decision: Not yet eligible/);
  assert.match(decision, /Overridden \(the rules suggested: Likely candidate\)/);
  assert.match(decision, /Wants to finish a course of physiotherapy first/);
  assert.match(decision, /dr-okafor/);
  assert.match(await byId(page, "evaluation-title").textContent(), /suggestion, as issued before review/);
  await page.screenshot({ path: join(shots, "review-overridden.png"), fullPage: true });
  await expectAccessible(page, "a reviewed screening");
  assert.deepEqual(page.jsErrors, []);
  await page.context().close();
});

test("the queue puts an urgent screening first and names each patient", async () => {
  const create = async (id, reference) => {
    const answers = caseAnswers(id);
    answers.patient = { ...(answers.patient || {}), external_ref: reference };
    const res = await fetch(`${h.base}/v1/screenings`, {
      method: "POST",
      headers: { Authorization: `Bearer ${h.intakeKey}`, "content-type": "application/json" },
      body: JSON.stringify(answers),
    });
    assert.equal(res.status, 201);
  };
  // The likely candidate is older: the urgent one still comes first.
  await create("ideal-candidate", "MRN-0042");
  await create("fracture-risk", "MRN-0099");
  const page = await newPage();
  await signIn(page, h.clinicianKey);
  await page.getByRole("heading", { name: "Review queue" }).waitFor();
  const first = page.locator("tbody tr").first();
  assert.match(await first.textContent(), /MRN-0099/);
  assert.match(await first.textContent(), /urgent medical evaluation/i);
  assert.equal(await first.getAttribute("class"), "urgent-row");
  assert.match(await page.locator("tbody").textContent(), /MRN-0042/);
  await page.screenshot({ path: join(shots, "queue.png"), fullPage: true });
  await expectAccessible(page, "the review queue by priority");
  assert.deepEqual(page.jsErrors, []);
  await page.context().close();
});

test("signing out leaves no trace of the previous user on the screen", async () => {
  const page = await newPage();
  await signIn(page, h.clinicianKey);
  assert.ok(await page.locator("#nav").isVisible());
  assert.match(await page.locator("#nav").textContent(), /clinician browser/);
  await page.getByRole("button", { name: "Sign out" }).click();
  await byId(page, "access-key").waitFor();
  // Hidden, not merely emptied later: nothing of the previous user shows.
  assert.equal(await page.locator("#nav").isVisible(), false);
  assert.equal(await page.getByText("clinician browser").count() > 0 && await page.getByText("clinician browser").first().isVisible(), false);
  assert.deepEqual(page.jsErrors, []);
  await page.context().close();
});
