// The page's three-way merge (src/http/ui/form-merge.js) in Node: the
// module has no DOM and no imports, so it is loaded as it is served.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repo } from "./harness.mjs";

const source = readFileSync(join(repo, "src", "http", "ui", "form-merge.js"), "utf8");
const { threeWay, same } = await import("data:text/javascript," + encodeURIComponent(source));

const items = [
  { id: "red_flags.bladder_or_bowel_dysfunction", type: "boolean" },
  { id: "pain.intensity_nrs", type: "integer" },
  { id: "pain.duration_months", type: "number" },
  { id: "imaging.modalities", type: "multi_choice" },
  { id: "diagnostic_blocks", type: "list" },
];
const ids = (list) => list.map((c) => c.id);

test("each answer goes to the side that changed it; both changed differently is a conflict", () => {
  const base = { pain: { intensity_nrs: 6 }, imaging: { modalities: ["mri", "xray"] } };
  const theirs = { red_flags: { bladder_or_bowel_dysfunction: true }, pain: { intensity_nrs: 8, duration_months: 10 }, imaging: { modalities: ["mri", "xray"] } };
  const mine = { pain: { intensity_nrs: 4, duration_months: 10 }, imaging: { modalities: ["xray", "mri"] }, diagnostic_blocks: [] };
  const m = threeWay(items, base, theirs, mine);
  assert.deepEqual(ids(m.theirs), ["red_flags.bladder_or_bowel_dysfunction", "pain.duration_months"], "theirs, and a change both made alike");
  assert.deepEqual(m.theirs[0].value, true);
  assert.deepEqual(ids(m.mine), ["diagnostic_blocks"], "a multiple choice in another order is not a change");
  assert.deepEqual(m.conflicts.map((c) => [c.id, c.base, c.theirs, c.mine]), [["pain.intensity_nrs", 6, 8, 4]]);
});

test("a red flag taken back by one side is a change of theirs, never lost as unknown", () => {
  const base = { red_flags: { bladder_or_bowel_dysfunction: true } };
  const theirs = { red_flags: { bladder_or_bowel_dysfunction: null } };
  const m = threeWay(items, base, theirs, base);
  assert.deepEqual(m.theirs.map((c) => [c.id, c.value]), [["red_flags.bladder_or_bowel_dysfunction", undefined]]);
  // Unknown written as null or left out is the same answer.
  assert.ok(same({ a: 1, b: null }, { a: 1 }));
  assert.ok(!same([{ kind: "a" }, { kind: "b" }], [{ kind: "b" }, { kind: "a" }]), "a list's entries keep their order");
});
