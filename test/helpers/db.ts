/**
 * Every database test runs on a fresh SQLite file and on a fresh PostgreSQL schema.
 *
 * PostgreSQL comes from RELO_TEST_POSTGRES_URL (default postgres://root@127.0.0.1:5432/test).
 * Outside CI an unreachable server skips the PostgreSQL variants with a warning; with CI=true it
 * fails the run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterEach, beforeEach, describe } from "vitest";
import { openStore } from "../../src/store/open.js";
import type { Store } from "../../src/store/types.js";

export type DbKind = "sqlite" | "postgres";

export const PG_URL = process.env.RELO_TEST_POSTGRES_URL ?? "postgres://root@127.0.0.1:5432/test";

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch (err) {
    if (process.env.CI === "true") {
      throw new Error(`CI=true but PostgreSQL at ${PG_URL} is unreachable: ${(err as Error).message}`);
    }
    console.warn(
      `PostgreSQL at ${PG_URL} is unreachable; skipping PostgreSQL variants: ${(err as Error).message}`,
    );
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export const DB_KINDS: DbKind[] = (await postgresReachable()) ? ["sqlite", "postgres"] : ["sqlite"];

export interface TestDb {
  kind: DbKind;
  /** A --db value for the CLI. */
  url: string;
  open(): Promise<Store>;
  dispose(): Promise<void>;
}

let counter = 0;

/** A new empty database of the given kind. */
export async function freshDb(kind: DbKind): Promise<TestDb> {
  if (kind === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "relo-test-"));
    const url = join(dir, "relo.db");
    return {
      kind,
      url,
      open: () => openStore(url),
      dispose: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const schema = `t_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const u = new URL(PG_URL);
  u.searchParams.set("schema", schema);
  const url = u.toString();
  return {
    kind,
    url,
    open: () => openStore(url),
    async dispose() {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    },
  };
}

/** Runs a describe block once per database kind. */
export function describeEachDb(name: string, fn: (kind: DbKind) => void): void {
  for (const kind of DB_KINDS) describe(`${name} [${kind}]`, () => fn(kind));
}

/**
 * Gives each test of the enclosing block a fresh, empty database: `onOpen` receives the open
 * store (and its TestDb) before each test; both are closed and removed after it.
 */
export function useFreshStore(kind: DbKind, onOpen: (store: Store, db: TestDb) => void): void {
  let db: TestDb;
  let store: Store;
  beforeEach(async () => {
    db = await freshDb(kind);
    store = await db.open();
    onOpen(store, db);
  });
  afterEach(async () => {
    await store.close();
    await db.dispose();
  });
}
