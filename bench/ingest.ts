/**
 * Ingestion benchmark: sustained events/s and p50/p99 latency through HTTP on loopback, from a
 * separate load process (bench/ingest-load.ts), against `relo serve` on SQLite and on PostgreSQL,
 * next to the same fastify setup answering an empty 200 (the ceiling). The server runs compiled
 * (dist/) under the CLI's heap cap; its peak RSS is read from /proc (VmHWM). Every accepted event
 * is checked to be stored afterwards.
 *
 * Run alone with `npx tsx bench/ingest.ts` (or as part of `npm run bench`). Environment:
 * BENCH_EVENTS (events per run, default 20000), BENCH_SECONDS (time bound per run, default 60),
 * BENCH_CONCURRENCY (requests in flight, default 32), RELO_TEST_POSTGRES_URL, BENCH_SKIP_PG=1.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pg from "pg";

const ROOT = resolve(import.meta.dirname, "..");
const FIXTURE = resolve(ROOT, "../shared/fixtures/sentry/fresh-install.json");
const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const WARMUP = 1000;
const PG_URL = process.env.RELO_TEST_POSTGRES_URL ?? "postgres://root@127.0.0.1:5432/test";

interface Load {
  sent: number;
  ok: number;
  statuses: Record<string, number>;
  seconds: number;
  eventsPerSec: number;
  p50: number;
  p99: number;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = net.createServer();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => done(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const up = await new Promise<boolean>((done) => {
      const c = net.connect(port, "127.0.0.1", () => {
        c.end();
        done(true);
      });
      c.on("error", () => done(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on port ${port}`);
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

function relo(args: string[]): string {
  return execFileSync(process.execPath, ["--max-old-space-size=160", "dist/cli/bin.js", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
}

function load(url: string, publicKey: string, projectId: string): Load {
  const out = execFileSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "bench/ingest-load.ts",
      url,
      publicKey,
      projectId,
      String(EVENTS),
      String(SECONDS),
      String(CONCURRENCY),
      String(WARMUP),
    ],
    { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 20 },
  );
  return JSON.parse(out.trim().split("\n").pop()!);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.on("exit", r));
  child.kill("SIGTERM");
  await exited;
}

/** Starts a server process, runs the load against it, and measures the server's peak RSS. */
async function measure(
  serverArgs: string[],
  publicKey: string,
  projectId: string,
): Promise<Load & { peakRssMb: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, [...serverArgs, "--port", String(port)], {
    cwd: ROOT,
    stdio: ["ignore", "inherit", "inherit"],
  });
  try {
    await waitForPort(port, child);
    const result = load(`http://127.0.0.1:${port}`, publicKey, projectId);
    return { ...result, peakRssMb: peakRssMb(child.pid!) };
  } finally {
    await stop(child);
  }
}

/** Counts stored events (payloads) with the relo CLI's own database access. */
async function storedEvents(db: string): Promise<number> {
  const { openStore } = await import("../src/store/open.js");
  const store = await openStore(db, { migrate: false });
  try {
    const row = await store.db
      .selectFrom("nodestore_node")
      .select((eb) => eb.fn.countAll().as("n"))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  } finally {
    await store.close();
  }
}

async function benchDatabase(label: string, db: string) {
  relo(["import", "organizations", FIXTURE, "--db", db, "--no-prompt", "--silent"]);
  const dsn = relo(["dsn", "--org", "testing", "--project", "internal", "--db", db]).trim();
  const u = new URL(dsn);
  const projectId = u.pathname.slice(1);
  const r = await measure(
    ["--max-old-space-size=160", "dist/cli/bin.js", "serve", "--db", db, "--log-level", "warn"],
    u.username,
    projectId,
  );
  const stored = await storedEvents(db);
  if (stored !== r.ok + WARMUP) {
    throw new Error(`${label}: ${r.ok + WARMUP} events were accepted but ${stored} are stored`);
  }
  return { label, ...r };
}

function row(r: { label: string } & Load & { peakRssMb: number }, ceiling?: Load): string {
  const share = ceiling ? `${((100 * r.eventsPerSec) / ceiling.eventsPerSec).toFixed(0)}%` : "-";
  const other = Object.entries(r.statuses)
    .filter(([s]) => s !== "200")
    .map(([s, n]) => `${s}: ${n}`)
    .join(", ");
  return `| ${r.label} | ${r.ok}${other ? ` (${other})` : ""} | ${r.seconds.toFixed(2)} | ${Math.round(r.eventsPerSec)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.peakRssMb.toFixed(0)} | ${share} |`;
}

export async function benchIngest(o: { build?: boolean } = {}): Promise<string[]> {
  if (o.build ?? true)
    execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: ROOT, stdio: "inherit" });
  const dir = mkdtempSync(join(tmpdir(), "relo-bench-ingest-"));
  const schema = `bench_ingest_${process.pid}`;
  const lines = [
    `${EVENTS} error events per run (${WARMUP} more to warm up), ${CONCURRENCY} in flight, at most ${SECONDS} s; about 1.6 kB per envelope, 50 issues`,
    "",
    "| server | events accepted | seconds | events/s | p50 ms | p99 ms | server peak RSS MB | of ceiling |",
    "|---|---|---|---|---|---|---|---|",
  ];
  try {
    const ceiling = await measure(["--import", "tsx", "bench/ingest-ceiling.ts"], "k", "1");
    lines.push(row({ label: "ceiling: same fastify setup, empty 200 (under tsx)", ...ceiling }));
    lines.push(row(await benchDatabase("relo serve, SQLite", join(dir, "relo.db")), ceiling));
    if (process.env.BENCH_SKIP_PG !== "1") {
      const url = `${PG_URL}${PG_URL.includes("?") ? "&" : "?"}schema=${schema}`;
      lines.push(row(await benchDatabase("relo serve, PostgreSQL", url), ceiling));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (process.env.BENCH_SKIP_PG !== "1") {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log("## Ingestion (HTTP, loopback)\n");
  for (const line of await benchIngest()) console.log(line);
}
