/**
 * The report after every import and dry run (issue 7): per model, rows read, inserted, existing,
 * overwritten and dropped, each drop with its reason (filtered, FK to a row not imported, out of
 * scope); a table on stderr and, with --report-file, JSON.
 */
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { orgSlugFilter } from "../src/backup/filters.js";
import { Spool } from "../src/backup/import/spool.js";
import type { Store } from "../src/store/types.js";
import { cli, tempPath } from "./helpers/cli.js";
import { describeEachDb, useFreshStore } from "./helpers/db.js";
import { fixture, importFile, writeExport } from "./helpers/import.js";

const org = (pk: number, slug: string) => ({
  model: "sentry.organization",
  pk,
  fields: { name: slug, slug },
});
const user = (pk: number, username: string) => ({
  model: "sentry.user",
  pk,
  fields: { password: "x", username, name: "", email: `${username}@example.com` },
});
const member = (pk: number, orgPk: number, userPk: number) => ({
  model: "sentry.organizationmember",
  pk,
  fields: { organization: orgPk, user_id: userPk, role: "member", email: null },
});
const project = (pk: number, orgPk: number, slug: string) => ({
  model: "sentry.project",
  pk,
  fields: { name: slug, slug, organization: orgPk },
});
const option = (pk: number, key: string) => ({
  model: "sentry.option",
  pk,
  fields: { key, last_updated: "2023-06-22T00:00:00.000Z", last_updated_by: "unknown", value: '"v"' },
});

/** One export with a drop of each kind when imported as `organizations --filter-org-slugs acme`. */
const MIXED = [
  option(1, "system.admin-email"),
  org(1, "acme"),
  org(2, "other"),
  user(1, "alice"),
  user(2, "bob"),
  member(1, 1, 1),
  member(2, 2, 2),
  project(1, 1, "web"),
  project(2, 2, "api"),
];

describeEachDb("import report", (kind) => {
  let store: Store;
  let dbUrl: string;
  useFreshStore(kind, (s, db) => {
    store = s;
    dbUrl = db.url;
  });

  it("counts every row read per model and each drop under its reason", async () => {
    const { report } = await importFile(store, writeExport(MIXED), {
      scope: "Organization",
      filterBy: orgSlugFilter(["acme"]),
    });
    const by = new Map(report.modelSummaries().map((m) => [m.model, m]));
    expect(by.get("sentry.option")).toMatchObject({
      read: 1,
      inserted: 0,
      dropped: 1,
      dropped_by_reason: { out_of_scope: 1 },
    });
    expect(by.get("sentry.organization")).toMatchObject({
      read: 2,
      inserted: 1,
      dropped: 1,
      dropped_by_reason: { filtered: 1 },
    });
    expect(by.get("sentry.user")).toMatchObject({ read: 2, inserted: 1, dropped_by_reason: { filtered: 1 } });
    expect(by.get("sentry.organizationmember")).toMatchObject({
      read: 2,
      inserted: 1,
      dropped_by_reason: { fk_not_imported: 1 },
    });
    expect(by.get("sentry.project")).toMatchObject({
      read: 2,
      inserted: 1,
      dropped: 1,
      drop_reasons: [
        {
          category: "fk_not_imported",
          reason: "references a sentry.organization that was not imported",
          count: 1,
        },
      ],
    });
    // Every row read is accounted for.
    for (const m of by.values()) expect(m.inserted + m.existing + m.overwritten + m.dropped).toBe(m.read);
    expect(report.outcome).toBe("committed");
    expect(report.ok).toBe(true);
  });

  it("counts existing and overwritten rows (Config scope, --overwrite-configs)", async () => {
    await importFile(store, writeExport([option(1, "a"), option(2, "b")]), { scope: "Config" });
    const kept = await importFile(store, writeExport([option(1, "a"), option(2, "c")]), { scope: "Config" });
    expect(kept.report.modelSummaries()).toEqual([
      expect.objectContaining({ model: "sentry.option", read: 2, inserted: 1, existing: 1, overwritten: 0 }),
    ]);
    const over = await importFile(store, writeExport([option(1, "a")]), {
      scope: "Config",
      flags: { overwriteConfigs: true },
    });
    expect(over.report.modelSummaries()[0]).toMatchObject({
      read: 1,
      overwritten: 1,
      collisions: { overwritten: 1 },
    });
  });

  it("CLI: prints the table on stderr and writes the JSON report with --report-file", async () => {
    const reportFile = tempPath("report.json");
    const r = await cli([
      "import",
      "organizations",
      writeExport(MIXED),
      "--db",
      dbUrl,
      "--filter-org-slugs",
      "acme",
      "--report-file",
      reportFile,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^model\s+read\s+inserted\s+existing\s+overwritten\s+dropped\s+collisions$/m);
    expect(r.stderr).toMatch(/^sentry\.project\s+2\s+1\s+0\s+0\s+1\s+0$/m);
    expect(r.stderr).toMatch(/^total\s+9\s+4\s+0\s+0\s+5\s+0$/m);
    expect(r.stderr).toContain(
      "sentry.project: 1 FK to a row not imported (references a sentry.organization that was not imported)",
    );
    expect(r.stderr).toContain("sentry.organization: 1 filtered");
    expect(r.stderr).toContain("sentry.option: 1 out of scope");
    expect(r.stderr).toMatch(/Verified: every row written is in the database/);
    const json = JSON.parse(readFileSync(reportFile, "utf8"));
    expect(json).toMatchObject({
      scope: "Organization",
      dry_run: false,
      outcome: "committed",
      ok: true,
      totals: { read: 9, inserted: 4, existing: 0, overwritten: 0, dropped: 5 },
      verification: { ok: true },
      problems: [],
      collisions: [],
    });
    expect(json.import_uuid).toMatch(/^[0-9a-f]{32}$/);
    expect(json.models.find((m: { model: string }) => m.model === "sentry.project")).toEqual({
      model: "sentry.project",
      read: 2,
      inserted: 1,
      existing: 0,
      overwritten: 0,
      dropped: 1,
      dropped_by_reason: { fk_not_imported: 1 },
      drop_reasons: [
        {
          category: "fk_not_imported",
          reason: "references a sentry.organization that was not imported",
          count: 1,
        },
      ],
      collisions: {},
    });
  });

  it("CLI: a failed import's report says it was rolled back, with the problem", async () => {
    const reportFile = tempPath("report.json");
    const r = await cli([
      "import",
      "users",
      writeExport([user(1, "ok"), user(2, "u".repeat(200))]),
      "--db",
      dbUrl,
      "--report-file",
      reportFile,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^sentry\.user\s+2\s+0\s/m);
    const json = JSON.parse(readFileSync(reportFile, "utf8"));
    expect(json).toMatchObject({ outcome: "rolled back", ok: false, problem_count: 1 });
    expect(json.problems[0]).toMatchObject({
      kind: "ValidationError",
      model: "sentry.user",
      ordinal: 2,
      pk: 2,
    });
  });

  it("CLI: a dry run's report lists its collisions with their actions", async () => {
    await importFile(store, fixture("fresh-install.json"), { scope: "Organization" });
    const reportFile = tempPath("report.json");
    const r = await cli([
      "import",
      "organizations",
      fixture("fresh-install.json"),
      "--db",
      dbUrl,
      "--dry-run",
      "--report-file",
      reportFile,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(readFileSync(reportFile, "utf8"));
    expect(json).toMatchObject({ dry_run: true, outcome: "dry run", ok: true });
    expect(json.collision_count).toBe(json.collisions.length);
    expect(json.collisions).toContainEqual(
      expect.objectContaining({ model: "sentry.user", field: "username", action: "renamed", old_pk: 1 }),
    );
    expect(json.models.find((m: { model: string }) => m.model === "sentry.user").collisions).toEqual({
      renamed: 3,
    });
  });

  it("CLI: --silent prints no table but still writes the report file", async () => {
    const reportFile = tempPath("report.json");
    const r = await cli([
      "import",
      "organizations",
      fixture("fresh-install.json"),
      "--db",
      dbUrl,
      "--silent",
      "--report-file",
      reportFile,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(existsSync(reportFile)).toBe(true);
    expect(JSON.parse(readFileSync(reportFile, "utf8")).totals.inserted).toBeGreaterThan(0);
  });
});

describe("Spool", () => {
  it("keeps records past 1 MB in a temporary file and reads them all back in order", async () => {
    const spool = new Spool<{ i: number; pad: string }>(3);
    const n = 20_000;
    for (let i = 0; i < n; i++) spool.push({ i, pad: "x".repeat(100) });
    expect(spool.size).toBe(n);
    expect(spool.first.map((r) => r.i)).toEqual([0, 1, 2]);
    let expected = 0;
    for await (const r of spool.items()) expect(r.i).toBe(expected++);
    expect(expected).toBe(n);
    spool.dispose();
  });
});
