/**
 * What a dry run does differently from an import: it goes on after a problem so that one run
 * finds them all. An entry that cannot be read as an export entry is reported and skipped; a
 * batch that fails is undone (a savepoint) and retried row by row, so each bad row is reported and
 * every good row still counts; foreign keys, which the database checks at commit, are checked
 * before the rollback. The real import stops at its first problem, as Sentry's does.
 */
import { sql } from "kysely";
import { DELETED_MODELS, type Registry } from "../../models/registry.js";
import type { ModelDef } from "../../models/types.js";
import type { Store } from "../../store/types.js";
import { ImportingError, InputError, importError, RpcImportErrorKind } from "../errors.js";
import type { RawEntry } from "../reader.js";
import { type BatchEnv, importBatch } from "./batch.js";
import { type Batch, parseEntry } from "./batches.js";
import type { ImportReport } from "./report.js";
import { DropCategory } from "./stats.js";

/**
 * Passes on the entries `batches` can group, reporting the others (no model, no pk, unknown
 * model) and the syntax error that ends the input, if any, instead of throwing.
 */
export async function* screenEntries(
  raws: AsyncIterable<RawEntry>,
  registry: Registry,
  report: ImportReport,
): AsyncGenerator<RawEntry> {
  try {
    for await (const raw of raws) {
      let name: string;
      try {
        name = parseEntry(raw).model;
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        report.problem(err);
        continue;
      }
      if (!DELETED_MODELS.has(name) && !registry.get(name)) {
        const err = importError(
          RpcImportErrorKind.UnknownModel,
          { model: name, ordinal: null },
          `The model \`${name}\` could not be found (entry ${raw.index + 1} (byte ${raw.offset}))`,
        );
        err.offset = raw.offset;
        report.problem(err);
        continue;
      }
      yield raw;
    }
  } catch (err) {
    // A syntax error ends the input: nothing after it can be read.
    if (!(err instanceof InputError)) throw err;
    report.problem(err);
  }
}

/**
 * Imports a batch in a savepoint. When it fails, its rows are imported again one by one (each in
 * a savepoint of its own), so the problem is pinned to its row and the other rows still import.
 */
export async function importBatchOrReport(
  store: Store,
  batch: Batch,
  env: BatchEnv,
  report: ImportReport,
): Promise<void> {
  const saved = env.stats.snapshot();
  try {
    await store.transaction(() => importBatch(batch, env));
    return;
  } catch (err) {
    if (!(err instanceof ImportingError)) throw err;
    env.stats.restore(saved);
    if (batch.entries.length === 1) {
      report.problem(err, batch.entries[0].pk);
      env.stats.read(batch.model.name);
      env.stats.dropped(batch.model.name, err.finding.kind, DropCategory.Invalid);
      return;
    }
  }
  for (const [i, entry] of batch.entries.entries()) {
    await importBatchOrReport(
      store,
      { model: batch.model, entries: [entry], minOrdinal: batch.minOrdinal + i },
      env,
      report,
    );
  }
}

/** Foreign keys the database enforces (Sentry's hybrid-cloud and implicit keys have no constraint). */
function constrainedKeys(registry: Registry): { model: ModelDef; column: string; target: ModelDef }[] {
  const out: { model: ModelDef; column: string; target: ModelDef }[] = [];
  for (const model of registry.ordered) {
    for (const f of model.fields) {
      if (!f.fk || f.fk.model === model.name) continue;
      if (f.fk.kind === "HybridCloudForeignKey" || f.fk.kind === "ImplicitForeignKey") continue;
      const target = registry.get(f.fk.model);
      if (target) out.push({ model, column: f.column, target });
    }
  }
  return out;
}

/**
 * PostgreSQL checks deferred foreign keys at COMMIT, where a failure is a bare database error
 * (and the id sequences were already moved). Checking them at the end of the transaction instead
 * costs the same and fails like any other import error: an IntegrityError naming the model, and
 * a rollback.
 */
export async function checkKeysBeforeCommit(store: Store, registry: Registry): Promise<void> {
  if (store.dialect !== "postgres") return;
  try {
    await sql`SET CONSTRAINTS ALL IMMEDIATE`.execute(store.db);
  } catch (err) {
    const message = (err as Error).message;
    const table = /on table "([^"]+)"/.exec(message)?.[1];
    const model = registry.ordered.find((m) => m.table === table)?.name ?? table ?? "";
    throw importError(RpcImportErrorKind.IntegrityError, { model, ordinal: null }, message);
  }
}

/**
 * The checks a commit would run: foreign keys are deferred to commit, and a dry run never
 * commits. SQLite lists violations itself; PostgreSQL is asked to check now, and only if that
 * fails is each constraint searched for the rows that break it.
 */
export async function checkDeferredKeys(
  store: Store,
  registry: Registry,
  report: ImportReport,
): Promise<void> {
  let failure: unknown = null;
  if (store.dialect === "postgres") {
    try {
      await store.transaction(() => sql`SET CONSTRAINTS ALL IMMEDIATE`.execute(store.db));
      return;
    } catch (err) {
      failure = err; // some constraint fails: find every row that breaks one, below
    }
  } else {
    const { rows } = await sql`PRAGMA foreign_key_check`.execute(store.db);
    if (rows.length === 0) return;
  }
  const before = report.problems.size;
  for (const { model, column, target } of constrainedKeys(registry)) {
    const { rows } = await sql<{
      id: number;
      ref: number;
    }>`SELECT t."id" AS id, t.${sql.ref(column)} AS ref FROM ${sql.table(model.table)} t WHERE t.${sql.ref(column)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${sql.table(target.table)} p WHERE p."id" = t.${sql.ref(column)})`.execute(
      store.db,
    );
    for (const r of rows) {
      report.problem(
        importError(
          RpcImportErrorKind.IntegrityError,
          { model: model.name, ordinal: null },
          `row ${r.id} of ${model.table}: \`${column}\` references ${target.name} pk ${r.ref}, which does not exist (a commit would fail)`,
        ),
      );
    }
  }
  if (report.problems.size === before) {
    const message = failure instanceof Error ? failure.message : "a deferred constraint fails";
    report.problem(
      importError(
        RpcImportErrorKind.IntegrityError,
        { model: "", ordinal: null },
        `a commit would fail: ${message}`,
      ),
    );
  }
}
