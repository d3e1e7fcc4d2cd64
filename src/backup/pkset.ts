/**
 * A set of integer pks that stays small for the common case: exports list each model's rows in
 * ascending pk order, so the pks form a few runs. Runs are kept as [start, end] pairs; pks that
 * arrive out of order fall back to a plain Set.
 */
export class PkSet {
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private extra: Set<number> | null = null;

  add(pk: number): void {
    // Already held out of order: extending a run over it would count it twice in `size`.
    if (this.extra?.has(pk)) return;
    const last = this.ends.length - 1;
    if (last >= 0 && pk === this.ends[last] + 1) this.ends[last] = pk;
    else if (last < 0 || pk > this.ends[last]) {
      this.starts.push(pk);
      this.ends.push(pk);
    } else if (!this.has(pk)) {
      this.extra ??= new Set();
      this.extra.add(pk);
    }
  }

  has(pk: number): boolean {
    if (this.extra?.has(pk)) return true;
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (pk < this.starts[mid]) hi = mid - 1;
      else if (pk > this.ends[mid]) lo = mid + 1;
      else return true;
    }
    return false;
  }

  get size(): number {
    let n = this.extra?.size ?? 0;
    for (let i = 0; i < this.starts.length; i++) n += this.ends[i] - this.starts[i] + 1;
    return n;
  }

  /** Every pk, as inclusive ranges; ranges may come in any order but never overlap. */
  *ranges(): Generator<[number, number]> {
    for (let i = 0; i < this.starts.length; i++) yield [this.starts[i], this.ends[i]];
    for (const pk of this.extra ?? []) yield [pk, pk];
  }
}

/** A PkSet per model, created on first use. */
export function pkSetsByModel(): (model: string) => PkSet {
  const sets = new Map<string, PkSet>();
  return (model) => {
    let s = sets.get(model);
    if (!s) {
      s = new PkSet();
      sets.set(model, s);
    }
    return s;
  };
}
