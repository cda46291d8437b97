// A key revoked while its nurse is typing: the sign-in page says what
// happened and what to do, names the patient whose answers are unsaved,
// and offers to print them before anyone else signs in; another key never
// sees them (see harness.mjs).

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { setup, newPage, byId, signIn, fill, expectAccessible, shots, call } from "./harness.mjs";
import * as h from "./harness.mjs";

setup();

async function key(role, label) {
  const made = await call("POST", "/v1/keys", h.adminKey, { role, label });
  assert.equal(made.status, 201);
  return made.data;
}

const drafts = (page) => page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith("facet-screen-draft")));

test("a nurse whose key is revoked mid-form is told so in plain words, and can print the answers before another key signs in", async () => {
  const cal = await key("intake", "Nurse Cal");
  const page = await newPage();
  // The browser's own print, counted (it prints nothing headless).
  await page.addInitScript(() => {
    const print = window.print.bind(window);
    window.printed = 0;
    window.print = () => { window.printed += 1; return print(); };
  });
  await signIn(page, cal.key);
  await fill(page, { patient: { age_years: 39, external_ref: "MRN-REVOKED-1" }, red_flags: { saddle_anesthesia: false }, pain: { low_back: true, intensity_nrs: 8 } });
  assert.equal((await call("DELETE", `/v1/keys/${cal.info.id}`, h.adminKey)).status, 200);

  await page.getByRole("button", { name: "Check suggestion" }).click();
  const notice = byId(page, "sign-in-error");
  await notice.waitFor();
  const text = await notice.textContent();
  assert.match(text, /no longer valid: it was revoked, or it has expired/);
  assert.match(text, /Ask an administrator for a new key/);
  assert.doesNotMatch(text, /Sign in again/, "signing in again with it cannot work");
  assert.match(text, /answers typed for patient MRN-REVOKED-1 are not saved/);
  assert.match(text, /only for the key that typed them, until another key signs in here/);
  await expectAccessible(page, "the sign-in page after a key was revoked mid-form");
  await page.screenshot({ path: join(shots, "revoked-mid-form.png") });

  // Printed now, nothing is lost.
  await page.getByRole("button", { name: "Print the answers for patient MRN-REVOKED-1" }).click();
  await page.getByRole("heading", { name: "Unsaved answers" }).waitFor();
  assert.equal(await page.evaluate(() => window.printed), 1, "the print dialog opened");
  await page.emulateMedia({ media: "print" });
  const printed = await page.locator("main").innerText();
  assert.match(printed, /Patient reference: MRN-REVOKED-1/);
  assert.match(printed, /Patient's age in years\s+39 years/);
  assert.match(printed, /Average pain.*\s+8 NRS points/);
  assert.match(printed, /Numbness around the genitals, buttocks or inner thighs\?\s+No/);
  assert.match(printed, /not saved/i);
  assert.doesNotMatch(printed, /Back to sign in/, "the buttons are not printed");
  await page.emulateMedia({ media: null });
  await page.screenshot({ path: join(shots, "revoked-printed-answers.png"), fullPage: true });
  await expectAccessible(page, "the unsaved answers to print");
  await page.getByRole("button", { name: "Back to sign in" }).click();
  await byId(page, "access-key").waitFor();
  assert.match(await byId(page, "sign-in-error").textContent(), /MRN-REVOKED-1/);

  // A key typed wrong keeps the offer.
  await byId(page, "access-key").fill("fsk_not-a-key");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("That key was not accepted.").waitFor();
  assert.equal(await page.getByRole("button", { name: "Print the answers for patient MRN-REVOKED-1" }).count(), 1);

  // Another nurse signs in on this tab: she never sees them.
  await byId(page, "access-key").fill(h.intakeKey);
  await page.getByRole("button", { name: "Sign in" }).click();
  await byId(page, "q-patient.age_years").waitFor();
  assert.equal(await byId(page, "q-patient.external_ref").inputValue(), "");
  assert.deepEqual(await drafts(page), []);
  await page.getByRole("button", { name: "Sign out" }).click();
  await byId(page, "access-key").waitFor();
  assert.equal(await page.getByRole("button", { name: /Print the answers/ }).count(), 0);
  assert.doesNotMatch(await page.locator("main").textContent(), /MRN-REVOKED-1/);
  assert.deepEqual(page.jsErrors, []);
  await page.context().close();
});

test("a key refused at a reload is told the same, and a clinician with nothing typed is told only what to do", async () => {
  const nurse = await key("intake", "Nurse Dee");
  const page = await newPage();
  await signIn(page, nurse.key);
  await byId(page, "q-patient.external_ref").fill("MRN-REVOKED-2");
  assert.equal((await call("DELETE", `/v1/keys/${nurse.info.id}`, h.adminKey)).status, 200);
  await page.reload();
  const notice = byId(page, "sign-in-error");
  await notice.waitFor();
  assert.match(await notice.textContent(), /no longer valid.*answers typed for patient MRN-REVOKED-2 are not saved/);
  await page.context().close();

  const clinician = await key("clinician", "Dr. Ellis");
  const doc = await newPage();
  await signIn(doc, clinician.key);
  await doc.getByRole("heading", { name: "Review queue" }).waitFor();
  assert.equal((await call("DELETE", `/v1/keys/${clinician.info.id}`, h.adminKey)).status, 200);
  await doc.getByRole("link", { name: "Statistics" }).click();
  await byId(doc, "sign-in-error").waitFor();
  const text = await byId(doc, "sign-in-error").textContent();
  assert.match(text, /no longer valid: it was revoked, or it has expired\. Ask an administrator for a new key\./);
  assert.doesNotMatch(text, /answers/);
  assert.equal(await doc.getByRole("button", { name: /Print/ }).count(), 0);
  await doc.context().close();
});
