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
  const schema = await takeSchema();
  const url = schemaUrl(schema);
  return {
    kind,
    url,
    open: () => openStore(url),
    dispose: () => returnSchema(schema),
  };
}

/*
 * PostgreSQL schemas are recycled within a test process: creating relo's 117 tables costs about a
 * second, emptying them a few milliseconds. A schema goes back to the pool only if its tables,
 * columns and triggers are still exactly those of a freshly migrated one (a test may alter them);
 * otherwise it is dropped. Schemas are named after the process, and schemas of processes that no
 * longer run are dropped when a process starts using PostgreSQL.
 */
const pool: string[] = [];
const resets = new Map<string, string>();
let pristine: Promise<{ fingerprint: string }> | null = null;

function schemaUrl(schema: string): string {
  const u = new URL(PG_URL);
  u.searchParams.set("schema", schema);
  return u.toString();
}

async function withClient<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function dropDeadSchemas(c: pg.Client): Promise<void> {
  const { rows } = await c.query("SELECT nspname FROM pg_namespace WHERE nspname ~ '^t_[0-9]+_'");
  for (const { nspname } of rows) {
    const pid = Number(nspname.split("_")[1]);
    if (pid !== process.pid && !alive(pid)) await c.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
  }
}

async function fingerprint(c: pg.Client, schema: string): Promise<string> {
  const { rows } = await c.query(
    `SELECT md5(coalesce(string_agg(c.relname || '.' || a.attname || ':' || format_type(a.atttypid, a.atttypmod)
              || ':' || a.attnotnull, ',' ORDER BY c.relname, a.attnum), '')) AS columns,
            (SELECT count(*) FROM pg_trigger t JOIN pg_class tc ON tc.oid = t.tgrelid
              WHERE tc.relnamespace = $1::regnamespace AND NOT t.tgisinternal) AS triggers,
            (SELECT count(*) FROM pg_class ic WHERE ic.relnamespace = $1::regnamespace AND ic.relkind = 'i') AS indexes
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      WHERE c.relnamespace = $1::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped`,
    [schema],
  );
  return `${rows[0].columns}/${rows[0].triggers}/${rows[0].indexes}`;
}

/** One statement that empties every table and restarts every sequence of `schema`. */
async function resetSql(c: pg.Client, schema: string): Promise<string> {
  const tables = await c.query(
    "SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename <> 'relo_schema'",
    [schema],
  );
  const sequences = await c.query("SELECT sequencename FROM pg_sequences WHERE schemaname = $1", [schema]);
  return [
    "BEGIN",
    "SET CONSTRAINTS ALL DEFERRED",
    ...tables.rows.map((r) => `DELETE FROM "${schema}"."${r.tablename}"`),
    ...sequences.rows.map((r) => `ALTER SEQUENCE "${schema}"."${r.sequencename}" RESTART`),
    "COMMIT",
  ].join(";\n");
}

async function newSchema(): Promise<string> {
  const schema = `t_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}_${counter++}`;
  const store = await openStore(schemaUrl(schema));
  await store.close();
  return schema;
}

async function takeSchema(): Promise<string> {
  if (!pristine) {
    pristine = (async () => {
      const schema = await newSchema();
      pool.push(schema);
      return withClient(async (c) => {
        await dropDeadSchemas(c);
        return { fingerprint: await fingerprint(c, schema) };
      });
    })();
  }
  await pristine;
  return pool.pop() ?? newSchema();
}

async function returnSchema(schema: string): Promise<void> {
  const base = await pristine!;
  await withClient(async (c) => {
    if ((await fingerprint(c, schema)) !== base.fingerprint) {
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      return;
    }
    let reset = resets.get(schema);
    if (!reset) {
      reset = await resetSql(c, schema);
      resets.set(schema, reset);
    }
    await c.query(reset);
    pool.push(schema);
  });
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
