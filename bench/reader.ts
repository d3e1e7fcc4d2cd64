/**
 * Benchmark of the streaming export reader against `JSON.parse` of the whole file.
 *
 * Run: `npx tsx bench/reader.ts [sizeMb]` (default 200). Writes a synthetic Django-style export
 * to a temporary file, reads it with `readEntries`, then with `readFileSync` + `JSON.parse`, and
 * removes the file. The streaming pass runs first because peak RSS only ever grows.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { openSource, readEntries } from "../src/backup/reader.js";

const MB = 1024 * 1024;

/**
 * Measures the reader on a generated export of about `sizeMb` MB. Returns throughput (MB/s,
 * entries/s), wall time in seconds and peak RSS in MB before the passes (the runtime itself) and
 * after each pass.
 */
export async function benchReader(opts: { sizeMb: number }): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), "relo-bench-reader-"));
  const path = join(dir, "export.json");
  try {
    writeExport(path, opts.sizeMb * MB);
    const sizeMb = statSync(path).size / MB;
    const startPeak = peakRssMb();
    const streamed = await timeStreaming(path);
    const streamedPeak = peakRssMb();
    const whole = timeWholeParse(path);
    return {
      sizeMb: round(sizeMb),
      entries: streamed.entries,
      startPeakRssMb: round(startPeak),
      readerSeconds: round(streamed.seconds),
      readerMbPerSec: round(sizeMb / streamed.seconds),
      readerEntriesPerSec: Math.round(streamed.entries / streamed.seconds),
      readerPeakRssMb: round(streamedPeak),
      jsonParseSeconds: round(whole.seconds),
      jsonParseMbPerSec: round(sizeMb / whole.seconds),
      jsonParseEntriesPerSec: Math.round(whole.entries / whole.seconds),
      jsonParsePeakRssMb: round(peakRssMb()),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function timeStreaming(path: string): Promise<{ entries: number; seconds: number }> {
  const started = performance.now();
  let entries = 0;
  for await (const entry of readEntries(openSource(path))) {
    if (entry.value !== null) entries++;
  }
  return { entries, seconds: (performance.now() - started) / 1000 };
}

function timeWholeParse(path: string): { entries: number; seconds: number } {
  const started = performance.now();
  const parsed = JSON.parse(readFileSync(path, "utf8")) as unknown[];
  return { entries: parsed.length, seconds: (performance.now() - started) / 1000 };
}

/** Writes records in ~1 MB batches so that generating does not raise the peak RSS. */
function writeExport(path: string, targetBytes: number): void {
  const fd = openSync(path, "w");
  try {
    writeSync(fd, "[\n");
    let written = 2;
    let pk = 1;
    while (written < targetBytes) {
      const batch: string[] = [];
      let batchBytes = 0;
      while (batchBytes < MB && written + batchBytes < targetBytes) {
        const text = JSON.stringify(syntheticRecord(pk), null, 2);
        batch.push(pk === 1 ? text : `,\n${text}`);
        batchBytes += Buffer.byteLength(text) + 2;
        pk++;
      }
      written += writeSync(fd, batch.join(""));
    }
    writeSync(fd, "\n]\n");
  } finally {
    closeSync(fd);
  }
}

const MODELS = ["sentry.user", "sentry.useremail", "sentry.organization", "sentry.project", "sentry.rule"];

/** A record shaped like Sentry's exports: a handful of field types, some non-ASCII, some nesting. */
function syntheticRecord(pk: number): unknown {
  return {
    model: MODELS[Math.floor(pk / 1000) % MODELS.length],
    pk,
    fields: {
      name: `Record ${pk} — naïve café ${pk % 97}`,
      slug: `record-${pk}`,
      email: `user${pk}@example.com`,
      is_active: pk % 3 !== 0,
      date_added: "2023-06-27T21:40:01.305Z",
      organization: pk % 5000,
      status: pk % 4,
      config: { "sentry:origins": ["*"], "filters:blacklisted_ips": "", score: pk * 1.5, tags: ["a", "b"] },
      text: 'quotes " and backslashes \\ and brackets [{}] inside a string',
    },
  };
}

function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const sizeMb = Number(process.argv[2] ?? 200);
  console.table(await benchReader({ sizeMb }));
}
