/**
 * Sentry's PrimaryKeyMap: for each model, old pk (in the export) → new pk (in this database),
 * how the row was written, and its slug (organizations, projects, teams), which later stages need.
 */
import type { ImportKind } from "../models/types.js";

export interface PkEntry {
  pk: number;
  kind: ImportKind;
  slug: string | null;
}

export class PrimaryKeyMap {
  private readonly byModel = new Map<string, Map<number, PkEntry>>();

  getPk(model: string, oldPk: number): number | null {
    return this.byModel.get(model)?.get(oldPk)?.pk ?? null;
  }

  getKind(model: string, oldPk: number): ImportKind | null {
    return this.byModel.get(model)?.get(oldPk)?.kind ?? null;
  }

  getSlug(model: string, oldPk: number): string | null {
    return this.byModel.get(model)?.get(oldPk)?.slug ?? null;
  }

  /** The new pks of a model. */
  getPks(model: string): Set<number> {
    return new Set([...(this.byModel.get(model)?.values() ?? [])].map((e) => e.pk));
  }

  entries(model: string): [number, PkEntry][] {
    return [...(this.byModel.get(model) ?? [])];
  }

  models(): string[] {
    return [...this.byModel.keys()];
  }

  insert(model: string, oldPk: number, pk: number, kind: ImportKind, slug: string | null = null): void {
    let m = this.byModel.get(model);
    if (!m) {
      m = new Map();
      this.byModel.set(model, m);
    }
    m.set(oldPk, { pk, kind, slug });
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
