// A clinician opening a screening fresh sees, above the decision, each
// earlier suggestion its answers had and who changed them when, from the
// screening's history (read to its last page); a red flag taken back
// stands out (see harness.mjs).

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { setup, newPage, byId, signIn, expectAccessible, caseAnswers, shots, call, createScreening } from "./harness.mjs";
import * as h from "./harness.mjs";

// Every read of a record is an event of its own here, so that a history
// runs over more than one page.
process.env.FACET_SCREEN_VIEW_WINDOW_SECS = "0";
setup();

async function put(id, key, answers) {
  const res = await call("PUT", `/v1/screenings/${id}/answers`, key, answers);
  assert.equal(res.status, 200);
  return res.data;
}

test("a red flag taken back is shown, with who took it back and the suggestion it had, to a clinician who opens the screening fresh", async () => {
  const bea = await call("POST", "/v1/keys", h.adminKey, { role: "intake", label: "Nurse Bea" });
  const reader = await call("POST", "/v1/keys", h.adminKey, { role: "clinician", label: "ward reader" });
  const urgent = await createScreening(caseAnswers("cauda-equina"), "MRN-RETRACTED-1");
  assert.equal(urgent.suggested_outcome, "urgent_evaluation");
  // 500 reads before the correction: it is on the history's second page.
  for (let i = 0; i < 500; i++) assert.equal((await call("GET", `/v1/screenings/${urgent.id}`, reader.data.key)).status, 200);
  const first = await call("GET", `/v1/screenings/${urgent.id}/history?limit=500`, h.clinicianKey);
  assert.ok(first.data.next, "the history has a second page");
  // A nurse reopens it and takes the red flag back; another changes a pain answer.
  const taken = caseAnswers("cauda-equina");
  taken.patient.external_ref = "MRN-RETRACTED-1";
  taken.red_flags.bladder_or_bowel_dysfunction = false;
  const corrected = await put(urgent.id, bea.data.key, taken);
  assert.notEqual(corrected.suggested_outcome, "urgent_evaluation");
  const later = structuredClone(taken);
  later.pain.intensity_nrs = taken.pain.intensity_nrs + 1;
  await put(urgent.id, h.intakeKey, later);

  const page = await newPage();
  await signIn(page, h.clinicianKey);
  await page.getByRole("link", { name: /Open the screening of MRN-RETRACTED-1/ }).click();
  const earlier = byId(page, "corrections");
  await earlier.waitFor();
  const text = await earlier.textContent();
  assert.match(text, /suggested Urgent medical evaluation before/i, "the earlier urgent suggestion, said first");
  const lines = earlier.locator("li.correction");
  assert.equal(await lines.count(), 2, "one line per change, oldest first");
  const retraction = lines.first();
  assert.match(await retraction.textContent(),
    /Answers changed by Nurse Bea at .*: the suggestion was Urgent medical evaluation, now Likely candidate; changed: New trouble controlling or emptying the bladder or bowels\?: Yes → No/);
  assert.match(await retraction.getAttribute("class"), /retracted/);
  assert.match(await retraction.textContent(), /red flag taken back/i, "in words, not by colour alone");
  assert.match(await lines.nth(1).textContent(), /Answers changed by intake browser at .*: the suggestion stayed Likely candidate; changed: Average pain.*→/);
  assert.doesNotMatch(await lines.nth(1).getAttribute("class"), /retracted/);
  // Above the decision, and above the answers.
  const [box, decide, answers] = await Promise.all([earlier, page.locator("#decide-title"), page.locator("#answers-title")].map((l) => l.boundingBox()));
  assert.ok(box.y < decide.y && box.y < answers.y, "read before the decision");
  await page.screenshot({ path: join(shots, "review-red-flag-taken-back.png") });
  await expectAccessible(page, "a review whose red flag was taken back");
  assert.deepEqual(page.jsErrors, []);
  await page.context().close();
});

test("a screening whose answers never changed shows no earlier suggestion", async () => {
  const plain = await createScreening(caseAnswers("ideal-candidate"), "MRN-UNCHANGED-1");
  const page = await newPage();
  await signIn(page, h.clinicianKey);
  await page.goto(`${h.base}/#/review/${plain.id}`);
  await page.locator("#decide-title").waitFor();
  assert.equal(await byId(page, "corrections").count(), 0);
  await page.context().close();
});
