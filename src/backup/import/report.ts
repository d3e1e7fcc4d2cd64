/**
 * The report of one import or dry run: per model, the rows read, inserted, found existing,
 * overwritten and dropped (each drop with its reason); every collision and what was done about
 * it; every problem found; and the recount after the write. It watches the batches as they are
 * written (it is their BatchObserver), feeds the mapping file, and renders itself as JSON.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import type { ModelDef, Scope } from "../../models/types.js";
import type { Store } from "../../store/types.js";
import { ImportingError, InputError, UsageError } from "../errors.js";
import { type Finding, findingsJson } from "../findings.js";
import type { PrimaryKeyMap } from "../pkmap.js";
import type { BatchObserver } from "./batch.js";
import type { Entry } from "./batches.js";
import type { Chunk } from "./chunks.js";
import { type Collision, collisionsOf, orgSlugCollision } from "./collisions.js";
import type { PendingRow, WriteResult } from "./context.js";
import { MAPPED_IDENTIFIERS, type MappingFile, mappingLine } from "./mapping.js";
import { Spool } from "./spool.js";
import { type DropCategory, ImportStats } from "./stats.js";
import { type Verification, WrittenPks } from "./verify.js";
import { rowsByValue } from "./write.js";

/** Something that would make (or made) the import fail. */
export interface Problem {
  /** Sentry's error kind (`ValidationError`, ...) or relo's (`InputError`, `JsonSyntaxError`). */
  kind: string;
  model: string | null;
  ordinal: number | null;
  pk: number | null;
  /** Byte offset of the entry in the export, when known. */
  offset: number | null;
  reason: string;
  /** The RpcImportError, for errors Sentry reports as findings. */
  finding: Finding | null;
}

/** A problem from any error the import raised for its input. */
export function problemOf(err: unknown): Problem {
  if (err instanceof ImportingError) {
    const f = err.finding;
    return {
      kind: f.kind,
      model: f.on.model,
      ordinal: f.on.ordinal,
      pk: f.left_pk,
      offset: err.offset ?? null,
      reason: f.reason,
      finding: f,
    };
  }
  const e = err as Error;
  return {
    kind: e.name,
    model: null,
    ordinal: null,
    pk: null,
    offset: err instanceof InputError ? (err.offset ?? null) : null,
    reason: e.message,
    finding: null,
  };
}

/** How the import ended. */
export type Outcome = "running" | "committed" | "rolled back" | "dry run";

interface OrgSeen {
  ordinal: number;
  oldPk: number;
  newPk: number;
  kind: "Inserted" | "Existing" | "Overwrite";
  slug: string | null;
}

export interface ReportOptions {
  /** Receives a line per imported row. */
  mapping?: MappingFile | null;
}

export class ImportReport implements BatchObserver {
  readonly stats = new ImportStats();
  readonly problems = new Spool<Problem>();
  readonly collisions = new Spool<Collision>();
  /** Collisions per model and action. */
  readonly collisionCounts = new Map<string, Map<string, number>>();
  /** Distinct pks written per model, for the recount. */
  readonly writtenPks = new Map<string, WrittenPks>();
  importUuid: string | null = null;
  scope: Scope | null = null;
  dryRun = false;
  outcome: Outcome = "running";
  verification: Verification | null = null;
  /** Organizations wait for their final slug (after slug reservations) before they are reported. */
  private orgs: OrgSeen[] = [];
  readonly mapping: MappingFile | null;
  /** The database imported into, to read back identifiers of rows an earlier run wrote. */
  store: Store | null = null;

  constructor(opts: ReportOptions = {}) {
    this.mapping = opts.mapping ?? null;
  }

  /** True when nothing went wrong: no problem found and the recount (if done) agrees. */
  get ok(): boolean {
    return this.problems.size === 0 && (this.verification?.ok ?? true) && this.outcome !== "rolled back";
  }

  /** Records a problem; `pk` names the row when the error does not (database errors). */
  problem(err: unknown, pk: number | null = null): void {
    const p = problemOf(err);
    p.pk ??= pk;
    this.problems.push(p);
  }

  written(model: ModelDef, rows: PendingRow[], results: WriteResult[]): void {
    const identifier = MAPPED_IDENTIFIERS[model.name];
    rows.forEach((row, i) => {
      const result = results[i];
      if (!result) return;
      this.pks(model).add(result.pk);
      if (model.name === "sentry.organization") {
        this.orgs.push({
          ordinal: row.ordinal,
          oldPk: row.oldPk,
          newPk: result.pk,
          kind: result.kind,
          slug: typeof row.source.slug === "string" ? row.source.slug : null,
        });
        return;
      }
      for (const c of collisionsOf(model, row, result)) this.collision(c);
      const ids = identifier
        ? { old: str(row.source[identifier]), new: str(row.fields[identifier]) }
        : undefined;
      this.mapping?.add(mappingLine(model.name, row.oldPk, result.pk, result.kind, ids));
    });
  }

  async replayed(model: ModelDef, entries: Entry[], chunk: Chunk): Promise<void> {
    const identifier = MAPPED_IDENTIFIERS[model.name];
    const byPk = new Map(entries.filter((e) => e.pk !== null).map((e) => [e.pk as number, e]));
    const current =
      identifier && this.mapping && this.store && model.name !== "sentry.organization"
        ? await currentValues(
            this.store,
            model,
            identifier,
            chunk.entries.map((e) => e.pk),
          )
        : new Map<number, unknown>();
    for (const e of chunk.entries) {
      this.pks(model).add(e.pk);
      const old = byPk.get(e.oldPk);
      if (model.name === "sentry.organization") {
        this.orgs.push({
          ordinal: 0,
          oldPk: e.oldPk,
          newPk: e.pk,
          kind: e.kind,
          slug: str(old?.fields.slug),
        });
        continue;
      }
      const ids = identifier ? { old: str(old?.fields[identifier]), new: str(current.get(e.pk)) } : undefined;
      this.mapping?.add(mappingLine(model.name, e.oldPk, e.pk, e.kind, ids));
    }
  }

  /** Organization slugs are final: report their slug changes and mapping lines. */
  slugsFinal(pkMap: PrimaryKeyMap): void {
    for (const org of this.orgs) {
      const slug = pkMap.getSlug("sentry.organization", org.oldPk) ?? org.slug ?? "";
      // A replayed organization (ordinal 0) collided, if at all, in the run that wrote it.
      const c = org.ordinal > 0 ? orgSlugCollision(org, slug) : null;
      if (c) this.collision(c);
      this.mapping?.add(
        mappingLine("sentry.organization", org.oldPk, org.newPk, org.kind, { old: org.slug, new: slug }),
      );
    }
    this.orgs = [];
  }

  /** Removes temporary files; the mapping file is dropped unless it was committed. */
  dispose(): void {
    this.problems.dispose();
    this.collisions.dispose();
    this.mapping?.discard();
  }

  /** Per-model figures, in the order models were first met. */
  modelSummaries(): ModelSummary[] {
    return [...this.stats.models].map(([model, s]) => {
      const byCategory: Partial<Record<DropCategory, number>> = {};
      const reasons = Object.entries(s.dropped).map(([reason, count]) => {
        const category = s.dropCategories[reason];
        byCategory[category] = (byCategory[category] ?? 0) + count;
        return { category, reason, count };
      });
      return {
        model,
        read: s.read,
        inserted: s.inserted,
        existing: s.existing,
        overwritten: s.overwritten,
        dropped: reasons.reduce((a, r) => a + r.count, 0),
        dropped_by_reason: byCategory,
        drop_reasons: reasons,
        collisions: Object.fromEntries(this.collisionCounts.get(model) ?? []),
      };
    });
  }

  /** The report as JSON text, written to `path` (the lists streamed from their spools). */
  async writeJson(path: string): Promise<void> {
    let fd: number;
    try {
      fd = openSync(path, "w");
    } catch (err) {
      throw new UsageError(`cannot write --report-file ${path}: ${(err as Error).message}`);
    }
    try {
      const models = this.modelSummaries();
      const head = {
        import_uuid: this.importUuid,
        scope: this.scope,
        dry_run: this.dryRun,
        outcome: this.outcome,
        ok: this.ok,
        models,
        totals: totals(models),
        verification: this.verification,
        problem_count: this.problems.size,
        collision_count: this.collisions.size,
      };
      const text = JSON.stringify(head, null, 2);
      writeSync(fd, text.slice(0, text.length - 2));
      await writeList(fd, "problems", this.problems.lines());
      await writeList(fd, "collisions", this.collisions.lines());
      writeSync(fd, "\n}\n");
    } finally {
      closeSync(fd);
    }
  }

  /** The findings file of a dry run: every problem Sentry reports as a finding (`[]` if none). */
  async writeFindings(path: string): Promise<void> {
    const fd = openSync(path, "w");
    try {
      let first = true;
      for await (const p of this.problems.items()) {
        if (!p.finding) continue;
        // One element of the findings array, as findingsJson indents it.
        const element = findingsJson([p.finding]).slice(2, -2);
        writeSync(fd, `${first ? "[\n" : ",\n"}${element}`);
        first = false;
      }
      writeSync(fd, first ? "[]" : "\n]");
    } finally {
      closeSync(fd);
    }
  }

  private collision(c: Collision): void {
    this.collisions.push(c);
    let counts = this.collisionCounts.get(c.model);
    if (!counts) {
      counts = new Map();
      this.collisionCounts.set(c.model, counts);
    }
    counts.set(c.action, (counts.get(c.action) ?? 0) + 1);
  }

  private pks(model: ModelDef): WrittenPks {
    let w = this.writtenPks.get(model.name);
    if (!w) {
      w = new WrittenPks(model.table);
      this.writtenPks.set(model.name, w);
    }
    return w;
  }
}

export interface ModelSummary {
  model: string;
  read: number;
  inserted: number;
  existing: number;
  overwritten: number;
  dropped: number;
  dropped_by_reason: Partial<Record<DropCategory, number>>;
  drop_reasons: { category: DropCategory; reason: string; count: number }[];
  collisions: Record<string, number>;
}

function totals(models: ModelSummary[]) {
  const sum = (k: "read" | "inserted" | "existing" | "overwritten" | "dropped") =>
    models.reduce((a, m) => a + m[k], 0);
  return {
    read: sum("read"),
    inserted: sum("inserted"),
    existing: sum("existing"),
    overwritten: sum("overwritten"),
    dropped: sum("dropped"),
  };
}

async function writeList(fd: number, name: string, lines: AsyncIterable<string>): Promise<void> {
  let out = `,\n  ${JSON.stringify(name)}: [`;
  let first = true;
  for await (const line of lines) {
    out += `${first ? "\n    " : ",\n    "}${line}`;
    first = false;
    if (out.length >= 1 << 16) {
      writeSync(fd, out);
      out = "";
    }
  }
  writeSync(fd, `${out}${first ? "]" : "\n  ]"}`);
}

/** Current values of `column` for rows of `model`, by pk. */
async function currentValues(
  store: Store,
  model: ModelDef,
  column: string,
  pks: number[],
): Promise<Map<number, unknown>> {
  const rows = await rowsByValue(store, model, "id", pks);
  return new Map(rows.map((r) => [Number(r.id), r[column]]));
}

function str(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}
