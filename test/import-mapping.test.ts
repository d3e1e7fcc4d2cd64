/**
 * `--mapping-file` (issue 7): a JSON line per imported row, {model, old_pk, new_pk, kind}, plus
 * the old and new username, organization slug and DSN public key, so operators can rewrite
 * references and SDK configurations after a move.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { expect, it } from "vitest";
import { MappingFile, type MappingLine } from "../src/backup/import/mapping.js";
import { ImportReport } from "../src/backup/import/report.js";
import { registry } from "../src/models/registry.js";
import type { Store } from "../src/store/types.js";
import { cli, tempPath } from "./helpers/cli.js";
import { describeEachDb, useFreshStore } from "./helpers/db.js";
import { fixture, importFile, rows, writeExport } from "./helpers/import.js";
import { dbState } from "./helpers/state.js";

function readMapping(path: string): MappingLine[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

describeEachDb("import --mapping-file", (kind) => {
  let store: Store;
  let dbUrl: string;
  useFreshStore(kind, (s, db) => {
    store = s;
    dbUrl = db.url;
  });

  it("fresh-install.json imported twice: the second mapping shows the renamed users, the new slug and DSN key", async () => {
    const first = tempPath("first.jsonl");
    const second = tempPath("second.jsonl");
    for (const path of [first, second]) {
      const r = await cli([
        "import",
        "organizations",
        fixture("fresh-install.json"),
        "--db",
        dbUrl,
        "--mapping-file",
        path,
      ]);
      expect(r.code, r.stderr).toBe(0);
    }
    const one = readMapping(first);
    const two = readMapping(second);

    // First import: nothing collided, identifiers are unchanged.
    for (const l of one.filter((l) => l.model === "sentry.user")) expect(l.new_username).toBe(l.old_username);

    const users = two.filter((l) => l.model === "sentry.user");
    expect(users.map((u) => u.old_username).sort()).toEqual([
      "admin@example.com",
      "member@example.com",
      "superadmin@example.com",
    ]);
    const byId = new Map((await rows(store, "auth_user")).map((u) => [Number(u.id), u]));
    for (const u of users) {
      expect(u.kind).toBe("Inserted");
      expect(u.new_username).toMatch(new RegExp(`^${u.old_username}-[a-z0-79]{2}$`));
      expect(byId.get(u.new_pk)?.username).toBe(u.new_username);
      expect(one.find((l) => l.model === "sentry.user" && l.old_pk === u.old_pk)?.new_pk).not.toBe(u.new_pk);
    }

    const orgs = two.filter((l) => l.model === "sentry.organization");
    expect(orgs).toHaveLength(1);
    expect(orgs[0]).toMatchObject({ old_pk: 1, kind: "Inserted", old_slug: "testing" });
    expect(orgs[0].new_slug).toMatch(/^testing-[a-z0-79]{2}$/);
    const org = (await rows(store, "sentry_organization")).find((o) => Number(o.id) === orgs[0].new_pk);
    expect(org?.slug).toBe(orgs[0].new_slug);

    const keys = two.filter((l) => l.model === "sentry.projectkey");
    expect(keys).toHaveLength(1);
    expect(keys[0].old_public_key).toBe("c1373be35a7944808c8bcfede8097df1");
    expect(keys[0].new_public_key).toMatch(/^[0-9a-f]{32}$/);
    expect(keys[0].new_public_key).not.toBe(keys[0].old_public_key);
    const key = (await rows(store, "sentry_projectkey")).find((k) => Number(k.id) === keys[0].new_pk);
    expect(key?.public_key).toBe(keys[0].new_public_key);

    // Every line names a row that exists, and models without identifiers carry the four keys only.
    for (const l of two) {
      const model = registry.get(l.model);
      const found = (await rows(store, model!.table)).some((r) => Number(r.id) === l.new_pk);
      expect(found, `${l.model} ${l.new_pk}`).toBe(true);
    }
    expect(Object.keys(two.find((l) => l.model === "sentry.team")!)).toEqual([
      "model",
      "old_pk",
      "new_pk",
      "kind",
    ]);
    // Emails collide with the first import's rows: the existing rows are reused.
    expect(two.filter((l) => l.model === "sentry.email").map((l) => l.kind)).toEqual([
      "Existing",
      "Existing",
      "Existing",
    ]);
  });

  it("one line per row written: the report's inserted, existing and overwritten counts add up", async () => {
    const path = tempPath("map.jsonl");
    const mapping = new MappingFile(path);
    const report = new ImportReport({ mapping });
    await importFile(store, fixture("fresh-install.json"), { scope: "Global", report });
    report.dispose();
    const lines = readMapping(path);
    for (const m of report.modelSummaries()) {
      const n = lines.filter((l) => l.model === m.model).length;
      expect(n, m.model).toBe(m.inserted + m.existing + m.overwritten);
    }
    expect(lines.length).toBeGreaterThan(20);
  });

  it("a resumed import (same import id) maps the rows an earlier run wrote, with their current identifiers", async () => {
    const importUuid = "0123456789abcdef0123456789abcdef";
    const first = await importFile(store, fixture("fresh-install.json"), {
      scope: "Organization",
      flags: { importUuid },
    });
    const path = tempPath("map.jsonl");
    const report = new ImportReport({ mapping: new MappingFile(path) });
    await importFile(store, fixture("fresh-install.json"), {
      scope: "Organization",
      flags: { importUuid },
      report,
    });
    report.dispose();
    const lines = readMapping(path);
    for (const [oldPk, e] of first.pkMap.entries("sentry.user")) {
      const line = lines.find((l) => l.model === "sentry.user" && l.old_pk === oldPk);
      expect(line).toMatchObject({ new_pk: e.pk, kind: "Inserted" });
      expect(line?.new_username).toBe(line?.old_username);
    }
    expect(lines.find((l) => l.model === "sentry.organization")).toMatchObject({
      old_slug: "testing",
      new_slug: "testing",
    });
  });

  it("a failed import leaves no mapping file behind", async () => {
    const path = tempPath("map.jsonl");
    const before = await dbState(store);
    const r = await cli([
      "import",
      "users",
      writeExport([
        { model: "sentry.user", pk: 1, fields: { password: "x", username: "ok", name: "", email: "a@b.c" } },
        {
          model: "sentry.user",
          pk: 2,
          fields: { password: "x", username: "u".repeat(200), name: "", email: "" },
        },
      ]),
      "--db",
      dbUrl,
      "--mapping-file",
      path,
    ]);
    expect(r.code).toBe(1);
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dirname(path))).toEqual([]);
    expect(await dbState(store)).toBe(before);
  });

  it("a dry run writes the mapping it would produce", async () => {
    const path = tempPath("map.jsonl");
    const before = await dbState(store);
    const r = await cli([
      "import",
      "organizations",
      fixture("fresh-install.json"),
      "--db",
      dbUrl,
      "--dry-run",
      "--mapping-file",
      path,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(readMapping(path).filter((l) => l.model === "sentry.user")).toHaveLength(3);
    expect(await dbState(store)).toBe(before);
  });

  it("an unwritable --mapping-file fails before importing anything", async () => {
    const before = await dbState(store);
    const r = await cli([
      "import",
      "organizations",
      fixture("fresh-install.json"),
      "--db",
      dbUrl,
      "--mapping-file",
      "/nonexistent-dir/map.jsonl",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/relo: error: cannot write --mapping-file \/nonexistent-dir\/map\.jsonl/);
    expect(await dbState(store)).toBe(before);
  });
});
