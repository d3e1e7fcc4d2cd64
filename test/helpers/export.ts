/**
 * Shortcuts for export and compare tests: an export as text, and the findings of comparing two
 * export texts.
 */
import { PassThrough } from "node:stream";
import { compareExports } from "../../src/backup/compare/validate.js";
import type { ExportOptions } from "../../src/backup/export/context.js";
import { exportScope } from "../../src/backup/export/run.js";
import type { Finding } from "../../src/backup/findings.js";
import { readEntries } from "../../src/backup/reader.js";
import type { Store } from "../../src/store/types.js";

export async function exportText(store: Store, opts: ExportOptions): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  await exportScope(store, out, opts);
  out.end();
  return Buffer.concat(chunks).toString("utf8");
}

async function* bytes(text: string) {
  yield Buffer.from(text, "utf8");
}

export function compareTexts(left: string, right: string): Promise<Finding[]> {
  return compareExports({ left: readEntries(bytes(left)), right: readEntries(bytes(right)) });
}

/** Export entries as plain objects, for assertions. */
export function entries(text: string): { model: string; pk: number; fields: Record<string, any> }[] {
  return JSON.parse(text);
}
