/**
 * Sentry's import flow, in order: build filters (a pre-read of the export when a selection was
 * given), then in one transaction: clear the tables (Global scope), import every batch in file
 * order, reconcile organization slugs against the slug reservations, and
 * write the organization auth tokens that were held back until the slugs were final. After the
 * commit, every row the report claims is counted again (verification).
 *
 * Unlike Sentry, the slug reconciliation and the auth tokens are inside the transaction too, so a
 * failure anywhere leaves the database exactly as it was. A dry run does all of it and rolls back.
 */
import { randomUUID } from "node:crypto";
import { reconcileOrgSlugs } from "../../control/slugs.js";
import { registry as defaultRegistry, type Registry } from "../../models/registry.js";
import type { Scope } from "../../models/types.js";
import { fromDb } from "../../store/codec.js";
import type { Store } from "../../store/types.js";
import { ReloError } from "../errors.js";
import { buildFilters } from "../filters.js";
import { PrimaryKeyMap } from "../pkmap.js";
import { pkSetsByModel } from "../pkset.js";
import { type RawEntry, readEntries } from "../reader.js";
import { type BatchEnv, finishModel, importBatch } from "./batch.js";
import { type Batch, batches, DEFAULT_BATCH_SIZE } from "./batches.js";
import { ChunkBuffer } from "./chunks.js";
import type { Filter, ImportFlags } from "./context.js";
import { checkDeferredKeys, checkKeysBeforeCommit, importBatchOrReport, screenEntries } from "./dry-run.js";
import { ImportReport } from "./report.js";
import type { ImportStats } from "./stats.js";
import { VerificationError, verifyWritten } from "./verify.js";

/** A re-readable export: each call to `open` reads it from the start. */
export interface Source {
  open(): AsyncIterable<Uint8Array>;
}

export interface ImportOptions {
  scope: Scope;
  flags?: Partial<ImportFlags>;
  /** The user's selection: organizations by slug or users by username. */
  filterBy?: Filter | null;
  batchSize?: number;
  registry?: Registry;
  /** Called after each batch, for progress displays. */
  onBatch?: (model: string, rows: number) => void;
  /** Called when the selection pre-read has counted the export's entries per model. */
  onTotals?: (perModel: Map<string, number>) => void;
  /**
   * Run the whole import, then roll it back: the database is left untouched, and every problem is
   * collected in the report instead of failing at the first.
   */
  dryRun?: boolean;
  /** Where the outcome is recorded; pass one to read it when the import throws. */
  report?: ImportReport;
}

export interface ImportResult {
  importUuid: string;
  pkMap: PrimaryKeyMap;
  stats: ImportStats;
  report: ImportReport;
}

/** Thrown inside a dry run's transaction to roll it back. */
class DryRunRollback extends Error {}

/** Models whose batches wait until every other model and the org slugs are done. */
const DEFERRED_MODELS = new Set(["sentry.orgauthtoken"]);

export function defaultFlags(flags: Partial<ImportFlags> = {}): ImportFlags {
  return {
    mergeUsers: flags.mergeUsers ?? false,
    overwriteConfigs: flags.overwriteConfigs ?? false,
    importUuid: flags.importUuid ?? randomUUID().replace(/-/g, ""),
    hideOrganizations: flags.hideOrganizations ?? false,
  };
}

/**
 * Imports an export. Throws an ImportingError (or another ReloError) for bad input, leaving the
 * database as it was, and a VerificationError when the recount after commit disagrees. A dry run
 * throws only for failures that are not the input's; its problems are in `report.problems`.
 */
export async function importExport(store: Store, source: Source, opts: ImportOptions): Promise<ImportResult> {
  const registry = opts.registry ?? defaultRegistry;
  const flags = defaultFlags(opts.flags);
  const report = opts.report ?? new ImportReport();
  report.importUuid = flags.importUuid;
  report.scope = opts.scope;
  report.dryRun = opts.dryRun ?? false;
  report.store = store;
  const pkMap = new PrimaryKeyMap();
  const result = { importUuid: flags.importUuid, pkMap, stats: report.stats, report };
  try {
    const filters = await selection(source, opts, report);
    if (filters === null) {
      report.outcome = "dry run";
      return result;
    }
    const env: BatchEnv = {
      ctx: {
        store,
        scope: opts.scope,
        flags,
        pkMap,
        now: new Date().toISOString(),
        option: optionReader(store),
        inserted: pkSetsByModel(),
      },
      filters,
      stats: report.stats,
      resuming: opts.flags?.importUuid !== undefined,
      // A dry run rolls back a failed batch's savepoint, which must take its chunk with it.
      chunks: opts.dryRun ? undefined : new ChunkBuffer(store),
      seen: pkSetsByModel(),
      observer: report,
      onProblem: report.dryRun ? (err) => report.problem(err) : undefined,
    };
    if (report.dryRun) await dryRun(store, source, registry, env, opts, report);
    else {
      await store.transaction(async () => {
        await writePhase(store, source, registry, env, opts, report);
        await checkKeysBeforeCommit(store, registry);
      });
      report.outcome = "committed";
      report.mapping?.commit();
      report.verification = await verifyWritten(store, report.writtenPks);
      if (!report.verification.ok) throw new VerificationError(report.verification, true);
    }
  } catch (err) {
    if (report.outcome === "running") {
      report.outcome = "rolled back";
      report.problem(err);
    }
    throw err;
  }
  return result;
}

/**
 * The filters of the user's selection, from a pre-read of the export (which also counts its
 * entries, for progress). Null when a dry run found the export unreadable.
 */
async function selection(
  source: Source,
  opts: ImportOptions,
  report: ImportReport,
): Promise<Filter[] | null> {
  if (!opts.filterBy) return [];
  const perModel = new Map<string, number>();
  try {
    const filters = await buildFilters(opts.filterBy, counted(readEntries(source.open()), perModel));
    opts.onTotals?.(perModel);
    return filters;
  } catch (err) {
    if (!report.dryRun || !(err instanceof ReloError)) throw err;
    report.problem(err);
    return null;
  }
}

async function* counted(
  raws: AsyncIterable<RawEntry>,
  perModel: Map<string, number>,
): AsyncGenerator<RawEntry> {
  for await (const raw of raws) {
    const model = (raw.value as { model?: unknown } | null)?.model;
    if (typeof model === "string") {
      const name = model.toLowerCase();
      perModel.set(name, (perModel.get(name) ?? 0) + 1);
    }
    yield raw;
  }
}

/** The whole import and the checks a commit would make, then a rollback. */
async function dryRun(
  store: Store,
  source: Source,
  registry: Registry,
  env: BatchEnv,
  opts: ImportOptions,
  report: ImportReport,
): Promise<void> {
  try {
    await store.transaction(async () => {
      await writePhase(store, source, registry, env, opts, report);
      await checkDeferredKeys(store, registry, report);
      report.verification = await verifyWritten(store, report.writtenPks);
      if (!report.verification.ok) report.problem(new VerificationError(report.verification, false));
      throw new DryRunRollback();
    });
  } catch (err) {
    if (!(err instanceof DryRunRollback)) throw err;
  }
  report.outcome = "dry run";
  report.mapping?.commit();
}

async function writePhase(
  store: Store,
  source: Source,
  registry: Registry,
  env: BatchEnv,
  opts: ImportOptions,
  report: ImportReport,
): Promise<void> {
  if (opts.scope === "Global") await clearTables(store, registry);
  const deferred: Batch[] = [];
  const raws = readEntries(source.open());
  for await (const batch of batches(
    report.dryRun ? screenEntries(raws, registry, report) : raws,
    registry,
    opts.batchSize ?? DEFAULT_BATCH_SIZE,
  )) {
    if (DEFERRED_MODELS.has(batch.model.name)) {
      deferred.push(batch);
      continue;
    }
    await runBatch(store, batch, env, opts, report);
  }
  await finishModels(registry, env);
  await reconcileOrgSlugs(store, env.ctx.pkMap, env.ctx.now);
  report.slugsFinal(env.ctx.pkMap);
  for (const batch of deferred) await runBatch(store, batch, env, opts, report);
  await env.chunks?.flush();
}

/** Runs the `finish` hook of every model, in import order. */
async function finishModels(registry: Registry, env: BatchEnv): Promise<void> {
  for (const model of registry.ordered) await finishModel(model, env);
}

async function runBatch(
  store: Store,
  batch: Batch,
  env: BatchEnv,
  opts: ImportOptions,
  report: ImportReport,
): Promise<void> {
  if (report.dryRun) await importBatchOrReport(store, batch, env, report);
  else await importBatch(batch, env);
  opts.onBatch?.(batch.model.name, batch.entries.length);
}

/** Global imports restore a whole instance: every table is emptied first, dependants first. */
async function clearTables(store: Store, registry: Registry): Promise<void> {
  await store.truncate([...registry.ordered].reverse().map((m) => m.table));
}

/** Reads instance options (region `sentry.option`, then control `sentry.controloption`) by key. */
function optionReader(store: Store): (key: string) => Promise<unknown> {
  const cache = new Map<string, unknown>();
  return async (key) => {
    if (cache.has(key)) return cache.get(key);
    let value: unknown = null;
    for (const table of ["sentry_option", "sentry_controloption"]) {
      const row = await store.db.selectFrom(table).select("value").where("key", "=", key).executeTakeFirst();
      if (row) {
        value = fromDb({ name: "value", column: "value", type: "json", nullable: true }, row.value);
        break;
      }
    }
    cache.set(key, value);
    return value;
  };
}

export type { RawEntry };
