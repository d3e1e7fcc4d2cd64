/**
 * Verification after commit (issue 7): every row the report says was written is counted again; a
 * mismatch fails the command loudly (exit 2) and names the model that disagrees.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ImportReport } from "../src/backup/import/report.js";
import { VerificationError, WrittenPks } from "../src/backup/import/verify.js";
import type { Store } from "../src/store/types.js";
import { cli, tempPath } from "./helpers/cli.js";
import { describeEachDb, useFreshStore } from "./helpers/db.js";
import { count, fixture, importFile, writeExport } from "./helpers/import.js";
import { addTrigger } from "./helpers/state.js";

const org = { model: "sentry.organization", pk: 1, fields: { name: "Acme", slug: "acme" } };
const project = { model: "sentry.project", pk: 1, fields: { name: "Web", slug: "web", organization: 1 } };
/** `n` project options; 150 of them take PostgreSQL's COPY path, which must fire triggers too. */
const options = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    model: "sentry.projectoption",
    pk: i + 1,
    fields: { project: 1, key: `key.${i}`, value: '"v"' },
  }));

describeEachDb("import verification", (kind) => {
  let store: Store;
  let dbUrl: string;
  useFreshStore(kind, (s, db) => {
    store = s;
    dbUrl = db.url;
  });

  it("recounts every model written after commit and finds them all", async () => {
    const { report } = await importFile(store, fixture("fresh-install.json"), { scope: "Global" });
    const v = report.verification!;
    expect(v.ok).toBe(true);
    const byModel = new Map(v.models.map((m) => [m.model, m]));
    expect(byModel.get("sentry.user")).toEqual({ model: "sentry.user", claimed: 3, found: 3 });
    for (const m of v.models) expect(m.found).toBe(m.claimed);
    expect(v.models.length).toBeGreaterThan(10);
  });

  for (const n of [3, 150]) {
    it(`a trigger deleting ${n} rows during the import is caught: VerificationError naming the model`, async () => {
      await addTrigger(store, "sentry_projectoptions", "DELETE FROM sentry_projectoptions WHERE id = NEW.id");
      const report = new ImportReport();
      const err = await importFile(store, writeExport([org, project, ...options(n)]), {
        scope: "Organization",
        report,
      }).catch((e) => e);
      expect(err).toBeInstanceOf(VerificationError);
      expect(err.message).toBe(
        `sentry.projectoption: the import wrote ${n} rows but the database holds 0 of them (the import was committed)`,
      );
      expect(report.outcome).toBe("committed");
      expect(report.verification?.ok).toBe(false);
      expect(report.verification?.models.find((m) => m.model === "sentry.projectoption")).toEqual({
        model: "sentry.projectoption",
        claimed: n,
        found: 0,
      });
      // Only that model disagrees; the rest was committed.
      for (const m of report.verification!.models)
        if (m.model !== "sentry.projectoption") expect(m.found).toBe(m.claimed);
      expect(await count(store, "sentry_project")).toBe(1);
    });
  }

  it("a trigger deleting some of the rows: the count says how many are missing", async () => {
    await addTrigger(store, "sentry_projectoptions", "DELETE FROM sentry_projectoptions WHERE key = 'key.1'");
    const err = await importFile(store, writeExport([org, project, ...options(4)]), {
      scope: "Organization",
    }).catch((e) => e);
    expect(err).toBeInstanceOf(VerificationError);
    expect(err.message).toMatch(
      /^sentry\.projectoption: the import wrote 4 rows but the database holds 3 of them/,
    );
  });

  it("CLI: a mismatch exits 2, says which model disagrees, and the report file records it", async () => {
    await addTrigger(store, "sentry_projectoptions", "DELETE FROM sentry_projectoptions WHERE id = NEW.id");
    const reportFile = tempPath("report.json");
    const r = await cli([
      "import",
      "organizations",
      writeExport([org, project, ...options(2)]),
      "--db",
      dbUrl,
      "--report-file",
      reportFile,
    ]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      /^relo: error: verification failed: sentry\.projectoption: the import wrote 2 rows but the database holds 0 of them \(the import was committed\)$/m,
    );
    expect(r.stderr).toContain("Verification FAILED: sentry.projectoption holds 0 of 2 rows written.");
    expect(r.stderr).not.toContain("internal error");
    expect(r.stderr).not.toMatch(/^ {4}at /m);
    const json = JSON.parse(readFileSync(reportFile, "utf8"));
    expect(json.ok).toBe(false);
    expect(json.outcome).toBe("committed");
    expect(json.verification.models).toContainEqual({ model: "sentry.projectoption", claimed: 2, found: 0 });
  });

  it("CLI: a dry run reports the mismatch as a problem (exit 1) and changes nothing", async () => {
    await addTrigger(store, "sentry_projectoptions", "DELETE FROM sentry_projectoptions WHERE id = NEW.id");
    const r = await cli([
      "import",
      "organizations",
      writeExport([org, project, ...options(2)]),
      "--db",
      dbUrl,
      "--dry-run",
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /VerificationError: sentry\.projectoption: the import wrote 2 rows but the database holds 0/,
    );
    expect(await count(store, "sentry_project")).toBe(0);
  });
});

describe("WrittenPks", () => {
  it("counts distinct pks in ascending runs and out of order", () => {
    const w = new WrittenPks("t");
    for (const pk of [1, 2, 3, 7, 8, 2, 5, 5, 100, 4, 6, 9]) w.add(pk);
    expect(w.size).toBe(10);
    const all = [...w.ranges()].flatMap(([lo, hi]) => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i));
    expect(all.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 100]);
  });

  it("keeps a million ascending pks as one run", () => {
    const w = new WrittenPks("t");
    for (let pk = 1; pk <= 1_000_000; pk++) w.add(pk);
    expect([...w.ranges()]).toEqual([[1, 1_000_000]]);
    expect(w.size).toBe(1_000_000);
  });
});
