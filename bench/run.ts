/**
 * `npm run bench`: import throughput and memory on both databases, next to a raw-load baseline.
 *
 * Environment: BENCH_MB (export size, default 200), BENCH_EXPORT_ROWS (export benchmark database,
 * default 1,000,000 rows), RELO_TEST_POSTGRES_URL (default postgres://root@127.0.0.1:5432/test;
 * the run uses and drops its own schema), BENCH_SKIP_PG=1, BENCH_ONLY (comma-separated sections:
 * reader, import, export, crypto, ingest; default all). The ingest section's own settings are in
 * bench/ingest.ts.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { writeSynthetic } from "../src/dev/synthetic.js";
import { benchCrypto } from "./crypto.js";
import { benchExport } from "./export.js";
import { benchIngest } from "./ingest.js";
import { benchReader } from "./reader.js";

interface Run {
  seconds: number;
  rows: number;
  bytes: number;
  peakRssMb: number;
}

const sizeMb = Number(process.env.BENCH_MB ?? 200);
const pgUrl = process.env.RELO_TEST_POSTGRES_URL ?? "postgres://root@127.0.0.1:5432/test";
const dir = mkdtempSync(join(tmpdir(), "relo-bench-"));

function child(mode: string, db: string, file: string): Run {
  // Compiled JS, not tsx: the TypeScript loader would add ~100 MB to every peak RSS.
  // The heap cap bin/relo.js runs the CLI with.
  const out = execFileSync(
    process.execPath,
    ["--max-old-space-size=160", "dist/dev/bench-import.js", mode, db, file],
    {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(out.trim().split("\n").pop()!);
}

async function dropSchema(schema: string) {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
}

/** A checkpoint, so no run pays for the WAL an earlier one wrote (needs a superuser; skipped otherwise). */
async function quiesce() {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    await client.query("CHECKPOINT");
  } catch {
    // Not a superuser (or pg_checkpoint member): runs then share the server's WAL state.
  } finally {
    await client.end();
  }
}

function row(label: string, r: Run, base?: Run): string {
  const mbs = r.bytes / 1e6 / r.seconds;
  const ratio = base ? ` | ${(base.seconds / r.seconds).toFixed(2)}` : " | -";
  return `| ${label} | ${r.rows} | ${r.seconds.toFixed(2)} | ${mbs.toFixed(1)} | ${Math.round(r.rows / r.seconds)} | ${r.peakRssMb.toFixed(0)}${ratio} |`;
}

async function benchImport(file: string): Promise<string[]> {
  const lines = [
    "| run | rows | seconds | MB/s | rows/s | peak RSS MB | vs baseline |",
    "|---|---|---|---|---|---|---|",
  ];
  const sqliteBase = child("baseline", join(dir, "base.db"), file);
  const sqliteImport = child("import", join(dir, "import.db"), file);
  lines.push(
    row("SQLite baseline (prepared INSERT)", sqliteBase),
    row("SQLite relo import", sqliteImport, sqliteBase),
  );
  if (process.env.BENCH_SKIP_PG !== "1") {
    const s1 = `bench_base_${process.pid}`;
    const s2 = `bench_import_${process.pid}`;
    try {
      const u = (s: string) => `${pgUrl}${pgUrl.includes("?") ? "&" : "?"}schema=${s}`;
      await quiesce();
      const pgBase = child("baseline", u(s1), file);
      // Each run starts from the same server state: without this the import paid for the
      // checkpoint the baseline's WAL set off (about 1 s of 11).
      await dropSchema(s1);
      await quiesce();
      const pgImport = child("import", u(s2), file);
      lines.push(row("PostgreSQL baseline (COPY)", pgBase), row("PostgreSQL relo import", pgImport, pgBase));
    } finally {
      await dropSchema(s1);
      await dropSchema(s2);
    }
  }
  return lines;
}

const only = process.env.BENCH_ONLY?.split(",");
const wanted = (section: string) => !only || only.includes(section);

async function exportSection(): Promise<void> {
  console.log("\n## Export (global scope)");
  const schema = `bench_export_${process.pid}`;
  const dbs: [string, string][] = [["SQLite", join(dir, "export-source.db")]];
  if (process.env.BENCH_SKIP_PG !== "1")
    dbs.push(["PostgreSQL", `${pgUrl}${pgUrl.includes("?") ? "&" : "?"}schema=${schema}`]);
  try {
    for (const line of benchExport(dir, dbs)) console.log(line);
  } finally {
    if (dbs.length > 1) await dropSchema(schema);
  }
}

async function cryptoSection(): Promise<void> {
  console.log("\n## Encryption (encrypted export tarball)");
  for (const line of await benchCrypto({ sizeMb: Math.min(sizeMb, 200) })) console.log(line);
}

async function ingestSection(): Promise<void> {
  console.log("\n## Ingestion (HTTP, loopback)\n");
  for (const line of await benchIngest({ build: false })) console.log(line);
}

try {
  execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { stdio: "inherit" });
  if (!wanted("reader") && !wanted("import")) {
    if (wanted("export")) await exportSection();
    if (wanted("crypto")) await cryptoSection();
    if (wanted("ingest")) await ingestSection();
    process.exit(0);
  }
  const file = join(dir, "export.json");
  // About 41 kB of export per organization of this shape.
  const orgs = Math.max(1, Math.round((sizeMb * 1e6) / 41_000));
  const entries = await writeSynthetic(file, {
    orgs,
    usersPerOrg: 20,
    teamsPerOrg: 4,
    projectsPerOrg: 5,
    keysPerProject: 2,
  });
  console.log(
    `Synthetic org-scope export: ${(statSync(file).size / 1e6).toFixed(1)} MB, ${entries} entries, ${orgs} organizations\n`,
  );
  if (wanted("reader")) {
    console.log("## Reader");
    console.log(JSON.stringify(await benchReader({ sizeMb: Math.min(sizeMb, 200) })));
  }
  if (wanted("import")) {
    console.log("\n## Import (organizations scope)");
    for (const line of await benchImport(file)) console.log(line);
  }
  if (wanted("export")) await exportSection();
  if (wanted("crypto")) await cryptoSection();
  if (wanted("ingest")) await ingestSection();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
