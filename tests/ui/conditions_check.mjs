// Evaluates show_when cases with the page's own evaluator
// (src/http/ui/conditions.js), for tests/api/show_when.rs to compare with
// the server's. Reads the cases file named on the command line and prints
// one truth per case (true, false or null), as JSON.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const source = readFileSync(join(here, "..", "..", "src", "http", "ui", "conditions.js"), "utf8");
// The module has no imports: load it as it is served.
const { evalCond } = await import("data:text/javascript," + encodeURIComponent(source));
const cases = JSON.parse(readFileSync(process.argv[2], "utf8"));
process.stdout.write(JSON.stringify(cases.map((c) => evalCond(c.cond, (id) => c.answers[id]))));
