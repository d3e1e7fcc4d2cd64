/**
 * One measured export run in its own process, so peak RSS belongs to that run alone:
 *   node dist/dev/bench-export.js export|baseline DB_URL OUT
 * `export` runs relo's Global export; `baseline` reads the same rows with the same query and
 * writes each as `JSON.stringify({model, pk, fields})` of the raw column values: the same content,
 * with no decoding, no Python layout and no foreign key checks.
 * Prints one JSON line: seconds (wall), cpuSeconds (this process's user + system time; steadier
 * than wall time on a busy machine), rows, bytes, peakRssMb.
 */
import { createWriteStream } from "node:fs";
import { finished } from "node:stream/promises";
import { exportScope } from "../backup/export/run.js";
import { selectColumns } from "../backup/export/select.js";
import { Sink } from "../backup/export/sink.js";
import { registry } from "../models/registry.js";
import { openStore } from "../store/open.js";
import type { Store } from "../store/types.js";

const [mode, url, out] = process.argv.slice(2);

async function baseline(store: Store, sink: Sink): Promise<number> {
  let rows = 0;
  await store.readSnapshot(async () => {
    for (const model of registry.inScope("Global")) {
      const names = model.fields.map((f) => f.name);
      for await (const chunk of store.scanTable(model.table, selectColumns(model, store.dialect))) {
        for (const row of chunk) {
          const fields: Record<string, unknown> = {};
          for (let i = 0; i < names.length; i++) fields[names[i]] = row[i + 1];
          if (sink.write(`${JSON.stringify({ model: model.name, pk: row[0], fields })},\n`))
            await sink.flush();
        }
        rows += chunk.length;
      }
    }
  });
  await sink.flush();
  return rows;
}

let peak = 0;
const sample = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage.rss());
}, 20);
const store = await openStore(url);
const stream = createWriteStream(out);
const started = performance.now();
const cpuStart = process.cpuUsage();
let rows: number;
let bytes: number;
if (mode === "baseline") {
  const sink = new Sink(stream);
  rows = await baseline(store, sink);
  bytes = sink.bytes;
} else {
  const result = await exportScope(store, stream, { scope: "Global" });
  rows = result.rows;
  bytes = result.bytes;
}
stream.end();
await finished(stream);
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuStart);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
clearInterval(sample);
peak = Math.max(peak, process.memoryUsage.rss());
await store.close();
console.log(JSON.stringify({ seconds, cpuSeconds, rows, bytes, peakRssMb: peak / 1e6 }));
