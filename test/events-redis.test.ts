/**
 * The Redis Streams event stream against the real Redis (127.0.0.1:6379; every test under its
 * own key prefix, removed afterwards), on both databases: consumer groups, payload committed
 * before publish, trimming, outages, and reading through consumer groups.
 */
import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ReloError } from "../src/backup/errors.js";
import type { Ingest } from "../src/events/ingest.js";
import { readEvent } from "../src/events/nodestore.js";
import { type Publisher, parseRedisStreamUrl, RedisPublisher } from "../src/events/redis.js";
import { startServer } from "../src/events/serve.js";
import { Sql } from "../src/events/sql.js";
import type { StreamMessage } from "../src/events/stream.js";
import { tailRedis } from "../src/events/tail.js";
import { openStore } from "../src/store/open.js";
import type { Store } from "../src/store/types.js";
import { describeEachDb, type TestDb, useFreshStore } from "./helpers/db.js";
import {
  dropPrefix,
  errorEvent,
  HAS_REDIS,
  importProjects,
  newIngest,
  type ProjectKey,
  REDIS_URL,
  save,
  uniquePrefix,
} from "./helpers/events.js";
import { count } from "./helpers/import.js";

const url = (prefix: string, extra = "") => `${REDIS_URL}?prefix=${encodeURIComponent(prefix)}${extra}`;

describe("--eventstream URLs", () => {
  it("parse prefix, maxlen and groups, with defaults", () => {
    expect(parseRedisStreamUrl("redis://127.0.0.1:6379")).toEqual({
      url: "redis://127.0.0.1:6379",
      prefix: "relo:",
      maxLen: 100_000,
      groups: ["relo"],
    });
    expect(parseRedisStreamUrl("redis://:pw@h:1/2?prefix=s:&maxlen=50&group=a&group=b")).toEqual({
      url: "redis://:pw@h:1/2",
      prefix: "s:",
      maxLen: 50,
      groups: ["a", "b"],
    });
    expect(() => parseRedisStreamUrl("kafka://x")).toThrow(
      "--eventstream: expected a redis:// URL, got kafka://x",
    );
    expect(() => parseRedisStreamUrl("redis://h?maxlen=0")).toThrow(
      "--eventstream: maxlen must be a positive integer, got 0",
    );
  });
});

describe.runIf(HAS_REDIS)("Redis Streams", () => {
  describeEachDb("event stream", (kind) => {
    let store: Store;
    let db: TestDb;
    let key: ProjectKey;
    let prefix: string;
    let redis: Redis;
    let ingest: Ingest | null = null;
    useFreshStore(kind, (s, d) => {
      store = s;
      db = d;
    });
    beforeEach(async () => {
      [key] = await importProjects(store);
      prefix = uniquePrefix();
      redis = new Redis(REDIS_URL);
    });
    afterEach(async () => {
      await ingest?.close();
      ingest = null;
      redis.disconnect();
      await dropPrefix(prefix);
    });

    it("creates the configured consumer groups on every topic, reading from the start", async () => {
      const publisher = await RedisPublisher.open(
        parseRedisStreamUrl(url(prefix, "&group=snuba&group=alerts")),
      );
      await publisher.close();
      for (const topic of ["events", "transactions", "outcomes"]) {
        const groups = (await redis.xinfo("GROUPS", `${prefix}${topic}`)) as unknown[][];
        const fields = groups.map((g) => Object.fromEntries(chunk(g)));
        expect(fields.map((f) => f.name)).toEqual(["alerts", "snuba"]);
        expect(fields.every((f) => f["last-delivered-id"] === "0-0")).toBe(true);
      }
      // Opening again (a restart) keeps the groups.
      await (await RedisPublisher.open(parseRedisStreamUrl(url(prefix, "&group=snuba")))).close();
    });

    it("publishes a message only after the payload it names is committed, in offset order, keyed by project", async () => {
      const real = await RedisPublisher.open(parseRedisStreamUrl(url(prefix)));
      // A second connection sees only committed data.
      const reader = await openStore(db.url, { migrate: false });
      const seen: { offset: number; stored: boolean }[] = [];
      const publisher: Publisher = {
        async publish(messages: StreamMessage[]) {
          for (const m of messages) {
            const v = JSON.parse(m.value);
            if (m.topic !== "events") continue;
            const stored = (await readEvent(new Sql(reader), v[2].project_id, v[2].event_id)) !== null;
            seen.push({ offset: m.offset, stored });
          }
          await real.publish(messages);
        },
        close: () => real.close(),
      };
      try {
        ingest = newIngest(store, { publisher });
        await Promise.all([1, 2, 3].map(() => save(ingest!, key, errorEvent())));
        await save(ingest, key, errorEvent({}, "OtherError"));
        await ingest.idle();
      } finally {
        await reader.close();
      }
      expect(seen).toHaveLength(4);
      expect(seen.every((s) => s.stored)).toBe(true);
      expect(seen.map((s) => s.offset)).toEqual([...seen.map((s) => s.offset)].sort((a, b) => a - b));
      const entries = (await redis.xrange(`${prefix}events`, "-", "+")) as [string, string[]][];
      expect(entries).toHaveLength(4);
      const fields = entries.map(([, f]) => Object.fromEntries(chunk(f)));
      expect(fields.map((f) => Number(f.offset))).toEqual(seen.map((s) => s.offset));
      expect(fields.every((f) => f.key === String(key.projectId))).toBe(true);
      expect(JSON.parse(fields[0].value).slice(0, 2)).toEqual([2, "insert"]);
      expect(JSON.parse(fields[0].headers)).toMatchObject({ operation: "insert", version: "2" });
      expect(await redis.xlen(`${prefix}outcomes`)).toBe(4);
      // The outbox keeps only its newest row (offsets must never go back).
      expect(await count(store, "relo_eventstream")).toBe(1);
    });

    it("trims each stream to about maxlen messages", async () => {
      const publisher = await RedisPublisher.open(parseRedisStreamUrl(url(prefix, "&maxlen=100")));
      ingest = newIngest(store, { publisher, maxBatch: 500 });
      await Promise.all(Array.from({ length: 1500 }, () => save(ingest!, key, { message: "m" })));
      await ingest.idle();
      const len = await redis.xlen(`${prefix}events`);
      expect(len).toBeGreaterThanOrEqual(100);
      expect(len).toBeLessThan(400);
      const [last] = (await redis.xrevrange(`${prefix}events`, "+", "-", "COUNT", 1)) as [string, string[]][];
      expect(Number(Object.fromEntries(chunk(last[1])).offset)).toBe(2999);
    });

    it("keeps messages in the outbox while Redis refuses them and relays them once it accepts", async () => {
      const real = await RedisPublisher.open(parseRedisStreamUrl(url(prefix)));
      let down = true;
      const errors: string[] = [];
      const publisher: Publisher = {
        async publish(messages) {
          if (down) throw new Error("READONLY You can't write against a read only replica.");
          await real.publish(messages);
        },
        close: () => real.close(),
      };
      ingest = newIngest(store, { publisher, onError: (err) => errors.push(err.message) });
      const outcome = await save(ingest, key, errorEvent());
      expect(outcome.status).toBe("saved");
      await ingest.idle();
      expect(errors[0]).toMatch(/^READONLY/);
      expect(await count(store, "relo_eventstream")).toBe(2);
      expect(await redis.xlen(`${prefix}events`)).toBe(0);
      down = false;
      await new Promise((r) => setTimeout(r, 1500));
      await ingest.idle();
      expect(await redis.xlen(`${prefix}events`)).toBe(1);
      expect(await redis.xlen(`${prefix}outcomes`)).toBe(1);
      expect(await count(store, "relo_eventstream")).toBe(1);
    });

    it("messages a previous run left in the outbox are relayed when the next one starts", async () => {
      const failing: Publisher = {
        publish: async () => {
          throw new Error("connection refused");
        },
        close: async () => {},
      };
      ingest = newIngest(store, { publisher: failing });
      await save(ingest, key, errorEvent());
      await save(ingest, key, errorEvent());
      await ingest.close();
      expect(await count(store, "relo_eventstream")).toBe(4);
      ingest = newIngest(store, { publisher: await RedisPublisher.open(parseRedisStreamUrl(url(prefix))) });
      await ingest.idle();
      expect(await redis.xlen(`${prefix}events`)).toBe(2);
      expect(await redis.xlen(`${prefix}outcomes`)).toBe(2);
      expect(await count(store, "relo_eventstream")).toBe(1);
    });

    it("relo serve does not start when Redis is unreachable", async () => {
      await expect(
        startServer({ db: db.url, port: 0, eventstream: "redis://127.0.0.1:1?prefix=x" }),
      ).rejects.toThrow(ReloError);
      await expect(startServer({ db: db.url, port: 0, eventstream: "redis://127.0.0.1:1" })).rejects.toThrow(
        /^cannot connect to Redis at redis:\/\/127\.0\.0\.1:1/,
      );
    });

    it("consumer groups: delivered once, acknowledged, resumed, and taken over from a dead consumer", async () => {
      const cfg = parseRedisStreamUrl(url(prefix, "&group=workers"));
      ingest = newIngest(store, { publisher: await RedisPublisher.open(cfg) });
      for (let i = 0; i < 5; i++) await save(ingest, key, errorEvent({ tags: { n: String(i) } }));
      await ingest.idle();
      // A consumer that reads two messages and dies before acknowledging them.
      await redis.xreadgroup("GROUP", "workers", "dead", "COUNT", 2, "STREAMS", `${prefix}events`, ">");
      const first: number[] = [];
      const n1 = await tailRedis(cfg, { topics: ["events"], consumer: "a", limit: 2 }, (m) => {
        first.push(m.offset);
      });
      expect(n1).toBe(2);
      const rest: number[] = [];
      const n2 = await tailRedis(cfg, { topics: ["events"], consumer: "b", claimIdleMs: 0 }, (m) => {
        rest.push(m.offset);
      });
      expect(n2).toBe(3);
      const all = [...first, ...rest].sort((a, b) => a - b);
      expect(new Set(all).size).toBe(5);
      const pending = (await redis.xpending(`${prefix}events`, "workers")) as unknown[];
      expect(pending[0]).toBe(0);
      expect(await tailRedis(cfg, { topics: ["events"], consumer: "c", claimIdleMs: 0 }, () => {})).toBe(0);
    });
  });
});

function chunk(list: unknown[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < list.length; i += 2) out.push([String(list[i]), String(list[i + 1])]);
  return out;
}
