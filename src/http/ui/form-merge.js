// A three-way merge of answers, by question: `base` the stored answers
// the nurse's edits began on, `theirs` the answers stored since by someone
// else, `mine` her form. An answer only one side changed takes that side's
// value; both changed it alike, it is kept; both changed it differently,
// it is a conflict, for her to choose. No DOM here: plain data in and out.

// The value of answer `id` (`group.name`, or a list's id); null is unknown.
function valueOf(answers, id) {
  const dot = id.indexOf(".");
  const v = dot < 0 ? answers?.[id] : answers?.[id.slice(0, dot)]?.[id.slice(dot + 1)];
  return v === null ? undefined : v;
}

// A value written one way only: keys sorted, unknown (null) fields left
// out, a multiple choice's options in one order.
function canonical(v) {
  if (Array.isArray(v)) {
    const items = v.map(canonical);
    return items.every((x) => typeof x === "string") ? [...items].sort() : items;
  }
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.keys(v).sort().filter((k) => v[k] !== null && v[k] !== undefined).map((k) => [k, canonical(v[k])]));
  }
  return v;
}

export function same(a, b) {
  return JSON.stringify(canonical(a) ?? null) === JSON.stringify(canonical(b) ?? null);
}

// Each question of `items` (the questionnaire's, in its order) sorted by
// who changed it: `theirs` (taken into the form: { id, base, value }),
// `mine` (kept: { id, base, value }) and `conflicts` ({ id, base, theirs,
// mine }). Questions neither changed are in none.
export function threeWay(items, base, theirs, mine) {
  const out = { theirs: [], mine: [], conflicts: [] };
  for (const item of items) {
    const [b, t, m] = [base, theirs, mine].map((answers) => valueOf(answers, item.id));
    const theyChanged = !same(t, b);
    const iChanged = !same(m, b);
    if (theyChanged && iChanged && !same(t, m)) out.conflicts.push({ id: item.id, item, base: b, theirs: t, mine: m });
    else if (theyChanged) out.theirs.push({ id: item.id, item, base: b, value: t });
    else if (iChanged) out.mine.push({ id: item.id, item, base: b, value: m });
  }
  return out;
}
