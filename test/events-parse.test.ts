/**
 * The pure parts of ingestion: envelope framing, auth parsing, normalization, grouping and the
 * derived issue metadata.
 */
import { describe, expect, it } from "vitest";
import { authFromDsn, authFromRequest, parseAuthHeader } from "../src/events/auth.js";
import { EnvelopeError, parseEnvelope, serializeEnvelope } from "../src/events/envelope.js";
import { computeHashes, groupingComponents } from "../src/events/grouping.js";
import { groupMessage, materialize, searchMessage } from "../src/events/metadata.js";
import { NormalizeError, normalizeEvent } from "../src/events/normalize.js";
import { userTagValue } from "../src/events/save/index.js";
import { semverColumns } from "../src/events/save/release.js";
import { errorEvent } from "./helpers/events.js";

const RECEIVED = 1_750_000_000;
const ctx = { projectId: 7, keyId: 3, clientIp: "10.0.0.9", received: RECEIVED };
const norm = (raw: Record<string, unknown>) => normalizeEvent(structuredClone(raw), ctx);

describe("envelopes", () => {
  it("reads items with a length exactly, newlines and all, and items without one up to the newline", () => {
    const bin = Buffer.from([0x0a, 0x0a, 0x00, 0x7b]);
    const body = Buffer.concat([
      Buffer.from('{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}\n'),
      Buffer.from(`{"type":"attachment","length":${bin.length}}\n`),
      bin,
      Buffer.from('\n{"type":"event"}\n{"message":"hi"}\n'),
      Buffer.from('{"type":"session"}\n{"sid":1}'),
    ]);
    const env = parseEnvelope(body);
    expect(env.header).toEqual({ event_id: "9ec79c33ec9942ab8353589fcb2e04dc" });
    expect(env.items.map((i) => i.header.type)).toEqual(["attachment", "event", "session"]);
    expect(env.items[0].payload).toEqual(bin);
    expect(JSON.parse(env.items[1].payload.toString())).toEqual({ message: "hi" });
    expect(JSON.parse(env.items[2].payload.toString())).toEqual({ sid: 1 });
    expect(env.items[1].offset).toBe(body.indexOf('{"type":"event"}'));
  });

  it("an envelope of only a header, and an item with an empty payload at the end", () => {
    expect(parseEnvelope(Buffer.from("{}")).items).toEqual([]);
    expect(parseEnvelope(Buffer.from("{}\n")).items).toEqual([]);
    const env = parseEnvelope(Buffer.from('{}\n{"type":"event","length":0}\n'));
    expect(env.items[0].payload.length).toBe(0);
  });

  it("round-trips what serializeEnvelope writes", () => {
    const body = serializeEnvelope({ dsn: "x" }, [
      { header: { type: "event" }, payload: { a: "line\nbreak" } },
    ]);
    const env = parseEnvelope(body);
    expect(env.items[0].header).toEqual({ type: "event", length: 19 });
    expect(JSON.parse(env.items[0].payload.toString())).toEqual({ a: "line\nbreak" });
  });

  it.each([
    ["not json", "invalid envelope header at byte 0"],
    ["[1]\n", "invalid envelope header at byte 0: not a JSON object"],
    ['{}\n{"length":2}\nab\n', "item header at byte 3 has no type"],
    ['{}\n{"type":"event","length":-1}\n', "item header at byte 3 has an invalid length"],
    [
      '{}\n{"type":"event","length":10}\nabc',
      "truncated envelope: the event item at byte 3 declares 10 bytes, 3 are left",
    ],
    ['{}\n{"type":"event","length":2}\nabc\n', "the event item at byte 3 is longer than its length"],
    ['{}\n{"type":"event"\n', "invalid item header at byte 3"],
  ])("refuses %j: %s", (text, message) => {
    expect(() => parseEnvelope(Buffer.from(text))).toThrow(EnvelopeError);
    expect(() => parseEnvelope(Buffer.from(text))).toThrow(message);
  });
});

describe("auth", () => {
  it("parses X-Sentry-Auth and Authorization values (prefix case-insensitive, quotes stripped)", () => {
    expect(parseAuthHeader('sentry sentry_key=abc, sentry_version=7, sentry_client="raven/1"')).toEqual({
      key: "abc",
      version: "7",
      client: "raven/1",
    });
    expect(parseAuthHeader("Bearer xyz")).toBeNull();
  });

  it("takes the key from a header, the query string, or an envelope's DSN, and refuses two at once", () => {
    expect(authFromRequest({ xSentryAuth: "Sentry sentry_key=a, sentry_secret=s", query: {} })).toEqual({
      publicKey: "a",
      secretKey: "s",
      client: null,
      version: null,
    });
    expect(authFromRequest({ authorization: "Sentry sentry_key=b", query: {} })?.publicKey).toBe("b");
    expect(authFromRequest({ query: { sentry_key: "c", sentry_version: "7" } })?.publicKey).toBe("c");
    expect(authFromRequest({ query: {} })).toBeNull();
    expect(() => authFromRequest({ xSentryAuth: "Sentry sentry_key=a", query: { sentry_key: "a" } })).toThrow(
      "Multiple authentication payloads were detected.",
    );
    expect(() => authFromRequest({ xSentryAuth: "Sentry sentry_version=7", query: {} })).toThrow(
      "Missing required attribute in authentication header: sentry_key",
    );
    expect(authFromDsn("https://pub:sec@o1.ingest.example.com/7", 7)).toMatchObject({
      publicKey: "pub",
      secretKey: "sec",
    });
    expect(authFromDsn(undefined, 7)).toBeNull();
    expect(() => authFromDsn("https://pub@host/8", 7)).toThrow("Two different projects were specified");
  });
});

describe("normalization", () => {
  it("fills the event id, times, level, platform, project, key and protocol version", () => {
    const d = norm({ message: "hello" });
    expect(d.event_id).toMatch(/^[0-9a-f]{32}$/);
    expect(d).toMatchObject({
      timestamp: RECEIVED,
      received: RECEIVED,
      level: "error",
      platform: "other",
      project: 7,
      key_id: "3",
      version: "7",
      type: "default",
      logentry: { formatted: "hello" },
      tags: [],
    });
    expect(d.message).toBeUndefined();
  });

  it("accepts dashed and upper-case event ids, and refuses others", () => {
    expect(norm({ event_id: "9EC79C33-EC99-42AB-8353-589FCB2E04DC" }).event_id).toBe(
      "9ec79c33ec9942ab8353589fcb2e04dc",
    );
    expect(() => norm({ event_id: "12" })).toThrow(NormalizeError);
    expect(() => normalizeEvent([], ctx)).toThrow("the event payload is not a JSON object");
  });

  it("takes ISO and numeric timestamps, and replaces ones too far in the future or past", () => {
    expect(norm({ timestamp: "2025-06-15T15:06:40" }).timestamp).toBe(
      Date.parse("2025-06-15T15:06:40Z") / 1000,
    );
    expect(norm({ timestamp: String(RECEIVED - 5) }).timestamp).toBe(RECEIVED - 5);
    const future = norm({ timestamp: RECEIVED + 3600 });
    expect(future.timestamp).toBe(RECEIVED);
    expect(future.errors).toEqual([{ type: "future_timestamp", name: "timestamp", value: RECEIVED + 3600 }]);
    const past = norm({ timestamp: RECEIVED - 40 * 86400 });
    expect(past.timestamp).toBe(RECEIVED);
    expect(past.errors[0].type).toBe("past_timestamp");
  });

  it("maps level aliases and defaults transactions to info", () => {
    expect(norm({ level: "WARN" }).level).toBe("warning");
    expect(norm({ level: "critical" }).level).toBe("fatal");
    expect(norm({ level: "bogus" }).level).toBe("error");
  });

  it("turns tags into pairs and drops invalid ones with an error entry", () => {
    const d = norm({ tags: { a: "1", n: 2, long: "x".repeat(201), "": "e", obj: { x: 1 } } });
    expect(d.tags).toEqual([
      ["a", "1"],
      ["n", "2"],
    ]);
    expect(d.errors.map((e: any) => e.name)).toEqual(["tags.long", "tags."]);
    expect(norm({ tags: [["k", "v"], ["bad"], "x"] }).tags).toEqual([["k", "v"]]);
  });

  it("checks release, dist and environment names as Sentry does", () => {
    expect(norm({ release: " app@1 " }).release).toBe("app@1");
    for (const bad of ["latest", "a/b", "..", ""]) expect(norm({ release: bad }).release).toBeUndefined();
    expect(norm({ release: 7 }).release).toBe("7");
    expect(norm({ environment: "prod/eu" }).environment).toBeUndefined();
    expect(norm({ environment: "" }).environment).toBeUndefined();
    expect(norm({ environment: "x".repeat(65) }).environment).toBeUndefined();
    expect(norm({ dist: "x".repeat(65) }).dist).toBeUndefined();
  });

  it("resolves {{auto}} user IPs to the client address and drops invalid ones", () => {
    expect(norm({ user: { ip_address: "{{auto}}", id: 5 } }).user).toEqual({
      ip_address: "10.0.0.9",
      id: "5",
    });
    expect(norm({ user: { ip_address: "nope" } }).user).toEqual({});
  });

  it("infers the type (error, default) and keeps transaction, generic and feedback", () => {
    expect(norm(errorEvent()).type).toBe("error");
    expect(norm({ exception: [{ type: "E" }] }).exception).toEqual({ values: [{ type: "E" }] });
    expect(norm({ type: "error", message: "m" }).type).toBe("default");
    expect(norm({ type: "generic" }).type).toBe("generic");
    expect(norm({ type: "feedback" }).type).toBe("feedback");
  });

  it("refuses transactions without a name, start, trace context, or that end before they start", () => {
    const ok = {
      type: "transaction",
      transaction: "t",
      start_timestamp: RECEIVED - 2,
      timestamp: RECEIVED - 1,
      contexts: { trace: { trace_id: "a".repeat(32), span_id: "b".repeat(16) } },
    };
    expect(norm(ok).level).toBe("info");
    expect(() => norm({ ...ok, transaction: "" })).toThrow("transaction event without a transaction name");
    expect(() => norm({ ...ok, start_timestamp: undefined })).toThrow("without a valid start_timestamp");
    expect(() => norm({ ...ok, start_timestamp: RECEIVED })).toThrow(
      "transaction event ends before it starts",
    );
    expect(() => norm({ ...ok, contexts: {} })).toThrow("without a trace context");
  });
});

describe("grouping (relo:1)", () => {
  it("groups by exception type, value and in-app frames, ignoring line numbers and system frames", () => {
    const a = norm(errorEvent());
    const moved = structuredClone(errorEvent()) as any;
    moved.exception.values[0].stacktrace.frames[1].lineno = 99;
    moved.exception.values[0].stacktrace.frames[0].function = "other";
    expect(computeHashes(norm(moved))).toEqual(computeHashes(a));
    expect(computeHashes(norm(errorEvent({}, "ValueError", "other")))).not.toEqual(computeHashes(a));
    expect(groupingComponents(a)).toEqual(["exception", "ValueError", "bad input", "app.views handle"]);
  });

  it("uses the fingerprint, with {{ default }} standing for the default components", () => {
    const plain = norm(errorEvent());
    expect(computeHashes(norm(errorEvent({ fingerprint: ["{{ default }}"] })))).toEqual(computeHashes(plain));
    expect(groupingComponents(norm(errorEvent({ fingerprint: ["{{default}}", "eu"] })))).toEqual([
      ...groupingComponents(plain),
      "eu",
    ]);
    expect(computeHashes(norm({ message: "a", fingerprint: ["x"] }))).toEqual(
      computeHashes(norm({ message: "b", fingerprint: ["x"] })),
    );
  });

  it("groups messages by their template when parameters were sent", () => {
    const a = norm({
      logentry: { message: "user %s failed", params: ["ann"], formatted: "user ann failed" },
    });
    const b = norm({
      logentry: { message: "user %s failed", params: ["bob"], formatted: "user bob failed" },
    });
    expect(computeHashes(a)).toEqual(computeHashes(b));
    expect(computeHashes(a)[0]).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe("issue metadata", () => {
  it("titles, culprits and locations as Sentry derives them", () => {
    const e = norm(errorEvent({}, "ValueError", `${"v".repeat(120)}\nsecond line`));
    const m = materialize(e);
    expect(m.title).toBe(`ValueError: ${"v".repeat(97)}...`);
    expect(m.culprit).toBe("app.views in handle");
    expect(m.location).toBe("app/views.py");
    expect(m.metadata).toMatchObject({ type: "ValueError", function: "handle", in_app_frame_mix: "mixed" });
    const js = norm({
      platform: "node",
      exception: {
        values: [{ type: "E", stacktrace: { frames: [{ filename: "a.js", function: "f", in_app: true }] } }],
      },
    });
    expect(materialize(js).culprit).toBe("f(a.js)");
    expect(materialize(js).title).toBe("E");
    expect(materialize(norm({ message: "x", transaction: "/checkout" })).culprit).toBe("/checkout");
    expect(materialize(norm({ request: { url: "https://a.example/x" } })).culprit).toBe(
      "https://a.example/x",
    );
    expect(materialize(norm({})).title).toBe("<unlabeled event>");
  });

  it("the issue message is the search message's first line, 255 characters at most", () => {
    const e = norm({ message: `boom\n${"x".repeat(300)}`, culprit: "mod in fn" });
    expect(searchMessage(e, materialize(e))).toBe(`boom\n${"x".repeat(300)} mod in fn`);
    expect(groupMessage(`${"y".repeat(300)}\nz`)).toBe(`${"y".repeat(252)}...`);
  });

  it("the user tag takes the first of id, email, username and IP", () => {
    expect(userTagValue({ email: "a@b.c", username: "u" })).toBe("email:a@b.c");
    expect(userTagValue({ ip_address: "1.2.3.4" })).toBe("ip:1.2.3.4");
    expect(userTagValue({ name: "only a name" })).toBeNull();
  });

  it("semver columns for package@version releases only", () => {
    expect(semverColumns("app@1.2")).toEqual({
      package: "app",
      major: 1,
      minor: 2,
      patch: 0,
      revision: 0,
      prerelease: "",
      build_code: null,
      build_number: null,
    });
    expect(semverColumns("1.2.3")).toBeNull();
    expect(semverColumns("app@abc")).toBeNull();
  });
});
