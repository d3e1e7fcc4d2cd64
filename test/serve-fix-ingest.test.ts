import { deflateSync, gzipSync } from "node:zlib";
import { afterEach, beforeEach, expect, it } from "vitest";
import { serializeEnvelope } from "../src/events/envelope.js";
import type { Ingest } from "../src/events/ingest.js";
import type { SaveJob } from "../src/events/save/index.js";
import { type RunningServer, type ServeOptions, startServer } from "../src/events/serve.js";
import { buildApp } from "../src/events/server.js";
import { Sql } from "../src/events/sql.js";
import type { Store } from "../src/store/types.js";
import { describeEachDb, type TestDb, useFreshStore } from "./helpers/db.js";
import {
  errorEvent,
  eventId,
  httpRequest,
  importProjects,
  type ProjectKey,
  payload,
} from "./helpers/events.js";
import { count } from "./helpers/import.js";

/** A POST's status and JSON body. */
async function post(url: string, body: Buffer, headers: Record<string, string> = {}) {
  const { status, body: answer } = await httpRequest(url, body, headers);
  return { status, body: answer };
}

const DAY = 86400;
const trace = { trace: { trace_id: "c".repeat(32), span_id: "d".repeat(16) } };

describeEachDb("relo serve with hostile or malformed input", (kind) => {
  let store: Store;
  let db: TestDb;
  let key: ProjectKey;
  let server: RunningServer | null = null;
  useFreshStore(kind, (s, d) => {
    store = s;
    db = d;
  });
  beforeEach(async () => {
    [key] = await importProjects(store);
  });
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  async function serve(o: Partial<ServeOptions> = {}) {
    server = await startServer({ db: db.url, port: 0, ...o });
    return server;
  }
  const storeUrl = () => `${server!.url}/api/${key.projectId}/store/?sentry_key=${key.publicKey}`;
  const envelopeUrl = () => `${server!.url}/api/${key.projectId}/envelope/?sentry_key=${key.publicKey}`;
  const storeEvent = (event: unknown) => post(storeUrl(), Buffer.from(JSON.stringify(event)));

  it("malformed threads, null frames and frame fields of the wrong type are saved, not a 500", async () => {
    await serve();
    const bodies = [
      { message: "m", threads: { values: {} } },
      { threads: { values: null }, message: "m", culprit: "" },
      { stacktrace: { frames: [{ function: "f" }, null] } },
      { threads: { values: [{ stacktrace: { frames: [null] } }] } },
      {
        platform: "python",
        exception: {
          values: [{ type: "E", stacktrace: { frames: [{ module: { length: 500 }, in_app: true }] } }],
        },
      },
    ];
    for (const [i, body] of bodies.entries()) {
      const res = await storeEvent({ ...body, event_id: eventId(i + 1) });
      expect(res, JSON.stringify(body)).toEqual({ status: 200, body: { id: eventId(i + 1) } });
    }
    expect(await count(store, "nodestore_node")).toBe(bodies.length);
    const frame = (await payload(store, key.projectId, eventId(5)))!.exception.values[0].stacktrace.frames[0];
    expect(frame).toEqual({ in_app: true });
  });

  it("an event nested 20,000 levels deep is refused with a 400 and the server goes on", async () => {
    await serve();
    const deep = Buffer.from(`{"message":"deep","extra":{"a":${"[".repeat(20000)}${"]".repeat(20000)}}}`);
    const res = await post(storeUrl(), deep);
    expect(res).toEqual({ status: 400, body: { detail: "the event is nested more than 127 levels deep" } });
    expect(await count(store, "nodestore_node")).toBe(0);
    expect((await storeEvent({ message: "next", event_id: eventId(9) })).status).toBe(200);
  });

  it("NUL characters in message, release, environment and culprit are removed, not a 500", async () => {
    await serve();
    const bodies = [
      { message: "a\u0000b" },
      { message: "r", release: "1.0\u0000" },
      { message: "e", environment: "pr\u0000od" },
      { message: "c", culprit: "x\u0000" },
    ];
    for (const body of bodies) expect((await storeEvent(body)).status, JSON.stringify(body)).toBe(200);
    const sql = new Sql(store);
    const issues = await sql.all<Record<string, unknown>>(
      "SELECT message, view FROM sentry_groupedmessage ORDER BY id",
    );
    expect(issues).toEqual([
      { message: "ab", view: "" },
      { message: "r", view: "" },
      { message: "e", view: "" },
      { message: "c x", view: "x" },
    ]);
    expect(await sql.all("SELECT version FROM sentry_release")).toEqual([{ version: "1.0" }]);
    const envs = await sql.all<{ name: string }>("SELECT name FROM sentry_environment ORDER BY name");
    expect(envs.map((e) => e.name)).toEqual(["", "prod"]);
  });

  it("two events in one envelope are refused as a duplicate item, and nothing is stored", async () => {
    await serve();
    const twoEvents = Buffer.from(
      `${JSON.stringify({ event_id: "a".repeat(32) })}\n{"type":"event"}\n{"message":"one"}\n{"type":"event"}\n{"message":"two"}\n`,
    );
    const res = await post(envelopeUrl(), twoEvents);
    expect(res).toEqual({
      status: 400,
      body: { detail: "duplicate item: the event item at byte 83 is a second event in the envelope" },
    });
    const eventAndTransaction = serializeEnvelope({}, [
      { header: { type: "event" }, payload: errorEvent() },
      { header: { type: "session" }, payload: {} },
      { header: { type: "transaction" }, payload: { transaction: "t", contexts: trace } },
    ]);
    const res2 = await post(envelopeUrl(), eventAndTransaction);
    expect(res2.status).toBe(400);
    expect(res2.body.detail).toMatch(/^duplicate item: the transaction item at byte \d+ is a second event/);
    expect(await count(store, "nodestore_node")).toBe(0);
    expect(await count(store, "sentry_groupedmessage")).toBe(0);
  });

  it("a transaction from a device whose clock is a day ahead is saved, its times corrected by sent_at", async () => {
    await serve();
    const now = Date.now() / 1000;
    const body = serializeEnvelope(
      { event_id: eventId(20), sent_at: new Date((now + DAY) * 1000).toISOString() },
      [
        {
          header: { type: "transaction" },
          payload: {
            transaction: "GET /",
            start_timestamp: now + DAY - 2,
            timestamp: now + DAY - 1,
            contexts: trace,
          },
        },
      ],
    );
    const res = await post(envelopeUrl(), body);
    expect(res).toEqual({ status: 200, body: { id: eventId(20) } });
    const saved = (await payload(store, key.projectId, eventId(20)))!;
    expect(saved.timestamp - saved.start_timestamp).toBeCloseTo(1, 3);
    expect(Math.abs(saved.timestamp - (now - 1))).toBeLessThan(5);
    expect(saved.errors).toEqual([expect.objectContaining({ type: "clock_drift", name: "timestamp" })]);
  });

  it("a legacy store body of base64 zlib data inflating past 1 MiB is a 413", async () => {
    await serve();
    const big = deflateSync(JSON.stringify({ message: "m", extra: { pad: "x".repeat(2 * 1024 * 1024) } }));
    const res = await post(storeUrl(), Buffer.from(big.toString("base64")));
    expect(res).toEqual({ status: 413, body: { detail: "the event exceeds 1048576 bytes" } });
    expect(await count(store, "nodestore_node")).toBe(0);
  });

  it("envelopes over the item count or header size are a 413 before anything is parsed", async () => {
    await serve();
    const items = gzipSync(Buffer.from(`{}\n${'{"type":"a"}\n\n'.repeat(1_400_000)}`));
    const tooMany = await post(envelopeUrl(), items, { "content-encoding": "gzip" });
    expect(tooMany).toEqual({ status: 413, body: { detail: "the envelope has more than 1000 items" } });
    const header = gzipSync(Buffer.from(`{"x":[${"{},".repeat(3_000_000)}{}]}\n`));
    const hugeHeader = await post(envelopeUrl(), header, { "content-encoding": "gzip" });
    expect(hugeHeader).toEqual({
      status: 413,
      body: { detail: "the envelope's headers exceed 262144 bytes (at byte 0)" },
    });
    const ok = await post(
      envelopeUrl(),
      serializeEnvelope({}, [{ header: { type: "event" }, payload: errorEvent() }]),
    );
    expect(ok.status).toBe(200);
  });

  it("what waits to be saved is bounded by what events cost in memory, not their length", async () => {
    const submitted: SaveJob[] = [];
    const submit = async (jobs: SaveJob[]) => {
      submitted.push(...jobs);
      return [];
    };
    const ingest = { submit } as unknown as Ingest;
    const app = buildApp({ ingest, reader: new Sql(store, true) });
    const heavy = JSON.stringify({ message: "m", extra: { a: Array(21_000).fill({}) } });
    const light = JSON.stringify({ message: "x".repeat(60_000) });
    for (const body of [heavy, light]) {
      const res = await app.inject({
        method: "POST",
        url: `/api/${key.projectId}/store/?sentry_key=${key.publicKey}`,
        body,
      });
      expect(res.statusCode).toBe(200);
    }
    await app.close();
    // 21,000 empty objects take 1.3 MB of heap once parsed: the queue must count that, not 63 kB.
    expect(submitted[0].bytes).toBeGreaterThan(20 * heavy.length);
    expect(submitted[1].bytes).toBeLessThan(light.length + 200);
  });

  it("decompressed bodies held at once are bounded: one that does not fit what is left gets 429, and the room comes back", async () => {
    let release: () => void = () => {};
    let hold = true;
    const submit = async () => {
      if (hold) await new Promise<void>((r) => (release = r));
      return [];
    };
    const ingest = { submit } as unknown as Ingest;
    const mib = 1024 * 1024;
    const app = buildApp({
      ingest,
      reader: new Sql(store, true),
      limits: { maxEnvelopeBytes: mib, maxDecodedInFlightBytes: 1.2 * mib },
    });
    const big = gzipSync(
      serializeEnvelope({}, [
        { header: { type: "event" }, payload: { ...errorEvent(), extra: { big: "x".repeat(700_000) } } },
      ]),
    );
    const small = gzipSync(serializeEnvelope({}, [{ header: { type: "event" }, payload: errorEvent() }]));
    const send = (body: Buffer) =>
      app.inject({
        method: "POST",
        url: `/api/${key.projectId}/envelope/?sentry_key=${key.publicKey}`,
        headers: { "content-encoding": "gzip" },
        body,
      });
    const first = send(big);
    await new Promise((r) => setTimeout(r, 200)); // the first now holds about 0.7 MiB
    const second = await send(big);
    expect(second.statusCode).toBe(429);
    expect(second.headers["retry-after"]).toBe("1");
    hold = false;
    expect((await send(small)).statusCode).toBe(200);
    release();
    expect((await first).statusCode).toBe(200);
    expect((await send(big)).statusCode).toBe(200);
    await app.close();
  });
});
