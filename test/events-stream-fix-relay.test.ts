/**
 * `relo serve --eventstream` when Redis stops answering (a private redis-server frozen with
 * SIGSTOP, as a hung or partitioned Redis): events are still saved and answered, SIGTERM still
 * stops the server within seconds, and the messages reach Redis once it answers again, or at the
 * next start, from the outbox table.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import net from "node:net";
import { Redis } from "ioredis";
import { afterEach, beforeEach, expect, it } from "vitest";
import { startServer } from "../src/events/serve.js";
import type { Store } from "../src/store/types.js";
import { ROOT } from "./helpers/cli.js";
import { describeEachDb, type TestDb, useFreshStore } from "./helpers/db.js";
import { eventId, importProjects, type ProjectKey, payload } from "./helpers/events.js";

const HAS_REDIS_SERVER = spawnSync("redis-server", ["--version"]).status === 0;
// .ci/run installs redis-server: in CI a missing one is a failure, not a skip.
if (!HAS_REDIS_SERVER && process.env.CI === "true")
  throw new Error("CI=true but redis-server is not installed");

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

/** A redis-server of this test's own, which it can freeze (SIGSTOP) and thaw (SIGCONT). */
async function privateRedis(): Promise<{ proc: ChildProcess; port: number }> {
  const port = await freePort();
  const proc = spawn("redis-server", ["--port", String(port), "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  for (let i = 0; i < 50; i++) {
    const r = new Redis({ port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    r.on("error", () => {});
    const up = await r.connect().then(
      () => true,
      () => false,
    );
    r.disconnect();
    if (up) return { proc, port };
    await new Promise((res) => setTimeout(res, 100));
  }
  proc.kill("SIGKILL");
  throw new Error("redis-server did not start");
}

async function post(base: string, key: ProjectKey, n: number): Promise<number> {
  const res = await fetch(`${base}/api/${key.projectId}/store/?sentry_key=${key.publicKey}`, {
    method: "POST",
    body: JSON.stringify({ event_id: eventId(n), message: `event ${n}` }),
    signal: AbortSignal.timeout(3000),
  });
  await res.text();
  return res.status;
}

/** The event ids of the events stream's entries, each once. */
async function streamedEvents(port: number, stream: string): Promise<string[]> {
  const r = new Redis({ port });
  try {
    const entries = (await r.xrange(stream, "-", "+")) as [string, string[]][];
    const ids = entries.map(([, f]) => JSON.parse(f[f.indexOf("value") + 1])[2].event_id as string);
    return [...new Set(ids)].sort();
  } finally {
    r.disconnect();
  }
}

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((res) => setTimeout(res, 100));
  }
  return check();
}

function serve(db: string, eventstream: string): { child: ChildProcess; url: Promise<string> } {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "src/cli/bin.ts", "serve", "--db", db, "--port", "0", "--eventstream", eventstream],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  const url = new Promise<string>((done, fail) => {
    child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      const line = stderr.split("\n").find((l) => l.includes("relo serve listening"));
      if (line) done(JSON.parse(line).url);
    });
    child.on("exit", () => fail(new Error(`relo serve exited: ${stderr}`)));
  });
  return { child, url };
}

describeEachDb("event stream relay to a Redis that stops answering", (kind) => {
  let store: Store;
  let db: TestDb;
  let key: ProjectKey;
  let redis: { proc: ChildProcess; port: number } | null = null;
  let child: ChildProcess | null = null;
  useFreshStore(kind, (s, d) => {
    store = s;
    db = d;
  });
  beforeEach(async () => {
    [key] = await importProjects(store);
  });
  afterEach(() => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    child = null;
    redis?.proc.kill("SIGCONT");
    redis?.proc.kill("SIGKILL");
    redis = null;
  });

  it.runIf(HAS_REDIS_SERVER)(
    "keeps saving and answering, stops on SIGTERM within seconds, and the next start delivers the messages",
    async () => {
      redis = await privateRedis();
      const stream = `redis://127.0.0.1:${redis.port}/0?prefix=hang:`;
      const server = serve(db.url, stream);
      child = server.child;
      const base = await server.url;
      expect(await post(base, key, 1)).toBe(200);
      const port = redis.port;
      expect(await waitFor(async () => (await streamedEvents(port, "hang:events")).length === 1, 5000)).toBe(
        true,
      );
      redis.proc.kill("SIGSTOP");
      for (const n of [2, 3, 4]) expect(await post(base, key, n)).toBe(200);
      for (const n of [2, 3, 4]) expect(await payload(store, key.projectId, eventId(n))).not.toBeNull();
      const exited = new Promise<number | null>((done) => child!.on("exit", (code) => done(code)));
      const start = Date.now();
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(Date.now() - start).toBeLessThan(5000);
      redis.proc.kill("SIGCONT");
      // The next start relays what the outbox kept (messages may arrive twice: at-least-once).
      const next = await startServer({ db: db.url, port: 0, eventstream: stream });
      await next.ingest.idle();
      await next.close();
      expect(await streamedEvents(port, "hang:events")).toEqual([1, 2, 3, 4].map(eventId));
    },
    30_000,
  );

  it.runIf(HAS_REDIS_SERVER)(
    "delivers what was saved while Redis was frozen once it answers again, without a restart",
    async () => {
      redis = await privateRedis();
      const port = redis.port;
      const server = await startServer({
        db: db.url,
        port: 0,
        eventstream: `redis://127.0.0.1:${port}/0?prefix=thaw:`,
      });
      try {
        expect(await post(server.url, key, 1)).toBe(200);
        redis.proc.kill("SIGSTOP");
        for (const n of [2, 3]) expect(await post(server.url, key, n)).toBe(200);
        // Past the relay's command timeout: the relay has given up on the frozen Redis once.
        await new Promise((res) => setTimeout(res, 6000));
        expect(await post(server.url, key, 4)).toBe(200);
        redis.proc.kill("SIGCONT");
        const all = [1, 2, 3, 4].map(eventId);
        expect(
          await waitFor(
            async () => (await streamedEvents(port, "thaw:events")).join() === all.join(),
            10_000,
          ),
        ).toBe(true);
      } finally {
        await server.close();
      }
    },
    40_000,
  );
});
