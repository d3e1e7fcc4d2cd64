/**
 * From the reader's raw entries to batches: checks each entry's shape, applies the shims for
 * models and fields Sentry deleted, and groups consecutive entries of one model into batches of
 * at most `batchSize`, each with the 1-based ordinal of its first entry.
 */
import { legacyUpgrader } from "../../models/legacy.js";
import type { Registry } from "../../models/registry.js";
import type { ModelDef } from "../../models/types.js";
import { InputError, importError, RpcImportErrorKind } from "../errors.js";
import { mayNeedLossless, parseLossless } from "../lossless.js";
import type { RawEntry } from "../reader.js";

/**
 * Rows per batch (and per import chunk). Sentry uses 20 because each batch is an RPC; relo writes
 * in-process, where larger batches cut the per-batch queries that dominate on PostgreSQL.
 */
export const DEFAULT_BATCH_SIZE = 1000;

/** Sentry's MAX_BATCH_SIZE, for callers that want Sentry's exact chunk boundaries. */
export const SENTRY_BATCH_SIZE = 20;

export interface Entry {
  pk: number | null;
  fields: Record<string, unknown>;
  /** Byte offset of the entry in the export. */
  offset: number;
}

export interface Batch {
  model: ModelDef;
  entries: Entry[];
  /** Ordinal of `entries[0]` among all entries of the model in the export. */
  minOrdinal: number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function where(raw: RawEntry): string {
  return `entry ${raw.index + 1} (byte ${raw.offset})`;
}

/** Checks one raw entry and returns its model name and Entry, or throws an InputError. */
export function parseEntry(raw: RawEntry): { model: string; entry: Entry } {
  const v = raw.value;
  if (!isObject(v)) throw new InputError(`${where(raw)} is not a JSON object`, raw.offset);
  if (typeof v.model !== "string") {
    throw new InputError(`${where(raw)} has no "model" string`, raw.offset);
  }
  const model = v.model.toLowerCase();
  if (!model.includes(".")) {
    throw new InputError(`${where(raw)}: model name \`${v.model}\` is not of the form app.model`, raw.offset);
  }
  if (!("pk" in v)) throw new InputError(`${where(raw)} (${model}) has no "pk"`, raw.offset);
  if (v.pk !== null && !Number.isSafeInteger(v.pk)) {
    throw new InputError(
      `${where(raw)} (${model}): "pk" must be an integer, got ${JSON.stringify(v.pk)}`,
      raw.offset,
    );
  }
  const fields = v.fields ?? {};
  if (!isObject(fields))
    throw new InputError(`${where(raw)} (${model}): "fields" must be an object`, raw.offset);
  return { model, entry: { pk: v.pk as number | null, fields, offset: raw.offset } };
}

/**
 * Groups entries into batches. Ordinals count every entry of a model in the export, across
 * separate runs of that model too (Sentry restarts them per run, which makes a second run's
 * chunks collide with the first's).
 */
export async function* batches(
  raws: AsyncIterable<RawEntry>,
  registry: Registry,
  batchSize = DEFAULT_BATCH_SIZE,
): AsyncGenerator<Batch> {
  const seenPerModel = new Map<string, number>();
  // Rows of older Sentry releases, brought forward (and deleted models dropped) in export order.
  const upgrade = legacyUpgrader();
  let current: Batch | null = null;
  for await (const raw of raws) {
    const { model: name, entry } = parseEntry(raw);
    if (!upgrade(name, entry)) continue;
    const model = registry.get(name);
    if (!model) {
      throw importError(
        RpcImportErrorKind.UnknownModel,
        { model: name, ordinal: null },
        `The model \`${name}\` could not be found (${where(raw)})`,
      );
    }
    if (hasJsonField(model) && mayNeedLossless(raw.text)) keepNumberText(raw.text, model, entry);
    if (current && (current.model !== model || current.entries.length >= batchSize)) {
      yield current;
      current = null;
    }
    const seen = seenPerModel.get(name) ?? 0;
    seenPerModel.set(name, seen + 1);
    current ??= { model, entries: [], minOrdinal: seen + 1 };
    current.entries.push(entry);
  }
  if (current) yield current;
}

const withJson = new WeakMap<ModelDef, boolean>();

function hasJsonField(model: ModelDef): boolean {
  let has = withJson.get(model);
  if (has === undefined) {
    has = model.fields.some((f) => f.type === "json");
    withJson.set(model, has);
  }
  return has;
}

/**
 * Re-reads an entry's JSON fields keeping number text `JSON.parse` loses (`100.0`, big integers),
 * so that an export writes them back as they came in.
 */
function keepNumberText(text: string, model: ModelDef, entry: Entry): void {
  const parsed = parseLossless(text) as { fields?: Record<string, unknown> };
  const fields = parsed.fields;
  if (!fields || typeof fields !== "object") return;
  for (const field of model.fields) {
    if (field.type === "json" && field.name in fields) entry.fields[field.name] = fields[field.name];
  }
}
