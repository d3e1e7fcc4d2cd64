/**
 * Round trips: what relo imports, it exports again so that `backup compare` finds nothing, and a
 * populated database survives export → import → export byte for byte (apart from the values an
 * import regenerates by design), on both databases and across them.
 */
import { readdirSync, readFileSync } from "node:fs";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { ImportingError } from "../src/backup/errors.js";
import { populate } from "../src/dev/populate.js";
import { registry } from "../src/models/registry.js";
import type { Store } from "../src/store/types.js";
import { DB_KINDS, type DbKind, describeEachDb, freshDb, useFreshStore } from "./helpers/db.js";
import { compareTexts, entries, exportText } from "./helpers/export.js";
import { FIXTURES, fixture, importFile, writeExport } from "./helpers/import.js";

/** Fields an import sets anew on purpose (new GUIDs, a subscription to be re-registered). */
const REGENERATED: Record<string, string[]> = {
  "sentry.monitor": ["guid"],
  "sentry.incident": ["detection_uuid"],
  "sentry.incidentactivity": ["notification_uuid"],
  "sentry.querysubscription": ["date_updated"],
};

/** The export text with regenerated values blanked out; everything else byte for byte. */
function masked(text: string): string {
  const out: string[] = [];
  let model = "";
  for (const line of text.split("\n")) {
    const m = /^ {4}"model": "(.*)",$/.exec(line);
    if (m) model = m[1];
    const field = /^ {6}"([a-z_]+)": /.exec(line)?.[1];
    out.push(field && REGENERATED[model]?.includes(field) ? `      "${field}": <regenerated>` : line);
  }
  return out.join("\n");
}

async function withStore<T>(kind: DbKind, fn: (store: Store) => Promise<T>): Promise<T> {
  const db = await freshDb(kind);
  const store = await db.open();
  try {
    return await fn(store);
  } finally {
    await store.close();
    await db.dispose();
  }
}

const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith(".json"));

/** Fixtures that cannot be imported in Global scope (see import-fixtures.test.ts for why). */
const FAIL_IN_GLOBAL = new Set(["invalid-user.json", "user-with-roles-no-superadmin.json"]);

describeEachDb("fixtures: import global, export global, compare", (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => {
    store = s;
  });

  for (const name of fixtures) {
    it(name, async () => {
      if (FAIL_IN_GLOBAL.has(name)) {
        await expect(importFile(store, fixture(name), { scope: "Global" })).rejects.toBeInstanceOf(
          ImportingError,
        );
        return;
      }
      await importFile(store, fixture(name), { scope: "Global" });
      const original = readFileSync(fixture(name), "utf8");
      const exported = await exportText(store, { scope: "Global" });
      expect(await compareTexts(original, exported)).toEqual([]);
    });
  }
});

describe("populate → export → import → export", () => {
  for (const from of DB_KINDS) {
    for (const to of DB_KINDS) {
      it(`${from} → ${to}: 0 findings, byte-identical apart from regenerated values`, async () => {
        const first = await withStore(from, async (store) => {
          const result = await populate(store, { seed: 7, rows: 4 });
          expect(result.rows).toBeGreaterThan(300);
          return exportText(store, { scope: "Global" });
        });
        const second = await withStore(to, async (store) => {
          await importFile(store, writeExport(first), { scope: "Global" });
          return exportText(store, { scope: "Global" });
        });
        expect(await compareTexts(first, second)).toEqual([]);
        expect(masked(second)).toEqual(masked(first));
        expect(second).not.toEqual(first); // the regenerated values did change
      });
    }
  }

  it("fills every exportable model that has rows to point at", async () => {
    await withStore("sqlite", async (store) => {
      const result = await populate(store, { seed: 1, rows: 3 });
      const filled = new Set(result.models.filter((m) => m.rows > 0).map((m) => m.model));
      const empty = registry.relocatable().filter((m) => !filled.has(m.name));
      // Only models whose required target is not exportable (e.g. sentry.group) stay empty.
      for (const m of empty) expect(result.skipped.map((s) => s.model)).toContain(m.name);
      expect(filled.size).toBeGreaterThanOrEqual(registry.relocatable().length - result.skipped.length);
    });
  });

  it("is deterministic: the same seed gives the same export", async () => {
    const a = await withStore("sqlite", async (s) => {
      await populate(s, { seed: 3 });
      return exportText(s, { scope: "Global" });
    });
    const b = await withStore("sqlite", async (s) => {
      await populate(s, { seed: 3 });
      return exportText(s, { scope: "Global" });
    });
    const c = await withStore("sqlite", async (s) => {
      await populate(s, { seed: 4 });
      return exportText(s, { scope: "Global" });
    });
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
  });

  it("sets every field of the cohort's rows (no nulls where a value is allowed)", async () => {
    const text = await withStore("sqlite", async (s) => {
      await populate(s, { seed: 2 });
      return exportText(s, { scope: "Global" });
    });
    const byModel = new Map<string, Record<string, unknown>[]>();
    for (const e of entries(text)) byModel.set(e.model, [...(byModel.get(e.model) ?? []), e.fields]);
    for (const name of [
      "sentry.user",
      "sentry.organization",
      "sentry.project",
      "sentry.team",
      "sentry.option",
    ]) {
      const rows = byModel.get(name)!;
      for (const field of registry.get(name)!.fields) {
        if (field.fk?.model === name) continue; // a self-reference is null on the first row
        expect(
          rows.some((r) => r[field.name] !== null),
          `${name}.${field.name}`,
        ).toBe(true);
      }
    }
  });
});

describeEachDb("scoped round trips", (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => {
    store = s;
  });

  /**
   * An import in a narrower scope changes some rows on purpose (tested in import-*.test.ts): users
   * lose instance privileges outside Config and Global scope, and global saved searches stay out of
   * Organization scope. Rows that would change are made neutral first, so the rest must match.
   */
  async function neutralize(scope: "User" | "Organization" | "Config"): Promise<void> {
    if (scope === "Config") return;
    const no = store.dialect === "sqlite" ? sql`0` : sql`false`;
    await sql`UPDATE auth_user SET is_staff = ${no}, is_superuser = ${no}, is_managed = ${no}`.execute(
      store.db,
    );
    await sql`DELETE FROM sentry_savedsearch WHERE is_global = ${store.dialect === "sqlite" ? sql`1` : sql`true`}`.execute(
      store.db,
    );
  }

  for (const scope of ["User", "Organization", "Config"] as const) {
    it(`${scope} scope: export, import into an empty database, export again, compare`, async () => {
      await populate(store, { seed: 11 });
      await neutralize(scope);
      const first = await exportText(store, { scope });
      expect(entries(first).length).toBeGreaterThan(0);
      const second = await withStore(kind, async (other) => {
        await importFile(other, writeExport(first), { scope });
        return exportText(other, { scope });
      });
      expect(await compareTexts(first, second)).toEqual([]);
    });
  }
});
