/**
 * PostgreSQL's COPY text format, for the bulk paths: one line per row, tab-separated, `\N` for
 * null, backslash escapes for the characters the format uses itself.
 */

import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";

function copyValue(value: unknown): string {
  if (value === null || value === undefined) return "\\N";
  if (typeof value === "boolean") return value ? "t" : "f";
  const s = typeof value === "string" ? value : String(value);
  return /[\\\t\n\r]/.test(s)
    ? s.replace(/[\\\t\n\r]/g, (c) => ({ "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" })[c]!)
    : s;
}

export function copyLine(row: unknown[]): string {
  return `${row.map(copyValue).join("\t")}\n`;
}

/** Streams rows into a table with COPY ... FROM STDIN, in the client's current transaction. */
export async function copyRows(
  client: pg.Client,
  table: string,
  columns: string[],
  rows: Iterable<unknown[]> | AsyncIterable<unknown[]>,
): Promise<void> {
  const cols = columns.map((c) => `"${c}"`).join(", ");
  const stream = client.query(copyFrom(`COPY "${table}" (${cols}) FROM STDIN`));
  async function* lines() {
    let buf = "";
    for await (const row of rows) {
      buf += copyLine(row);
      if (buf.length > 1 << 16) {
        yield buf;
        buf = "";
      }
    }
    if (buf) yield buf;
  }
  await pipeline(Readable.from(lines()), stream);
}
