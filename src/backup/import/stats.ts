/**
 * Per-model counts of what an import did with every row it read.
 */
import type { ImportKind } from "../../models/types.js";

export interface ModelStats {
  read: number;
  inserted: number;
  existing: number;
  overwritten: number;
  /** Rows not written, by reason. */
  dropped: Record<string, number>;
}

export class ImportStats {
  readonly models = new Map<string, ModelStats>();

  of(model: string): ModelStats {
    let s = this.models.get(model);
    if (!s) {
      s = { read: 0, inserted: 0, existing: 0, overwritten: 0, dropped: {} };
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

  dropped(model: string, reason: string): void {
    const d = this.of(model).dropped;
    d[reason] = (d[reason] ?? 0) + 1;
  }

  toJSON(): Record<string, ModelStats> {
    return Object.fromEntries(this.models);
  }
}
