// Refusals on the keys page are shown as errors: two administrators of a
// clinic revoke each other at the same moment; the service keeps one (the
// other revocation is refused, 409) and that page says why, as an alert
// that takes the focus (see harness.mjs).

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { setup, newPage, byId, signIn, expectAccessible, shots, makeKey } from "./harness.mjs";

setup();

// Both pages' DELETE held until both are sent, then let go together.
function barrier(pages) {
  const held = [];
  return Promise.all(pages.map((page) => page.route(/\/v1\/keys\/[^/]+$/, (route) => {
    if (route.request().method() !== "DELETE") return route.continue();
    held.push(route);
    if (held.length === pages.length) for (const r of held) r.continue();
  })));
}

// What a page shows once its revocation is answered: the success, a
// refusal (or anything else said where a success is), or the sign-in page.
async function outcome(page) {
  const done = page.locator("main .status, #revoke-error, #access-key");
  await done.first().waitFor();
  if (await byId(page, "access-key").count()) return "signed out";
  if (await byId(page, "revoke-error").count()) return "refused";
  return /^Revoked “/.test(await page.locator("main .status").textContent()) ? "revoked" : "refused";
}

test("of two administrators revoking each other at once, the refused one is told why, as an error", async () => {
  let refusedSeen = 0;
  for (let round = 0; round < 10 && refusedSeen === 0; round++) {
    const clinic = `race-${round}`;
    const keys = [makeKey("admin", undefined, clinic), makeKey("admin", undefined, clinic)];
    const pages = [];
    for (const key of keys) {
      const page = await newPage();
      await signIn(page, key);
      await page.getByRole("link", { name: "Keys" }).click();
      await page.locator("tbody tr").nth(1).waitFor();
      pages.push(page);
    }
    await barrier(pages);
    // Each revokes the other's key (the row that is not its own).
    await Promise.all(pages.map((page) => page.locator("tbody tr", { hasNotText: "(this key)" }).getByRole("button", { name: /^Revoke/ }).click()));
    const results = await Promise.all(pages.map(outcome));
    assert.equal(results.filter((r) => r === "revoked").length, 1, `round ${round}: one revocation passes: ${results}`);
    const loser = pages[results.findIndex((r) => r !== "revoked")];
    if (results.includes("refused")) {
      refusedSeen += 1;
      const box = loser.locator("#revoke-error, main .status").first();
      assert.equal(await box.getAttribute("role"), "alert");
      assert.match(await box.getAttribute("class"), /error-summary/, "the error style, not a success's");
      const text = await box.textContent();
      assert.match(text, /was not revoked/);
      assert.match(text, /This is the clinic's last active administrator key: make another administrator key first\./);
      assert.doesNotMatch(text, /this is the last active/, "not the API's lowercase text");
      await box.getByText(/The key you are signed in with no longer works either/).waitFor();
      assert.equal(await loser.evaluate(() => document.activeElement.id), "revoke-error", "the focus is on the message");
      assert.equal(await loser.locator("main .status").count(), 0, "nothing said in a success's style");
      await loser.screenshot({ path: join(shots, "keys-last-admin-refused.png") });
      await expectAccessible(loser, "a revocation refused");
    } else {
      // Its own key was revoked before its request was checked: refused as
      // any revoked key is.
      assert.match(await byId(loser, "sign-in-error").textContent(), /no longer valid/);
    }
    for (const page of pages) {
      assert.deepEqual(page.jsErrors, []);
      await page.context().close();
    }
  }
  assert.ok(refusedSeen > 0, "no round answered 409: the race was not tried");
});
