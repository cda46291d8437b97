// show_when, evaluated like the server: Kleene logic (true, false, unknown).
// No DOM here: the tests import this module in Node and compare it with the
// server's evaluator over every question. The rule set refuses, at load, any
// show_when form this evaluator does not read (lists, parameters).

export const T = true, F = false, U = null;
function and(a, b) { return a === F || b === F ? F : a === T && b === T ? T : U; }
function or(a, b) { return a === T || b === T ? T : a === F && b === F ? F : U; }

// The truth of condition `c`; `get(id)` is an answer, undefined when unknown.
export function evalCond(c, get) {
  if (c.all) return c.all.reduce((acc, x) => and(acc, evalCond(x, get)), T);
  if (c.any) return c.any.reduce((acc, x) => or(acc, evalCond(x, get)), F);
  if (c.not) { const v = evalCond(c.not, get); return v === U ? U : !v; }
  if (c.unknown) return get(c.unknown) === undefined;
  if (c.known) return evalCond(c.known, get) === T; // never unknown itself
  if (c.field) {
    const v = get(c.field);
    if (v === undefined) return U;
    if ("is" in c) return v === c.is;
    if ("eq" in c) return v === c.eq;
    if ("in" in c) return c.in.includes(v);
    if ("empty" in c) return Array.isArray(v) && (v.length === 0) === c.empty;
    if ("includes" in c) return Array.isArray(v) && v.includes(c.includes);
    for (const [op, f] of [["lt", (a, b) => a < b], ["lte", (a, b) => a <= b], ["gt", (a, b) => a > b], ["gte", (a, b) => a >= b]]) {
      if (op in c && typeof c[op] === "number") return f(v, c[op]);
    }
  }
  return U; // forms the page does not read are never used to hide a question
}
