/**
 * Verification after an import: every row the report says was written (inserted, found existing
 * or overwritten) is counted again in its table. A row that is gone (a trigger, a concurrent
 * delete, a bug) shows up as a model whose count falls short of its claim.
 */
import { sql } from "kysely";
import type { Store } from "../../store/types.js";
import { PkSet } from "../pkset.js";

/** The distinct pks written for one model's table (new pks come in ascending runs). */
export class WrittenPks extends PkSet {
  constructor(readonly table: string) {
    super();
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
