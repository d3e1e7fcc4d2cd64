/**
 * Verification after an import: every row the report says was written (inserted, found existing
 * or overwritten) is counted again in its table. A row that is gone (a trigger, a concurrent
 * delete, a bug) shows up as a model whose count falls short of its claim.
 */
import { sql } from "kysely";
import type { Store } from "../../store/types.js";

/**
 * The distinct pks written for one model. New pks are handed out in ascending runs, so they are
 * kept as [start, end] runs; pks out of order (existing rows) go to a Set.
 */
export class WrittenPks {
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private readonly extra = new Set<number>();

  constructor(readonly table: string) {}

  add(pk: number): void {
    const last = this.ends.length - 1;
    if (last >= 0 && pk === this.ends[last] + 1 && !this.extra.has(pk)) this.ends[last] = pk;
    else if (last < 0 || pk > this.ends[last]) {
      if (this.extra.has(pk)) return;
      this.starts.push(pk);
      this.ends.push(pk);
    } else if (!this.inRuns(pk)) this.extra.add(pk);
  }

  get size(): number {
    let n = this.extra.size;
    for (let i = 0; i < this.starts.length; i++) n += this.ends[i] - this.starts[i] + 1;
    return n;
  }

  /** Every pk, as inclusive ranges; ranges may come in any order but never overlap. */
  *ranges(): Generator<[number, number]> {
    for (let i = 0; i < this.starts.length; i++) yield [this.starts[i], this.ends[i]];
    for (const pk of this.extra) yield [pk, pk];
  }

  private inRuns(pk: number): boolean {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (pk < this.starts[mid]) hi = mid - 1;
      else if (pk > this.ends[mid]) lo = mid + 1;
      else return true;
    }
    return false;
  }
}

export interface ModelCount {
  model: string;
  /** Distinct rows the import wrote or reused. */
  claimed: number;
  /** How many of them the table holds. */
  found: number;
}

export interface Verification {
  ok: boolean;
  models: ModelCount[];
}

/** The recount disagrees with the report: the command fails with exit status 2. */
export class VerificationError extends Error {
  override name = "VerificationError";
  constructor(
    readonly verification: Verification,
    committed: boolean,
  ) {
    const bad = verification.models.filter((m) => m.found !== m.claimed);
    super(
      `${bad
        .map(
          (m) => `${m.model}: the import wrote ${m.claimed} rows but the database holds ${m.found} of them`,
        )
        .join("; ")}${committed ? " (the import was committed)" : ""}`,
    );
  }
}

/** Ranges per query: each is two parameters, well under both databases' limits. */
const RANGES_PER_QUERY = 400;

async function countIn(store: Store, table: string, ranges: [number, number][]): Promise<number> {
  const conditions = ranges.map(([lo, hi]) =>
    lo === hi ? sql`"id" = ${lo}` : sql`"id" BETWEEN ${lo} AND ${hi}`,
  );
  const { rows } = await sql<{
    n: number | string;
  }>`SELECT COUNT(*) AS n FROM ${sql.table(table)} WHERE ${sql.join(conditions, sql` OR `)}`.execute(
    store.db,
  );
  return Number(rows[0].n);
}

/** Counts, per model, how many of the written pks its table holds. */
export async function verifyWritten(store: Store, written: Map<string, WrittenPks>): Promise<Verification> {
  const models: ModelCount[] = [];
  for (const [model, pks] of written) {
    let found = 0;
    let group: [number, number][] = [];
    for (const range of pks.ranges()) {
      group.push(range);
      if (group.length === RANGES_PER_QUERY) {
        found += await countIn(store, pks.table, group);
        group = [];
      }
    }
    if (group.length > 0) found += await countIn(store, pks.table, group);
    models.push({ model, claimed: pks.size, found });
  }
  return { ok: models.every((m) => m.found === m.claimed), models };
}
