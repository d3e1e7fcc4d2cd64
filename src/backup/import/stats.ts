/**
 * Per-model counts of what an import did with every row it read.
 */
import type { ImportKind } from "../../models/types.js";

/**
 * Why a row was not written. The first three are the reasons an operator asks about most
 * (getsentry/self-hosted#4502: rows silently missing); the rest are rarer.
 */
export const DropCategory = {
  Filtered: "filtered",
  OutOfScope: "out_of_scope",
  ForeignKeyNotImported: "fk_not_imported",
  NoPk: "no_pk",
  /** A model's own relocation rule (merged users, tokens that cannot be minted, ...). */
  ModelRule: "model_rule",
  /** Dry runs only: the row has a problem that would fail a real import. */
  Invalid: "invalid",
} as const;
export type DropCategory = (typeof DropCategory)[keyof typeof DropCategory];

/** What a drop category is called in messages and tables. */
export const DROP_LABELS: Record<DropCategory, string> = {
  filtered: "filtered",
  out_of_scope: "out of scope",
  fk_not_imported: "FK to a row not imported",
  no_pk: "no pk",
  model_rule: "model rule",
  invalid: "invalid",
};

/** A dropped row's reason: its category and the precise wording. */
export interface Drop {
  category: DropCategory;
  reason: string;
}

export interface ModelStats {
  read: number;
  inserted: number;
  existing: number;
  overwritten: number;
  /** Rows not written, by reason. */
  dropped: Record<string, number>;
  /** The category of each reason in `dropped`. */
  dropCategories: Record<string, DropCategory>;
}

function emptyStats(): ModelStats {
  return { read: 0, inserted: 0, existing: 0, overwritten: 0, dropped: {}, dropCategories: {} };
}

export class ImportStats {
  readonly models = new Map<string, ModelStats>();

  of(model: string): ModelStats {
    let s = this.models.get(model);
    if (!s) {
      s = emptyStats();
      this.models.set(model, s);
    }
    return s;
  }

  read(model: string, n = 1): void {
    this.of(model).read += n;
  }

  wrote(model: string, kind: ImportKind): void {
    const s = this.of(model);
    if (kind === "Inserted") s.inserted++;
    else if (kind === "Existing") s.existing++;
    else s.overwritten++;
  }

  dropped(model: string, reason: string, category: DropCategory = DropCategory.ModelRule): void {
    const s = this.of(model);
    s.dropped[reason] = (s.dropped[reason] ?? 0) + 1;
    s.dropCategories[reason] = category;
  }

  /** Rows of `model` dropped, in total. */
  droppedTotal(model: string): number {
    return Object.values(this.of(model).dropped).reduce((a, b) => a + b, 0);
  }

  /** A copy of every count, for `restore` when a batch is undone (dry runs). */
  snapshot(): Map<string, ModelStats> {
    return new Map(
      [...this.models].map(([m, s]) => [
        m,
        { ...s, dropped: { ...s.dropped }, dropCategories: { ...s.dropCategories } },
      ]),
    );
  }

  restore(saved: Map<string, ModelStats>): void {
    this.models.clear();
    for (const [m, s] of saved) this.models.set(m, s);
  }

  toJSON(): Record<string, ModelStats> {
    return Object.fromEntries(this.models);
  }
}
