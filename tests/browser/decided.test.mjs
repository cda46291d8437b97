// A clinician decides a screening while a nurse is completing it: her save
// cannot change a reviewed screening (409), so the page says who decided
// what and when, keeps her answers, and saves them as a new screening for
// review; urgent answers head the queue (see harness.mjs).

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { setup, newPage, byId, signIn, fill, expectAccessible, shots, call, createScreening } from "./harness.mjs";
import * as h from "./harness.mjs";

setup();

test("a nurse's red flags on a screening a clinician closed meanwhile reach the queue as a new urgent screening", async () => {
  const saved = await createScreening({ patient: { age_years: 58 }, pain: { low_back: true } }, "MRN-DECIDED-1");
  assert.equal(saved.suggested_outcome, "needs_more_information");
  const nurse = await newPage();
  await signIn(nurse, h.intakeKey);
  await nurse.getByRole("link", { name: "Finish later" }).click();
  await nurse.getByRole("link", { name: /Complete the screening of MRN-DECIDED-1/ }).click();
  await byId(nurse, "still-missing").waitFor();
  await fill(nurse, { red_flags: { saddle_anesthesia: true, bladder_or_bowel_dysfunction: true } });

  // Meanwhile a clinician, working down the queue, confirms it.
  const review = await call("POST", `/v1/screenings/${saved.id}/review`, h.clinicianKey, { decision: "confirm", clinician: "Dr. J. Okafor" });
  assert.equal(review.status, 200);

  await nurse.getByRole("button", { name: "Save the completed screening" }).click();
  const anyway = nurse.getByRole("button", { name: "Save with unanswered questions" });
  const notice = byId(nurse, "decided");
  await notice.or(anyway).first().waitFor();
  if (await anyway.count()) await anyway.click();
  await notice.waitFor();
  assert.equal(await nurse.evaluate(() => document.activeElement.id), "decided");
  const said = async () => {
    const text = await notice.textContent();
    assert.match(text, /A clinician decided this screening while you were completing it/);
    assert.match(text, /Dr\. J\. Okafor confirmed the suggestion More information needed/, "who decided what");
    assert.match(text, new RegExp(new Date(review.data.review.reviewed_at).toLocaleDateString("en-US")), "when");
    assert.match(text, /were not saved/);
    assert.doesNotMatch(text, /Please correct/);
  };
  await said();
  // Her answers are still in the form, and survive a reload.
  assert.equal(await byId(nurse, "q-red_flags.saddle_anesthesia--true").isChecked(), true);
  await expectAccessible(nurse, "a screening decided while it was being completed");
  await nurse.reload();
  await notice.waitFor();
  await said();
  assert.equal(await byId(nurse, "q-red_flags.bladder_or_bowel_dysfunction--true").isChecked(), true);
  await nurse.screenshot({ path: join(shots, "decided-meanwhile.png") });

  await nurse.getByRole("button", { name: "Save as a new screening for review" }).click();
  await nurse.getByRole("heading", { name: "Saved as a new screening for review" }).waitFor();
  assert.match(await nurse.locator("#outcome").textContent(), /Urgent/);
  const status = await nurse.getByRole("status").textContent();
  assert.match(status, new RegExp(`earlier screening ${saved.id} had already been decided`));
  assert.deepEqual(await nurse.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith("facet-screen-draft"))), [], "no draft left");
  assert.deepEqual(nurse.jsErrors, []);
  await nurse.context().close();

  // The earlier screening is as the clinician left it; the new one holds
  // her red flags, waits for review, and heads the queue.
  const earlier = await call("GET", `/v1/screenings/${saved.id}`, h.clinicianKey);
  assert.equal(earlier.data.status, "confirmed");
  assert.equal(earlier.data.answers.red_flags, undefined);
  const queue = await call("GET", "/v1/screenings?status=pending_review&sort=priority&limit=100", h.clinicianKey);
  const head = queue.data.items[0];
  assert.equal(head.external_ref, "MRN-DECIDED-1");
  assert.equal(head.suggested_outcome, "urgent_evaluation");
  const fresh = await call("GET", `/v1/screenings/${head.id}`, h.clinicianKey);
  assert.deepEqual([fresh.data.answers.red_flags.saddle_anesthesia, fresh.data.answers.red_flags.bladder_or_bowel_dysfunction], [true, true]);
  assert.equal(fresh.data.answers.patient.age_years, 58, "with the answers stored before");
  const clinician = await newPage();
  await signIn(clinician, h.clinicianKey);
  const first = clinician.locator("tbody tr").first();
  await first.waitFor();
  assert.match(await first.textContent(), /MRN-DECIDED-1.*Urgent/i);
  await clinician.context().close();
});
