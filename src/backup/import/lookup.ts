/**
 * Batch lookups by column value, which relocation hooks use to find collisions and rows to take
 * over: one query per 5000 values instead of one per row.
 *
 * PostgreSQL plans a long IN list (or `= ANY`) as a sequential scan once a table holds a few
 * thousand rows, and the tables an import fills grow with every batch, so each lookup would cost
 * more than the last (3.2 s of a 200 MB import went to 196 such scans of `sentry_email`). There,
 * integer values that form a few runs are read as id ranges, and other values through a LATERAL
 * subquery per value, which is a nested loop over the column's index: 8x faster at 100k rows and
 * flat as the table grows. Both need an index that leads with the column; without one the IN list
 * is left to the planner, as on SQLite, where IN lists use the index.
 */
import { type RawBuilder, sql } from "kysely";
import type { ModelDef } from "../../models/types.js";
import type { Store } from "../../store/types.js";

/** Largest number of values per query (well under SQLite's and PostgreSQL's parameter limits). */
export const LOOKUP_CHUNK = 5000;

/** Integer values are read as ranges when they form at most this many runs. */
const MAX_RUNS = 32;

interface LookupOptions {
  /** Compare lower-cased (the values are lower-cased too). */
  lower?: boolean;
  /** Columns to read; every column by default. */
  columns?: string[];
  /** Only the lowest-id row per value. */
  first?: boolean;
}

/** A row found, with the value (as given) it was found by. */
interface Hit {
  key: unknown;
  row: Record<string, any>;
}

/**
 * Ids of rows whose `column` holds one of `values`, keyed by that value (lower-cased when
 * `lower`); the lowest id when several rows hold it.
 */
export async function idsByValue(
  store: Store,
  model: ModelDef,
  column: string,
  values: unknown[],
  opts: { lower?: boolean } = {},
): Promise<Map<unknown, number>> {
  const out = new Map<unknown, number>();
  for (const { key, row } of await lookup(store, model, column, values, {
    ...opts,
    columns: ["id"],
    first: true,
  })) {
    const id = Number(row.id);
    const had = out.get(key);
    if (had === undefined || id < had) out.set(key, id);
  }
  return out;
}

/** Rows of `model` whose `column` is one of `values`: the given columns (or all), as stored. */
export async function rowsByValue(
  store: Store,
  model: ModelDef,
  column: string,
  values: unknown[],
  columns?: string[],
): Promise<Record<string, any>[]> {
  return (await lookup(store, model, column, values, { columns })).map((h) => h.row);
}

async function lookup(
  store: Store,
  model: ModelDef,
  column: string,
  values: unknown[],
  opts: LookupOptions,
): Promise<Hit[]> {
  const lower = opts.lower ?? false;
  // Case-insensitive values are sent as given and lower-cased by the database, as its index
  // is: SQLite's lower() folds only ASCII and PostgreSQL's follows its locale, so a value
  // lower-cased here could miss its row. Hits are keyed by the lower-cased value all the same.
  const byKey = new Map<unknown, unknown>();
  for (const v of values) {
    if (v === null || v === undefined) continue;
    const key = lower ? String(v).toLowerCase() : v;
    if (!byKey.has(key)) byKey.set(key, v);
  }
  const distinct = [...byKey.values()];
  const out: Hit[] = [];
  const pg = store.dialect === "postgres" && indexed(model, column, lower);
  for (let i = 0; i < distinct.length; i += LOOKUP_CHUNK) {
    const chunk = distinct.slice(i, i + LOOKUP_CHUNK);
    const runs = pg && arrayType(model, column) === "bigint" ? runsOf(chunk as number[]) : null;
    const hits = runs
      ? await byRanges(store, model, column, runs, opts)
      : pg
        ? await byLateral(store, model, column, chunk, opts)
        : lower && store.dialect === "postgres"
          ? await byValuesJoin(store, model, column, chunk, opts)
          : await byInList(store, model, column, chunk, opts);
    // A loop, not push(...hits): a chunk may find more rows than a call takes arguments.
    for (const hit of hits) out.push(lower ? { key: String(hit.key).toLowerCase(), row: hit.row } : hit);
  }
  return out;
}

function selected(opts: LookupOptions): RawBuilder<unknown> {
  return opts.columns ? sql.join(opts.columns.map((c) => sql.ref(c))) : sql`*`;
}

/** Rows of `model` matching `where`, each keyed by its value of `ref` (read as `relo_v`). */
async function selectKeyed(
  store: Store,
  model: ModelDef,
  ref: RawBuilder<unknown>,
  where: RawBuilder<unknown>,
  opts: LookupOptions,
): Promise<Hit[]> {
  const { rows } = await sql<
    Record<string, any>
  >`select ${selected(opts)}, ${ref} as "relo_v" from ${sql.table(model.table)} where ${where}`.execute(
    store.db,
  );
  return rows.map((row) => {
    const key = row.relo_v;
    delete row.relo_v;
    return { key, row };
  });
}

/** Rows keyed by the value at their `relo_i` position in `values` (counted from `base`). */
function byPosition(rows: Record<string, any>[], values: unknown[], base: number): Hit[] {
  return rows.map((row) => {
    const key = values[Number(row.relo_i) - base];
    delete row.relo_i;
    return { key, row };
  });
}

async function byRanges(
  store: Store,
  model: ModelDef,
  column: string,
  runs: [number, number][],
  opts: LookupOptions,
): Promise<Hit[]> {
  const ref = sql.ref(column);
  const where = sql.join(
    runs.map(([a, b]) => sql`${ref} between ${a} and ${b}`),
    sql` or `,
  );
  return (await selectKeyed(store, model, ref, where, opts)).map((h) => ({ ...h, key: Number(h.key) }));
}

async function byLateral(
  store: Store,
  model: ModelDef,
  column: string,
  values: unknown[],
  opts: LookupOptions,
): Promise<Hit[]> {
  const ref = opts.lower ? sql`lower(${sql.ref(column)})` : sql.ref(column);
  const value = opts.lower ? sql`lower(u.v)` : sql`u.v`;
  const type = sql.raw(opts.lower ? "text" : arrayType(model, column));
  // LIMIT (or OFFSET 0) keeps the planner from flattening the subquery into a hash join over
  // the whole table, which is what it does with a plain join.
  // A unique column has at most one row per value: no sort needed for the first.
  const first = opts.first && !unique(model, column) ? sql` order by "id" limit 1` : sql` offset 0`;
  const { rows } = await sql<
    Record<string, any>
  >`select u.i as "relo_i", t.* from unnest(${values}::${type}[])
    with ordinality as u(v, i) cross join lateral
    (select ${selected(opts)} from ${sql.table(model.table)} where ${ref} = ${value}${first}) as t`.execute(
    store.db,
  );
  return byPosition(rows, values, 1);
}

/**
 * Case-insensitive values joined against the table, so each hit names the value it matched
 * (PostgreSQL, for a column without a lower() index: its lower() follows the locale).
 */
async function byValuesJoin(
  store: Store,
  model: ModelDef,
  column: string,
  values: unknown[],
  opts: LookupOptions,
): Promise<Hit[]> {
  const rows = sql.join(values.map((v, i) => sql`(${sql.lit(i)}, ${v})`));
  const columns = opts.columns ? sql.join(opts.columns.map((c) => sql.ref(`t.${c}`))) : sql`t.*`;
  const { rows: found } = await sql<Record<string, any>>`with u(relo_i, v) as (values ${rows})
    select u.relo_i as "relo_i", ${columns} from u join ${sql.table(model.table)} as t
    on lower(t.${sql.ref(column)}) = lower(u.v)`.execute(store.db);
  return byPosition(found, values, 0);
}

async function byInList(
  store: Store,
  model: ModelDef,
  column: string,
  values: unknown[],
  opts: LookupOptions,
): Promise<Hit[]> {
  if (!opts.lower) {
    const ref = sql.ref(column);
    return selectKeyed(store, model, ref, sql`${ref} in (${sql.join(values)})`, opts);
  }
  // SQLite's lower() folds A-Z only (relo's SQLite has no ICU), so its lower-casing is computed
  // here exactly, and an IN list keeps using the lower() index (a join over VALUES was 1.8 s
  // slower on a 218 MB import).
  const byLower = new Map(values.map((v) => [asciiLower(String(v)), v]));
  const ref = sql`lower(${sql.ref(column)})`;
  const hits = await selectKeyed(store, model, ref, sql`${ref} in (${sql.join([...byLower.keys()])})`, opts);
  return hits.map((h) => ({ ...h, key: byLower.get(h.key as string) }));
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/** Sorted distinct integers as [first, last] runs of consecutive values, or null when too many. */
function runsOf(values: number[]): [number, number][] | null {
  if (!values.every((v) => Number.isSafeInteger(v))) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const runs: [number, number][] = [];
  for (const v of sorted) {
    const last = runs[runs.length - 1];
    if (last && v === last[1] + 1) last[1] = v;
    else if (!last || v > last[1]) {
      if (runs.length === MAX_RUNS) return null;
      runs.push([v, v]);
    }
  }
  return runs;
}

/** The element type of a PostgreSQL array of values compared with `column`. */
function arrayType(model: ModelDef, column: string): string {
  if (column === "id") return model.stringId ? "text" : "bigint";
  const field = model.fields.find((f) => f.column === column);
  if (!field) throw new Error(`${model.name} has no column ${column}`);
  if (field.fk || field.type === "int" || field.type === "bigint" || field.type === "bitfield")
    return "bigint";
  if (field.type === "bool") return "boolean";
  if (field.type === "ip") return "inet";
  return "text";
}

/** Whether `column` alone is unique (an unconditional unique set of just its field). */
function unique(model: ModelDef, column: string): boolean {
  if (column === "id") return true;
  const field = model.fields.find((f) => f.column === column);
  return model.uniques.some(
    (set) => set.length === 1 && set[0] === field?.name && !model.uniqueConditions?.[set.join(",")],
  );
}

/**
 * Whether an index of the schema (see store/schema.ts) leads with `column`, or with its lower-case
 * form when `lower`: the primary key, a foreign key, or the first field of an unconditional
 * unique set.
 */
function indexed(model: ModelDef, column: string, lower: boolean): boolean {
  if (column === "id") return !lower;
  const field = model.fields.find((f) => f.column === column);
  if (!field) return false;
  if (field.fk && !lower) return true;
  return model.uniques.some(
    (set) =>
      set[0] === field.name &&
      !model.uniqueConditions?.[set.join(",")] &&
      Boolean(field.caseInsensitive) === lower,
  );
}
