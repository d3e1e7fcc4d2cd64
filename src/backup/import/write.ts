/**
 * Writing rows: the default insert, Sentry's keep-or-overwrite rule for Config models, and the
 * small queries relocation hooks share.
 */
import { sql } from "kysely";
import type { ModelDef } from "../../models/types.js";
import { toDb } from "../../store/codec.js";
import type { Store } from "../../store/types.js";
import type { ImportContext, PendingRow, WriteResult } from "./context.js";
import { LOOKUP_CHUNK } from "./lookup.js";

export { idsByValue, rowsByValue } from "./lookup.js";

/** Column values of a row, in `model.fields` order. */
export function encodeFields(model: ModelDef, fields: Record<string, unknown>, store: Store): unknown[] {
  return model.fields.map((f) => toDb(f, fields[f.name], store.dialect));
}

/** `[id, ...encodeFields(...)]` as one array (insert paths build one per row). */
function encodeRow(model: ModelDef, id: number, fields: Record<string, unknown>, store: Store): unknown[] {
  const out = new Array(model.fields.length + 1);
  out[0] = id;
  for (let i = 0; i < model.fields.length; i++) {
    const f = model.fields[i];
    out[i + 1] = toDb(f, fields[f.name], store.dialect);
  }
  return out;
}

export function columnsOf(model: ModelDef): string[] {
  return model.fields.map((f) => f.column);
}

/**
 * Inserts rows; a row gets the pk given for it in `pks`, or a fresh one. Returns the pks in row
 * order.
 */
export async function insertFields(
  store: Store,
  model: ModelDef,
  rows: Record<string, unknown>[],
  pks: (number | undefined)[] = [],
): Promise<number[]> {
  if (rows.length === 0) return [];
  const chosen = pks.filter((p): p is number => p !== undefined);
  await store.claimIds(model.table, chosen);
  const fresh = await store.allocateIds(model.table, rows.length - chosen.length);
  let next = 0;
  const ids = rows.map((_, i) => pks[i] ?? fresh[next++]);
  const values = rows.map((fields, i) => encodeRow(model, ids[i], fields, store));
  await store.insertRows(model.table, ["id", ...columnsOf(model)], values);
  return ids;
}

/** Sentry's default write: a plain insert of every row. */
export async function insertAll(rows: PendingRow[], ctx: ImportContext): Promise<WriteResult[]> {
  const ids = await insertFields(
    ctx.store,
    ctx.model,
    rows.map((r) => r.fields),
    rows.map((r) => r.pk),
  );
  return ids.map((pk) => ({ pk, kind: "Inserted" as const }));
}

/** Overwrites an existing row's columns with `fields`, keeping its pk. */
export async function updateFields(
  store: Store,
  model: ModelDef,
  pk: number,
  fields: Record<string, unknown>,
): Promise<void> {
  const values = encodeFields(model, fields, store);
  const set: Record<string, unknown> = {};
  model.fields.forEach((f, i) => {
    if (f.name in fields) set[f.column] = values[i];
  });
  await store.db.updateTable(model.table).set(set).where("id", "=", pk).execute();
}

/** The unique field sets of a model that contain no foreign key (Sentry: uniques without FKs). */
export function uniquesWithoutForeignKeys(model: ModelDef): string[][] {
  const fks = new Set(model.fields.filter((f) => f.fk).map((f) => f.name));
  return model.uniques.filter((set) => set.length > 0 && !set.some((n) => fks.has(n)));
}

/** The pk of a row whose non-null values of `fieldNames` equal those of `fields`, if any. */
export async function findByFields(
  store: Store,
  model: ModelDef,
  fieldNames: string[],
  fields: Record<string, unknown>,
): Promise<number | null> {
  const byName = new Map(model.fields.map((f) => [f.name, f]));
  let query = store.db.selectFrom(model.table).select("id");
  let any = false;
  for (const name of fieldNames) {
    const field = byName.get(name)!;
    const value = fields[name];
    if (value === null || value === undefined) continue;
    any = true;
    const encoded = toDb(field, value, store.dialect);
    query = field.caseInsensitive
      ? query.where(sql`lower(${sql.ref(field.column)})`, "=", String(encoded).toLowerCase())
      : query.where(field.column, "=", encoded);
  }
  if (!any) return null;
  const row = await query.orderBy("id").limit(1).executeTakeFirst();
  return row ? Number(row.id) : null;
}

/**
 * Sentry's OverwritableConfigMixin, for Config-scope rows: a row whose unique key already exists
 * is kept (`Existing`) or, with overwrite_configs, written over (`Overwrite`); otherwise inserted.
 */
export async function writeConfigRow(
  row: PendingRow,
  ctx: ImportContext,
  rowScope: string,
): Promise<WriteResult> {
  const sets = uniquesWithoutForeignKeys(ctx.model);
  if (rowScope === "Config" && sets.length === 1) {
    const existing = await findByFields(ctx.store, ctx.model, sets[0], row.fields);
    if (existing !== null) {
      if (!ctx.flags.overwriteConfigs) return { pk: existing, kind: "Existing" };
      await updateFields(ctx.store, ctx.model, existing, row.fields);
      return { pk: existing, kind: "Overwrite" };
    }
  }
  const [pk] = await insertFields(ctx.store, ctx.model, [row.fields]);
  return { pk, kind: "Inserted" };
}

/**
 * Writes rows, replacing the existing row given in `replace[i]` (keeping its pk) or inserting a
 * new one. Replacement is a delete plus an insert with the same pk, so a whole batch takes two
 * statements however many rows it replaces (foreign keys are checked at commit).
 */
export async function replaceOrInsert(
  store: Store,
  model: ModelDef,
  rows: Record<string, unknown>[],
  replace: (number | undefined)[],
): Promise<number[]> {
  const ids = replace.filter((id): id is number => id !== undefined);
  for (let i = 0; i < ids.length; i += LOOKUP_CHUNK) {
    await store.db
      .deleteFrom(model.table)
      .where("id", "in", ids.slice(i, i + LOOKUP_CHUNK))
      .execute();
  }
  return insertFields(store, model, rows, replace);
}
