/**
 * Sentry's PrimaryKeyMap: for each model, old pk (in the export) → new pk (in this database),
 * how the row was written, and its slug (organizations, projects, teams), which later stages need.
 *
 * An import of millions of rows keeps every mapping, so the common case is stored compactly: rows
 * inserted in pk order get consecutive new pks, and such runs are kept as (old start, new start,
 * length) triples. Anything else (out of order, Existing or Overwrite, a slug) goes to a Map.
 */
import type { ImportKind } from "../models/types.js";

export interface PkEntry {
  pk: number;
  kind: ImportKind;
  slug: string | null;
}

class ModelMap {
  private readonly oldStart: number[] = [];
  private readonly newStart: number[] = [];
  private readonly length: number[] = [];
  private readonly other = new Map<number, PkEntry>();

  get(old: number): PkEntry | undefined {
    const hit = this.other.get(old);
    if (hit) return hit;
    const i = this.runIndex(old);
    return i < 0
      ? undefined
      : { pk: this.newStart[i] + (old - this.oldStart[i]), kind: "Inserted", slug: null };
  }

  set(old: number, pk: number, kind: ImportKind, slug: string | null): void {
    if (kind === "Inserted" && slug === null && this.tryAppend(old, pk)) {
      this.other.delete(old);
      return;
    }
    if (this.runIndex(old) >= 0) this.splitOut(old);
    this.other.set(old, { pk, kind, slug });
  }

  *entries(): Generator<[number, PkEntry]> {
    for (let i = 0; i < this.oldStart.length; i++) {
      for (let j = 0; j < this.length[i]; j++) {
        const old = this.oldStart[i] + j;
        if (!this.other.has(old)) yield [old, { pk: this.newStart[i] + j, kind: "Inserted", slug: null }];
      }
    }
    yield* this.other;
  }

  get size(): number {
    let n = this.other.size;
    for (const l of this.length) n += l;
    return n;
  }

  /** Extends the last run, or starts a new one after it; false when `old` is not past it. */
  private tryAppend(old: number, pk: number): boolean {
    const last = this.oldStart.length - 1;
    if (last >= 0) {
      const end = this.oldStart[last] + this.length[last];
      if (old < end) return false;
      if (old === end && pk === this.newStart[last] + this.length[last]) {
        this.length[last]++;
        return true;
      }
    }
    this.oldStart.push(old);
    this.newStart.push(pk);
    this.length.push(1);
    return true;
  }

  private runIndex(old: number): number {
    let lo = 0;
    let hi = this.oldStart.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (old < this.oldStart[mid]) hi = mid - 1;
      else if (old >= this.oldStart[mid] + this.length[mid]) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  /** Removes `old` from its run (splitting the run), so the Map entry is the only one. */
  private splitOut(old: number): void {
    const i = this.runIndex(old);
    const start = this.oldStart[i];
    const len = this.length[i];
    const at = old - start;
    const after = len - at - 1;
    this.length[i] = at;
    if (after > 0) {
      this.oldStart.splice(i + 1, 0, old + 1);
      this.newStart.splice(i + 1, 0, this.newStart[i] + at + 1);
      this.length.splice(i + 1, 0, after);
    }
    if (at === 0) {
      this.oldStart.splice(i, 1);
      this.newStart.splice(i, 1);
      this.length.splice(i, 1);
    }
  }
}

export class PrimaryKeyMap {
  private readonly byModel = new Map<string, ModelMap>();

  getPk(model: string, oldPk: number): number | null {
    return this.byModel.get(model)?.get(oldPk)?.pk ?? null;
  }

  getKind(model: string, oldPk: number): ImportKind | null {
    return this.byModel.get(model)?.get(oldPk)?.kind ?? null;
  }

  getSlug(model: string, oldPk: number): string | null {
    return this.byModel.get(model)?.get(oldPk)?.slug ?? null;
  }

  entries(model: string): [number, PkEntry][] {
    return [...(this.byModel.get(model)?.entries() ?? [])];
  }

  models(): string[] {
    return [...this.byModel.keys()];
  }

  insert(model: string, oldPk: number, pk: number, kind: ImportKind, slug: string | null = null): void {
    let m = this.byModel.get(model);
    if (!m) {
      m = new ModelMap();
      this.byModel.set(model, m);
    }
    m.set(oldPk, pk, kind, slug);
  }

  extend(other: PrimaryKeyMap): void {
    for (const model of other.models()) {
      for (const [oldPk, e] of other.entries(model)) this.insert(model, oldPk, e.pk, e.kind, e.slug);
    }
  }

  size(model: string): number {
    return this.byModel.get(model)?.size ?? 0;
  }
}
