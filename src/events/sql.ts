/**
 * Plain SQL over a store's Kysely connection for the save path, which runs a dozen small
 * statements per event: statements are written once with `?` placeholders (rewritten to `$n` for
 * PostgreSQL) and skip Kysely's query builder. Values go in and come out in one form on both
 * databases: datetimes as canonical ISO strings, booleans as booleans, JSON as parsed values.
 */
import { CompiledQuery } from "kysely";
import { canonicalDatetime } from "../store/codec.js";
import type { Store } from "../store/types.js";

export class Sql {
  private readonly texts = new Map<string, string>();
  private tail: Promise<unknown> = Promise.resolve();

  /**
   * `serial`: run one statement at a time, for a connection that concurrent requests share
   * outside any transaction (a pg client must not be handed a query while it runs one).
   */
  constructor(
    readonly store: Store,
    private readonly serial = false,
  ) {}

  get dialect() {
    return this.store.dialect;
  }

  /** Rows of a query. */
  async all<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
    const res = await this.execute(text, params);
    return res.rows as T[];
  }

  /** The first row of a query, or undefined. */
  async one<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T | undefined> {
    return (await this.all<T>(text, params))[0];
  }

  /** Runs a statement and returns the number of rows it changed. */
  async run(text: string, params: unknown[] = []): Promise<number> {
    const res = await this.execute(text, params);
    return Number(res.numAffectedRows ?? 0);
  }

  private execute(text: string, params: unknown[]) {
    const query = CompiledQuery.raw(this.prepare(text), params.map(this.param));
    if (!this.serial) return this.store.db.executeQuery(query);
    const result = this.tail.then(() => this.store.db.executeQuery(query));
    this.tail = result.catch(() => {});
    return result;
  }

  /** `SELECT ... FOR UPDATE` on PostgreSQL; SQLite's write transaction already excludes others. */
  forUpdate(): string {
    return this.dialect === "postgres" ? " FOR UPDATE" : "";
  }

  private prepare(text: string): string {
    if (this.dialect === "sqlite") return text;
    let out = this.texts.get(text);
    if (out === undefined) {
      let n = 0;
      out = text.replace(/\?/g, () => `$${++n}`);
      this.texts.set(text, out);
    }
    return out;
  }

  private readonly param = (value: unknown): unknown => {
    if (typeof value === "boolean" && this.dialect === "sqlite") return value ? 1 : 0;
    if (value instanceof Date) return value.toISOString();
    if (value !== null && typeof value === "object") return JSON.stringify(value);
    return value;
  };
}

/** A datetime column's value as a canonical ISO string (PostgreSQL returns its own text form). */
export function dateOf(value: unknown): string {
  return canonicalDatetime(
    String(value)
      .replace(" ", "T")
      .replace(/([+-]\d{2})$/, "$1:00"),
  );
}

/** A JSON text column's value, parsed. */
export function jsonOf<T = unknown>(value: unknown): T {
  if (value === null || value === undefined) return null as T;
  return (typeof value === "string" ? JSON.parse(value) : value) as T;
}
