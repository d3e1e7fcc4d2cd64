/**
 * `relo export`: writes every row the scope carries, model by model in Sentry's dependency order,
 * as one JSON array in Sentry's exact layout. Reads one consistent snapshot and streams: a model
 * is read a chunk at a time and written with backpressure.
 *
 * A row is exported when its own scope is admitted, it passes the scope's filter, and every
 * foreign key it holds points at a row exported before it (otherwise an upstream row was filtered
 * out, and this one goes too). Sentry drops an organization member whose inviter is not exported
 * in non-Global scopes; relo keeps it, as Sentry's own row check intends (docs/compatibility.md).
 */
import type { Writable } from "node:stream";
import { ACCEPTED_SCOPES, registry } from "../../models/registry.js";
import type { Instance, ModelDef } from "../../models/types.js";
import type { Store } from "../../store/types.js";
import { ExportingError, exportError, ReloError, RpcExportErrorKind } from "../errors.js";
import { parseStoredJson } from "../lossless.js";
import { pkSetsByModel } from "../pkset.js";
import type { ExportContext, ExportOptions, ExportResult } from "./context.js";
import { type Filters, resolveFilters } from "./filters.js";
import { EntryFormatter } from "./format.js";
import { type Row, selectRows } from "./select.js";
import { Sink } from "./sink.js";

export async function exportScope(store: Store, out: Writable, opts: ExportOptions): Promise<ExportResult> {
  const indent = opts.indent === undefined ? 2 : opts.indent;
  const lineStart = indent === null ? "" : `\n${" ".repeat(indent)}`;
  const ctx: ExportContext = { store, scope: opts.scope, exported: pkSetsByModel() };
  const sink = new Sink(out);
  const result: ExportResult = { models: [], rows: 0, bytes: 0 };
  const separator = `,${lineStart}`;
  await store.readSnapshot(async () => {
    const filters = await resolveFilters(store, opts);
    for (const model of registry.inScope(opts.scope)) {
      const keep = await rowFilter(model, ctx, filters);
      const format = new EntryFormatter(model, indent);
      let rows = 0;
      try {
        for await (const chunk of selectRows(store, model)) {
          for (const row of chunk) {
            if (!keep(row)) continue;
            ctx.exported(model.name).add(row.pk);
            const lead = result.rows === 0 ? `[${lineStart}` : separator;
            if (sink.write(lead + format.format(row.pk, row.values))) await sink.flush();
            result.rows++;
            rows++;
          }
          opts.onRows?.(result.rows);
        }
      } catch (err) {
        throw asExportError(err, model);
      }
      result.models.push({ model: model.name, rows });
    }
  });
  sink.write(result.rows === 0 ? "[]" : indent === null ? "]" : "\n]");
  await sink.flush();
  result.bytes = sink.bytes;
  return result;
}

type RowCheck = (row: Row) => boolean;

/** Everything that decides whether one row of `model` is exported. */
async function rowFilter(model: ModelDef, ctx: ExportContext, filters: Filters): Promise<RowCheck> {
  const checks: RowCheck[] = [];
  const accepted = ACCEPTED_SCOPES[ctx.scope];
  const instance = (row: Row): Instance => toInstance(model, row);
  if (model.instanceScope) {
    const scopeOf = model.instanceScope;
    checks.push((row) => accepted.has(scopeOf(instance(row).fields)));
  }
  const filter = filters.get(model.name);
  if (filter) {
    const at = model.fields.findIndex((f) => f.name === filter.field);
    checks.push((row) => filter.values.has((filter.field === "pk" ? row.pk : row.values[at]) as never));
  }
  model.fields.forEach((field, at) => {
    if (!field.fk || field.fk.model === model.name || field.clearIfUnmapped) return;
    const target = ctx.exported(field.fk.model);
    checks.push((row) => {
      const v = row.values[at];
      return v === null || target.has(v as number);
    });
  });
  if (ctx.scope !== "Global" && model.exportFilter) {
    const custom = await model.exportFilter(ctx);
    checks.push((row) => custom(instance(row)));
  }
  return (row) => {
    for (const check of checks) if (!check(row)) return false;
    return true;
  };
}

export function toInstance(model: ModelDef, row: Row): Instance {
  const fields: Record<string, unknown> = {};
  model.fields.forEach((f, i) => {
    const v = row.values[i];
    fields[f.name] = f.type === "json" && typeof v === "string" ? parseStoredJson(v) : v;
  });
  return { model: model.name, pk: row.pk, fields };
}

function asExportError(err: unknown, model: ModelDef): Error {
  if (err instanceof ExportingError || err instanceof ReloError) return err;
  return exportError(
    RpcExportErrorKind.Unknown,
    model.name,
    `Unknown internal error occurred: ${(err as Error).message ?? String(err)}`,
  );
}
