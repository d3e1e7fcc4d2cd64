/**
 * `relo export`, `relo backup compare` and `relo dev populate` as a user runs them.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterEach, beforeEach, expect, it } from "vitest";
import type { Store } from "../src/store/types.js";
import { BIN, cli, ROOT } from "./helpers/cli.js";
import { describeEachDb, freshDb, type TestDb } from "./helpers/db.js";
import { fixture, importFile } from "./helpers/import.js";

describeEachDb("relo export (CLI)", (kind) => {
  let db: TestDb;
  let store: Store;
  let dir: string;
  beforeEach(async () => {
    db = await freshDb(kind);
    store = await db.open();
    await importFile(store, fixture("fresh-install.json"), { scope: "Global" });
    dir = mkdtempSync(join(tmpdir(), "relo-cli-export-"));
  });
  afterEach(async () => {
    await store.close();
    await db.dispose();
  });

  it("stops quietly with status 141 when the reader closes the pipe early (export - | head)", async () => {
    const big = join(dir, "big.db");
    expect((await cli(["dev", "populate", "--seed", "1", "--rows", "100", "--db", big])).code).toBe(0);
    const child = spawn(process.execPath, [...BIN, "export", "global", "-", "--db", big], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    await once(child.stdout, "data");
    child.stdout.destroy();
    const [code] = await once(child, "exit");
    expect(code).toBe(141);
    expect(stderr).toBe("");
  });

  it("writes the export to a file, [] to the findings file, and a summary on stderr", async () => {
    const out = join(dir, "out.json");
    const findings = join(dir, "findings.json");
    const r = await cli(["export", "global", out, "--db", db.url, "--findings-file", findings]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/Exported 34 rows of 19 models/);
    expect(readFileSync(findings, "utf8")).toBe("[]");
    const c = await cli(["backup", "compare", fixture("fresh-install.json"), out]);
    expect(c.code).toBe(0);
    expect(c.stdout).toBe("\n\nDone, found 0 differences:\n");
  });

  it("writes to standard output with - (and only the export goes there)", async () => {
    const r = await cli(["export", "organizations", "-", "--db", db.url, "--filter-org-slugs", "testing"]);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout);
    expect(list.filter((e: { model: string }) => e.model === "sentry.organization")).toHaveLength(1);
    expect(r.stdout.endsWith("]")).toBe(true);
  });

  it("a failed export names the model, exits 1, writes the finding and leaves the old file alone", async () => {
    const out = join(dir, "out.json");
    writeFileSync(out, "previous");
    const findings = join(dir, "findings.json");
    if (kind === "sqlite") {
      await store.db.updateTable("sentry_organization").set({ date_added: "garbage" }).execute();
    } else {
      // PostgreSQL will not store a bad timestamp; make the column one the export cannot read.
      await sql`ALTER TABLE sentry_organization ALTER COLUMN date_added TYPE text USING 'garbage'`.execute(
        store.db,
      );
    }
    const r = await cli(["export", "global", out, "--db", db.url, "--findings-file", findings]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /RpcExportError\(\n {4}kind: Unknown,\n {4}on: InstanceID\(model: 'sentry.organization'\)/,
    );
    expect(r.stderr).not.toMatch(/ {4}at /);
    expect(readFileSync(out, "utf8")).toBe("previous");
    const written = JSON.parse(readFileSync(findings, "utf8"));
    expect(written[0]).toMatchObject({
      finding: "RpcExportError",
      kind: "Unknown",
      on: { model: "sentry.organization" },
    });
    expect(existsSync(join(dir, `.out.json.relo-${r.code}.tmp`))).toBe(false);
  });

  it("refuses both --filter-usernames and --filter-usernames-file", async () => {
    const names = join(dir, "names.txt");
    writeFileSync(names, "admin@example.com");
    const r = await cli([
      "export",
      "users",
      "-",
      "--db",
      db.url,
      "--filter-usernames",
      "a",
      "--filter-usernames-file",
      names,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("mutually exclusive");
    expect(r.stdout).toBe("");
  });
});

it("relo backup compare: exit 1 with findings, and a clear error for bad JSON", async () => {
  const dir = mkdtempSync(join(tmpdir(), "relo-cli-compare-"));
  const left = join(dir, "left.json");
  const right = join(dir, "right.json");
  const bad = join(dir, "bad.json");
  const findings = join(dir, "findings.json");
  writeFileSync(left, '[{"model": "sentry.organization", "pk": 1, "fields": {"slug": "a", "name": "A"}}]');
  writeFileSync(right, '[{"model": "sentry.organization", "pk": 1, "fields": {"slug": "b", "name": "A"}}]');
  writeFileSync(bad, '[{"model": "sentry.organization",, }]');
  const r = await cli(["backup", "compare", left, right, "--findings-file", findings]);
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("\n\nDone, found 1 differences:\n");
  expect(r.stderr).toContain("kind: AutoSuffixComparator");
  expect(JSON.parse(readFileSync(findings, "utf8"))[0].kind).toBe("AutoSuffixComparator");
  const b = await cli(["backup", "compare", bad, right]);
  expect(b.code).toBe(1);
  expect(b.stderr).toMatch(/Invalid left JSON: invalid JSON at byte 33/);
  expect(b.stderr).not.toMatch(/ {4}at /);
});

it("relo dev populate fills a database that exports and compares cleanly", async () => {
  const dir = mkdtempSync(join(tmpdir(), "relo-cli-populate-"));
  const dbPath = join(dir, "p.db");
  const r = await cli(["dev", "populate", "--seed", "5", "--rows", "2", "--db", dbPath]);
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/Populated \d+ rows of \d+ models/);
  const out = join(dir, "p.json");
  const again = join(dir, "again.json");
  const second = join(dir, "second.db");
  expect((await cli(["export", "global", out, "--db", dbPath])).code).toBe(0);
  expect((await cli(["import", "global", out, "--db", second, "--no-prompt"])).code).toBe(0);
  expect((await cli(["export", "global", again, "--db", second])).code).toBe(0);
  // New GUIDs after the import are expected; against itself, UUID4 fields count as unchanged.
  expect((await cli(["backup", "compare", out, again])).code).toBe(0);
  expect((await cli(["backup", "compare", out, out])).code).toBe(1);
});

it("relo export --encrypt-with writes Sentry's tarball of compact, raw UTF-8 JSON", async () => {
  const dir = mkdtempSync(join(tmpdir(), "relo-cli-encrypt-"));
  const dbPath = join(dir, "e.db");
  const source = join(dir, "source.json");
  writeFileSync(
    source,
    '[{"model": "sentry.option", "pk": 1, "fields": {"key": "caf\\u00e9", "last_updated": "2023-01-01T00:00:00.000Z", "last_updated_by": "unknown", "value": {"a": 100.0}}}]',
  );
  expect((await cli(["import", "global", source, "--db", dbPath, "--no-prompt"])).code).toBe(0);
  const [priv, pub] = [join(dir, "k.pem"), join(dir, "k.pub")];
  expect((await cli(["backup", "keygen", "--bits", "2048", priv, pub])).code).toBe(0);
  const tar = join(dir, "out.tar");
  const r = await cli(["export", "global", tar, "--db", dbPath, "--encrypt-with", pub]);
  expect(r.code).toBe(0);
  const plain = join(dir, "plain.json");
  expect((await cli(["backup", "decrypt", plain, "--src", tar, "--decrypt-with", priv])).code).toBe(0);
  expect(readFileSync(plain, "utf8")).toBe(
    '[{"model":"sentry.option","pk":1,"fields":{"key":"café","last_updated":"2023-01-01T00:00:00.000Z","last_updated_by":"unknown","value":{"a":100.0}}}]',
  );
  const both = await cli([
    "export",
    "global",
    "-",
    "--db",
    dbPath,
    "--encrypt-with",
    pub,
    "--encrypt-with-gcp-kms",
    pub,
  ]);
  expect(both.code).toBe(1);
  expect(both.stderr).toContain("mutually exclusive");
});
