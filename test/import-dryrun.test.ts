/**
 * `--dry-run` (issue 7): the whole import runs and is rolled back. It reports every problem (not
 * only the first) and every collision with the action a real import would take; the database is
 * untouched, sequences included.
 */

import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { ImportingError } from "../src/backup/errors.js";
import { orgSlugFilter } from "../src/backup/filters.js";
import type { Collision } from "../src/backup/import/collisions.js";
import type { ImportReport, Problem } from "../src/backup/import/report.js";
import type { Store } from "../src/store/types.js";
import { cli, tempPath } from "./helpers/cli.js";
import { describeEachDb, useFreshStore } from "./helpers/db.js";
import { count, finding, fixture, importFile, rows, writeExport } from "./helpers/import.js";
import { addTrigger, dbState } from "./helpers/state.js";

const user = (pk: number, username: string, extra: Record<string, unknown> = {}) => ({
  model: "sentry.user",
  pk,
  fields: { password: "x", username, name: "", email: `${pk}@example.com`, ...extra },
});
const userIp = (pk: number, userPk: number, ip: string) => ({
  model: "sentry.userip",
  pk,
  fields: {
    user: userPk,
    ip_address: ip,
    first_seen: "2024-01-01T00:00:00.000Z",
    last_seen: "2024-01-01T00:00:00.000Z",
  },
});
const org = (pk: number, slug: string) => ({
  model: "sentry.organization",
  pk,
  fields: { name: slug, slug },
});
const project = (pk: number, orgPk: number, slug: string) => ({
  model: "sentry.project",
  pk,
  fields: { name: slug, slug, organization: orgPk },
});
const team = (pk: number, orgPk: number, slug: string) => ({
  model: "sentry.team",
  pk,
  fields: { organization: orgPk, slug, name: slug, status: 0 },
});
const option = (pk: number, key: string, value: string) => ({
  model: "sentry.option",
  pk,
  fields: { key, last_updated: "2023-06-22T00:00:00.000Z", last_updated_by: "unknown", value },
});

/** Three problems, each in a different model and each independent of the others. */
const THREE_PROBLEMS = [
  user(1, "ok"),
  user(2, "u".repeat(200)),
  user(3, "ok2"),
  userIp(1, 1, "999.1.1.1"),
  userIp(2, 3, "10.0.0.1"),
  org(1, "acme"),
  project(1, 7, "dangling"),
  project(2, 1, "web"),
];

async function problems(report: ImportReport): Promise<Problem[]> {
  const out: Problem[] = [];
  for await (const p of report.problems.items()) out.push(p);
  return out;
}

async function collisions(report: ImportReport): Promise<Collision[]> {
  const out: Collision[] = [];
  for await (const c of report.collisions.items()) out.push(c);
  return out;
}

describeEachDb("import --dry-run", (kind) => {
  let store: Store;
  let dbUrl: string;
  useFreshStore(kind, (s, db) => {
    store = s;
    dbUrl = db.url;
  });

  it("a dry run that finds three independent problems reports all three, and changes nothing", async () => {
    await importFile(store, fixture("fresh-install.json"), { scope: "Global" });
    const before = await dbState(store);
    const path = writeExport(THREE_PROBLEMS);
    const { report } = await importFile(store, path, { scope: "Global", dryRun: true });
    const found = await problems(report);
    expect(found.map((p) => [p.kind, p.model, p.ordinal, p.pk])).toEqual([
      ["ValidationError", "sentry.user", 2, 2],
      ["ValidationError", "sentry.userip", 1, 1],
      ["ValidationError", "sentry.project", 1, 1],
    ]);
    expect(found[0].reason).toMatch(/username.*128/);
    expect(found[1].reason).toMatch(/^Django validation error encountered/);
    expect(found[2].reason).toMatch(/sentry\.organization pk 7/);
    for (const p of found) expect(p.offset).toBeGreaterThan(0);
    expect(report.ok).toBe(false);
    expect(report.outcome).toBe("dry run");
    // The good rows were imported (and rolled back): the report counts them.
    expect(report.stats.of("sentry.user")).toMatchObject({ read: 3, inserted: 2 });
    expect(report.stats.of("sentry.user").dropped).toEqual({ ValidationError: 1 });
    expect(report.stats.of("sentry.project")).toMatchObject({ read: 2, inserted: 1 });
    expect(await dbState(store)).toBe(before);

    // The real import stops at the first of them and changes nothing either.
    const f = await finding(importFile(store, path, { scope: "Global" }));
    expect(f).toMatchObject({ kind: "ValidationError", on: { model: "sentry.user", ordinal: 2 } });
    expect(await dbState(store)).toBe(before);
  });

  it("a clean dry run reports no problem, counts what a real import would write, and changes nothing", async () => {
    const before = await dbState(store);
    const { report } = await importFile(store, fixture("fresh-install.json"), {
      scope: "Organization",
      dryRun: true,
    });
    expect(report.problems.size).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.stats.of("sentry.organization").inserted).toBe(1);
    expect(report.stats.of("sentry.user").inserted).toBe(3);
    expect(report.verification?.ok).toBe(true);
    expect(await dbState(store)).toBe(before);
    expect(await count(store, "auth_user")).toBe(0);
    // A real import afterwards gets the same figures.
    const real = await importFile(store, fixture("fresh-install.json"), { scope: "Organization" });
    expect(real.report.modelSummaries()).toEqual(report.modelSummaries());
  });

  it("reports every collision with the action a real import would take", async () => {
    await importFile(store, fixture("fresh-install.json"), { scope: "Organization" });
    const before = await dbState(store);
    const { report } = await importFile(store, fixture("fresh-install.json"), {
      scope: "Organization",
      dryRun: true,
    });
    expect(report.problems.size).toBe(0);
    const all = await collisions(report);
    const by = (model: string, field: string) => all.filter((c) => c.model === model && c.field === field);
    const renamed = by("sentry.user", "username");
    expect(renamed).toHaveLength(3);
    for (const c of renamed) {
      expect(c.action).toBe("renamed");
      expect(c.new_value).toMatch(new RegExp(`^${c.old_value}-[a-z0-79]{2}$`));
    }
    expect(by("sentry.organization", "slug")).toEqual([
      expect.objectContaining({
        action: "re-suffixed",
        old_value: "testing",
        new_value: expect.stringMatching(/^testing-/),
      }),
    ]);
    expect(by("sentry.projectkey", "public_key")).toEqual([
      expect.objectContaining({ action: "regenerated", old_value: "c1373be35a7944808c8bcfede8097df1" }),
    ]);
    expect(by("sentry.projectkey", "secret_key")).toEqual([
      expect.objectContaining({ action: "regenerated", old_value: null, new_value: null }),
    ]);
    expect(by("sentry.email", "email").map((c) => c.action)).toEqual([
      "taken over",
      "taken over",
      "taken over",
    ]);
    expect(report.collisionCounts.get("sentry.user")?.get("renamed")).toBe(3);
    expect(await dbState(store)).toBe(before);
  });

  it("reports merged users (--merge-users) and kept or overwritten configs (--overwrite-configs)", async () => {
    const path = writeExport([user(1, "alice"), option(1, "foo", '"one"'), option(2, "bar", '"two"')]);
    await importFile(store, path, { scope: "Config" });
    const before = await dbState(store);
    const second = writeExport([user(1, "alice"), option(1, "foo", '"changed"'), option(2, "new", '"x"')]);
    const kept = await importFile(store, second, {
      scope: "Config",
      flags: { mergeUsers: true },
      dryRun: true,
    });
    expect((await collisions(kept.report)).map((c) => [c.model, c.action, c.old_value])).toEqual([
      ["sentry.user", "merged", "alice"],
      ["sentry.option", "kept", "foo"],
    ]);
    const over = await importFile(store, second, {
      scope: "Config",
      flags: { overwriteConfigs: true },
      dryRun: true,
    });
    expect((await collisions(over.report)).map((c) => [c.model, c.action])).toEqual([
      ["sentry.user", "renamed"],
      ["sentry.option", "overwritten"],
    ]);
    expect(await dbState(store)).toBe(before);
  });

  it("goes on past a failing write (rows retried one by one), unknown models and malformed entries", async () => {
    const path = writeExport([
      org(1, "acme"),
      team(1, 1, "same"),
      team(2, 1, "same"),
      team(3, 1, "other"),
      { model: "sentry.nope", pk: 1, fields: {} },
      { pk: 1, fields: {} },
      project(1, 1, "web"),
    ]);
    const before = await dbState(store);
    const { report } = await importFile(store, path, { scope: "Organization", dryRun: true });
    const found = await problems(report);
    expect(found.map((p) => [p.kind, p.model, p.ordinal])).toEqual(
      expect.arrayContaining([
        ["UnknownModel", "sentry.nope", null],
        ["InputError", null, null],
        ["IntegrityError", "sentry.team", 2],
      ]),
    );
    expect(found).toHaveLength(3);
    expect(found.find((p) => p.kind === "IntegrityError")?.pk).toBe(2);
    // Teams 1 and 3 import; so does the project after the bad entries.
    expect(report.stats.of("sentry.team")).toMatchObject({ read: 3, inserted: 2 });
    expect(report.stats.of("sentry.project").inserted).toBe(1);
    expect(await dbState(store)).toBe(before);
  });

  it("reports what it read before a JSON syntax error, and the error", async () => {
    const text = JSON.stringify([user(1, "u".repeat(200)), user(2, "fine")]);
    const { report } = await importFile(store, writeExport(text.slice(0, -20)), {
      scope: "User",
      dryRun: true,
    });
    const found = await problems(report);
    expect(found.map((p) => p.kind).sort()).toEqual(["JsonSyntaxError", "ValidationError"]);
    expect(found.find((p) => p.kind === "JsonSyntaxError")?.offset).toBe(text.length - 20);
    expect(await count(store, "auth_user")).toBe(0);
  });

  it("with a selection, reports an unreadable export as its one problem", async () => {
    const { report } = await importFile(store, writeExport("[{"), {
      scope: "Organization",
      filterBy: orgSlugFilter(["acme"]),
      dryRun: true,
    });
    expect((await problems(report)).map((p) => p.kind)).toEqual(["JsonSyntaxError"]);
  });

  it("checks the foreign keys a commit would check (deleted by a trigger during the import)", async () => {
    await addTrigger(
      store,
      "sentry_project",
      "DELETE FROM sentry_organization WHERE id = NEW.organization_id",
    );
    const path = writeExport([org(1, "acme"), project(1, 1, "web")]);
    const before = await dbState(store);
    const { report } = await importFile(store, path, { scope: "Organization", dryRun: true });
    const found = await problems(report);
    expect(found.map((p) => [p.kind, p.model])).toEqual(
      expect.arrayContaining([
        ["IntegrityError", "sentry.project"],
        ["VerificationError", null],
      ]),
    );
    expect(found.find((p) => p.kind === "IntegrityError")?.reason).toMatch(
      /organization_id.*sentry\.organization.*does not exist/,
    );
    expect(await dbState(store)).toBe(before);
    // And indeed the real import fails. (On SQLite the failure happens at COMMIT, in the store.)
    const err = await importFile(store, path, { scope: "Organization" }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    if (kind === "postgres") {
      expect(err).toBeInstanceOf(ImportingError);
      expect(err.finding).toMatchObject({ kind: "IntegrityError", on: { model: "sentry.project" } });
      expect(await dbState(store)).toBe(before);
    }
  });

  it("a Global dry run clears nothing", async () => {
    await importFile(store, fixture("fresh-install.json"), { scope: "Global" });
    const before = await dbState(store);
    const { report } = await importFile(store, fixture("user-with-minimum-privileges.json"), {
      scope: "Global",
      dryRun: true,
    });
    expect(report.ok).toBe(true);
    expect(await dbState(store)).toBe(before);
    expect((await rows(store, "auth_user")).length).toBe(3);
  });

  it("a real import that fails records the problem and the rollback in its report", async () => {
    const { ImportReport } = await import("../src/backup/import/report.js");
    const report = new ImportReport();
    const err = await importFile(store, writeExport(THREE_PROBLEMS), { scope: "Global", report }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(ImportingError);
    expect(report.outcome).toBe("rolled back");
    expect(report.ok).toBe(false);
    expect((await problems(report)).map((p) => p.model)).toEqual(["sentry.user"]);
  });

  it("CLI: --dry-run exits 1 naming all three problems (stderr, findings file), and changes nothing", async () => {
    await importFile(store, fixture("fresh-install.json"), { scope: "Global" });
    const before = await dbState(store);
    const findings = tempPath("findings.json");
    const r = await cli([
      "import",
      "global",
      writeExport(THREE_PROBLEMS),
      "--db",
      dbUrl,
      "--dry-run",
      "--findings-file",
      findings,
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain("Problems (3):");
    expect(r.stderr).toMatch(/ValidationError in sentry\.user #2 \(pk 2\) at byte \d+: .*username/);
    expect(r.stderr).toMatch(/ValidationError in sentry\.userip #1 \(pk 1\) at byte \d+: Django validation/);
    expect(r.stderr).toMatch(/ValidationError in sentry\.project #1 \(pk 1\) at byte \d+: .*pk 7/);
    expect(r.stderr).toMatch(/^relo: error: dry run found 3 problems: a real import would fail/m);
    expect(r.stderr).not.toMatch(/^ {4}at /m);
    const written = JSON.parse(readFileSync(findings, "utf8"));
    expect(written.map((f: { on: { model: string } }) => f.on.model)).toEqual([
      "sentry.user",
      "sentry.userip",
      "sentry.project",
    ]);
    expect(written[0]).toMatchObject({ finding: "RpcImportError", kind: "ValidationError", left_pk: 2 });
    expect(await dbState(store)).toBe(before);
  });

  it("CLI: --dry-run of an import that would succeed exits 0, lists the collisions, and changes nothing", async () => {
    await importFile(store, fixture("fresh-install.json"), { scope: "Organization" });
    const before = await dbState(store);
    const findings = tempPath("findings.json");
    const r = await cli([
      "import",
      "organizations",
      fixture("fresh-install.json"),
      "--db",
      dbUrl,
      "--dry-run",
      "--findings-file",
      findings,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /username `admin@example\.com` exists: renamed to `admin@example\.com-[a-z0-79]{2}`/,
    );
    expect(r.stderr).toMatch(/slug `testing` exists: a random suffix was added → `testing-[a-z0-79]{2}`/);
    expect(r.stderr).toContain("DSN public key `c1373be35a7944808c8bcfede8097df1` exists: replaced by");
    expect(r.stderr).toContain("a real import would succeed. Nothing was changed");
    expect(readFileSync(findings, "utf8")).toBe("[]");
    expect(await dbState(store)).toBe(before);
  });

  it("CLI: import global --dry-run asks nothing (it deletes nothing)", async () => {
    const before = await dbState(store);
    const r = await cli(["import", "global", fixture("fresh-install.json"), "--db", dbUrl, "--dry-run"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain("irrecoverably");
    expect(await dbState(store)).toBe(before);
  });
});
