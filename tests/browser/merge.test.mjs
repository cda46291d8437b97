// Two nurses completing the same screening at once: the second one's save
// is refused (412), and the page merges, three ways, what the first one
// saved with what the second one typed, from the version her edits began
// on. Answers only one of them changed keep that one's value; an answer
// both changed differently is hers to choose, side by side, with nothing
// chosen for her (see harness.mjs).

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { setup, newPage, byId, signIn, fill, expectAccessible, caseAnswers, shots, call, createScreening } from "./harness.mjs";
import * as h from "./harness.mjs";

setup();

async function nurse(label) {
  const made = await call("POST", "/v1/keys", h.adminKey, { role: "intake", label });
  assert.equal(made.status, 201);
  return made.data.key;
}

async function open(key, id, ref) {
  const page = await newPage();
  await signIn(page, key);
  await page.goto(`${h.base}/#/intake/${id}`);
  await page.getByRole("heading", { name: `Complete the screening of ${ref}` }).waitFor();
  return page;
}

// Save, saving with questions unanswered when asked; resolves on the
// result, or on the notice of a change made meanwhile.
async function save(page, button = "Save the completed screening") {
  await page.getByRole("button", { name: button }).click();
  const anyway = page.getByRole("button", { name: "Save with unanswered questions" });
  await page.locator("#result-title, #changed").or(anyway).first().waitFor();
  if (await anyway.count()) {
    await anyway.click();
    await page.locator("#result-title, #changed").first().waitFor();
  }
}

const checked = (page, id) => byId(page, id).isChecked();
const kinds = async (id) => (await call("GET", `/v1/screenings/${id}/history`, h.clinicianKey)).data.events
  .map((e) => e.kind).filter((k) => k !== "viewed");

test("the second nurse's save keeps the first nurse's red flag and answers, and her own", async () => {
  const all = caseAnswers("ideal-candidate");
  const redFlags = { ...all.red_flags };
  delete redFlags.bladder_or_bowel_dysfunction;
  const saved = await createScreening({
    patient: { age_years: 47 }, referral: all.referral, red_flags: redFlags,
    pain: { low_back: true, duration_months: 10, intensity_nrs: 6 },
  }, "MRN-MERGE-1");
  assert.equal(saved.suggested_outcome, "needs_more_information");
  const ana = await open(h.intakeKey, saved.id, "MRN-MERGE-1");
  const bea = await open(await nurse("Nurse Bea"), saved.id, "MRN-MERGE-1");

  // Ana phones the patient: new bladder trouble; and the pain questions.
  await fill(ana, {
    red_flags: { bladder_or_bowel_dysfunction: true },
    pain: { predominantly_axial: true, untreated_radiculopathy: false, neurogenic_claudication: false, functional_impairment: true },
  });
  await save(ana);
  assert.match(await ana.locator("#outcome").textContent(), /Urgent/);
  await ana.context().close();

  // Bea, on the version she opened, fills conservative care and imaging.
  await fill(bea, { conservative_care: all.conservative_care, imaging: all.imaging });
  await save(bea);
  const notice = byId(bea, "changed");
  await notice.waitFor();
  assert.equal(await bea.evaluate(() => document.activeElement.id), "changed");
  // The suggestion is now urgent: said first, in the urgent style.
  const first = notice.locator(":scope > *").first();
  assert.match(await first.textContent(), /now Urgent/);
  assert.match(await first.getAttribute("class"), /outcome-urgent_evaluation/);
  const text = await notice.textContent();
  assert.match(text, /was More information needed.*now Urgent/, "the suggestion, then and now");
  assert.match(text, /intake browser/, "who changed it");
  assert.match(text, /New trouble controlling or emptying the bladder or bowels\?.*Unknown → Yes/);
  assert.doesNotMatch(text, /choose/i, "nothing for her to choose");
  assert.equal(await bea.getByRole("button", { name: /over these/ }).count(), 0, "no button overwrites theirs");
  // Her form now holds Ana's answers and hers, unsaved.
  assert.equal(await checked(bea, "q-red_flags.bladder_or_bowel_dysfunction--true"), true);
  assert.equal(await checked(bea, "q-pain.predominantly_axial--true"), true);
  assert.equal(await checked(bea, "q-pain.functional_impairment--true"), true);
  assert.equal(await checked(bea, "q-pain.untreated_radiculopathy--false"), true);
  assert.equal(await checked(bea, "q-conservative_care.physical_therapy--not_improved"), true);
  assert.equal(await checked(bea, "q-imaging.modalities--mri--box"), true);
  let stored = await call("GET", `/v1/screenings/${saved.id}`, h.clinicianKey);
  assert.equal(stored.data.answers_version, 2, "nothing of hers is saved yet");
  await bea.screenshot({ path: join(shots, "merge-red-flag.png") });
  await expectAccessible(bea, "a merge whose suggestion became urgent");

  await save(bea, "Save the combined answers");
  await bea.getByRole("heading", { name: "Screening completed and saved for review" }).waitFor();
  assert.match(await bea.locator("#outcome").textContent(), /Urgent/);
  stored = await call("GET", `/v1/screenings/${saved.id}`, h.clinicianKey);
  const s = stored.data;
  assert.equal(s.answers.red_flags.bladder_or_bowel_dysfunction, true, "Ana's red flag stands");
  assert.equal(s.suggested_outcome, "urgent_evaluation");
  assert.deepEqual(
    [s.answers.pain.predominantly_axial, s.answers.pain.untreated_radiculopathy, s.answers.pain.neurogenic_claudication, s.answers.pain.functional_impairment],
    [true, false, false, true], "Ana's pain answers are kept");
  assert.deepEqual(s.answers.conservative_care, all.conservative_care, "Bea's answers are saved");
  assert.deepEqual(s.answers.imaging, all.imaging);
  assert.equal(s.answers_version, 3);
  assert.deepEqual(await kinds(saved.id), ["created", "answers_corrected", "answers_corrected"]);
  assert.deepEqual(bea.jsErrors, []);
  await bea.context().close();
});

test("an answer both nurses changed differently is hers to choose, side by side, before anything is saved", async () => {
  const answers = caseAnswers("ideal-candidate");
  delete answers.pain.duration_months;
  const saved = await createScreening(answers, "MRN-MERGE-2");
  const ana = await open(h.intakeKey, saved.id, "MRN-MERGE-2");
  const bea = await open(await nurse("Nurse Bea 2"), saved.id, "MRN-MERGE-2");
  await byId(ana, "q-pain.intensity_nrs").fill("8");
  await byId(ana, "q-pain.duration_months").fill("14");
  await save(ana);
  await ana.context().close();

  await byId(bea, "q-pain.intensity_nrs").fill("4");
  await byId(bea, "q-readiness.bmi").fill("31");
  await save(bea);
  const notice = byId(bea, "changed");
  await notice.waitFor();
  const conflict = byId(bea, "conflict-pain.intensity_nrs");
  const ctext = await conflict.textContent();
  assert.match(ctext, /Average pain/);
  assert.match(ctext, /intake browser.*8/, "theirs");
  assert.match(ctext, /Yours.*4/, "hers");
  assert.equal(await conflict.locator("input:checked").count(), 0, "nothing is chosen for her");
  // Side by side: the two choices on one line.
  const [t, m] = await Promise.all(["theirs", "mine"].map((v) => byId(bea, `conflict-pain.intensity_nrs--${v}`).boundingBox()));
  assert.ok(Math.abs(t.y - m.y) < 5 && m.x > t.x, "side by side");
  // Answers only one of them changed are taken without asking.
  assert.equal(await byId(bea, "q-pain.duration_months").inputValue(), "14");
  assert.equal(await byId(bea, "q-readiness.bmi").inputValue(), "31");
  await bea.screenshot({ path: join(shots, "merge-conflict.png") });
  await expectAccessible(bea, "a merge with an answer to choose");

  // Saving without choosing saves nothing and says what to choose.
  await bea.getByRole("button", { name: "Save the combined answers" }).click();
  const error = byId(bea, "conflict-pain.intensity_nrs-error");
  await error.waitFor({ state: "visible" });
  assert.match(await error.textContent(), /choose/);
  assert.equal(await bea.evaluate(() => document.activeElement.id), "conflict-pain.intensity_nrs--theirs");
  let stored = await call("GET", `/v1/screenings/${saved.id}`, h.clinicianKey);
  assert.equal(stored.data.answers_version, 2);
  assert.equal(stored.data.answers.pain.intensity_nrs, 8);

  // She keeps the other nurse's answer: the form shows it, and it is saved.
  await byId(bea, "conflict-pain.intensity_nrs--theirs").check();
  assert.equal(await byId(bea, "q-pain.intensity_nrs").inputValue(), "8");
  await save(bea, "Save the combined answers");
  await bea.getByRole("heading", { name: "Screening completed and saved for review" }).waitFor();
  stored = await call("GET", `/v1/screenings/${saved.id}`, h.clinicianKey);
  assert.equal(stored.data.answers_version, 3);
  assert.deepEqual([stored.data.answers.pain.intensity_nrs, stored.data.answers.pain.duration_months, stored.data.answers.readiness.bmi], [8, 14, 31]);
  assert.deepEqual(bea.jsErrors, []);
  await bea.context().close();
});

test("discarding her answers opens theirs, and keeps nothing of hers", async () => {
  const answers = caseAnswers("ideal-candidate");
  delete answers.pain.duration_months;
  const saved = await createScreening(answers, "MRN-MERGE-3");
  const ana = await open(h.intakeKey, saved.id, "MRN-MERGE-3");
  const bea = await open(await nurse("Nurse Bea 3"), saved.id, "MRN-MERGE-3");
  await byId(ana, "q-pain.duration_months").fill("14");
  await save(ana);
  await ana.context().close();
  await byId(bea, "q-pain.duration_months").fill("20");
  await byId(bea, "q-readiness.bmi").fill("31");
  await save(bea);
  await byId(bea, "changed").waitFor();
  await bea.getByRole("button", { name: "Discard mine and open theirs" }).click();
  await bea.getByRole("heading", { name: "Complete the screening of MRN-MERGE-3" }).waitFor();
  await bea.locator("#changed").waitFor({ state: "detached" });
  assert.equal(await byId(bea, "q-pain.duration_months").inputValue(), "14", "theirs");
  assert.equal(await byId(bea, "q-readiness.bmi").inputValue(), String(answers.readiness.bmi), "nothing of hers");
  assert.equal(await byId(bea, "draft-restored").count(), 0);
  assert.deepEqual(await bea.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith("facet-screen-draft"))), []);
  // The same for her changes discarded after a reload.
  await byId(bea, "q-readiness.bmi").fill("33");
  await bea.reload();
  await byId(bea, "draft-restored").waitFor();
  await bea.getByRole("button", { name: "Discard my changes" }).click();
  await bea.locator("#draft-restored").waitFor({ state: "detached" });
  assert.equal(await byId(bea, "q-readiness.bmi").inputValue(), String(answers.readiness.bmi));
  assert.deepEqual(await bea.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith("facet-screen-draft"))), []);
  assert.deepEqual(bea.jsErrors, []);
  await bea.context().close();
});
