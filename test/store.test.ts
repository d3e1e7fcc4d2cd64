/**
 * The store's transaction edges: a COMMIT that fails on a deferred foreign key, and a rolled-back
 * global clear, leave the database and the store as they were.
 */
import { sql } from "kysely";
import { expect, it } from "vitest";
import { registry } from "../src/models/registry.js";
import { toDb } from "../src/store/codec.js";
import type { Store } from "../src/store/types.js";
import { describeEachDb, useFreshStore } from "./helpers/db.js";
import { count, fixture, importFile } from "./helpers/import.js";

const team = registry.get("sentry.team")!.table;

/** Inserts one row of `model` with pk 1: `values` by field name, defaults or a value of the type. */
async function insert(store: Store, model: string, values: Record<string, unknown>): Promise<void> {
  const def = registry.get(model)!;
  const dummy: Record<string, unknown> = { int: 0, bigint: 0, float: 0, bool: false, json: {}, bitfield: 0 };
  const row = def.fields.map((f) => {
    const v = f.name in values ? values[f.name] : typeof f.default === "function" ? f.default() : f.default;
    return toDb(
      f,
      v !== undefined
        ? v
        : f.nullable
          ? null
          : f.type === "datetime"
            ? "2023-01-01T00:00:00.000Z"
            : (dummy[f.type] ?? "x"),
      store.dialect,
    );
  });
  await store.insertRows(def.table, ["id", ...def.fields.map((f) => f.column)], [[1, ...row]]);
}
const org = registry.get("sentry.organization")!.table;

describeEachDb("store transactions", (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => {
    store = s;
  });

  it("a COMMIT failing on a deferred foreign key rolls back, and the store stays usable", async () => {
    const orphan = store.transaction(async () => {
      await insert(store, "sentry.team", { organization: 999 });
    });
    await expect(orphan).rejects.toThrow(/foreign key/i);
    expect(await count(store, team)).toBe(0);
    await store.transaction(async () => {
      await insert(store, "sentry.organization", {});
    });
    expect(await count(store, org)).toBe(1);
  });

  it("a rolled-back global clear restores rows and id sequences", async () => {
    await importFile(store, fixture("fresh-install.json"), { scope: "Global" });
    const before = await count(store, org);
    await expect(
      store.transaction(async () => {
        await store.truncate(registry.ordered.map((m) => m.table).reverse());
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    expect(await count(store, org)).toBe(before);
    if (store.dialect === "postgres") {
      const seq = await sql<{ s: string }>`SELECT pg_get_serial_sequence(${`"${org}"`}, 'id') AS s`.execute(
        store.db,
      );
      const r = await sql<{ last: string }>`SELECT last_value AS last FROM ${sql.raw(seq.rows[0].s)}`.execute(
        store.db,
      );
      expect(Number(r.rows[0].last)).toBeGreaterThanOrEqual(before);
    }
  });

  it("a bulk insert (COPY on PostgreSQL) that the database rejects midway rolls back, and the store stays usable", async () => {
    const def = registry.get("sentry.email")!;
    const rows = (n: number, bad: number) =>
      Array.from({ length: n }, (_, i) => [
        i + 1,
        i === bad ? null : `user${i}@example.com`,
        "2023-01-01T00:00:00.000Z",
      ]);
    const columns = ["id", ...def.fields.map((f) => f.column)];
    // Large enough to be sent in several pieces, with the bad row in the last one.
    const failing = store.transaction(() => store.insertRows(def.table, columns, rows(5000, 4990)));
    await expect(failing).rejects.toMatchObject({
      code: store.dialect === "postgres" ? "23502" : "SQLITE_CONSTRAINT_NOTNULL",
    });
    expect(await count(store, def.table)).toBe(0);
    await store.transaction(() => store.insertRows(def.table, columns, rows(5000, -1)));
    expect(await count(store, def.table)).toBe(5000);
  });
});
