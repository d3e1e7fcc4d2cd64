import { resolve } from "node:path";
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { afterEach, beforeEach, expect, it } from "vitest";
import { ReloError } from "../src/backup/errors.js";
import { serializeEnvelope } from "../src/events/envelope.js";
import { type RunningServer, type ServeOptions, startServer } from "../src/events/serve.js";
import { Sql } from "../src/events/sql.js";
import type { Store } from "../src/store/types.js";
import { describeEachDb, type TestDb, useFreshStore } from "./helpers/db.js";
import {
  errorEvent,
  eventId,
  httpRequest,
  importProjects,
  messages,
  type ProjectKey,
  payload,
} from "./helpers/events.js";
import { count } from "./helpers/import.js";

const request = httpRequest;

function envelope(events: Record<string, unknown>[], header: Record<string, unknown> = {}): Buffer {
  return serializeEnvelope(
    header,
    events.map((e) => ({ header: { type: e.type === "transaction" ? "transaction" : "event" }, payload: e })),
  );
}

describeEachDb("relo serve HTTP", (kind) => {
  let store: Store;
  let db: TestDb;
  let key: ProjectKey;
  let other: ProjectKey;
  let server: RunningServer | null = null;
  useFreshStore(kind, (s, d) => {
    store = s;
    db = d;
  });
  beforeEach(async () => {
    [key] = await importProjects(store);
    const keys = await importProjects(store, resolve(import.meta.dirname, "../examples/two-orgs.json"));
    other = keys.find((k) => k.projectId !== key.projectId)!;
  });
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  async function serve(o: Partial<ServeOptions> = {}) {
    server = await startServer({ db: db.url, port: 0, ...o });
    return server;
  }
  const envelopeUrl = (k: ProjectKey, query = "") => `${server!.url}/api/${k.projectId}/envelope/${query}`;
  const auth = (k: ProjectKey) =>
    `Sentry sentry_version=7, sentry_client=test/1.0, sentry_key=${k.publicKey}`;

  async function nothingStored() {
    expect(await count(store, "nodestore_node")).toBe(0);
    expect(await count(store, "relo_eventstream")).toBe(0);
    expect(await count(store, "sentry_groupedmessage")).toBe(0);
    expect(await count(store, "sentry_grouphash")).toBe(0);
  }

  it("#1 an envelope with the project's key in X-Sentry-Auth is accepted and answered with the event id", async () => {
    await serve();
    const res = await request(envelopeUrl(key), envelope([errorEvent({ event_id: eventId(1) })]), {
      "x-sentry-auth": auth(key),
      "content-type": "application/x-sentry-envelope",
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: eventId(1) });
    expect((await payload(store, key.projectId, eventId(1)))!.key_id).toBe(String(key.keyId));
  });

  it("#2 the same event with ?sentry_key=...&sentry_version=7 and no header is accepted", async () => {
    await serve();
    const res = await request(
      envelopeUrl(key, `?sentry_key=${key.publicKey}&sentry_version=7`),
      envelope([errorEvent({ event_id: eventId(2) })]),
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: eventId(2) });
    expect(await count(store, "sentry_groupedmessage")).toBe(1);
  });

  it("Authorization: Sentry ..., the envelope header's DSN, and the legacy store endpoint are accepted", async () => {
    const s = await serve();
    const a = await request(envelopeUrl(key), envelope([errorEvent({ event_id: eventId(3) })]), {
      authorization: auth(key),
    });
    expect(a.status).toBe(200);
    const dsn = `http://${key.publicKey}@127.0.0.1:${s.port}/${key.projectId}`;
    const b = await request(envelopeUrl(key), envelope([errorEvent({ event_id: eventId(4) })], { dsn }));
    expect(b.status).toBe(200);
    const c = await request(
      `${s.url}/api/${key.projectId}/store/`,
      Buffer.from(JSON.stringify(errorEvent({ event_id: eventId(5) }))),
      { "x-sentry-auth": auth(key), "content-type": "application/json" },
    );
    expect(c).toMatchObject({ status: 200, body: { id: eventId(5) } });
    // Very old SDKs: base64 of zlib-compressed JSON.
    const legacy = Buffer.from(
      deflateSync(JSON.stringify(errorEvent({ event_id: eventId(6) }))).toString("base64"),
    );
    const d = await request(`${s.url}/api/${key.projectId}/store`, legacy, { "x-sentry-auth": auth(key) });
    expect(d).toMatchObject({ status: 200, body: { id: eventId(6) } });
    expect(await count(store, "nodestore_node")).toBe(4);
  });

  it("#3 a request without auth anywhere is unauthorized; so is a key of another project", async () => {
    await serve();
    const none = await request(envelopeUrl(key), envelope([errorEvent()]));
    expect(none).toMatchObject({
      status: 401,
      body: { detail: "Unable to find authentication information" },
    });
    const foreign = await request(envelopeUrl(key), envelope([errorEvent()]), {
      "x-sentry-auth": auth(other),
    });
    expect(foreign).toMatchObject({ status: 401, body: { detail: "Two different projects were specified" } });
    const foreignDsn = `http://${other.publicKey}@127.0.0.1/${key.projectId}`;
    const viaDsn = await request(envelopeUrl(key), envelope([errorEvent()], { dsn: foreignDsn }));
    expect(viaDsn).toMatchObject({ status: 401, body: { detail: "Two different projects were specified" } });
    await nothingStored();
  });

  it("#4 envelope items honour their length (payloads with newlines and binary data) and fall back to newline-terminated payloads", async () => {
    await serve();
    const pretty = Buffer.from(JSON.stringify(errorEvent({ event_id: eventId(41) }), null, 2));
    const binary = Buffer.from([0x0a, 0x00, 0xff, 0x0a, 0x7b, 0x0a]);
    const body = Buffer.concat([
      Buffer.from(`${JSON.stringify({ event_id: eventId(41) })}\n`),
      Buffer.from(`${JSON.stringify({ type: "attachment", length: binary.length, filename: "a.bin" })}\n`),
      binary,
      Buffer.from("\n"),
      Buffer.from(`${JSON.stringify({ type: "event", length: pretty.length })}\n`),
      pretty,
      Buffer.from("\n"),
    ]);
    const res = await request(envelopeUrl(key), body, { "x-sentry-auth": auth(key) });
    expect(res).toMatchObject({ status: 200, body: { id: eventId(41) } });
    const plain = Buffer.from(
      `${JSON.stringify({ event_id: eventId(42) })}\n{"type":"event"}\n${JSON.stringify(errorEvent({ event_id: eventId(42) }))}\n`,
    );
    const res2 = await request(envelopeUrl(key), plain, { "x-sentry-auth": auth(key) });
    expect(res2).toMatchObject({ status: 200, body: { id: eventId(42) } });
    expect(await payload(store, key.projectId, eventId(41))).not.toBeNull();
    expect(await payload(store, key.projectId, eventId(42))).not.toBeNull();
  });

  it("gzip, deflate (zlib and raw) and br bodies are accepted, with or without a Content-Type", async () => {
    await serve();
    const cases: [string, (b: Buffer) => Buffer][] = [
      ["gzip", gzipSync],
      ["deflate", deflateSync],
      ["deflate", deflateRawSync],
      ["br", brotliCompressSync],
    ];
    let n = 50;
    for (const [encoding, compress] of cases) {
      const id = eventId(n++);
      const res = await request(envelopeUrl(key), compress(envelope([errorEvent({ event_id: id })])), {
        "x-sentry-auth": auth(key),
        "content-encoding": encoding,
      });
      expect(res, encoding).toMatchObject({ status: 200, body: { id } });
    }
    expect(await count(store, "nodestore_node")).toBe(4);
  });

  it("a transaction and items relo does not store (sessions, client reports) in one envelope", async () => {
    await serve();
    const body = serializeEnvelope({ event_id: eventId(60) }, [
      { header: { type: "session" }, payload: { sid: "x", status: "ok" } },
      {
        header: { type: "transaction" },
        payload: {
          event_id: eventId(60),
          transaction: "GET /",
          start_timestamp: Date.now() / 1000 - 1,
          timestamp: Date.now() / 1000,
          contexts: { trace: { trace_id: "c".repeat(32), span_id: "d".repeat(16) } },
        },
      },
      { header: { type: "client_report" }, payload: { discarded_events: [] } },
    ]);
    const res = await request(envelopeUrl(key), body, { "x-sentry-auth": auth(key) });
    expect(res).toMatchObject({ status: 200, body: { id: eventId(60) } });
    expect((await messages(store, "transactions")).length).toBe(1);
    const only = serializeEnvelope({}, [{ header: { type: "session" }, payload: { sid: "y" } }]);
    const res2 = await request(envelopeUrl(key), only, { "x-sentry-auth": auth(key) });
    expect(res2).toMatchObject({ status: 200, body: {} });
  });

  it("bad requests: wrong key, wrong secret, disabled key, two auth payloads are 401 and store nothing", async () => {
    await serve();
    const body = envelope([errorEvent()]);
    const wrong = await request(envelopeUrl(key), body, {
      "x-sentry-auth": "Sentry sentry_key=00000000000000000000000000000000",
    });
    expect(wrong).toMatchObject({ status: 401, body: { detail: "Invalid api key" } });
    const secret = await request(envelopeUrl(key), body, {
      "x-sentry-auth": `${auth(key)}, sentry_secret=nope`,
    });
    expect(secret).toMatchObject({ status: 401, body: { detail: "Invalid api key" } });
    const both = await request(envelopeUrl(key, `?sentry_key=${key.publicKey}`), body, {
      "x-sentry-auth": auth(key),
    });
    expect(both).toMatchObject({
      status: 401,
      body: { detail: "Multiple authentication payloads were detected." },
    });
    await new Sql(store).run("UPDATE sentry_projectkey SET status = 1 WHERE id = ?", [key.keyId]);
    const disabled = await request(envelopeUrl(key), body, { "x-sentry-auth": auth(key) });
    expect(disabled).toMatchObject({ status: 401, body: { detail: "API key is disabled" } });
    await nothingStored();
  });

  it("bad requests: garbage, a truncated envelope, a bad event id, a bad encoding are 400 with a reason and store nothing", async () => {
    await serve();
    const h = { "x-sentry-auth": auth(key) };
    const garbage = await request(envelopeUrl(key), Buffer.from("\x00\x01not json at all"), h);
    expect(garbage.status).toBe(400);
    expect(garbage.body.detail).toMatch(/^invalid envelope header at byte 0/);
    const full = envelope([errorEvent()]);
    const truncated = await request(envelopeUrl(key), full.subarray(0, full.length - 20), h);
    expect(truncated.status).toBe(400);
    expect(truncated.body.detail).toMatch(
      /^truncated envelope: the event item at byte \d+ declares \d+ bytes, \d+ are left$/,
    );
    const badItem = await request(envelopeUrl(key), Buffer.from('{}\n{"type":"event"}\n{"oops"\n'), h);
    expect(badItem.status).toBe(400);
    expect(badItem.body.detail).toMatch(/^invalid event item at byte 3/);
    const badId = await request(envelopeUrl(key), envelope([errorEvent({ event_id: "xyz" })]), h);
    expect(badId).toMatchObject({ status: 400, body: { detail: 'invalid event_id "xyz"' } });
    const notGzip = await request(envelopeUrl(key), full, { ...h, "content-encoding": "gzip" });
    expect(notGzip.status).toBe(400);
    expect(notGzip.body.detail).toMatch(/^the body is not valid gzip data/);
    const unknown = await request(envelopeUrl(key), full, { ...h, "content-encoding": "zstd" });
    expect(unknown).toMatchObject({ status: 400, body: { detail: "unsupported Content-Encoding: zstd" } });
    const empty = await request(envelopeUrl(key), null, h);
    expect(empty).toMatchObject({ status: 400, body: { detail: "empty body" } });
    const badProject = await request(`${server!.url}/api/abc/envelope/`, full, h);
    expect(badProject).toMatchObject({ status: 400, body: { detail: 'invalid project id "abc"' } });
    const storeGarbage = await request(`${server!.url}/api/${key.projectId}/store/`, Buffer.from("{nope"), h);
    expect(storeGarbage.status).toBe(400);
    const txn = await request(envelopeUrl(key), envelope([{ type: "transaction", transaction: "x" }]), h);
    expect(txn).toMatchObject({
      status: 400,
      body: { detail: "transaction event without a valid start_timestamp" },
    });
    await nothingStored();
  });

  it("bodies over the limits are 413: the body as sent, the decompressed body, one event", async () => {
    await serve({ limits: { maxBodyBytes: 4000, maxEnvelopeBytes: 8000, maxEventBytes: 2000 } });
    const h = { "x-sentry-auth": auth(key) };
    const big = envelope([errorEvent({ extra: { pad: "x".repeat(5000) } })]);
    const sent = await request(envelopeUrl(key), big, h);
    expect(sent).toMatchObject({ status: 413, body: { detail: "the body exceeds 4000 bytes" } });
    const bomb = gzipSync(envelope([errorEvent({ extra: { pad: "x".repeat(20000) } })]));
    expect(bomb.length).toBeLessThan(4000);
    const inflated = await request(envelopeUrl(key), bomb, { ...h, "content-encoding": "gzip" });
    expect(inflated).toMatchObject({
      status: 413,
      body: { detail: "the decompressed body exceeds 8000 bytes" },
    });
    const event = gzipSync(envelope([errorEvent({ extra: { pad: "x".repeat(3000) } })]));
    const tooBigEvent = await request(envelopeUrl(key), event, { ...h, "content-encoding": "gzip" });
    expect(tooBigEvent.status).toBe(413);
    expect(tooBigEvent.body.detail).toMatch(/^the event item at byte \d+ exceeds 2000 bytes$/);
    await nothingStored();
  });

  it("a full queue answers 429 with Retry-After", async () => {
    await serve({ ingest: { maxQueue: 0 } });
    const res = await request(envelopeUrl(key), envelope([errorEvent()]), { "x-sentry-auth": auth(key) });
    expect(res.status).toBe(429);
    expect(res.headers["retry-after"]).toBe("1");
    await nothingStored();
  });

  it("a port in use is a clear error, and the database is left to the server that has it", async () => {
    const first = await serve();
    const err = await startServer({ db: db.url, port: first.port }).catch((e) => e);
    expect(err).toBeInstanceOf(ReloError);
    expect(err.message).toMatch(new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${first.port}: .*EADDRINUSE`));
    const res = await request(envelopeUrl(key), envelope([errorEvent()]), { "x-sentry-auth": auth(key) });
    expect(res.status).toBe(200);
  });

  it("browsers: a CORS preflight is answered and responses carry Access-Control-Allow-Origin", async () => {
    await serve();
    const pre = await request(envelopeUrl(key), null, { origin: "https://app.example.com" }, "OPTIONS");
    expect(pre.status).toBe(200);
    expect(pre.headers["access-control-allow-origin"]).toBe("*");
    expect(pre.headers["access-control-allow-headers"]).toContain("x-sentry-auth");
    const res = await request(envelopeUrl(key, `?sentry_key=${key.publicKey}`), envelope([errorEvent()]), {
      origin: "https://app.example.com",
      "content-type": "text/plain;charset=UTF-8",
    });
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBe("*");
    const missing = await request(`${server!.url}/nope`, null, {}, "GET");
    expect(missing).toMatchObject({ status: 404, body: { detail: "not found" } });
  });
});
