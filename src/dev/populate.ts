/**
 * `relo dev populate`: fills a database with a deterministic instance, every model relo can
 * export, each field with a non-default value (nullable fields included), so that an export, a
 * round trip or a benchmark exercises every column. The same seed gives the same rows.
 *
 * Values come from each field's type and name (addresses for email fields, slugs for slugs,
 * non-ASCII text, floats with integral values, IPv4 and IPv6), plus a model's `populate` hook
 * where the model has rules of its own. Foreign keys spread over the target's rows so that unique
 * sets of keys stay unique. Rows get pks 1..n per model, written in one transaction.
 */

import { PyNumber } from "../backup/pyjson.js";
import { registry as defaultRegistry, type Registry } from "../models/registry.js";
import type { FieldDef, ModelDef, PopulateContext } from "../models/types.js";
import { toDb } from "../store/codec.js";
import type { Store } from "../store/types.js";
import { prng } from "./prng.js";

export interface PopulateOptions {
  seed: number;
  /** Rows per model (default 3). */
  rows?: number;
  /** Called after each model with the rows written. */
  onModel?: (model: string, rows: number) => void;
}

export interface PopulateResult {
  models: { model: string; rows: number }[];
  rows: number;
  /** Models left empty, with the reason. */
  skipped: { model: string; reason: string }[];
}

const CHUNK = 1000;

export async function populate(
  store: Store,
  opts: PopulateOptions,
  reg: Registry = defaultRegistry,
): Promise<PopulateResult> {
  await store.migrate();
  const random = prng(opts.seed);
  const counts = new Map<string, number>();
  const ctx: PopulateContext = {
    random,
    hex: (n) => {
      let out = "";
      for (let i = 0; i < n; i++) out += Math.floor(random() * 16).toString(16);
      return out;
    },
    count: (model) => counts.get(model) ?? 0,
  };
  const result: PopulateResult = { models: [], rows: 0, skipped: [] };
  await store.transaction(async () => {
    for (const model of reg.relocatable()) {
      const missing = model.fields.find(
        (f) => f.fk && !f.nullable && f.fk.model !== model.name && !ctx.count(f.fk.model),
      );
      if (missing) {
        result.skipped.push({
          model: model.name,
          reason: `no ${missing.fk!.model} rows for \`${missing.name}\``,
        });
        continue;
      }
      const n = await populateModel(store, model, opts.rows ?? 3, ctx, opts.seed);
      counts.set(model.name, n);
      result.models.push({ model: model.name, rows: n });
      result.rows += n;
      opts.onModel?.(model.name, n);
    }
  });
  return result;
}

async function populateModel(
  store: Store,
  model: ModelDef,
  rows: number,
  ctx: PopulateContext,
  seed: number,
): Promise<number> {
  const columns = ["id", ...model.fields.map((f) => f.column)];
  const uniques = model.uniques.map((set) => ({ set, seen: new Set<string>() }));
  const strides = fkStrides(model, ctx);
  let batch: unknown[][] = [];
  let pk = 0;
  for (let i = 0; i < rows; i++) {
    const fields: Record<string, unknown> = {};
    for (const field of model.fields) fields[field.name] = genericValue(field, model, i, ctx, seed, strides);
    Object.assign(fields, model.populate?.(i, ctx));
    const keys = uniques.map((u) => JSON.stringify(u.set.map((f) => fields[f])));
    if (uniques.some((u, k) => u.seen.has(keys[k]))) continue;
    for (let k = 0; k < uniques.length; k++) uniques[k].seen.add(keys[k]);
    pk++;
    batch.push([pk, ...model.fields.map((f) => toDb(f, fields[f.name], store.dialect))]);
    if (batch.length >= CHUNK) {
      await store.insertRows(model.table, columns, batch);
      batch = [];
    }
  }
  if (batch.length > 0) await store.insertRows(model.table, columns, batch);
  if (pk > 0) {
    await store.claimIds(
      model.table,
      Array.from({ length: pk }, (_, k) => k + 1),
    );
  }
  return pk;
}

/**
 * Row i's foreign keys enumerate combinations: the first key cycles fastest, the next one steps
 * once per full cycle of the first, and so on, so that rows differ in their key tuples.
 */
function fkStrides(model: ModelDef, ctx: PopulateContext): Map<string, { stride: number; count: number }> {
  const out = new Map<string, { stride: number; count: number }>();
  let stride = 1;
  for (const f of model.fields) {
    if (!f.fk || f.fk.model === model.name) continue;
    const count = ctx.count(f.fk.model);
    if (count === 0) continue;
    out.set(f.name, { stride, count });
    stride *= count;
  }
  return out;
}

function shortName(model: ModelDef): string {
  return model.name.split(".")[1];
}

function genericValue(
  field: FieldDef,
  model: ModelDef,
  i: number,
  ctx: PopulateContext,
  seed: number,
  strides: Map<string, { stride: number; count: number }>,
): unknown {
  if (field.fk) {
    if (field.fk.model === model.name) return i > 0 ? i : null;
    const s = strides.get(field.name);
    if (!s) return null;
    return (Math.floor(i / s.stride) % s.count) + 1;
  }
  const name = field.name;
  const tag = `${shortName(model)}-${i}`;
  switch (field.type) {
    case "int":
    case "bigint":
      return 1 + Math.floor(ctx.random() * 1000);
    case "float":
      // Every other float is integral: Sentry writes those as `3.0`, JavaScript as `3`.
      return i % 2 === 0 ? i + 2 : Math.round(ctx.random() * 1e4) / 100 + 0.25;
    case "bool":
      return typeof field.default === "boolean" ? !field.default : i % 2 === 0;
    case "datetime":
      return new Date(
        Date.UTC(2024, 0, 1) + seed * 3_600_000 + i * 86_400_000 + Math.floor(ctx.random() * 86_400_000),
      ).toISOString();
    case "date":
      return new Date(Date.UTC(2024, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
    case "json":
      return {
        key: `${name}-${i}`,
        count: i + 1,
        ratio: new PyNumber("1.0"),
        nested: { list: [1, "caf\u00e9"] },
      };
    case "bitfield":
      return String(1 + (i % 3));
    case "uuid":
      return uuid4(ctx);
    case "ip":
      return i % 2 === 0 ? `10.0.${(i >> 8) & 255}.${i & 255}` : `2001:db8::${(i + 1).toString(16)}`;
    case "decimal":
      return `${i + 1}.50`;
    default:
      return clip(stringValue(field, tag, i, ctx), field.maxLength);
  }
}

function stringValue(field: FieldDef, tag: string, i: number, ctx: PopulateContext): string {
  const name = field.name;
  if (name.includes("email")) return `${tag}@example.com`;
  if (name.endsWith("slug")) return tag;
  if (name.endsWith("url") || name.endsWith("uri")) return `https://example.com/${tag}`;
  if (field.type === "text") return `${name} ${i} \u2014 caf\u00e9 \u2615 \ud83d\ude00 ${ctx.hex(6)}`;
  return `${name}-${tag}-${ctx.hex(4)}`;
}

function clip(value: string, max?: number): string {
  return max !== undefined && value.length > max ? value.slice(value.length - max) : value;
}

function uuid4(ctx: PopulateContext): string {
  const h = ctx.hex(32).split("");
  h[12] = "4";
  h[16] = "89ab"[Math.floor(ctx.random() * 4)];
  const s = h.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}
