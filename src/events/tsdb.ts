/**
 * Per-minute counters (Sentry's TSDB `incr` for the `project`, `group` and `release` models), in
 * relo_tsdb_counter: one row per model, key, environment and minute. Increments of one batch of
 * events are summed in memory and written with one multi-row upsert before the batch commits.
 */
import { dateOf, type Sql } from "./sql.js";

export type TsdbModel = "project" | "group" | "release";

const BUCKET_SECONDS = 60;
const ROWS_PER_INSERT = 500;

/** The start of the minute holding `epochSeconds`, as a canonical ISO string. */
export function bucketOf(epochSeconds: number): string {
  return new Date(Math.floor(epochSeconds / BUCKET_SECONDS) * BUCKET_SECONDS * 1000).toISOString();
}

export class TsdbBuffer {
  private pending: [string, number][] = [];

  incr(model: TsdbModel, keyId: number, environmentId: number, epochSeconds: number): void {
    this.pending.push([`${model}\u0000${keyId}\u0000${environmentId}\u0000${bucketOf(epochSeconds)}`, 1]);
  }

  /** Writes the buffered increments (inside the caller's transaction) and empties the buffer. */
  async flush(sql: Sql): Promise<void> {
    const sums = new Map<string, number>();
    for (const [key, n] of this.pending) sums.set(key, (sums.get(key) ?? 0) + n);
    this.pending = [];
    const rows = [...sums].map(([key, n]) => {
      const [model, keyId, envId, bucket] = key.split("\u0000");
      return [model, Number(keyId), Number(envId), bucket, n];
    });
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      const chunk = rows.slice(i, i + ROWS_PER_INSERT);
      await sql.run(
        `INSERT INTO relo_tsdb_counter (model, key_id, environment_id, bucket, value)
         VALUES ${chunk.map(() => "(?, ?, ?, ?, ?)").join(", ")}
         ON CONFLICT (bucket, environment_id, key_id, model) DO UPDATE SET value = relo_tsdb_counter.value + excluded.value`,
        chunk.flat(),
      );
    }
  }

  clear(): void {
    this.pending = [];
  }
}

export interface TsdbQuery {
  model: TsdbModel;
  keyId: number;
  /** Inclusive start and exclusive end, as dates or ISO strings. */
  start: Date | string;
  end: Date | string;
  /** Only this environment (an environment id); all environments when absent. */
  environmentId?: number;
}

function range(q: TsdbQuery): [string, unknown[]] {
  const start = new Date(q.start).toISOString();
  const end = new Date(q.end).toISOString();
  const params: unknown[] = [q.model, q.keyId, start, end];
  let where = "model = ? AND key_id = ? AND bucket >= ? AND bucket < ?";
  if (q.environmentId !== undefined) {
    where += " AND environment_id = ?";
    params.push(q.environmentId);
  }
  return [where, params];
}

/** Counts per minute in the range (minutes with no events are left out), oldest first. */
export async function tsdbSeries(sql: Sql, q: TsdbQuery): Promise<{ bucket: string; value: number }[]> {
  const [where, params] = range(q);
  const rows = await sql.all<{ bucket: unknown; value: unknown }>(
    `SELECT bucket, SUM(value) AS value FROM relo_tsdb_counter WHERE ${where} GROUP BY bucket ORDER BY bucket`,
    params,
  );
  return rows.map((r) => ({ bucket: dateOf(r.bucket), value: Number(r.value) }));
}

/** The total count in the range. */
export async function tsdbTotal(sql: Sql, q: TsdbQuery): Promise<number> {
  const [where, params] = range(q);
  const row = await sql.one<{ n: unknown }>(
    `SELECT SUM(value) AS n FROM relo_tsdb_counter WHERE ${where}`,
    params,
  );
  return Number(row?.n ?? 0);
}
