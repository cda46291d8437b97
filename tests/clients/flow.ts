// A referring clinic's flow through a TypeScript client: types generated
// from the served OpenAPI document by openapi-typescript, calls made with
// openapi-fetch. Checked by `tsc --noEmit` (strict) and run by tsx, against
// the real binary (tests/clients/run.sh). Any failure throws.
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/schema.js";

declare const process: { env: Record<string, string | undefined> };

type Answers = components["schemas"]["Answers"];

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

function check(ok: boolean, what: string): asserts ok {
  if (!ok) throw new Error(`failed: ${what}`);
}

const base = env("FACET_BASE");
const intake = createClient<paths>({ baseUrl: base, headers: { Authorization: `Bearer ${env("FACET_INTAKE")}` } });
const clinician = createClient<paths>({ baseUrl: base, headers: { Authorization: `Bearer ${env("FACET_CLINICIAN")}` } });
const { readFileSync } = (await import("node:fs" as string)) as { readFileSync: (p: string, e: string) => string };
const cases = JSON.parse(readFileSync(env("FACET_CASES"), "utf8")) as { id: string; answers: Answers }[];
const ideal = cases.find((c) => c.id === "ideal-candidate")?.answers;
check(ideal !== undefined, "the ideal case is read");

// A worked case, evaluated.
const evaluated = await intake.POST("/v1/evaluations", { body: ideal });
check(evaluated.data !== undefined, `evaluate answered ${evaluated.response.status}`);
check(evaluated.data.outcome === "likely_candidate", "a likely candidate");
check(evaluated.data.requires_clinician_confirmation, "a suggestion, not a decision");

// A screening created with an Idempotency-Key; the retry returns it again.
const key = `ts-${crypto.randomUUID()}`;
const create = () => intake.POST("/v1/screenings", { body: ideal, params: { header: { "Idempotency-Key": key } } });
const first = await create();
check(first.response.status === 201 && first.data !== undefined, "created");
const again = await create();
check(again.data?.id === first.data.id, "the same screening on retry");
const id = first.data.id;

// The queue, and a clinician's review.
const queue = await clinician.GET("/v1/screenings", { params: { query: { status: "pending_review", limit: 100 } } });
check(queue.data?.items.some((s) => s.id === id) === true, "in the queue");
const reviewed = await clinician.POST("/v1/screenings/{id}/review", {
  params: { path: { id } },
  body: { decision: "confirm", clinician: "dr-typescript" },
});
check(reviewed.data?.status === "confirmed", "confirmed");
check(reviewed.data.review?.clinician === "dr-typescript", "by the clinician named");

// The history, its data typed by kind.
const history = await clinician.GET("/v1/screenings/{id}/history", { params: { path: { id } } });
check(history.data !== undefined, "history read");
const created = history.data.events[0];
check(created?.kind === "created", "created first");
const createdData = created.data as components["schemas"]["CreatedData"];
check(createdData.suggested_outcome === "likely_candidate", "the suggestion made");
const review = history.data.events.find((e) => e.kind === "reviewed");
check(review !== undefined, "a reviewed event");
const reviewData = review.data as components["schemas"]["ReviewedData"];
check(reviewData.review.decision === "confirm", "the decision recorded");

// A 422, read through the generated types.
const bad = await intake.POST("/v1/evaluations", { body: { pain: { intensity_nrs: 11 } } });
check(bad.response.status === 422 && bad.error !== undefined, "refused");
const problem = bad.error as components["schemas"]["Problem"];
check(problem.errors?.[0]?.field === "pain.intensity_nrs", "the bad field named");

console.log("typescript client: evaluate, create (idempotent), queue, review, typed history, 422: ok");
