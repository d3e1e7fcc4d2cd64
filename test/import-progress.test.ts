/**
 * `--progress json` (issue 7): machine-readable progress lines on stderr (model, rows done, rows
 * total if known, bytes read, rate, ETA); the TTY bar and the periodic line show the same figures.
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ProgressCounter, type ProgressFigures } from "../src/cli/progress.js";
import { cli } from "./helpers/cli.js";
import { describeEachDb, useFreshStore } from "./helpers/db.js";
import { fixture } from "./helpers/import.js";

const FIELDS = [
  "phase",
  "model",
  "model_rows_done",
  "model_rows_total",
  "rows_done",
  "rows_total",
  "bytes_read",
  "bytes_total",
  "elapsed_s",
  "rows_per_s",
  "bytes_per_s",
  "eta_s",
];

function progressLines(stderr: string): ProgressFigures[] {
  return stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));
}

const HAS_SCRIPT = spawnSync("script", ["--version"]).status === 0;
if (!HAS_SCRIPT && process.env.CI === "true")
  throw new Error("CI=true but util-linux `script` is not installed");

/** Runs `relo ARGS` on a pseudo-terminal (util-linux `script`); returns everything it printed. */
function cliOnTerminal(args: string[]): Promise<{ code: number; output: string }> {
  const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  const command = [process.execPath, "--import", "tsx", "src/cli/bin.ts", ...args].map(quote).join(" ");
  return new Promise((done, fail) => {
    const child = spawn("script", ["-qec", command, "/dev/null"], {
      cwd: resolve(import.meta.dirname, ".."),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (output += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (output += d));
    child.on("error", fail);
    child.on("close", (code) => done({ code: code ?? -1, output }));
  });
}

const FIXTURE = fixture("fresh-install.json");
const ENTRIES = (JSON.parse(readFileSync(FIXTURE, "utf8")) as { model: string }[]).length;

describeEachDb("import --progress json", (kind) => {
  let dbUrl: string;
  useFreshStore(kind, (_s, db) => {
    dbUrl = db.url;
  });

  it("prints JSON progress lines with every figure; the last one is the final count", async () => {
    const r = await cli(["import", "organizations", FIXTURE, "--db", dbUrl, "--progress", "json"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = progressLines(r.stderr);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(Object.keys(l)).toEqual(FIELDS);
    const last = lines[lines.length - 1];
    expect(last).toMatchObject({
      phase: "done",
      rows_done: ENTRIES,
      rows_total: null, // no pre-read without a selection
      bytes_read: statSync(FIXTURE).size,
      bytes_total: statSync(FIXTURE).size,
      eta_s: 0,
    });
    // Rows only grow, and each line names the model being imported.
    for (let i = 1; i < lines.length; i++)
      expect(lines[i].rows_done).toBeGreaterThanOrEqual(lines[i - 1].rows_done);
    expect(lines.some((l) => l.model === "sentry.user" && l.model_rows_done === 3)).toBe(true);
    expect(last.rows_per_s).toBeGreaterThan(0);
  });

  it("with a selection the pre-read counts rows, so totals are known (per model too)", async () => {
    const r = await cli([
      "import",
      "organizations",
      FIXTURE,
      "--db",
      dbUrl,
      "--filter-org-slugs",
      "testing",
      "--progress",
      "json",
      "--silent",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const lines = progressLines(r.stderr);
    // --silent keeps the human output away; the requested JSON lines remain.
    expect(r.stderr.split("\n").filter(Boolean).length).toBe(lines.length);
    const importing = lines.filter((l) => l.phase === "importing");
    expect(importing.length).toBeGreaterThan(0);
    for (const l of importing) expect(l.rows_total).toBe(ENTRIES);
    expect(importing.find((l) => l.model === "sentry.user")?.model_rows_total).toBe(3);
    const last = lines[lines.length - 1];
    expect(last).toMatchObject({ phase: "done", rows_done: ENTRIES, rows_total: ENTRIES });
    // The export is read twice: the pre-read, then the import.
    expect(last.bytes_total).toBe(2 * statSync(FIXTURE).size);
    expect(last.bytes_read).toBe(2 * statSync(FIXTURE).size);
  });

  it.skipIf(!HAS_SCRIPT)("on a terminal the bar shows the same figures", async () => {
    const r = await cliOnTerminal(["import", "organizations", FIXTURE, "--db", dbUrl]);
    expect(r.code, r.output).toBe(0);
    const size = (statSync(FIXTURE).size / 1e6).toFixed(1);
    expect(r.output).toMatch(
      new RegExp(
        `Importing \\[.*\\] 100% \\| sentry\\.\\w+ \\d+ \\| ${ENTRIES} rows \\| ${size}/${size} MB \\| \\d+ rows/s [\\d.]+ MB/s \\| ETA 0s`,
      ),
    );
  });

  it("--progress none prints no progress; an unknown mode is a usage error", async () => {
    const none = await cli(["import", "organizations", FIXTURE, "--db", dbUrl, "--progress", "none"]);
    expect(none.code, none.stderr).toBe(0);
    expect(progressLines(none.stderr)).toEqual([]);
    const bad = await cli(["import", "organizations", FIXTURE, "--db", dbUrl, "--progress", "xml"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/argument 'xml' is invalid.*auto, json, none/);
  });
});

describe("ProgressCounter", () => {
  it("derives rates and the ETA from bytes when the size is known, else from the row total", async () => {
    const c = new ProgressCounter(false);
    c.setBytesTotal(1000);
    c.bytes(250);
    c.rows("sentry.user", 10);
    await new Promise((r) => setTimeout(r, 50));
    const f = c.figures();
    expect(f).toMatchObject({ phase: "importing", model: "sentry.user", model_rows_done: 10, rows_done: 10 });
    // 250 of 1000 bytes in t seconds: 750 more take 3t.
    expect(f.eta_s).toBeCloseTo(3 * f.elapsed_s, 0);

    const rowsOnly = new ProgressCounter(true);
    rowsOnly.totals(new Map([["sentry.user", 40]]));
    rowsOnly.rows("sentry.user", 10);
    await new Promise((r) => setTimeout(r, 50));
    const g = rowsOnly.figures();
    expect(g).toMatchObject({ rows_total: 40, model_rows_total: 40, bytes_total: null });
    expect(g.eta_s).toBeCloseTo(3 * g.elapsed_s, 0);
    rowsOnly.done();
    expect(rowsOnly.figures()).toMatchObject({ phase: "done", eta_s: 0 });
  });

  it("has no ETA when neither the size nor the row count is known", () => {
    const c = new ProgressCounter(false);
    c.rows("sentry.user", 5);
    expect(c.figures().eta_s).toBeNull();
  });
});
