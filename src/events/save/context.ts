/**
 * What every step of the save path shares: the SQL connection (already inside the batch's
 * transaction), the row cache, the buffered counters, and the get-or-create pattern Sentry's
 * models use.
 */
import type { TxCache } from "../cache.js";
import type { NodeRow } from "../nodestore.js";
import type { Sql } from "../sql.js";
import type { NewMessage } from "../stream.js";
import type { TsdbBuffer } from "../tsdb.js";
import type { GroupBuffer } from "./group.js";

export interface SaveOptions {
  /** The retention the eventstream payload carries (Sentry's org quota; 90 days by default). */
  retentionDays: number;
}

/** Rows the batch writes at its end, payloads before the stream messages that name them. */
export interface PendingWrites {
  nodes: NodeRow[];
  messages: NewMessage[];
}

export interface SaveContext {
  sql: Sql;
  cache: TxCache;
  tsdb: TsdbBuffer;
  groups: GroupBuffer;
  pending: PendingWrites;
  options: SaveOptions;
}

export interface Created<T> {
  row: T;
  created: boolean;
}

/**
 * Sentry's get_or_create: the cached row, else the row `select` finds, else the row `insert`
 * creates (an INSERT ... ON CONFLICT DO NOTHING RETURNING ...). When a concurrent writer created
 * it first, the insert returns nothing and the row is selected again.
 */
export async function getOrCreate<T>(
  ctx: SaveContext,
  cacheKey: string,
  select: [string, unknown[]],
  insert: [string, unknown[]],
): Promise<Created<T>> {
  const cached = ctx.cache.get<T>(cacheKey);
  if (cached !== undefined) return { row: cached, created: false };
  let row = await ctx.sql.one<T>(select[0], select[1]);
  let created = false;
  if (!row) {
    row = await ctx.sql.one<T>(insert[0], insert[1]);
    created = row !== undefined;
    row ??= await ctx.sql.one<T>(select[0], select[1]);
    if (!row) throw new Error(`get-or-create found no row after inserting (${cacheKey})`);
  }
  ctx.cache.set(cacheKey, row);
  return { row, created };
}

/** Epoch seconds as a canonical ISO datetime. */
export function isoOf(epochSeconds: number): string {
  return new Date(Math.round(epochSeconds * 1000)).toISOString();
}
