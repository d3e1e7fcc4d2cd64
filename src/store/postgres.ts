/**
 * PostgreSQL through one `pg` client. Kysely and the raw paths (multi-row inserts, cursors) share
 * that client, so they share its transaction: a rollback undoes both.
 */
import { createHash } from "node:crypto";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import Cursor from "pg-cursor";
import type { ModelDef } from "../models/types.js";
import { copyRows } from "./copy.js";
import { schemaSql } from "./schema.js";
import type { Store } from "./types.js";

const PG_MAX_PARAMS = 65_535;
const COPY_THRESHOLD = 100;
/** Tables with fewer rows are emptied with DELETE rather than TRUNCATE. */
const DELETE_BELOW = 10_000;

/**
 * Keep bigints as numbers (ids fit in 2^53), and timestamps and dates as text: Date drops
 * microseconds and reads a date in the local time zone.
 */
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === 20) return (v: string) => Number(v);
    if (oid === 1184 || oid === 1114 || oid === 1082) return (v: string) => v;
    return pg.types.getTypeParser(oid, format);
  },
};

export interface PostgresOptions {
  /** Schema to create and work in (from the URL's `?schema=` parameter). */
  schema?: string;
}

export class PostgresStore implements Store {
  readonly dialect = "postgres" as const;
  readonly db: Kysely<any>;
  private readonly client: pg.Client;
  private depth = 0;
  private readonly nextIds = new Map<string, number>();
  private connected: Promise<void> | null = null;

  constructor(
    url: string,
    private readonly models: ModelDef[],
    private readonly opts: PostgresOptions = {},
  ) {
    this.client = new pg.Client({ connectionString: url, types });
    this.location = redact(url);
    const pool = {
      connect: async () => {
        await this.connect();
        return { query: this.client.query.bind(this.client), release() {} };
      },
      end: async () => {},
    };
    this.db = new Kysely<any>({ dialect: new PostgresDialect({ pool: pool as any, cursor: Cursor }) });
  }

  readonly location: string;

  /** Connects once; later calls wait for the same connection. */
  connect(): Promise<void> {
    this.connected ??= this.open();
    return this.connected;
  }

  private async open(): Promise<void> {
    await this.client.connect();
    if (this.opts.schema) {
      const s = `"${this.opts.schema.replace(/"/g, '""')}"`;
      await this.client.query(`CREATE SCHEMA IF NOT EXISTS ${s}; SET search_path TO ${s}`);
    }
  }

  private async query(text: string, values?: unknown[]) {
    await this.connect();
    return this.client.query(text, values as any[]);
  }

  /**
   * Creates what is missing. The hash of the schema's DDL is recorded in `relo_schema`, so opening
   * a database whose schema is current costs one query instead of a statement per table (about a
   * second for 117 tables).
   */
  async migrate(): Promise<void> {
    const statements = schemaSql(this.models, "postgres");
    const hash = createHash("sha256").update(statements.join(";\n")).digest("hex");
    if (this.depth === 0 && (await this.schemaHash()) === hash) return;
    await this.transaction(async () => {
      // Serializes concurrent first runs against one database.
      await this.query("SELECT pg_advisory_xact_lock(7342001)");
      for (const s of statements) await this.query(s);
      await this.query('CREATE TABLE IF NOT EXISTS "relo_schema" ("ddl_hash" text NOT NULL)');
      await this.query('DELETE FROM "relo_schema"');
      await this.query('INSERT INTO "relo_schema" ("ddl_hash") VALUES ($1)', [hash]);
    });
  }

  private async schemaHash(): Promise<string | null> {
    const found = await this.query("SELECT to_regclass('relo_schema') IS NOT NULL AS present");
    if (!found.rows[0].present) return null;
    const r = await this.query('SELECT "ddl_hash" FROM "relo_schema"');
    return r.rows[0]?.ddl_hash ?? null;
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    const outer = this.depth === 0;
    const name = `relo_sp_${this.depth}`;
    await this.query(outer ? "BEGIN" : `SAVEPOINT ${name}`);
    this.depth++;
    try {
      const result = await fn();
      if (outer) await this.syncSequences();
      // A failing COMMIT (a deferred foreign key) lands in the catch below with the depth intact.
      await this.query(outer ? "COMMIT" : `RELEASE SAVEPOINT ${name}`);
      this.depth--;
      return result;
    } catch (err) {
      this.depth--;
      // After a failed COMMIT the server has already ended the transaction; ROLLBACK is harmless.
      await this.query(outer ? "ROLLBACK" : `ROLLBACK TO SAVEPOINT ${name}`);
      if (outer) this.nextIds.clear();
      throw err;
    }
  }

  async insertRows(table: string, columns: string[], rows: unknown[][]): Promise<void> {
    await this.connect();
    // COPY costs a little more to set up but streams rows 3-5x faster than multi-row INSERT.
    if (rows.length >= COPY_THRESHOLD) return copyRows(this.client, table, columns, rows);
    const perStatement = Math.max(1, Math.floor(PG_MAX_PARAMS / columns.length));
    const cols = columns.map((c) => `"${c}"`).join(", ");
    for (let start = 0; start < rows.length; start += perStatement) {
      const slice = rows.slice(start, start + perStatement);
      const values: unknown[] = [];
      const tuples = slice.map((row) => {
        const marks = row.map((v) => {
          values.push(v);
          return `$${values.length}`;
        });
        return `(${marks.join(", ")})`;
      });
      await this.query(`INSERT INTO "${table}" (${cols}) VALUES ${tuples.join(", ")}`, values);
    }
  }

  /**
   * Ids come from a counter that starts past MAX(id) and past the table's sequence. The first
   * allocation in a transaction locks the table against other writers (readers still read), so
   * nobody else can take those ids; the sequence is moved past them before commit. (nextval() per
   * row cost 2.6 ms per 1000 ids in the benchmark.)
   */
  async claimIds(table: string, ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.allocateIds(table, 0); // starts the table's counter
    const highest = ids.reduce((a, b) => Math.max(a, b), 0);
    this.nextIds.set(table, Math.max(this.nextIds.get(table)!, highest + 1));
  }

  async allocateIds(table: string, n: number): Promise<number[]> {
    let next = this.nextIds.get(table);
    if (next === undefined) {
      if (this.depth > 0) await this.query(`LOCK TABLE "${table}" IN SHARE ROW EXCLUSIVE MODE`);
      const res = await this.query(
        `SELECT GREATEST(COALESCE(MAX(id), 0), (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM ${this.sequenceOf(table)})) AS m FROM "${table}"`,
      );
      next = Number(res.rows[0].m) + 1;
    }
    this.nextIds.set(table, next + n);
    return Array.from({ length: n }, (_, i) => next + i);
  }

  private sequenceOf(table: string): string {
    return `"${table}_id_seq"`;
  }

  /** Moves each sequence this transaction allocated from past the ids it handed out. */
  private async syncSequences(): Promise<void> {
    for (const [table, next] of this.nextIds) {
      await this.query(
        `SELECT setval('${this.sequenceOf(table)}', GREATEST($1::bigint - 1, 1), $1::bigint > 1)`,
        [next],
      );
    }
    this.nextIds.clear();
  }

  /**
   * TRUNCATE gives each table new files, which costs about 20 ms a table whatever its size, so it
   * is kept for large tables; small ones are emptied with DELETE (foreign keys are checked at
   * commit), and every table's id sequence is restarted.
   */
  async truncate(tables: string[]): Promise<void> {
    if (tables.length === 0) return;
    const probe = tables
      .map(
        (t, i) =>
          `SELECT ${i} AS i, (SELECT count(*) FROM (SELECT 1 FROM "${t}" LIMIT ${DELETE_BELOW}) x) AS n`,
      )
      .join(" UNION ALL ");
    const counts = (await this.query(probe)).rows.map((r) => ({
      table: tables[r.i as number],
      n: Number(r.n),
    }));
    const large = counts.filter((c) => c.n >= DELETE_BELOW).map((c) => `"${c.table}"`);
    if (large.length > 0) await this.query(`TRUNCATE ${large.join(", ")} RESTART IDENTITY CASCADE`);
    const small = counts.filter((c) => c.n > 0 && c.n < DELETE_BELOW).map((c) => `DELETE FROM "${c.table}"`);
    if (small.length > 0) await this.query(small.join(";\n"));
    // ALTER SEQUENCE is undone by a rollback (a failed or dry-run import); setval() is not.
    const lookups = tables.map((t) => `pg_get_serial_sequence('"${t}"', 'id')`);
    const names = (await this.query(`SELECT unnest(ARRAY[${lookups.join(", ")}]) AS seq`)).rows
      .map((r) => r.seq as string | null)
      .filter((n): n is string => n !== null);
    if (names.length > 0) await this.query(names.map((n) => `ALTER SEQUENCE ${n} RESTART`).join(";\n"));
    this.nextIds.clear();
  }

  async readSnapshot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.depth > 0) return fn();
    await this.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    this.depth++;
    try {
      return await fn();
    } finally {
      this.depth--;
      await this.query("COMMIT");
    }
  }

  async *scan(sqlText: string, params: unknown[], chunkSize = 2000): AsyncIterable<unknown[][]> {
    await this.connect();
    const cursor = this.client.query(new Cursor(sqlText, params as any[], { rowMode: "array" }));
    try {
      for (;;) {
        const rows = (await cursor.read(chunkSize)) as unknown as unknown[][];
        if (rows.length === 0) return;
        yield rows;
      }
    } finally {
      await cursor.close();
    }
  }

  scanTable(table: string, columns: string[], chunkSize = 2000): AsyncIterable<unknown[][]> {
    return this.scan(
      `SELECT ${columns.join(", ")} FROM "${table}" WHERE "id" > 0 ORDER BY "id"`,
      [],
      chunkSize,
    );
  }

  async close(): Promise<void> {
    if (this.connected) await this.client.end();
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "postgres";
  }
}
