/**
 * The embedded default: one SQLite file through better-sqlite3. Inserts use cached prepared
 * statements on the raw handle (1.6x faster than going through Kysely, measured in ecosystem.md).
 */
import Database from "better-sqlite3";
import { Kysely, SqliteDialect, sql } from "kysely";
import type { ModelDef } from "../models/types.js";
import { schemaSql } from "./schema.js";
import type { Store } from "./types.js";

export class SqliteStore implements Store {
  readonly dialect = "sqlite" as const;
  readonly db: Kysely<any>;
  private readonly raw: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private depth = 0;
  private readonly nextIds = new Map<string, number>();

  constructor(
    readonly location: string,
    private readonly models: ModelDef[],
  ) {
    this.raw = new Database(location);
    this.raw.pragma("journal_mode = WAL");
    this.raw.pragma("synchronous = NORMAL");
    this.raw.pragma("foreign_keys = ON");
    this.raw.pragma("busy_timeout = 5000");
    this.db = new Kysely<any>({ dialect: new SqliteDialect({ database: this.raw }) });
  }

  async migrate(): Promise<void> {
    const statements = schemaSql(this.models, "sqlite");
    this.raw.transaction(() => {
      for (const s of statements) this.raw.exec(s);
    })();
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    const name = `relo_sp_${this.depth}`;
    this.raw.exec(this.depth === 0 ? "BEGIN IMMEDIATE" : `SAVEPOINT ${name}`);
    const outer = this.depth === 0;
    this.depth++;
    try {
      const result = await fn();
      // A failing COMMIT (a deferred foreign key) lands in the catch below with the depth intact.
      this.raw.exec(outer ? "COMMIT" : `RELEASE ${name}`);
      this.depth--;
      if (outer) this.nextIds.clear();
      return result;
    } catch (err) {
      this.depth--;
      if (outer) {
        if (this.raw.inTransaction) this.raw.exec("ROLLBACK");
      } else {
        this.raw.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
      }
      this.nextIds.clear();
      throw err;
    }
  }

  async insertRows(table: string, columns: string[], rows: unknown[][]): Promise<void> {
    const stmt = this.insertStatement(table, columns);
    for (const row of rows) stmt.run(row);
  }

  private insertStatement(table: string, columns: string[]): Database.Statement {
    const key = `${table}\u0000${columns.join(",")}`;
    let stmt = this.statements.get(key);
    if (!stmt) {
      const cols = columns.map((c) => `"${c}"`).join(", ");
      const marks = columns.map(() => "?").join(", ");
      stmt = this.raw.prepare(`INSERT INTO "${table}" (${cols}) VALUES (${marks})`);
      this.statements.set(key, stmt);
    }
    return stmt;
  }

  /**
   * Ids come from MAX(id) once per table and transaction, then from a counter, so ids handed out
   * but not yet inserted are never handed out twice.
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
      const row = this.raw.prepare(`SELECT COALESCE(MAX(id), 0) AS m FROM "${table}"`).get() as { m: number };
      next = row.m + 1;
    }
    this.nextIds.set(table, next + n);
    return Array.from({ length: n }, (_, i) => next + i);
  }

  async truncate(tables: string[]): Promise<void> {
    for (const table of tables) {
      this.raw.exec(`DELETE FROM "${table}"`);
      this.nextIds.delete(table);
    }
  }

  async readSnapshot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.depth > 0) return fn();
    // A deferred transaction takes its WAL snapshot at the first read and holds no write lock.
    this.raw.exec("BEGIN DEFERRED");
    this.depth++;
    try {
      return await fn();
    } finally {
      this.depth--;
      this.raw.exec("COMMIT");
    }
  }

  async *scan(sqlText: string, params: unknown[], chunkSize = 2000): AsyncIterable<unknown[][]> {
    const rows = this.raw
      .prepare(sqlText)
      .raw(true)
      .iterate(...params) as IterableIterator<unknown[]>;
    let chunk: unknown[][] = [];
    for (const row of rows) {
      chunk.push(row);
      if (chunk.length >= chunkSize) {
        yield chunk;
        chunk = [];
      }
    }
    if (chunk.length > 0) yield chunk;
  }

  async *scanTable(table: string, columns: string[], chunkSize = 2000): AsyncIterable<unknown[][]> {
    // Pages by id with all(): a third faster than one iterate() over the table (measured).
    const page = this.raw
      .prepare(`SELECT ${columns.join(", ")} FROM "${table}" WHERE "id" > ? ORDER BY "id" LIMIT ${chunkSize}`)
      .raw(true);
    let after = 0;
    for (;;) {
      const rows = page.all(after) as unknown[][];
      if (rows.length > 0) yield rows;
      if (rows.length < chunkSize) return;
      after = rows[rows.length - 1][0] as number;
    }
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

export { sql };
