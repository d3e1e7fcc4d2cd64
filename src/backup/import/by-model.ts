/**
 * Sentry's `import_by_model` as a library call: imports one batch given as JSON text, with the
 * same up-front checks and error kinds. The CLI path builds its batches itself and calls
 * `importBatch` directly; this entry point serves callers that drive batches on their own (a
 * relocation worker retrying one batch, say).
 */
import { registry as defaultRegistry, type Registry } from "../../models/registry.js";
import type { Scope } from "../../models/types.js";
import type { Store } from "../../store/types.js";
import { importError, RpcImportErrorKind } from "../errors.js";
import { PrimaryKeyMap } from "../pkmap.js";
import { pkSetsByModel } from "../pkset.js";
import { type BatchEnv, finishModel, importBatch } from "./batch.js";
import type { Entry } from "./batches.js";
import type { Filter, ImportFlags } from "./context.js";
import { ImportStats } from "./stats.js";

export interface ImportByModelArgs {
  model: string;
  scope: Scope | null;
  flags: Partial<ImportFlags>;
  filters?: Filter[];
  /** Mapping of the models this one depends on; extended with this batch's rows. */
  pkMap: PrimaryKeyMap;
  /** A JSON array of export entries, all of `model`. */
  json: string;
  minOrdinal: number;
  registry?: Registry;
}

export async function importByModel(store: Store, args: ImportByModelArgs): Promise<PrimaryKeyMap> {
  const registry = args.registry ?? defaultRegistry;
  const on = { model: args.model, ordinal: null };
  if (args.minOrdinal < 1) {
    throw importError(
      RpcImportErrorKind.InvalidMinOrdinal,
      on,
      `The model \`${args.model}\` was offset with an invalid \`min_ordinal\` of \`${args.minOrdinal}\``,
    );
  }
  const model = registry.get(args.model);
  if (!model)
    throw importError(RpcImportErrorKind.UnknownModel, on, `The model \`${args.model}\` could not be found`);
  if (!args.scope) {
    throw importError(
      RpcImportErrorKind.UnspecifiedScope,
      on,
      "The RPC was called incorrectly, please set an `ImportScope` parameter",
    );
  }
  if (!args.flags.importUuid) {
    throw importError(RpcImportErrorKind.MissingImportUUID, on, "Must specify `import_uuid` when importing");
  }
  const entries = parseBatch(args.json, args.model);
  const out = new PrimaryKeyMap();
  const env: BatchEnv = {
    ctx: {
      store,
      scope: args.scope,
      flags: {
        mergeUsers: false,
        overwriteConfigs: false,
        hideOrganizations: false,
        ...args.flags,
        importUuid: args.flags.importUuid,
      },
      pkMap: args.pkMap,
      now: new Date().toISOString(),
      option: async () => null,
      inserted: pkSetsByModel(),
    },
    filters: args.filters ?? [],
    stats: new ImportStats(),
    strictReferences: false,
    seen: pkSetsByModel(),
  };
  await store.transaction(async () => {
    await importBatch({ model, entries, minOrdinal: args.minOrdinal }, env);
    // Batches come one call at a time, so there is no "after the last batch": what the model's
    // `finish` writes (a new user's primary address) is written with the batch, as Sentry does.
    await finishModel(model, env);
  });
  for (const [old, e] of args.pkMap.entries(model.name)) out.insert(model.name, old, e.pk, e.kind, e.slug);
  return out;
}

function parseBatch(json: string, modelName: string): Entry[] {
  const fail = (why: string) =>
    importError(
      RpcImportErrorKind.DeserializationFailed,
      { model: modelName, ordinal: null },
      `The submitted JSON could not be deserialized into Django model instances. ${why}`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw fail((err as Error).message);
  }
  if (!Array.isArray(parsed)) throw fail("Expected a JSON array.");
  return parsed.map((item) => {
    const v = item as { model?: unknown; pk?: unknown; fields?: unknown };
    if (typeof v?.model !== "string" || typeof v.fields !== "object")
      throw fail("Each entry needs `model` and `fields`.");
    if (v.model.toLowerCase() !== modelName) {
      throw importError(
        RpcImportErrorKind.UnexpectedModel,
        { model: v.model, ordinal: null },
        `Received model of kind \`${v.model}\` when \`${modelName}\` was expected`,
        typeof v.pk === "number" ? v.pk : null,
      );
    }
    return { pk: (v.pk as number | null) ?? null, fields: v.fields as Record<string, unknown>, offset: 0 };
  });
}
