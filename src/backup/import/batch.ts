/**
 * Imports one batch: Sentry's `import_by_model`. Each entry is checked against the scope and the
 * filters, deserialized, normalized (foreign keys remapped, then the model's hook) and written
 * (the model's hook or a plain insert); the batch's chunk records what was written.
 */
import { ACCEPTED_SCOPES, possibleScopes, registry } from "../../models/registry.js";
import type { ModelDef, RelocationScope } from "../../models/types.js";
import { ImportingError, importError, RpcImportErrorKind } from "../errors.js";
import type { InstanceID } from "../findings.js";
import type { PkSet } from "../pkset.js";
import type { Batch, Entry } from "./batches.js";
import { type Chunk, type ChunkBuffer, findChunk, writeChunk } from "./chunks.js";
import type { Filter, ImportContext, PendingRow, WriteResult } from "./context.js";
import { deserializeFields, FieldError } from "./deserialize.js";
import { type Drop, DropCategory, type ImportStats } from "./stats.js";
import { insertAll, writeConfigRow } from "./write.js";

export interface BatchEnv {
  ctx: Omit<ImportContext, "model">;
  filters: Filter[];
  stats: ImportStats;
  /** Every pk read so far, per model: tells a dangling reference from a dropped one. */
  seen: (model: string) => PkSet;
  /**
   * When false, a reference to a row that was never read drops the row (Sentry's behavior)
   * instead of failing the import.
   */
  strictReferences?: boolean;
  /** False when the import id is new, so no chunk can exist yet and the lookup is skipped. */
  resuming?: boolean;
  /** Where chunks are collected until the caller flushes them; written at once without it. */
  chunks?: ChunkBuffer;
  /**
   * Dry runs: a row that fails its checks is reported here and dropped, and the batch goes on,
   * so that one run finds every bad row. Without it the first bad row fails the batch.
   */
  onProblem?: (err: ImportingError) => void;
  /** Told about every row written (and every row a resumed import finds already written). */
  observer?: BatchObserver;
}

/** Watches what batches write: the report, the mapping file and verification build on it. */
export interface BatchObserver {
  /** Rows of one batch as written, after its chunk is recorded; a null result was skipped. */
  written(model: ModelDef, rows: PendingRow[], results: WriteResult[]): void | Promise<void>;
  /** A batch an earlier run of the same import id wrote: its entries and the recorded chunk. */
  replayed(model: ModelDef, entries: Entry[], chunk: Chunk): void | Promise<void>;
}

/** Where an entry sits, for error messages. */
function failure(
  model: ModelDef,
  ordinal: number,
  entry: Entry,
  kind: string,
  reason: string,
): ImportingError {
  const err = importError(kind as RpcImportErrorKind, { model: model.name, ordinal }, reason, entry.pk);
  err.offset = entry.offset;
  return err;
}

function passesFilters(model: ModelDef, entry: Entry, filters: Filter[]): boolean {
  for (const f of filters) {
    if (f.model !== model.name) continue;
    const value = f.field === "pk" ? entry.pk : entry.fields[f.field];
    if (!f.values.has(value as string | number)) return false;
  }
  return true;
}

/**
 * Sentry's default normalization: every non-null foreign key is replaced by the new pk of its
 * target. A target that was read but not imported drops the row; a target that is not in the
 * export at all is an error, since the export is broken.
 */
function remapForeignKeys(model: ModelDef, row: PendingRow, env: BatchEnv, entry: Entry): Drop | undefined {
  for (const field of model.fields) {
    if (!field.fk || field.fk.model === model.name) continue;
    const name = field.name;
    const old = row.fields[name];
    if (old === null || old === undefined) continue;
    const pk = env.ctx.pkMap.getPk(field.fk.model, old as number);
    if (pk !== null) {
      row.fields[name] = pk;
      continue;
    }
    if (field.clearIfUnmapped) {
      row.fields[name] = null;
      continue;
    }
    // Rows of Excluded models are never exported, so a reference to one cannot be checked.
    const checkable = possibleScopes(registry.get(field.fk.model) ?? model).every((s) => s !== "Excluded");
    if (env.strictReferences !== false && checkable && !env.seen(field.fk.model).has(old as number)) {
      throw failure(
        model,
        row.ordinal,
        entry,
        RpcImportErrorKind.ValidationError,
        `\`${field.name}\` references ${field.fk.model} pk ${old}, which is not in the export before it`,
      );
    }
    return {
      category: DropCategory.ForeignKeyNotImported,
      reason: `references a ${field.fk.model} that was not imported`,
    };
  }
  return undefined;
}

function rowScope(model: ModelDef, fields: Record<string, unknown>): RelocationScope {
  return model.instanceScope ? model.instanceScope(fields) : possibleScopes(model)[0];
}

const OUT_OF_SCOPE: Drop = { category: DropCategory.OutOfScope, reason: "out of scope" };
const FILTERED: Drop = { category: DropCategory.Filtered, reason: "filtered" };
const NO_PK: Drop = { category: DropCategory.NoPk, reason: "no pk" };

function isDrop(v: PendingRow | Drop): v is Drop {
  return "category" in v;
}

/** Checks, deserializes and normalizes one entry, or says why it was dropped. */
async function prepare(
  model: ModelDef,
  entry: Entry,
  ordinal: number,
  env: BatchEnv,
  ctx: ImportContext,
): Promise<PendingRow | Drop> {
  const accepted = ACCEPTED_SCOPES[ctx.scope];
  if (!possibleScopes(model).some((s) => accepted.has(s))) return OUT_OF_SCOPE;
  if (!passesFilters(model, entry, env.filters)) return FILTERED;
  if (entry.pk === null) return NO_PK;
  let fields: Record<string, unknown>;
  try {
    fields = deserializeFields(model, entry.fields);
  } catch (err) {
    if (!(err instanceof FieldError)) throw err;
    if (err.isValidation)
      throw failure(model, ordinal, entry, RpcImportErrorKind.ValidationError, err.message);
    throw failure(
      model,
      ordinal,
      entry,
      RpcImportErrorKind.DeserializationFailed,
      `The submitted JSON could not be deserialized into Django model instances. ${err.message}`,
    );
  }
  // `source` is the entry's own field object, which nothing writes to after this point.
  const row: PendingRow = { ordinal, oldPk: entry.pk, fields, source: entry.fields };
  const dropped = remapForeignKeys(model, row, env, entry);
  if (dropped) return dropped;
  try {
    const reason = await model.normalize?.(row, ctx);
    if (reason) return { category: DropCategory.ModelRule, reason };
  } catch (err) {
    if (err instanceof FieldError) {
      throw failure(model, ordinal, entry, RpcImportErrorKind.ValidationError, err.message);
    }
    throw err;
  }
  if (!accepted.has(rowScope(model, row.fields))) return OUT_OF_SCOPE;
  return row;
}

async function write(rows: PendingRow[], ctx: ImportContext): Promise<WriteResult[]> {
  const model = ctx.model;
  if (model.write) return model.write(rows, ctx);
  if (model.overwritableConfig) {
    const out: WriteResult[] = [];
    for (const row of rows) out.push(await writeConfigRow(row, ctx, rowScope(model, row.fields)));
    return out;
  }
  return insertAll(rows, ctx);
}

async function replay(chunk: Chunk, entries: Entry[], env: BatchEnv, model: ModelDef): Promise<void> {
  for (const e of chunk.entries) {
    env.ctx.pkMap.insert(model.name, e.oldPk, e.pk, e.kind, e.slug);
    env.stats.wrote(model.name, e.kind);
  }
  await env.observer?.replayed(model, entries, chunk);
}

/** `prepare`, except that in a dry run a bad row is reported and dropped instead of thrown. */
async function prepareOrReport(
  model: ModelDef,
  entry: Entry,
  ordinal: number,
  env: BatchEnv,
  ctx: ImportContext,
): Promise<PendingRow | Drop> {
  if (!env.onProblem) return prepare(model, entry, ordinal, env, ctx);
  try {
    return await prepare(model, entry, ordinal, env, ctx);
  } catch (err) {
    if (!(err instanceof ImportingError)) throw err;
    env.onProblem(err);
    return { category: DropCategory.Invalid, reason: err.finding.kind };
  }
}

/** Imports a batch; returns the number of rows written. Every failure is an ImportingError. */
export async function importBatch(batch: Batch, env: BatchEnv): Promise<number> {
  try {
    return await importBatchRows(batch, env);
  } catch (err) {
    if (err instanceof ImportingError) throw err;
    throw asImportError(
      err,
      { model: batch.model.name, ordinal: batch.minOrdinal },
      batch.entries[0]?.offset,
    );
  }
}

/**
 * Runs a model's `finish` hook (after the last batch) when this import inserted rows of it; its
 * failures are import errors like a batch's.
 */
export async function finishModel(model: ModelDef, env: BatchEnv): Promise<void> {
  if (!model.finish || env.ctx.inserted(model.name).size === 0) return;
  try {
    await model.finish({ ...env.ctx, model });
  } catch (err) {
    if (err instanceof ImportingError) throw err;
    throw asImportError(err, { model: model.name, ordinal: null });
  }
}

/** Maps a database or internal error to Sentry's error kinds, naming where it happened. */
function asImportError(err: unknown, on: InstanceID, offset?: number): ImportingError {
  const e = err as { code?: string; message?: string; stack?: string };
  const message = e.message ?? String(err);
  let result: ImportingError;
  if (e.code === "23505" || e.code === "23503" || e.code?.startsWith("SQLITE_CONSTRAINT")) {
    result = importError(RpcImportErrorKind.IntegrityError, on, message);
  } else if (e.code && (/^[0-9A-Z]{5}$/.test(e.code) || e.code.startsWith("SQLITE_"))) {
    result = importError(RpcImportErrorKind.DatabaseError, on, message);
  } else {
    result = importError(
      RpcImportErrorKind.Unknown,
      on,
      `Unknown internal error occurred: ${e.stack ?? message}`,
    );
  }
  result.offset = offset;
  return result;
}

async function importBatchRows(batch: Batch, env: BatchEnv): Promise<number> {
  const { model, entries, minOrdinal } = batch;
  const ctx: ImportContext = { ...env.ctx, model };
  const seen = env.seen(model.name);
  env.stats.read(model.name, entries.length);
  if (env.resuming !== false) await env.chunks?.flush();
  const existing =
    env.resuming === false ? null : await findChunk(ctx.store, model, ctx.flags.importUuid, minOrdinal);
  if (existing) {
    for (const e of entries) if (e.pk !== null) seen.add(e.pk);
    await replay(existing, entries, env, model);
    return 0;
  }
  const rows: PendingRow[] = [];
  const rowEntries: Entry[] = [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i];
    const prepared = await prepareOrReport(model, entry, minOrdinal + i, env, ctx);
    if (entry.pk !== null) seen.add(entry.pk);
    if (isDrop(prepared)) env.stats.dropped(model.name, prepared.reason, prepared.category);
    else {
      rows.push(prepared);
      rowEntries.push(entry);
    }
  }
  if (rows.length === 0) return 0;
  const results = await writeRows(rows, rowEntries, ctx);
  return record(model, rows, results, env, ctx, minOrdinal);
}

async function writeRows(rows: PendingRow[], entries: Entry[], ctx: ImportContext): Promise<WriteResult[]> {
  try {
    return await write(rows, ctx);
  } catch (err) {
    if (err instanceof FieldError) {
      const i = Math.max(0, err.row ? rows.indexOf(err.row) : 0);
      throw failure(ctx.model, rows[i].ordinal, entries[i], RpcImportErrorKind.ValidationError, err.message);
    }
    throw err;
  }
}

async function record(
  model: ModelDef,
  rows: PendingRow[],
  results: WriteResult[],
  env: BatchEnv,
  ctx: ImportContext,
  minOrdinal: number,
): Promise<number> {
  const slugField = model.fields.some((f) => f.name === "slug");
  const inserted = ctx.inserted(model.name);
  const chunk: Chunk = {
    importUuid: ctx.flags.importUuid,
    model: model.name,
    minOrdinal,
    maxOrdinal: minOrdinal - 1,
    minSourcePk: 0,
    maxSourcePk: 0,
    minInsertedPk: null,
    maxInsertedPk: null,
    entries: [],
  };
  rows.forEach((row, i) => {
    const result = results[i];
    if (!result) {
      env.stats.dropped(model.name, "skipped by the model's write rule");
      return;
    }
    const slug = slugField ? ((row.fields.slug as string | null) ?? null) : null;
    ctx.pkMap.insert(model.name, row.oldPk, result.pk, result.kind, slug);
    if (result.kind === "Inserted") inserted.add(result.pk);
    env.stats.wrote(model.name, result.kind);
    chunk.entries.push({ oldPk: row.oldPk, pk: result.pk, kind: result.kind, slug });
    chunk.maxOrdinal++;
    if (chunk.minSourcePk === 0) chunk.minSourcePk = row.oldPk;
    chunk.maxSourcePk = Math.max(chunk.maxSourcePk, row.oldPk);
    if (result.kind === "Inserted") {
      chunk.minInsertedPk ??= result.pk;
      chunk.maxInsertedPk = Math.max(chunk.maxInsertedPk ?? result.pk, result.pk);
    }
  });
  if (chunk.entries.length > 0) {
    if (env.chunks) await env.chunks.add(model, chunk, ctx.now);
    else await writeChunk(ctx.store, model, chunk, ctx.now);
  }
  await env.observer?.written(model, rows, results);
  return chunk.entries.length;
}
