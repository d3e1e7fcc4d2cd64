/**
 * Normalization and framing of hostile or malformed input: payloads the save path could not
 * read (threads, frames, deep nesting), NUL characters, clock drift, the envelope's limits, and
 * what a parsed event costs in memory.
 */
import { describe, expect, it } from "vitest";
import { EnvelopeError, EnvelopeTooLarge, parseEnvelope } from "../src/events/envelope.js";
import { materialize, searchMessage } from "../src/events/metadata.js";
import { NormalizeError, normalizeEvent } from "../src/events/normalize.js";
import { eventCost } from "../src/events/server.js";

const RECEIVED = 1_750_000_000;
const ctx = { projectId: 7, keyId: 3, clientIp: "10.0.0.9", received: RECEIVED };
const norm = (raw: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  normalizeEvent(structuredClone(raw), { ...ctx, ...extra });
const DAY = 86400;

function nested(depth: number): unknown {
  let value: unknown = [];
  for (let i = 1; i < depth; i++) value = [value];
  return value;
}

describe("malformed stack traces and threads", () => {
  it("threads.values that is not a list drops the threads with an error entry", () => {
    for (const values of [{}, null, "x"]) {
      const d = norm({ message: "m", threads: { values } });
      expect(d.threads).toBeUndefined();
      expect(d.errors).toEqual([{ type: "invalid_data", name: "threads" }]);
      expect(materialize(d).title).toBe("m");
    }
    expect(norm({ threads: null }).threads).toBeUndefined();
  });

  it("null and non-object frames and threads are dropped; a bare thread list becomes {values}", () => {
    const d = norm({
      stacktrace: { frames: [{ function: "f", module: "app.x" }, null, 3] },
      threads: [null, { stacktrace: { frames: [null, { function: "g" }] } }],
    });
    expect(d.stacktrace.frames).toEqual([{ function: "f", module: "app.x" }]);
    expect(d.threads).toEqual({ values: [{ stacktrace: { frames: [{ function: "g" }] } }] });
    expect(materialize(d).culprit).toBe("app.x in f");
  });

  it("a stack trace without a list of frames is dropped with an error entry", () => {
    const d = norm({ exception: { values: [{ type: "E", stacktrace: { frames: { 0: {} } } }] } });
    expect(d.exception.values[0].stacktrace).toBeUndefined();
    expect(d.errors).toEqual([{ type: "invalid_data", name: "exception.values.0.stacktrace" }]);
  });

  it("frame fields of the wrong type are dropped with an error entry naming them", () => {
    const d = norm({
      platform: "python",
      exception: {
        values: [
          { type: "E", stacktrace: { frames: [{ module: { length: 500 }, function: 7, in_app: "yes" }] } },
        ],
      },
    });
    expect(d.exception.values[0].stacktrace.frames).toEqual([{}]);
    expect(d.errors.map((e: any) => e.name)).toEqual([
      "exception.values.0.stacktrace.frames.0.module",
      "exception.values.0.stacktrace.frames.0.function",
      "exception.values.0.stacktrace.frames.0.in_app",
    ]);
    expect(materialize(d)).toMatchObject({ title: "E", culprit: "" });
  });

  it("deriving the issue's metadata from unnormalized data never throws", () => {
    const raw: any = {
      type: "error",
      platform: "python",
      exception: { values: [null, { type: 5, value: {}, stacktrace: { frames: [null, { module: {} }] } }] },
      threads: { values: {} },
      stacktrace: { frames: "x" },
      logentry: { formatted: 3 },
      request: { url: [] },
    };
    const m = materialize(raw);
    expect(m).toMatchObject({ title: "Error", culprit: "" });
    expect(() => searchMessage(raw, m)).not.toThrow();
    expect(() =>
      materialize({ type: "default", threads: { values: null }, exception: { values: {} } }),
    ).not.toThrow();
  });

  it("an errors field that is not a list is replaced, so errors can be recorded", () => {
    const d = norm({ message: "m", errors: "x", timestamp: "never" });
    expect(d.errors).toEqual([{ type: "invalid_data", name: "timestamp", value: "never" }]);
  });
});

describe("nesting", () => {
  it("an event nested 127 levels deep is kept; 128 or 20,000 levels is refused", () => {
    expect(norm({ message: "m", extra: { a: nested(125) } }).extra.a).toEqual(nested(125));
    expect(() => norm({ message: "m", extra: { a: nested(126) } })).toThrow(NormalizeError);
    expect(() => normalizeEvent({ extra: { a: nested(20000) } }, ctx)).toThrow(
      "the event is nested more than 127 levels deep",
    );
  });
});

describe("NUL characters", () => {
  it("are removed from release, dist, environment, logger, platform, transaction and culprit", () => {
    const d = norm({
      release: "1.0\u0000",
      dist: "d\u0000",
      environment: "pr\u0000od",
      logger: "l\u0000",
      platform: "py\u0000thon",
      transaction: "t\u0000",
      culprit: "c\u0000",
    });
    expect(d).toMatchObject({
      release: "1.0",
      dist: "d",
      environment: "prod",
      logger: "l",
      platform: "python",
      transaction: "t",
      culprit: "c",
    });
    expect(norm({ release: "\u0000" }).release).toBeUndefined();
  });

  it("are removed from the issue's culprit and message, wherever they come from", () => {
    const d = norm({
      platform: "python",
      exception: {
        values: [
          {
            type: "E\u0000",
            value: "v\u0000",
            stacktrace: { frames: [{ module: "m\u0000", function: "f" }] },
          },
        ],
      },
    });
    const m = materialize(d);
    expect(m.culprit).toBe("m in f");
    expect(searchMessage(d, m)).not.toContain("\u0000");
    expect(searchMessage(norm({ message: "a\u0000b" }), materialize(norm({ message: "a\u0000b" })))).toBe(
      "ab",
    );
  });
});

describe("clock drift", () => {
  const transaction = (end: number) => ({
    type: "transaction",
    transaction: "GET /",
    start_timestamp: end - 2,
    timestamp: end - 1,
    breadcrumbs: { values: [{ timestamp: end - 3 }] },
    spans: [{ start_timestamp: end - 2, timestamp: new Date((end - 1) * 1000).toISOString() }],
    contexts: { trace: { trace_id: "a".repeat(32), span_id: "b".repeat(16) } },
  });

  it("a sent_at a day ahead moves every timestamp back a day (a transaction keeps its length)", () => {
    const d = norm(transaction(RECEIVED + DAY), { sentAt: new Date((RECEIVED + DAY) * 1000).toISOString() });
    expect(d.timestamp).toBe(RECEIVED - 1);
    expect(d.start_timestamp).toBe(RECEIVED - 2);
    expect(d.breadcrumbs.values[0].timestamp).toBe(RECEIVED - 3);
    expect(d.spans[0]).toEqual({ start_timestamp: RECEIVED - 2, timestamp: RECEIVED - 1 });
    expect(d.errors).toEqual([
      {
        type: "clock_drift",
        name: "timestamp",
        sdk_time: new Date((RECEIVED + DAY) * 1000).toISOString(),
        server_time: new Date(RECEIVED * 1000).toISOString(),
      },
    ]);
  });

  it("a sent_at a day behind moves them forward; less than 55 minutes off changes nothing", () => {
    const behind = norm(transaction(RECEIVED - DAY), { sentAt: RECEIVED - DAY });
    expect([behind.start_timestamp, behind.timestamp]).toEqual([RECEIVED - 2, RECEIVED - 1]);
    const close = norm({ message: "m", timestamp: RECEIVED - 54 * 60 }, { sentAt: RECEIVED - 54 * 60 });
    expect(close.timestamp).toBe(RECEIVED - 54 * 60);
    expect(close.errors).toBeUndefined();
    const garbage = norm({ message: "m", timestamp: RECEIVED - 10 }, { sentAt: "yesterday" });
    expect(garbage.timestamp).toBe(RECEIVED - 10);
    expect(norm({ message: "m" }, { sentAt: 1e300 }).timestamp).toBe(RECEIVED);
  });

  it("without sent_at, a timestamp in the future still moves every timestamp with it (Relay's bounds)", () => {
    const d = norm(transaction(RECEIVED + DAY));
    expect([d.start_timestamp, d.timestamp]).toEqual([RECEIVED - 1, RECEIVED]);
    expect(d.errors).toEqual([{ type: "future_timestamp", name: "timestamp", value: RECEIVED + DAY - 1 }]);
  });
});

describe("envelope limits", () => {
  it("more items than maxItems is EnvelopeTooLarge; blank lines do not count", () => {
    const items = '{"type":"a"}\n\n'.repeat(5);
    expect(
      parseEnvelope(Buffer.from(`{}\n${items}`), { maxItems: 5, maxHeaderBytes: 1000 }).items,
    ).toHaveLength(5);
    const over = () =>
      parseEnvelope(Buffer.from(`{}\n${items}{"type":"a"}\n`), { maxItems: 5, maxHeaderBytes: 1000 });
    expect(over).toThrow(EnvelopeTooLarge);
    expect(over).toThrow("the envelope has more than 5 items");
  });

  it("headers longer together than maxHeaderBytes are EnvelopeTooLarge, checked before parsing them", () => {
    const big = Buffer.from(`{"x":[${"{},".repeat(400)}{}]}\n{"type":"event"}\n{}\n`);
    const err = (() => {
      try {
        parseEnvelope(big, { maxItems: 10, maxHeaderBytes: 1000 });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(EnvelopeTooLarge);
    expect(err).toBeInstanceOf(EnvelopeError);
    expect((err as Error).message).toBe("the envelope's headers exceed 1000 bytes (at byte 0)");
    const many = Buffer.from(`{}\n${'{"type":"session","pad":"xxxxxxxxxx"}\n{}\n'.repeat(40)}`);
    expect(() => parseEnvelope(many, { maxItems: 100, maxHeaderBytes: 1000 })).toThrow(
      /^the envelope's headers exceed 1000 bytes \(at byte \d+\)$/,
    );
  });

  it("the default limits take 1,000 items and refuse 1,001", () => {
    expect(parseEnvelope(Buffer.from(`{}\n${'{"type":"a"}\n\n'.repeat(1000)}`)).items).toHaveLength(1000);
    expect(() => parseEnvelope(Buffer.from(`{}\n${'{"type":"a"}\n\n'.repeat(1001)}`))).toThrow(
      EnvelopeTooLarge,
    );
  });
});

describe("eventCost", () => {
  it("counts objects, arrays and members, so compact JSON of empty objects costs 20 times its length", () => {
    const bomb = Buffer.from(JSON.stringify({ a: Array(100_000).fill({}) }));
    expect(eventCost(bomb)).toBeGreaterThan(20 * bomb.length);
    const text = Buffer.from(JSON.stringify({ message: "x".repeat(100_000) }));
    expect(eventCost(text)).toBeLessThan(text.length + 200);
  });
});
