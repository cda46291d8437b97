// The harness of the browser tests: the real binary on a port of its own
// choosing (port 0, read back from its "listening" log line: no port is
// picked and then bound later, which another process could take between)
// with its own data directory, headless Chromium (Debian's package) driven by
// playwright-core, keys made with the binary's own `keys create`, axe-core
// allowing no violation of any impact. It fails, never skips, when the
// browser or the binary is missing.
//
//   cargo build && cd tests/browser && npm ci && npm test
//
// Every test file calls `setup()` once; the bindings below (`base`, the
// keys) are live once its `before` hook has run.

import { before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { createInterface } from "node:readline";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
export const repo = join(here, "..", "..");
const bin = process.env.FACET_SCREEN_BIN || join(repo, "target", "debug", "facet-screen");
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
export const shots = join(repo, "target", "browser");
const vignettes = JSON.parse(readFileSync(join(repo, "rules", "v1", "cases", "vignettes.json"), "utf8"));
export const caseAnswers = (id) => structuredClone(vignettes.find((c) => c.id === id).answers);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export const DESKTOP = { width: 1200, height: 900 };
export const PHONE = { width: 390, height: 844 };

export let base, browser, intakeKey, clinicianKey, adminKey;
let server, dataDir;
const outside = [];
const extra = [];

export function makeKey(role, dir = dataDir, clinic = "browser-test") {
  const env = { ...process.env, FACET_SCREEN_DATA_DIR: dir };
  delete env.DATABASE_URL;
  return execFileSync(bin, ["keys", "create", "--create-database", "--new-clinic", "--clinic", clinic, "--role", role, "--label", `${role} browser`], { env, stdio: ["ignore", "pipe", "ignore"] })
    .toString().trim();
}

// How long the harness waits for the service before it fails: generous, so
// that a loaded machine is only slower, never wrong.
const PATIENCE_MS = 60000;

// Starts the binary with `dir` on a port it chooses itself; resolves once it
// is ready, with the child and its URL (from its own "listening" line).
export async function startServer(dir) {
  const env = { ...process.env, FACET_SCREEN_DATA_DIR: dir, FACET_SCREEN_ADDR: "127.0.0.1:0", FACET_SCREEN_LOG_FORMAT: "json" };
  delete env.DATABASE_URL;
  delete env.RUST_LOG;
  const child = spawn(bin, ["serve"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => { stderr += d; });
  // Its log is read to the end, so that it never waits on a full pipe.
  const lines = createInterface({ input: child.stdout });
  const address = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the service did not listen within ${PATIENCE_MS} ms:\n${stderr}`)), PATIENCE_MS);
    const exited = (code) => { clearTimeout(timer); reject(new Error(`the service exited (${code}) before listening:\n${stderr}`)); };
    child.once("exit", exited);
    lines.on("line", (line) => {
      let entry;
      try { entry = JSON.parse(line); } catch { return; }
      if (entry.fields?.message === "facet-screen listening") {
        clearTimeout(timer);
        child.off("exit", exited);
        resolve(entry.fields.address);
      }
    });
  });
  const url = `http://${address}`;
  const deadline = Date.now() + PATIENCE_MS;
  for (;;) {
    try { if ((await fetch(`${url}/readyz`)).ok) return { child, url }; } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`the service was not ready within ${PATIENCE_MS} ms:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// A front of the test's own, on a port it holds from start to end: it
// passes each connection to the service behind it, and resets it while
// there is none. The service can stop and start again (on a port of its own
// each time) while the page keeps one address, and no other process can
// take that address meanwhile.
async function front() {
  let target = null;
  const open = new Set();
  const server = createServer((client) => {
    open.add(client);
    client.on("close", () => open.delete(client));
    client.on("error", () => {});
    if (!target) { client.resetAndDestroy(); return; }
    const upstream = connect(target.port, target.host);
    upstream.on("error", () => client.resetAndDestroy());
    client.on("close", () => upstream.destroy());
    // Each side's end is passed on (by the pipes) once what it sent is.
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    to: (url) => { target = url ? { host: new URL(url).hostname, port: Number(new URL(url).port) } : null; },
    close: () => new Promise((resolve) => { server.close(resolve); for (const c of open) c.destroy(); }),
  };
}

// A second service of the test's own (to stop and start again), behind a
// front that keeps its address.
export async function ownServer() {
  const dir = mkdtempSync(join(tmpdir(), "facet-screen-browser-own-"));
  const door = await front();
  const own = { dir, url: door.url, child: null, key: makeKey("intake", dir, "own-clinic"), door };
  own.start = async () => {
    const { child, url } = await startServer(dir);
    own.child = child;
    door.to(url);
  };
  own.stop = () => new Promise((resolve) => {
    door.to(null);
    own.child.once("exit", resolve);
    own.child.kill("SIGTERM");
  });
  extra.push(own);
  await own.start();
  return own;
}

export function setup() {
  before(async () => {
    assert.ok(existsSync(bin), `the service binary ${bin} is missing: run cargo build first`);
    assert.ok(existsSync(chromiumPath), `Chromium is missing at ${chromiumPath}: apt-get install -y chromium chromium-driver`);
    mkdirSync(shots, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), "facet-screen-browser-"));
    intakeKey = makeKey("intake");
    clinicianKey = makeKey("clinician");
    adminKey = makeKey("admin");
    ({ child: server, url: base } = await startServer(dataDir));
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
  });

  after(async () => {
    await browser?.close();
    server?.kill("SIGTERM");
    for (const own of extra) { own.child?.kill("SIGTERM"); await own.door.close(); rmSync(own.dir, { recursive: true, force: true }); }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    assert.deepEqual(outside, [], "the pages requested nothing from elsewhere");
  });
}

// A page in a fresh context. Dialogs (the warning before leaving unsaved
// answers, the confirmation of a sign-out or a revocation) are accepted and
// recorded in `page.dialogs`.
export async function newPage({ viewport = DESKTOP, origin = () => base, permissions = [] } = {}) {
  const context = await browser.newContext({ viewport });
  if (permissions.length) await context.grantPermissions(permissions, { origin: origin() });
  const page = await context.newPage();
  page.on("request", (req) => {
    const url = req.url();
    if (!url.startsWith(origin()) && !url.startsWith(base) && !url.startsWith("data:")) outside.push(url);
  });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error" && !/status of (401|404|409|422)|Failed to load resource|ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|ERR_EMPTY_RESPONSE/.test(m.text())) errors.push(m.text());
  });
  page.jsErrors = errors;
  page.dialogs = [];
  page.on("dialog", async (d) => { page.dialogs.push(d.type()); await d.accept(); });
  return page;
}

export const byId = (page, id) => page.locator(`[id="${id}"]`);

export async function signIn(page, key, url = base) {
  await page.goto(url + "/");
  await byId(page, "access-key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

// Answers the form through its controls, as a nurse would.
export async function fill(page, answers) {
  for (const [group, value] of Object.entries(answers)) {
    if (group === "diagnostic_blocks") {
      await byId(page, `q-diagnostic_blocks--${value.length ? "some" : "none"}`).check();
      for (let i = 0; i < value.length; i++) {
        if (i > 0) await page.getByRole("button", { name: "Add injection" }).click();
        const block = value[i];
        const p = `q-diagnostic_blocks[${i}]`;
        if (block.kind) await byId(page, `${p}.kind--${block.kind}`).check();
        if (block.pain_relief_percent !== undefined) await byId(page, `${p}.pain_relief_percent`).fill(String(block.pain_relief_percent));
        if (block.relief_matches_anesthetic !== undefined) await byId(page, `${p}.relief_matches_anesthetic--${block.relief_matches_anesthetic}`).check();
      }
      continue;
    }
    for (const [name, v] of Object.entries(value)) {
      const id = `q-${group}.${name}`;
      if (typeof v === "boolean") await byId(page, `${id}--${v}`).check();
      else if (typeof v === "number") await byId(page, id).fill(String(v));
      else if (Array.isArray(v)) {
        await byId(page, `${id}--${v.length ? "some" : "none"}`).check();
        for (const x of v) await byId(page, `${id}--${x}--box`).check();
      } else if (await byId(page, `${id}--${v}`).count()) await byId(page, `${id}--${v}`).check();
      else await byId(page, id).fill(String(v));
    }
  }
}

// axe-core on the whole page: no violation of any impact.
export async function expectAccessible(page, where) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ["violations"] }));
  assert.deepEqual(result.violations.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")})`), [], `axe on ${where}`);
}

// An API call with a key, as a clinic's client would make it.
export async function call(method, path, key, body, url = base) {
  const res = await fetch(url + path, {
    method,
    headers: { Authorization: `Bearer ${key}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const type = res.headers.get("content-type") || "";
  return { status: res.status, data: type.includes("json") ? await res.json() : null };
}

// Stores a screening of `answers` with the clinic's reference `ref`.
export async function createScreening(answers, ref, key = intakeKey) {
  answers.patient = { ...(answers.patient || {}), external_ref: ref };
  const res = await call("POST", "/v1/screenings", key, answers);
  assert.equal(res.status, 201);
  return res.data;
}
