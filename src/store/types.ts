/**
 * The one small interface SQLite and PostgreSQL sit behind. Everything above the store speaks
 * Kysely (`db`) for queries and these methods for the paths that must be fast or dialect-aware.
 */
import type { Kysely } from "kysely";
import type { Dialect } from "./codec.js";

export type { Dialect };

export interface Store {
  readonly dialect: Dialect;
  /** Query builder over the store's single connection. */
  readonly db: Kysely<any>;
  /** Where the data lives, for messages (a file path or a URL without its password). */
  readonly location: string;
  /** Creates every table and index the registry defines that does not exist yet. */
  migrate(): Promise<void>;
  /** Runs `fn` in a transaction (a savepoint when nested); rolls back if it throws. */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  /** Inserts rows given as value arrays in `columns` order. */
  insertRows(table: string, columns: string[], rows: unknown[][]): Promise<void>;
  /**
   * Reserves `n` new primary keys for a table, ascending. Every insert goes through this. When
   * the transaction commits, the table's id sequence continues after them, so later native
   * inserts (Sentry's own) do not collide.
   */
  allocateIds(table: string, n: number): Promise<number[]>;
  /** Records pks a caller chose itself (a restore keeping ids), so allocation continues after them. */
  claimIds(table: string, ids: number[]): Promise<void>;
  /** Deletes every row of these tables and restarts their ids at 1. */
  truncate(tables: string[]): Promise<void>;
  /**
   * Runs `fn` in a read-only transaction that sees one consistent snapshot of the database, so an
   * export taken while others write is still self-consistent.
   */
  readSnapshot<T>(fn: () => Promise<T>): Promise<T>;
  /** Streams rows of a query as value arrays in select order, a chunk at a time. */
  scan(sqlText: string, params: unknown[], chunkSize?: number): AsyncIterable<unknown[][]>;
  /**
   * Streams every row of a table with `id > 0`, in id order, as value arrays of `columns` (SQL
   * expressions; the first must be `"id"`), a chunk at a time.
   */
  scanTable(table: string, columns: string[], chunkSize?: number): AsyncIterable<unknown[][]>;
  close(): Promise<void>;
}
