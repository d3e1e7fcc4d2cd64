/**
 * Sentry's import flow, in order: build filters (a pre-read of the export when a selection was
 * given), then in one transaction: clear the tables (Global scope), import every batch in file
 * order, reconcile organization slugs against the slug reservations, and
 * write the organization auth tokens that were held back until the slugs were final.
 *
 * Unlike Sentry, the slug reconciliation and the auth tokens are inside the transaction too, so a
 * failure anywhere leaves the database exactly as it was.
 */
import { randomUUID } from "node:crypto";
import { reconcileOrgSlugs } from "../../control/slugs.js";
import { registry as defaultRegistry, type Registry } from "../../models/registry.js";
import type { Scope } from "../../models/types.js";
import { fromDb } from "../../store/codec.js";
import type { Store } from "../../store/types.js";
import { buildFilters } from "../filters.js";
import { PrimaryKeyMap } from "../pkmap.js";
import { pkSetsByModel } from "../pkset.js";
import { type RawEntry, readEntries } from "../reader.js";
import { type BatchEnv, importBatch } from "./batch.js";
import { type Batch, batches, DEFAULT_BATCH_SIZE } from "./batches.js";
import type { Filter, ImportFlags } from "./context.js";
import { ImportStats } from "./stats.js";

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
}

export interface ImportResult {
  importUuid: string;
  pkMap: PrimaryKeyMap;
  stats: ImportStats;
}

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

export async function importExport(store: Store, source: Source, opts: ImportOptions): Promise<ImportResult> {
  const registry = opts.registry ?? defaultRegistry;
  const flags = defaultFlags(opts.flags);
  const filters = opts.filterBy ? await buildFilters(opts.filterBy, readEntries(source.open())) : [];
  const pkMap = new PrimaryKeyMap();
  const stats = new ImportStats();
  const env: BatchEnv = {
    ctx: {
      store,
      scope: opts.scope,
      flags,
      pkMap,
      now: new Date().toISOString(),
      option: optionReader(store),
    },
    filters,
    stats,
    resuming: opts.flags?.importUuid !== undefined,
    seen: pkSetsByModel(),
  };
  await store.transaction(async () => {
    if (opts.scope === "Global") await clearTables(store, registry);
    const deferred: Batch[] = [];
    for await (const batch of batches(
      readEntries(source.open()),
      registry,
      opts.batchSize ?? DEFAULT_BATCH_SIZE,
    )) {
      if (DEFERRED_MODELS.has(batch.model.name)) {
        deferred.push(batch);
        continue;
      }
      await runBatch(batch, env, opts);
    }
    await reconcileOrgSlugs(store, pkMap, env.ctx.now);
    for (const batch of deferred) await runBatch(batch, env, opts);
  });
  return { importUuid: flags.importUuid, pkMap, stats };
}

async function runBatch(batch: Batch, env: BatchEnv, opts: ImportOptions): Promise<void> {
  await importBatch(batch, env);
  opts.onBatch?.(batch.model.name, batch.entries.length);
}

/** Global imports restore a whole instance: every table is emptied first, dependants first. */
async function clearTables(store: Store, registry: Registry): Promise<void> {
  for (const model of [...registry.ordered].reverse()) await store.truncate(model.table);
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
