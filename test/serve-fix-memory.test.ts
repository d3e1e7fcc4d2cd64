/**
 * `relo serve` as users run it (bin/relo.js, the built dist/, the CLI's 160 MB heap cap) against
 * small compressed requests that expand into far more memory than their size: it answers each
 * with a 4xx or a 429, stays up, and saves the next event. Rebuild dist/ before running.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, expect, it } from "vitest";
import { serializeEnvelope } from "../src/events/envelope.js";
import type { Store } from "../src/store/types.js";
import { ROOT } from "./helpers/cli.js";
import { describeEachDb, type TestDb, useFreshStore } from "./helpers/db.js";
import {
  errorEvent,
  eventId,
  httpRequest,
  importProjects,
  type ProjectKey,
  payload,
} from "./helpers/events.js";

/** A POST's status and JSON body. */
async function post(url: string, body: Buffer, headers: Record<string, string> = {}) {
  const { status, body: answer } = await httpRequest(url, body, headers);
  return { status, body: answer };
}

/** About 1 MB of JSON (under the event limit) that parses into about 22 MB of empty objects. */
const HEAVY = Buffer.from(JSON.stringify({ message: "x", extra: { a: Array(340_000).fill({}) } }));
const gzip = { "content-encoding": "gzip" };

describeEachDb("relo serve under the CLI's heap cap", (kind) => {
  let store: Store;
  let db: TestDb;
  let key: ProjectKey;
  let child: ChildProcess | null = null;
  let stderr = "";
  useFreshStore(kind, (s, d) => {
    store = s;
    db = d;
  });
  beforeEach(async () => {
    [key] = await importProjects(store);
  });
  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((done) => child!.on("exit", done));
      child.kill("SIGTERM");
      await exited;
    }
    child = null;
  });

  async function serve(): Promise<string> {
    stderr = "";
    child = spawn(process.execPath, ["bin/relo.js", "serve", "--db", db.url, "--port", "0"], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, RELO_HEAP_MB: "160" },
    });
    return new Promise<string>((done, fail) => {
      child!.stderr!.setEncoding("utf8").on("data", (d: string) => {
        stderr += d;
        const line = stderr.split("\n").find((l) => l.includes("relo serve listening"));
        if (line) done(JSON.parse(line).url);
      });
      child!.on("exit", () => fail(new Error(`relo serve exited: ${stderr}`)));
    });
  }

  /** Sends an ordinary event, as an SDK would after a 429, until it is accepted. */
  async function nextEventSaved(url: string, n: number) {
    const body = serializeEnvelope({}, [
      { header: { type: "event" }, payload: errorEvent({ event_id: eventId(n) }) },
    ]);
    const until = Date.now() + 20_000;
    let res = await post(url, body);
    while (res.status === 429 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200));
      res = await post(url, body);
    }
    expect(res).toEqual({ status: 200, body: { id: eventId(n) } });
    expect(child!.exitCode).toBeNull();
    expect(await payload(store, key.projectId, eventId(n))).not.toBeNull();
  }

  it("an 8 KB gzip envelope of eight 1 MB event items is refused, and the server goes on", async () => {
    const base = await serve();
    const url = `${base}/api/${key.projectId}/envelope/?sentry_key=${key.publicKey}`;
    const items = Array.from({ length: 8 }, () => ({ header: { type: "event" }, payload: HEAVY }));
    const body = gzipSync(serializeEnvelope({}, items));
    expect(body.length).toBeLessThan(16 * 1024);
    const res = await post(url, body, gzip);
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/^duplicate item: /);
    await nextEventSaved(url, 1);
  });

  it("sixteen such events at once are saved or answered 429, never more than memory allows", async () => {
    const base = await serve();
    const url = `${base}/api/${key.projectId}/envelope/?sentry_key=${key.publicKey}`;
    const body = gzipSync(serializeEnvelope({}, [{ header: { type: "event" }, payload: HEAVY }]));
    const answers = await Promise.all(Array.from({ length: 16 }, () => post(url, body, gzip)));
    const statuses = answers.map((a) => a.status);
    // Each costs about 30 MB parsed, over the queue's 16 MiB: one waits at a time, the rest retry.
    expect(statuses).toContain(200);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    await nextEventSaved(url, 2);
  });

  it("1.4 million empty items, or a 9 MB envelope header, are a 413, and the server goes on", async () => {
    const base = await serve();
    const url = `${base}/api/${key.projectId}/envelope/?sentry_key=${key.publicKey}`;
    const items = gzipSync(Buffer.from(`{}\n${'{"type":"a"}\n\n'.repeat(1_400_000)}`));
    expect((await post(url, items, gzip)).status).toBe(413);
    const header = gzipSync(Buffer.from(`{"x":[${"{},".repeat(3_000_000)}{}]}\n`));
    expect((await post(url, header, gzip)).status).toBe(413);
    await nextEventSaved(url, 3);
  });
});
