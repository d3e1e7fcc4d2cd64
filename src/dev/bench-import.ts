/**
 * One measured run in its own process, so peak RSS belongs to that run alone:
 *   node dist/dev/bench-import.js import|baseline DB_URL FILE
 * `import` runs relo's organization import; `baseline` writes the same rows with no relocation
 * logic (read, parse, then a plain prepared INSERT on SQLite or COPY on PostgreSQL, ids as in the
 * file, one transaction). Prints one JSON line: seconds, rows, bytes, peakRssMb.
 */
import { createReadStream, statSync } from "node:fs";
import { parseEntry } from "../backup/import/batches.js";
import { importExport } from "../backup/import/run.js";
import { readEntries } from "../backup/reader.js";
import { fileSource } from "../backup/source.js";
import { registry } from "../models/registry.js";
import { toDb } from "../store/codec.js";
import { copyRows } from "../store/copy.js";
import { openStore } from "../store/open.js";
import type { Store } from "../store/types.js";

const [mode, url, file] = process.argv.slice(2);

async function* baselineRows(
  file: string,
  dialect: Store["dialect"],
  onTable: (table: string, cols: string[]) => void,
) {
  for await (const raw of readEntries(createReadStream(file, { highWaterMark: 1 << 20 }))) {
    const { model: name, entry } = parseEntry(raw);
    const model = registry.get(name)!;
    onTable(model.table, ["id", ...model.fields.map((f) => f.column)]);
    yield [entry.pk, ...model.fields.map((f) => toDb(f, entry.fields[f.name] ?? null, dialect))];
  }
}

async function baseline(store: Store): Promise<number> {
  let rows = 0;
  await store.transaction(async () => {
    // Group consecutive rows by table; each group is one prepared insert loop or one COPY.
    let table = "";
    let cols: string[] = [];
    let group: unknown[][] = [];
    const flush = async () => {
      if (group.length === 0) return;
      if (store.dialect === "postgres") await copyRows((store as any).client, table, cols, group);
      else await store.insertRows(table, cols, group);
      rows += group.length;
      group = [];
    };
    let next = "";
    let nextCols: string[] = [];
    for await (const row of baselineRows(file, store.dialect, (t, c) => {
      next = t;
      nextCols = c;
    })) {
      if (next !== table) {
        await flush();
        table = next;
        cols = nextCols;
      }
      group.push(row);
      if (group.length >= 5000) await flush();
    }
    await flush();
  });
  return rows;
}

const store = await openStore(url);
const started = process.hrtime.bigint();
let rows: number;
if (mode === "baseline") rows = await baseline(store);
else {
  const result = await importExport(store, fileSource(file), { scope: "Organization" });
  rows = [...result.stats.models.values()].reduce((a, s) => a + s.inserted + s.existing + s.overwritten, 0);
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
await store.close();
console.log(
  JSON.stringify({
    seconds,
    rows,
    bytes: statSync(file).size,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  }),
);
