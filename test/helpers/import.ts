/**
 * Shortcuts for import tests: fixtures by name, inline exports, and row queries.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ImportingError } from "../../src/backup/errors.js";
import type { Finding } from "../../src/backup/findings.js";
import { type ImportOptions, importExport } from "../../src/backup/import/run.js";
import { fileSource } from "../../src/backup/source.js";
import type { Store } from "../../src/store/types.js";

export const FIXTURES = resolve(import.meta.dirname, "../../../shared/fixtures/sentry");

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

/** Writes an export (array of entries or raw text) to a temp file and returns its path. */
export function writeExport(content: unknown[] | string): string {
  const dir = mkdtempSync(join(tmpdir(), "relo-export-"));
  const path = join(dir, "export.json");
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  return path;
}

export function importFile(store: Store, path: string, opts: ImportOptions) {
  return importExport(store, fileSource(path), opts);
}

/** Every row of a table, ordered by id. */
export async function rows(store: Store, table: string): Promise<Record<string, any>[]> {
  return store.db.selectFrom(table).selectAll().orderBy("id").execute();
}

export async function count(store: Store, table: string): Promise<number> {
  const r = await store.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll().as("n"))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** A snapshot of every table's rows, to prove an import changed nothing. */
export async function snapshot(store: Store, tables: string[]): Promise<string> {
  const out: Record<string, unknown> = {};
  for (const t of tables) out[t] = await rows(store, t);
  return JSON.stringify(out);
}

/** The finding of the ImportingError `p` rejects with (fails if `p` resolves or throws otherwise). */
export async function finding(p: Promise<unknown>): Promise<Finding> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ImportingError) return err.finding;
    throw err;
  }
  throw new Error("expected an ImportingError");
}
