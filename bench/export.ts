/**
 * Export throughput and memory: a populated database of about BENCH_EXPORT_ROWS rows (default
 * 1,000,000, spread over every exportable model), exported in Global scope by relo and by a raw
 * baseline (the same SELECT, each row JSON.stringify'd), each in its own heap-capped process.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { registry } from "../src/models/registry.js";

export interface ExportRun {
  seconds: number;
  cpuSeconds: number;
  rows: number;
  bytes: number;
  peakRssMb: number;
}

function run(mode: string, db: string, out: string): ExportRun {
  const text = execFileSync(
    process.execPath,
    ["--max-old-space-size=160", "dist/dev/bench-export.js", mode, db, out],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  );
  return JSON.parse(text.trim().split("\n").pop()!);
}

function populate(db: string, rowsPerModel: number): void {
  execFileSync(
    process.execPath,
    ["dist/cli/bin.js", "dev", "populate", "--seed", "1", "--rows", String(rowsPerModel), "--db", db],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
}

function line(label: string, r: ExportRun, base?: ExportRun): string {
  const mbs = r.bytes / 1e6 / r.seconds;
  // Rows per second, since relo writes Sentry's indented layout and the baseline compact JSON.
  const ratio = base ? (base.seconds / r.seconds).toFixed(2) : "-";
  const cpuRatio = base ? (base.cpuSeconds / r.cpuSeconds).toFixed(2) : "-";
  return `| ${label} | ${r.rows} | ${(r.bytes / 1e6).toFixed(1)} | ${r.seconds.toFixed(2)} | ${r.cpuSeconds.toFixed(2)} | ${mbs.toFixed(1)} | ${Math.round(r.rows / r.seconds)} | ${r.peakRssMb.toFixed(0)} | ${ratio} | ${cpuRatio} |`;
}

/** `dbs`: label → database URL (each populated here). Returns markdown table lines. */
export function benchExport(dir: string, dbs: [string, string][]): string[] {
  const target = Number(process.env.BENCH_EXPORT_ROWS ?? 1_000_000);
  const perModel = Math.ceil(target / registry.relocatable().length);
  const lines = [
    "| run | rows | MB | seconds | CPU s | MB/s | rows/s | peak RSS MB | vs baseline (wall) | vs baseline (CPU) |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const [label, db] of dbs) {
    populate(db, perModel);
    const base = run("baseline", db, join(dir, "baseline.out"));
    const relo = run("export", db, join(dir, "export.json"));
    lines.push(
      line(`${label} baseline (SELECT + JSON.stringify)`, base),
      line(`${label} relo export`, relo, base),
    );
  }
  return lines;
}
