/**
 * A cache of rows the save path looked up or created (releases, environments, ...), that stays
 * true to the database: entries written inside a transaction or savepoint become visible to
 * later lookups at once, but are kept only if that transaction commits. A rolled-back savepoint
 * takes its entries with it, so the cache never names a row that does not exist.
 */

/** Past this many committed entries the cache starts over (lookups then go to the database). */
const MAX_ENTRIES = 200_000;

export class TxCache {
  private committed = new Map<string, unknown>();
  private readonly layers: Map<string, unknown>[] = [];

  get<T>(key: string): T | undefined {
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const layer = this.layers[i];
      if (layer.has(key)) return layer.get(key) as T;
    }
    return this.committed.get(key) as T | undefined;
  }

  set(key: string, value: unknown): void {
    const top = this.layers[this.layers.length - 1];
    if (top) top.set(key, value);
    else this.committed.set(key, value);
  }

  /** Opens a layer for a transaction or savepoint. */
  begin(): void {
    this.layers.push(new Map());
  }

  /** Keeps the top layer's entries (merged into the layer below, or committed). */
  keep(): void {
    const top = this.layers.pop();
    if (!top) return;
    const below = this.layers[this.layers.length - 1];
    if (below) {
      for (const [k, v] of top) below.set(k, v);
      return;
    }
    if (this.committed.size + top.size > MAX_ENTRIES) this.committed = new Map();
    for (const [k, v] of top) this.committed.set(k, v);
  }

  /** Drops the top layer's entries. */
  drop(): void {
    this.layers.pop();
  }
}
