// A clinician's name the service refuses (a hidden character): the review
// page marks the field invalid, says why in plain words, announces it and
// puts the focus there, as it does for the errors it finds itself (see
// harness.mjs).

import { test } from "node:test";
import assert from "node:assert/strict";
import { setup, newPage, byId, signIn, expectAccessible, caseAnswers, call, createScreening } from "./harness.mjs";
import * as h from "./harness.mjs";

setup();

test("a clinician's name with a hidden character is refused next to the field, announced, in plain words", async () => {
  const s = await createScreening(caseAnswers("ideal-candidate"), "MRN-NAME-1");
  const page = await newPage();
  await signIn(page, h.clinicianKey);
  await page.goto(`${h.base}/#/review/${s.id}`);
  await byId(page, "decision").check();
  // Looks like "Dr. Okafor"; holds a zero-width space.
  await byId(page, "q-clinician").fill("Dr. O\u200bkafor");
  await page.getByRole("button", { name: "Record decision" }).click();
  const error = byId(page, "q-clinician-error");
  await error.waitFor({ state: "visible" });
  assert.equal(await error.textContent(), "Type the name with letters, spaces and punctuation only: it holds a hidden character");
  assert.equal(await error.getAttribute("role"), "alert", "announced");
  const field = byId(page, "q-clinician");
  assert.equal(await field.getAttribute("aria-invalid"), "true");
  assert.match(await field.getAttribute("aria-describedby"), /q-clinician-error/);
  assert.equal(await page.evaluate(() => document.activeElement.id), "q-clinician");
  assert.equal((await call("GET", `/v1/screenings/${s.id}`, h.clinicianKey)).data.status, "pending_review");
  await expectAccessible(page, "a clinician's name refused by the service");

  await field.fill("Dr. Okafor");
  await page.getByRole("button", { name: "Record decision" }).click();
  await page.getByText("Screening confirmed: it has left the queue.").waitFor();
  assert.equal((await call("GET", `/v1/screenings/${s.id}`, h.clinicianKey)).data.review.clinician, "Dr. Okafor");
  assert.deepEqual(page.jsErrors, []);
  await page.context().close();
});
