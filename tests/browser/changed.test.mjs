// A screening that changes while it is open: the clinician's decision and
// the nurse's save apply to what each of them saw, or to nothing (412), and
// the page shows what changed and who changed it (see harness.mjs).

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { setup, newPage, byId, signIn, expectAccessible, caseAnswers, shots, call, createScreening } from "./harness.mjs";
import * as h from "./harness.mjs";

setup();

// A change made through the API, as another person's page or a clinic's
// client would make it.
async function put(id, key, answers, ifMatch) {
  const res = await fetch(`${h.base}/v1/screenings/${id}/answers`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${key}`, "content-type": "application/json", ...(ifMatch ? { "If-Match": ifMatch } : {}) },
    body: JSON.stringify(answers),
  });
  assert.equal(res.status, 200);
  return res.json();
}

const kinds = async (id) => (await call("GET", `/v1/screenings/${id}/history`, h.clinicianKey)).data.events
  .map((e) => e.kind).filter((k) => k !== "viewed");

test("a clinician's decision on answers a nurse changed meanwhile is not recorded: the page shows the new ones, and who changed them", async () => {
  const urgent = await createScreening(caseAnswers("fracture-risk"), "MRN-CHANGED-1");
  const page = await newPage();
  await signIn(page, h.clinicianKey);
  await page.goto(`${h.base}/#/review/${urgent.id}`);
  await page.locator("#outcome").waitFor();
  assert.match(await page.locator("#outcome").textContent(), /Urgent/);
  // Meanwhile a nurse replaces the answers (a client that sends no If-Match).
  const later = caseAnswers("nothing-answered");
  later.patient = { external_ref: "MRN-CHANGED-1" };
  const corrected = await put(urgent.id, h.intakeKey, later);
  assert.equal(corrected.suggested_outcome, "needs_more_information");
  // The clinician confirms what the page shows.
  await byId(page, "decision").check();
  await byId(page, "q-clinician").fill("dr-okafor");
  await page.getByRole("button", { name: "Record decision" }).click();
  const notice = byId(page, "changed");
  await notice.waitFor();
  const text = await notice.textContent();
  assert.match(text, /changed since you opened it/);
  assert.match(text, /intake browser/, "who changed it");
  assert.match(text, /Nothing was recorded/);
  assert.match(text, /suggestion was Urgent.*now More information needed/, "the suggestion, then and now");
  assert.equal(await page.evaluate(() => document.activeElement.id), "changed");
  // The page now shows the new answers and suggestion, each changed answer
  // marked, and no decision chosen.
  assert.match(await page.locator("#outcome").textContent(), /More information needed/);
  assert.ok(await page.locator("dd.changed").count() > 0, "the changed answers are marked");
  assert.match(await page.locator("dd.changed").first().textContent(), /before: /);
  assert.equal(await page.locator('input[name="decision"]:checked').count(), 0);
  assert.equal(await byId(page, "q-clinician").inputValue(), "dr-okafor");
  // Nothing was recorded.
  const stored = await call("GET", `/v1/screenings/${urgent.id}`, h.clinicianKey);
  assert.equal(stored.data.status, "pending_review");
  assert.deepEqual(await kinds(urgent.id), ["created", "answers_corrected"]);
  await page.screenshot({ path: join(shots, "review-changed.png"), fullPage: true });
  await expectAccessible(page, "a review whose screening changed");
  // Deciding again, on what is shown now, is recorded.
  await byId(page, "decision").check();
  await page.getByRole("button", { name: "Record decision" }).click();
  await page.getByText("Screening confirmed: it has left the queue.").waitFor();
  const reviewed = await call("GET", `/v1/screenings/${urgent.id}`, h.clinicianKey);
  assert.equal(reviewed.data.status, "confirmed");
  assert.equal(reviewed.data.final_outcome, "needs_more_information");
  assert.equal(reviewed.data.answers_version, 2);
  assert.deepEqual(page.jsErrors, []);
  await page.context().close();
});

test("a nurse whose save comes after another nurse's is told who changed what, keeps what she typed, and chooses where both changed", async () => {
  const made = await call("POST", "/v1/keys", h.adminKey, { role: "intake", label: "nurse Baptiste" });
  assert.equal(made.status, 201);
  const answers = caseAnswers("ideal-candidate");
  delete answers.pain.duration_months;
  const saved = await createScreening(answers, "MRN-TWO-NURSES");
  const page = await newPage();
  await signIn(page, h.intakeKey);
  await page.goto(`${h.base}/#/intake/${saved.id}`);
  await page.getByRole("heading", { name: "Complete the screening of MRN-TWO-NURSES" }).waitFor();
  await byId(page, "q-pain.duration_months").fill("14");
  // The other nurse saves first, on the version she read.
  const read = await fetch(`${h.base}/v1/screenings/${saved.id}`, { headers: { Authorization: `Bearer ${made.data.key}` } });
  const theirs = structuredClone(answers);
  theirs.pain.duration_months = 9;
  theirs.pain.intensity_nrs = 3;
  await put(saved.id, made.data.key, theirs, read.headers.get("etag"));
  // Her save is refused: she sees who changed what, and her answers stay.
  await page.getByRole("button", { name: "Save the completed screening" }).click();
  const notice = byId(page, "changed");
  await notice.waitFor();
  const text = await notice.textContent();
  assert.match(text, /Another person saved this screening/);
  assert.match(text, /nurse Baptiste/);
  assert.match(text, /Nothing of yours is saved yet/);
  assert.match(text, new RegExp(`Their changes, now in your form.*Average pain.*: ${answers.pain.intensity_nrs} NRS points → 3 NRS points`));
  assert.match(await byId(page, "conflict-pain.duration_months").textContent(), /How long has the low back pain lasted.*Theirs \(nurse Baptiste\): 9 months.*Yours: 14 months/);
  assert.equal(await byId(page, "q-pain.duration_months").inputValue(), "14");
  assert.equal(await byId(page, "q-pain.intensity_nrs").inputValue(), "3", "their change is in her form");
  let stored = await call("GET", `/v1/screenings/${saved.id}`, h.intakeKey);
  assert.equal(stored.data.answers.pain.duration_months, 9, "the other nurse's answers stand");
  await expectAccessible(page, "a save refused because another nurse saved first");
  // A reload keeps what she typed, and what her edits were based on.
  await page.reload();
  await byId(page, "q-pain.duration_months").waitFor();
  assert.equal(await byId(page, "q-pain.duration_months").inputValue(), "14");
  await page.getByRole("button", { name: "Save the completed screening" }).click();
  await notice.waitFor();
  assert.equal(await byId(page, "conflict-pain.duration_months").locator("input:checked").count(), 0);
  // Having seen both, she keeps hers where both changed.
  await byId(page, "conflict-pain.duration_months--mine").check();
  await page.getByRole("button", { name: "Save the combined answers" }).click();
  await page.getByRole("heading", { name: "Screening completed and saved for review" }).waitFor();
  stored = await call("GET", `/v1/screenings/${saved.id}`, h.intakeKey);
  assert.equal(stored.data.answers.pain.duration_months, 14);
  assert.equal(stored.data.answers.pain.intensity_nrs, 3, "the other nurse's change is kept");
  assert.equal(stored.data.answers_version, 3);
  assert.deepEqual(await kinds(saved.id), ["created", "answers_corrected", "answers_corrected"]);
  assert.deepEqual(page.jsErrors, []);
  await page.context().close();
});
