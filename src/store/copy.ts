/**
 * PostgreSQL's COPY text format, for the bulk paths: one line per row, tab-separated, `\N` for
 * null, backslash escapes for the characters the format uses itself.
 */

import { once } from "node:events";
import { finished } from "node:stream/promises";
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

/** COPY data is sent in pieces of about this many UTF-16 units. */
const PIECE = 1 << 16;

/**
 * Writes rows into a table with COPY ... FROM STDIN, in the client's current transaction. The
 * rows are in memory already, so they are encoded and written in large pieces with no stream
 * plumbing per row or per piece (an import runs hundreds of these).
 */
export async function copyRows(
  client: pg.Client,
  table: string,
  columns: string[],
  rows: unknown[][],
): Promise<void> {
  const cols = columns.map((c) => `"${c}"`).join(", ");
  const stream = client.query(copyFrom(`COPY "${table}" (${cols}) FROM STDIN`));
  const done = finished(stream);
  // A failure may come while a write waits for 'drain'; it is thrown from there, so this copy
  // of it must not count as unhandled.
  done.catch(() => {});
  let piece = "";
  for (const row of rows) {
    piece += copyLine(row);
    if (piece.length >= PIECE) {
      if (!stream.write(piece)) await once(stream, "drain");
      piece = "";
    }
  }
  stream.end(piece);
  await done;
}
